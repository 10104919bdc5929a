# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # What both inventory plugins share; each adds its own C(plugin) choice.
    DOCUMENTATION = r"""
options:
  plugin:
    description: Marks this as a configuration file of this plugin.
    type: str
    required: true
  cloud:
    env:
      - name: OS_CLOUD
  default_groups:
    description: Create the default groups listed above.
    type: bool
    default: true
"""
