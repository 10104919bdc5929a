# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""basic: score-based consolidation (Watcher's basic_consolidation).

Goal server_consolidation. Each host gets a score, its measured load (weighted cpu and ram
fractions; allocations when metrics are missing). Each zone is packed onto the fewest hosts
(packing.consolidate), keeping the highest-scored hosts where that costs no host, then the
lowest-scored hosts left are emptied; with ``migration_attempts`` only that many of the
lowest-scored hosts may be emptied. Emptied hosts are disabled. docs/strategies/basic.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import packing
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    disable_reason,
    host_load,
    host_usage_capacity,
    instance_usage,
    params_schema,
)

NAME = "basic"
GOAL = "server_consolidation"
TABLES = ("nodes", "instances")
DESCRIPTION = "Empty the lowest-scored (least loaded) hosts first; disable emptied hosts."
PARAMS = params_schema(
    {
        "migration_attempts": {
            "type": "integer",
            "minimum": 0,
            "default": 0,
            "description": "hosts to try emptying, 0 = all",
        },
        "cpu_weight": {"type": "number", "minimum": 0, "default": 1.0},
        "ram_weight": {"type": "number", "minimum": 0, "default": 1.0},
    }
)


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    use, _unused = instance_usage(ctx, pl)
    load = host_load(pl, use) / host_usage_capacity(pl)
    score = load[:, 0] * p["cpu_weight"] + load[:, 1] * p["ram_weight"]
    counts = pl.host_counts()
    order = np.nonzero(pl.host_in_scope & (counts > 0))[0]
    order = order[np.argsort(score[order], kind="stable")]
    stay = None
    if p["migration_attempts"]:  # only the lowest-scored hosts may be emptied
        stay = np.ones(pl.H, dtype=bool)
        stay[order[: p["migration_attempts"]]] = False
    bounds = packing.zone_bounds(pl)
    curve = packing.consolidate(pl, bounds, drain_key=score, prefer=score, stay=stay)
    released = packing.emptied_hosts(pl)
    acts = ActionList(pl)
    disabled = packing.disable_empty(pl, acts, disable_reason(NAME))
    eff = packing.consolidation_efficacy(pl, released, int(sum(bounds.values())), disabled)
    eff.update(curve)
    return acts.build(), eff
