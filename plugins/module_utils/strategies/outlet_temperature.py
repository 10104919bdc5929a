# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""outlet_temperature: move servers off hosts whose outlet temperature is too high.

Goal thermal_optimization (Watcher's outlet_temperature). Hosts whose ``outlet_temp_c``
metric exceeds ``threshold`` send one server each (largest first, up to
``migrations_per_host``) to the coolest allowed host under the threshold. Without the metric
the plan is empty, with a warning. docs/strategies/outlet_temperature.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    metric_values,
    migration_plan,
    params_schema,
)
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.hotspots import (
    largest_first,
    metric_warning,
    relieve,
)

NAME = "outlet_temperature"
GOAL = "thermal_optimization"
TABLES = ("nodes", "instances")
DESCRIPTION = "Move servers from hosts with outlet temperature above a threshold to the coolest hosts."
PARAMS = params_schema(
    {
        "threshold": {
            "type": "number",
            "default": 35.0,
            "description": "outlet temperature (C) above which a host is hot",
        },
        "migrations_per_host": {"type": "integer", "minimum": 1, "default": 1},
    }
)


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    temp = metric_values(ctx.frames, "node", "outlet_temp_c", pl.hostnames)
    eff = {"hot_nodes_before": int(np.nansum(temp > p["threshold"]))}
    if not metric_warning(ctx, "outlet_temp_c", temp):
        known = ~np.isnan(temp)
        hot = known & pl.host_in_scope & (temp > p["threshold"])
        cool = known & (temp < p["threshold"])
        relieve(
            ctx,
            pl,
            np.where(known, temp, np.inf),
            hot,
            cool,
            p["migrations_per_host"],
            largest_first(pl),
        )
    return migration_plan(pl, eff)
