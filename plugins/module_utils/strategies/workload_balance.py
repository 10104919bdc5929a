# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""workload_balance: move servers off hosts whose load is above a threshold.

Goal workload_balancing (Watcher's workload_balance). Host load (% of physical capacity) is
the measured cpu or ram use of its servers (allocations when metrics are missing). For each
host above ``threshold``, hottest first, the server whose departure brings the host closest
to the average load moves to the least loaded allowed host that stays under the threshold;
repeated until no host is above it or no move helps. docs/strategies/workload_balance.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    host_load,
    host_usage_capacity,
    instance_usage,
    params_schema,
)

NAME = "workload_balance"
GOAL = "workload_balancing"
TABLES = ("nodes", "instances")
DESCRIPTION = "Move servers off hosts whose measured cpu or ram load is above a threshold."
PARAMS = params_schema(
    {
        "metrics": {"enum": ["instance_cpu_usage", "instance_ram_usage"], "default": "instance_cpu_usage"},
        "threshold": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100,
            "default": 25.0,
            "description": "host load % above which servers move",
        },
        "max_migrations": {"type": ["integer", "null"], "minimum": 1, "default": None},
    }
)


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    use, _unused = instance_usage(ctx, pl)
    k = 0 if p["metrics"] == "instance_cpu_usage" else 1
    use = use[:, k]
    cap = host_usage_capacity(pl)[:, k]
    load = host_load(pl, use[:, None])[:, 0] / cap * 100.0
    counts = pl.host_counts()
    hosts = pl.host_in_scope & pl.host_up & (pl.host_enabled | (counts > 0))
    thr = p["threshold"]
    before = load[hosts].copy()
    limit = p["max_migrations"] or pl.N
    moved = 0
    progress = True
    while progress and moved < limit:
        progress = False
        avg = load[hosts].mean() if hosts.any() else 0.0
        for s in np.argsort(-np.where(hosts, load, -np.inf)):
            if not hosts[s] or load[s] <= thr or moved >= limit:
                break
            insts = pl.instances_on(s)
            insts = insts[pl.movable[insts]]
            if not len(insts):
                continue
            after_src = load[s] - use[insts] / cap[s] * 100.0
            for i in insts[np.argsort(np.abs(after_src - avg), kind="stable")]:
                dl = load + use[i] / cap * 100.0
                cand = pl.candidates(i) & (dl <= thr)
                if not cand.any():
                    continue
                idx = np.nonzero(cand)[0]
                d = int(idx[np.argmin(load[idx])])
                pl.move(i, d, check=False)
                load[s] -= use[i] / cap[s] * 100.0
                load[d] += use[i] / cap[d] * 100.0
                moved += 1
                progress = True
                break
    moves = pl.moves()
    return ActionList(pl).build(), {
        "instance_migrations_count": len(moves),
        "memory_moved_gb": pl.memory_moved_gb(moves),
        "hosts_over_threshold_before": int((before > thr).sum()),
        "hosts_over_threshold_after": int((load[hosts] > thr).sum()),
        "standard_deviation_before": round(float(before.std()) if len(before) else 0.0, 4),
        "standard_deviation_after": round(float(load[hosts].std()) if hosts.any() else 0.0, 4),
    }
