# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  maas_url:
    description:
      - URL of the MAAS API, for example C(http://maas.example.com:5240/MAAS/).
      - When not given, the C(MAAS_URL) environment variable is used.
    type: str
  maas_api_key:
    description:
      - MAAS API key, C(consumer:token:secret), as shown by C(maas apikey).
      - When not given, the C(MAAS_API_KEY) environment variable is used.
    type: str
requirements:
  - python-libmaas
"""
