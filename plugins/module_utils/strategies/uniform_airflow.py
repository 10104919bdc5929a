# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""uniform_airflow: move servers off hosts whose airflow is above a threshold.

Goal airflow_optimization (Watcher's uniform_airflow). Hosts with ``airflow`` above
``threshold_airflow`` send up to ``migrations_per_host`` servers (largest first) to allowed
hosts whose airflow, inlet temperature (``inlet_temp_c``) and power (``power_w``) are all
under their thresholds, lowest airflow first. Without the airflow metric the plan is empty,
with a warning. docs/strategies/uniform_airflow.md.
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

NAME = "uniform_airflow"
GOAL = "airflow_optimization"
TABLES = ("nodes", "instances")
DESCRIPTION = "Move servers from hosts with high airflow to hosts with low airflow, inlet temperature and power."
PARAMS = params_schema(
    {
        "threshold_airflow": {"type": "number", "minimum": 0, "default": 400.0},
        "threshold_inlet_t": {"type": "number", "default": 28.0},
        "threshold_power": {"type": "number", "minimum": 0, "default": 350.0},
        "migrations_per_host": {"type": "integer", "minimum": 1, "default": 1},
    }
)


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    air = metric_values(ctx.frames, "node", "airflow", pl.hostnames)
    inlet = metric_values(ctx.frames, "node", "inlet_temp_c", pl.hostnames)
    power = metric_values(ctx.frames, "node", "power_w", pl.hostnames)
    eff = {"hot_nodes_before": int(np.nansum(air > p["threshold_airflow"]))}
    if not metric_warning(ctx, "airflow", air):
        known = ~np.isnan(air)
        hot = known & pl.host_in_scope & (air > p["threshold_airflow"])
        # a missing inlet/power reading does not qualify a host as a destination
        cool = (
            known
            & (air < p["threshold_airflow"])
            & (np.nan_to_num(inlet, nan=np.inf) < p["threshold_inlet_t"])
            & (np.nan_to_num(power, nan=np.inf) < p["threshold_power"])
        )
        relieve(
            ctx,
            pl,
            np.where(known, air, np.inf),
            hot,
            cool,
            p["migrations_per_host"],
            largest_first(pl),
        )
    return migration_plan(pl, eff)
