# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""workload_stabilization: minimise the weighted standard deviation of host load.

Goal workload_balancing. Host load per metric is the measured use of its servers (cpu: busy
vCPUs / physical vCPUs; ram: used MiB / usable MiB), from the metrics table, allocations
where a metric is missing. While some metric's standard deviation is above its threshold,
the single move (server of a loaded host x any allowed destination) that lowers the weighted
standard deviation most is applied. Only a pool of the least loaded destinations is scored
(numpy, closed-form sums) and checked against the constraint layer; a bound over the other
destinations proves them no better, or the pool grows. docs/strategies/workload_stabilization.md.
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


POOL = 32  # destinations scored first: the least loaded per metric and overall, grown x4 while needed
SCAN = 16  # (server, destination) pairs checked one by one before the pool's masks are built
CLASSES = 16  # capacity shapes beyond which the bound takes the cheap corner instead of Pareto fronts


def weighted_std(load, hosts, weights):
    sel = load[hosts]
    return float((sel.std(axis=0) * weights).sum()) if len(sel) else 0.0


def _after(u, a_s, ls, ld, inv_d, sums, w):
    """Weighted std after moving each server (k rows of use u, loads a_s leaving a source of load
    ls) to each destination (D rows of load ld, 1/capacity inv_d): k x D, from closed-form sums."""
    s1, s2, n = sums
    ad = u[:, None, :] * inv_d[None, :, :]
    ns1 = s1 - a_s[:, None, :] + ad
    ns2 = (s2 - 2 * ls * a_s + a_s**2)[:, None, :] + (2 * ld[None, :, :] + ad) * ad
    return (np.sqrt(np.maximum(ns2 / n - (ns1 / n) ** 2, 0)) * w).sum(axis=2)


def _pool(lo, size, w):
    """Mask of the rows among the ``size`` least loaded in some metric or in weighted load."""
    if size >= len(lo):
        return np.ones(len(lo), dtype=bool)
    keys = np.column_stack([lo, lo @ w])
    pool = np.zeros(len(lo), dtype=bool)
    pool[np.argpartition(keys, size - 1, axis=0)[:size].ravel()] = True
    return pool


def _front(lo):
    """Rows of lo (D x M loads) that no other row beats in every metric (M <= 2), plus ties."""
    if lo.shape[1] == 1:
        return lo[[np.argmin(lo[:, 0])]]
    o = np.argsort(lo[:, 0])  # ties in any order: a dominated row kept is still a real host
    r = lo[o, 1]
    return lo[o[r < np.minimum.accumulate(np.r_[np.inf, r[:-1]])]]


def _bound(u, a_s, ls, lo, hosts, st):
    """A lower bound of the weighted std after moving any of the servers to any of ``hosts``
    (loads lo). For one capacity, that std grows with the destination's load in every metric,
    so the minimum over a set of hosts is reached on its Pareto-minimal loads."""
    if (u < 0).any():  # a negative measurement: no monotony, no bound
        return -np.inf
    if len(st["classes"]) > CLASSES or lo.shape[1] > 2:  # every class at the lowest load per metric
        return _after(u, a_s, ls, lo.min(axis=0)[None], st["classes"], st["sums"], st["w"]).min()
    cls, out = st["cls"][hosts], np.inf
    for g in np.unique(cls):
        f = _front(lo[cls == g])
        inv_g = np.broadcast_to(st["classes"][g], f.shape)
        out = min(out, _after(u, a_s, ls, f, inv_g, st["sums"], st["w"]).min())
    return out


def _first_allowed(pl, insts, dests, val, cur):
    """(value, server, destination) of the lowest val < cur that the constraint layer allows."""
    flat = np.flatnonzero(val < cur - 1e-9)
    flat = flat[np.argsort(val.ravel()[flat], kind="stable")]
    for f in flat[:SCAN]:  # usually the first few: a host is full or in a server group's way
        k, j = divmod(int(f), len(dests))
        if not pl.allowed(insts[k], dests[j]):
            return val[k, j], insts[k], dests[j]
    if len(flat) > SCAN:
        only = np.zeros(pl.H, dtype=bool)
        only[dests] = True
        rest = flat[SCAN:]
        ok = np.stack([pl.candidates(i, hosts=only)[dests] for i in insts]).ravel()[rest]
        if ok.any():
            k, j = divmod(int(rest[np.argmax(ok)]), len(dests))
            return val[k, j], insts[k], dests[j]
    return None


def _best_move(pl, s, insts, st, cur):
    """(value, server, destination) of the allowed move off host s that lowers the weighted std
    most, or None if none lowers it below cur. As good as scoring every (server, destination)
    pair (ties aside), but only a pool of the least loaded destinations is scored: the pool
    grows until its best allowed move is no worse than the bound over the rest."""
    load, inv, w = st["load"], st["inv"], st["w"]
    u = st["use"][insts]
    a_s = u * inv[s]
    # hosts that might take one of these servers: same move domain (AZ, aggregates), room for the
    # smallest demand per resource; allowed() and candidates() still decide
    dom = st["zones"].get(pl.zone[s], np.zeros(0, dtype=int))
    dom = dom[(pl.free[dom] >= pl.demand[insts].min(axis=0) - 1e-6).all(axis=1)]
    lo = load[dom]
    size = POOL
    while True:
        pool = _pool(lo, size, w)
        dests = dom[pool]
        found = _first_allowed(pl, insts, dests, _after(u, a_s, load[s], lo[pool], inv[dests], st["sums"], w), cur)
        if pool.all():
            return found
        lb = _bound(u, a_s, load[s], lo[~pool], dom[~pool], st)
        if found is not None and found[0] <= lb:
            return found
        if found is None and lb >= cur - 1e-9:  # nothing outside the pool lowers the std either
            return None
        size *= 4


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
    inv = 1.0 / cap
    dest = np.flatnonzero(pl.host_ok & hosts)  # candidates() never offers another host
    classes, cls = np.unique(inv, axis=0, return_inverse=True)
    st = {
        "load": load,
        "inv": inv,
        "w": w,
        "use": use,
        "zones": {z: dest[pl.zone[dest] == z] for z in np.unique(pl.zone[dest])},
        "classes": classes,
        "cls": cls.ravel(),
        "sums": (load[hosts].sum(axis=0), (load[hosts] ** 2).sum(axis=0), n),
    }
    limit = p["max_migrations"] or pl.N
    n_try = {"cycle": 1, "retry": p["retry_count"], "fullsearch": pl.H}[p["host_choice"]]
    score = np.where(hosts, (load * w).sum(axis=1), -np.inf)
    steps = 0
    while steps < limit:
        s1, s2, _unused = st["sums"]
        cur_std = np.sqrt(np.maximum(s2 / n - (s1 / n) ** 2, 0))
        if (cur_std <= thr).all():
            break
        cur = float((cur_std * w).sum())
        top = np.argpartition(-score, n_try - 1)[:n_try] if n_try < pl.H else np.arange(pl.H)
        best = None
        for s in top[np.argsort(-score[top])]:
            if not np.isfinite(score[s]):
                break
            insts = pl.instances_on(s)
            insts = insts[pl.movable[insts]]
            found = _best_move(pl, s, insts, st, cur) if len(insts) else None
            if found is not None and (best is None or found[0] < best[0]):
                best = found + (s,)
                if p["host_choice"] != "fullsearch":
                    break
        if best is None:
            break
        _unused, i, d, s = best
        pl.move(i, d, check=False)  # allowed() or candidates() said yes
        old = load[[s, d]]
        load[s] -= use[i] * inv[s]
        load[d] += use[i] * inv[d]
        st["sums"] = (s1 + load[[s, d]].sum(axis=0) - old.sum(axis=0), s2 + (load[[s, d]] ** 2 - old**2).sum(axis=0), n)
        score[[s, d]] = (load[[s, d]] * w).sum(axis=1)
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
