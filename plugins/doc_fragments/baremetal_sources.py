# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Where bare-metal records come from (collect/baremetal.py): baremetal_model_info and the
    # baremetal inventory plugin, which adds environment variables.
    DOCUMENTATION = r"""
options:
  backends:
    description:
      - Where to read bare-metal records from.
      - Default is C(ironic), plus C(maas) when I(maas_url) or C(MAAS_URL) is set.
    type: list
    elements: str
    choices: [ironic, maas]
  link_compute:
    description:
      - Read Nova's compute services to link records to compute host names exactly. When
        false, no OpenStack connection is needed for I(backends=[maas]) and records are
        linked by their declared names unchecked (Ironic C(extra.compute_hostname), MAAS
        C(hostname)).
    type: bool
    default: true
  page_size:
    description:
      - Ironic nodes per request.
    type: int
    default: 1000
"""
