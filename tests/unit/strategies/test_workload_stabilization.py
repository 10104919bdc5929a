# -*- coding: utf-8 -*-
"""workload_stabilization against a brute-force reference of the same greedy, refereed by the oracle.

The strategy scores only a pool of destinations and proves the rest no better with a bound;
the reference here scores every (server, allowed destination) pair by recomputing the standard
deviation from scratch. Same clusters, same parameters: the strategy's plan must be valid by
tests/unit/oracle.py and end at least as balanced, with no more migrations (within tolerance:
moves of equal value may be taken in another order).
"""

import numpy as np
import oracle
import pytest
from modelgen import add_metrics, random_model
from plancheck import plan_violations
from randomfit import add_load, random_fit
from strategy_models import cluster, metrics, migrations, server_load

from ansible_collections.vigil.openstack.plugins.module_utils.strategies import workload_stabilization as ws
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    Context,
    host_load,
    host_usage_capacity,
    instance_usage,
)


def _setup(model, params):
    ctx = Context(registry.load(model, ws.TABLES), registry.check_params(ws, params), None)
    pl = ctx.placement()
    which = [ws.METRICS.index(m) for m in ctx.params["metrics"]]
    use, cap = instance_usage(ctx, pl)[0][:, which], host_usage_capacity(pl)[:, which]
    hosts = pl.host_in_scope & pl.host_up & (pl.host_enabled | (pl.host_counts() > 0))
    w = np.array([ctx.params["weights"].get(m, 1.0) for m in ctx.params["metrics"]])
    return ctx.params, pl, use, cap, hosts, w


def reference(model, params):
    """(weighted std after, migrations) of the documented greedy, every pair scored from scratch."""
    p, pl, use, cap, hosts, w = _setup(model, params)
    thr = np.array([p["thresholds"].get(m, 0.1) for m in p["metrics"]])
    load = host_load(pl, use) / cap
    n_try = {"cycle": 1, "retry": p["retry_count"], "fullsearch": pl.H}[p["host_choice"]]
    for _step in range(p["max_migrations"] or pl.N):
        std = load[hosts].std(axis=0)
        if (std <= thr).all():
            break
        cur, best = float((std * w).sum()), None
        score = np.where(hosts, (load * w).sum(axis=1), -np.inf)
        for s in np.argsort(-score, kind="stable")[:n_try]:
            for i in pl.instances_on(s):
                for d in np.flatnonzero(pl.candidates(i)):
                    after = load.copy()
                    after[s] -= use[i] / cap[s]
                    after[d] += use[i] / cap[d]
                    v = float((after[hosts].std(axis=0) * w).sum())
                    if v < cur - 1e-9 and (best is None or v < best[0]):
                        best = (v, i, d, s)
            if best is not None and p["host_choice"] != "fullsearch":
                break
        if best is None:
            break
        _v, i, d, s = best
        pl.move(i, d)
        load[s] -= use[i] / cap[s]
        load[d] += use[i] / cap[d]
    return float((load[hosts].std(axis=0) * w).sum()), len(pl.moves())


def replayed_std(model, params, plan):
    """Weighted std of the placement the plan's moves lead to (not the strategy's own figure)."""
    _p, pl, use, cap, hosts, w = _setup(model, params)
    for a in plan["actions"]:
        if a["type"] == "migrate":
            pl.move(pl.inst_index[a["resource"]], pl.host_index[a["input"]["destination_node"]])
    return float(((host_load(pl, use) / cap)[hosts].std(axis=0) * w).sum())


def _randomfit(seed):
    return add_load(random_fit(seed, hosts=30, per_host=8, azs=2), seed)


def _constrained(seed):
    # server groups, traits, disabled hosts, aggregates: the pool's candidates get refused often
    m = random_model(seed, hosts=24, instances=200, azs=2, fill=0.7, groups=6, traits=True, disabled=2, aggregates=2)
    return add_metrics(m, seed)


@pytest.mark.parametrize(
    "make, seed, params",
    [
        (_randomfit, 1, {}),
        (_randomfit, 2, {"thresholds": {"cpu": 0.02, "ram": 0.02}}),
        (_randomfit, 3, {"metrics": ["cpu"], "thresholds": {"cpu": 0.0}}),
        (_randomfit, 4, {"host_choice": "cycle", "weights": {"cpu": 1.0, "ram": 3.0}}),
        (_randomfit, 5, {"host_choice": "fullsearch", "max_migrations": 15}),
        (_constrained, 1, {"thresholds": {"cpu": 0.0, "ram": 0.0}}),
        (_constrained, 2, {"aggregate_policy": "metadata", "thresholds": {"cpu": 0.01, "ram": 0.01}}),
        (_constrained, 3, {"allow_cross_az": True, "metrics": ["ram"], "thresholds": {"ram": 0.0}}),
    ],
)
@pytest.mark.parametrize("classes", [ws.CLASSES, 0], ids=["fronts", "corner"])
def test_matches_brute_force_reference_and_oracle(monkeypatch, make, seed, params, classes):
    # a pool of 2 (grown x4) and one pair checked before the masks: at this size the default pool
    # would hold every host, and the bound, the growth and the masks would go untested; classes=0
    # takes the bound kept for clouds of many host shapes
    monkeypatch.setattr(ws, "POOL", 2)
    monkeypatch.setattr(ws, "SCAN", 1)
    monkeypatch.setattr(ws, "CLASSES", classes)
    model = make(seed)
    plan = registry.run(model, ws.GOAL, ws.NAME, params)
    assert oracle.check(model, plan).violations == []
    migrations = sum(a["type"] == "migrate" for a in plan["actions"])
    ref_std, ref_migrations = reference(model, params)
    assert migrations >= 1
    assert replayed_std(model, params, plan) == pytest.approx(plan["efficacy"]["standard_deviation_after"], abs=1e-5)
    assert replayed_std(model, params, plan) <= ref_std + 1e-4
    assert migrations <= ref_migrations + max(1, ref_migrations // 10)


def test_front_keeps_every_pareto_minimal_load():
    lo = np.array([[0.5, 0.1], [0.1, 0.5], [0.3, 0.3], [0.4, 0.4], [0.1, 0.6], [0.6, 0.05]])
    front = {tuple(r) for r in ws._front(lo)}
    assert {(0.1, 0.5), (0.3, 0.3), (0.5, 0.1), (0.6, 0.05)} <= front
    assert (0.4, 0.4) not in front and (0.1, 0.6) not in front
    assert ws._front(lo[:, :1]).tolist() == [[0.1]]


def test_lowers_std_with_metrics():
    m = cluster([("h0", 2, 4096)] * 6 + [("h1", 2, 4096)] * 2, hosts=3)
    m["metrics"] = metrics(server_load(8, 100.0, 2048.0))
    p = registry.run(m, "workload_balancing", params={"thresholds": {"cpu": 0.01, "ram": 0.01}})
    e = p["efficacy"]
    assert e["standard_deviation_after"] < e["standard_deviation_before"]
    assert p["warnings"] == []
    # 6/2/0 servers of equal load: the optimum is 3/3/2 (sorted), reached in 3 moves
    hosts = list(m["instances"]["host"])
    for srv, _unused, dst, _unused in migrations(p):
        hosts[int(srv[1:])] = dst
    assert sorted(np.bincount([int(h[1]) for h in hosts], minlength=3)) == [2, 3, 3]
    assert e["instance_migrations_count"] == 3
    assert plan_violations(m, p) == []


def test_without_metrics_warns():
    m = cluster([("h0", 2, 4096)] * 4, hosts=2)
    p = registry.run(m, "workload_balancing", "workload_stabilization")
    assert any("cpu_util_pct" in w["message"] for w in p["warnings"])
    assert p["efficacy"]["instance_migrations_count"] >= 1
