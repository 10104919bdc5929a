# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""basic: score-based consolidation (Watcher's basic_consolidation).

Goal server_consolidation. Each host gets a score, its measured load (weighted cpu and ram
fractions; allocations when metrics are missing); hosts are emptied lowest score first,
each server onto the allowed host that it fills best, at most ``migration_attempts`` hosts
tried. Emptied hosts are disabled. docs/strategies/basic.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import numpy as np
except ImportError:  # pragma: no cover - registry.run reports the missing library
    np = None

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
    counts0 = pl.host_counts()
    order = np.nonzero(pl.host_in_scope & (counts0 > 0))[0]
    order = order[np.argsort(score[order], kind="stable")]
    if p["migration_attempts"]:
        order = order[: p["migration_attempts"]]
    bound = packing.consolidation_bound(pl)
    released = packing.drain_hosts(pl, order, pl.host_ok.copy(), stop_at=bound)
    acts = ActionList(pl)
    disabled = packing.disable_empty(pl, acts, disable_reason(NAME))
    return acts.build(), packing.consolidation_efficacy(pl, released, bound, disabled)
