# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""storage_capacity_balance: migrate volumes off Cinder pools above a usage threshold.

Goal workload_balancing (Watcher's storage_capacity_balance). While a pool is above
``volume_threshold`` percent used, its largest movable volume goes to the least used pool
that serves its type, has room, and stays under the threshold after the move.
docs/strategies/storage_capacity_balance.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import params_schema

NAME = "storage_capacity_balance"
GOAL = "workload_balancing"
TABLES = ("pools", "volumes")
DESCRIPTION = "Move volumes from pools above a usage threshold to the least used pools."
PARAMS = params_schema(
    {
        "volume_threshold": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100,
            "default": 80.0,
            "description": "pool usage % above which volumes move",
        },
        "max_migrations": {"type": ["integer", "null"], "minimum": 1, "default": None},
    },
    moves=False,
)


def run(ctx):
    p = ctx.params
    pools = VolumePlacement(ctx.frames)
    thr = p["volume_threshold"]
    before = pools.pct()
    limit = p["max_migrations"] or len(pools.vol_ids)
    n = 0
    for src in np.argsort(-before):
        if before[src] <= thr:
            break
        vols = np.nonzero((pools.vol_pool == src) & pools.vol_movable)[0]
        for v in vols[np.argsort(-pools.vol_size[vols], kind="stable")]:
            if pools.pct()[src] <= thr or n >= limit:
                break
            cand = pools.candidates(v)
            after = (pools.used + pools.vol_size[v]) / np.where(pools.total > 0, pools.total, 1) * 100.0
            cand &= after <= thr
            if not cand.any():
                continue
            idx = np.nonzero(cand)[0]
            pools.move(v, int(idx[np.argmin(pools.pct()[idx])]))
            n += 1
        if pools.pct()[src] > thr:
            ctx.warn(pools.names[src], "stays above %.0f%%: no pool can take enough of its volumes" % thr)
    moves = pools.moves()
    acts = ActionList()
    room0 = pools.room0(moves)
    acts.pool_free = {pools.names[k]: float(room0[k]) for k in range(len(pools.names))}
    for v, s, d in moves:
        acts.volume_moves.append((pools.vol_ids[v], pools.names[s], pools.names[d], pools.vol_size[v]))
    after = pools.pct()
    return acts.build(), {
        "volume_migrations_count": len(moves),
        "volume_moved_gb": float(sum(pools.vol_size[v] for v, _unused, _unused in moves)),
        "pools_over_threshold_before": int((before > thr).sum()),
        "pools_over_threshold_after": int((after > thr).sum()),
        "standard_deviation_before": round(float(before.std()), 4),
        "standard_deviation_after": round(float(after.std()), 4),
    }
