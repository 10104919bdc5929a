# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
# Documentation: plan_summary.yml beside this file.
"""The plan_summary filter: counts, hosts touched, waves and efficacy of a plan, for reports."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.plugin_utils import filters


def plan_summary(plan):
    planner = filters.planner("plan_summary")
    return planner.plan_summary(filters.valid_plan("plan_summary", plan))


class FilterModule(object):
    def filters(self):
        return {"plan_summary": plan_summary}
