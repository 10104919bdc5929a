# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
# Documentation: efficacy.yml beside this file.
"""The efficacy filter: a plan's efficacy indicators, with the counts derived from its actions."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.plugin_utils import filters


def efficacy(plan):
    filters.valid_plan("efficacy", plan)
    out = dict(plan["efficacy"])
    migs = [a for a in plan["actions"] if a["type"] == "migrate"]
    out.setdefault("instance_migrations_count", len(migs))
    out["live_migrations_count"] = sum(1 for a in migs if a["input"]["migration_type"] == "live")
    out["cold_migrations_count"] = sum(1 for a in migs if a["input"]["migration_type"] == "cold")
    out["volume_migrations_count"] = sum(1 for a in plan["actions"] if a["type"] == "volume_migrate")
    out["actions_count"] = len(plan["actions"])
    return out


class FilterModule(object):
    def filters(self):
        return {"efficacy": efficacy}
