# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What the plan filters share: the planner (it needs numpy on the controller) and the plan check."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

try:
    from ansible_collections.vigil.openstack.plugins.module_utils import planner as _planner

    _PLANNER_ERROR = None
except ImportError as e:  # numpy missing on the controller
    _planner = None
    _PLANNER_ERROR = e


def planner(name):
    """The planner module for filter `name`; AnsibleFilterError when numpy is missing."""
    if _planner is None:
        raise AnsibleFilterError("vigil.openstack.%s needs numpy on the controller: %s" % (name, _PLANNER_ERROR))
    return _planner


def valid_plan(name, plan):
    """`plan`, or AnsibleFilterError naming filter `name` and the plan's first problems."""
    errors = planlib.validate_plan(plan)
    if errors:
        raise AnsibleFilterError("vigil.openstack.%s: invalid plan: %s" % (name, "; ".join(errors[:5])))
    return plan
