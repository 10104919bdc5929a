# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
# Documentation: plan_summary.yml beside this file.
"""The plan_summary filter: counts, hosts touched, waves and efficacy of a plan, for reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

try:
    from ansible_collections.vigil.openstack.plugins.module_utils import planner

    IMPORT_ERROR = None
except ImportError as e:
    planner = None
    IMPORT_ERROR = e


def plan_summary(plan):
    if planner is None:
        raise AnsibleFilterError("vigil.openstack.plan_summary needs numpy on the controller: %s" % IMPORT_ERROR)
    errors = planlib.validate_plan(plan)
    if errors:
        raise AnsibleFilterError("vigil.openstack.plan_summary: invalid plan: %s" % "; ".join(errors[:5]))
    return planner.plan_summary(plan)


class FilterModule(object):
    def filters(self):
        return {"plan_summary": plan_summary}
