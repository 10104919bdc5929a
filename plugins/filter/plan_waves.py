# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
# Documentation: plan_waves.yml beside this file.
"""The plan_waves filter: a plan's DAG layered into waves under concurrency limits."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.plugin_utils import filters


def plan_waves(plan, limits=None, ids_only=False):
    planner = filters.planner("plan_waves")
    try:
        waves = planner.plan_waves(plan, limits)
    except (planlib.PlanError, ValueError) as e:
        raise AnsibleFilterError("vigil.openstack.plan_waves: %s" % e) from e
    if ids_only:
        return waves
    by_id = dict((a["id"], a) for a in plan["actions"])
    return [[by_id[i] for i in wave] for wave in waves]


class FilterModule(object):
    def filters(self):
        return {"plan_waves": plan_waves}
