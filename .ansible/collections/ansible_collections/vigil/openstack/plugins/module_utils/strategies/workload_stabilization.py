# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""workload_stabilization: minimise the weighted standard deviation of host load.

Goal workload_balancing. Host load per metric is the measured use of its servers (cpu: busy
vCPUs / physical vCPUs; ram: used MiB / usable MiB), from the metrics table, allocations
where a metric is missing. While some metric's standard deviation is above its threshold,
the single move (server of a loaded host x any allowed destination) that lowers the weighted
standard deviation most is applied; every (server, destination) pair of a source host is
scored at once with numpy. docs/strategies/workload_stabilization.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import numpy as np
except ImportError:  # pragma: no cover - registry.run reports the missing library
    np = None

from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategies.base import (
    host_load,
    host_usage_capacity,
    instance_usage,
    params_schema,
)

NAME = "workload_stabilization"
GOAL = "workload_balancing"
TABLES = ("nodes", "instances")
DESCRIPTION = "Greedy moves that lower the weighted standard deviation of host cpu/ram load the most."
METRICS = ("cpu", "ram")
_num = {"type": "number", "minimum": 0}
PARAMS = params_schema(
    {
        "metrics": {
            "type": "array",
            "items": {"enum": list(METRICS)},
            "minItems": 1,
            "uniqueItems": True,
            "default": ["cpu", "ram"],
        },
        "thresholds": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": dict(_num, maximum=1), "ram": dict(_num, maximum=1)},
            "default": {"cpu": 0.1, "ram": 0.1},
            "description": "stop when every metric's standard deviation (load fraction) is below its threshold",
        },
        "weights": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": _num, "ram": _num},
            "default": {"cpu": 1.0, "ram": 1.0},
        },
        "host_choice": {
            "enum": ["cycle", "retry", "fullsearch"],
            "default": "retry",
            "description": "sources tried per step: the most loaded host (cycle), the retry_count most loaded (retry), all (fullsearch)",
        },
        "retry_count": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 3},
        "max_migrations": {"type": ["integer", "null"], "minimum": 1, "default": None},
    }
)


def weighted_std(load, hosts, weights):
    sel = load[hosts]
    return float((sel.std(axis=0) * weights).sum()) if len(sel) else 0.0


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    use, _unused = instance_usage(ctx, pl)
    cap = host_usage_capacity(pl)
    which = [METRICS.index(m) for m in p["metrics"]]
    use, cap = use[:, which], cap[:, which]
    w = np.array([p["weights"].get(m, 1.0) for m in p["metrics"]])
    thr = np.array([p["thresholds"].get(m, 0.1) for m in p["metrics"]])
    counts = pl.host_counts()
    hosts = pl.host_in_scope & pl.host_up & (pl.host_enabled | (counts > 0))
    n = max(int(hosts.sum()), 1)
    load = host_load(pl, use) / cap  # H x M fractions
    before = load[hosts].std(axis=0) if hosts.any() else np.zeros(len(which))
    std0 = weighted_std(load, hosts, w)
    limit = p["max_migrations"] or pl.N
    n_try = {"cycle": 1, "retry": p["retry_count"], "fullsearch": pl.H}[p["host_choice"]]
    steps = 0
    while steps < limit:
        s1, s2 = load[hosts].sum(axis=0), (load[hosts] ** 2).sum(axis=0)
        cur_std = np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0))
        if (cur_std <= thr).all():
            break
        cur = float((cur_std * w).sum())
        score = np.where(hosts, (load * w).sum(axis=1), -np.inf)
        best = None
        for s in np.argsort(-score)[:n_try]:
            if not np.isfinite(score[s]):
                break
            insts = pl.instances_on(s)
            insts = insts[pl.movable[insts]]
            if not len(insts):
                continue
            mask = np.stack([pl.candidates(i) for i in insts])  # k x H
            if not mask.any():
                continue
            ds = use[insts] / cap[s]  # k x M: load leaving s
            # new sums after moving server k from s to d (vectorised over k x H x M)
            dd = use[insts][:, None, :] / cap[None, :, :]
            ls_new = load[s] - ds
            ld_new = load[None, :, :] + dd
            ns1 = s1 - ds[:, None, :] + dd
            ns2 = s2 - load[s] ** 2 + ls_new[:, None, :] ** 2 - load[None, :, :] ** 2 + ld_new**2
            std = np.sqrt(np.maximum(ns2 / n - (ns1 / n) ** 2, 0))
            val = np.where(mask, (std * w).sum(axis=2), np.inf)
            k, d = np.unravel_index(np.argmin(val), val.shape)
            if val[k, d] < cur - 1e-9 and (best is None or val[k, d] < best[0]):
                best = (val[k, d], insts[k], d, s)
                if p["host_choice"] != "fullsearch":
                    break
        if best is None:
            break
        _unused, i, d, s = best
        pl.move(i, d, check=False)
        load[s] -= use[i] / cap[s]
        load[d] += use[i] / cap[d]
        steps += 1
    moves = pl.moves()
    after = load[hosts].std(axis=0) if hosts.any() else np.zeros(len(which))
    eff = {
        "instance_migrations_count": len(moves),
        "memory_moved_gb": pl.memory_moved_gb(moves),
        "standard_deviation_before": round(std0, 6),
        "standard_deviation_after": round(weighted_std(load, hosts, w), 6),
    }
    for m, b, a in zip(p["metrics"], before, after):
        eff["%s_standard_deviation_before" % m] = round(float(b), 6)
        eff["%s_standard_deviation_after" % m] = round(float(a), 6)
    return ActionList(pl).build(), eff
