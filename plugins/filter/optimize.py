# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
# Documentation: optimize.yml beside this file.
"""The optimize filter: cluster model -> plan (thin over module_utils.strategies.registry)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

try:
    from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

    IMPORT_ERROR = None
except ImportError as e:  # pandas/numpy missing on the controller
    registry = None
    IMPORT_ERROR = e


def optimize(model, goal, strategy=None, params=None, scope=None):
    if registry is None:
        raise AnsibleFilterError("vigil.openstack.optimize needs pandas and numpy on the controller: %s" % IMPORT_ERROR)
    try:
        return registry.run(model, goal, strategy=strategy, params=params, scope=scope)
    except registry.StrategyError as e:
        raise AnsibleFilterError("vigil.openstack.optimize: %s" % e) from e


class FilterModule(object):
    def filters(self):
        return {"optimize": optimize}
