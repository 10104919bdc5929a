"""Consolidation quality on random-fit clouds, refereed: shared by bench/plan.py and bench/watcher_compare.py.

The cloud comes from tests/unit/randomfit.py, the bound and every figure about a plan's
result from tests/unit/oracle.py (docs/strategies/benchmarks.md): hosts in use after, gap to
the bound, migrations and RAM moved are measured by replaying the plan, for vigil's plans
and Watcher's alike, never read from a strategy's own efficacy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(Path(__file__).parent)):
    if p not in sys.path:
        sys.path.insert(0, p)

import oracle  # noqa: E402
from common import timed  # noqa: E402
from randomfit import add_load, random_fit  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame  # noqa: E402
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry  # noqa: E402

CONSOLIDATION = ("node_resource_consolidation", "vm_workload_consolidation", "basic")
GAP_PCT = 5.0  # issue 13: hosts in use within 5 % + 1 host of the bound


def cluster(hosts, seed, per_host=20, **kw):
    """(case name, model with measured load, bound) for a random-fit cloud."""
    name = "randomfit-%dx%d-s%d" % (hosts, hosts * per_host, seed)
    if kw.get("pinned"):
        name += "-pinned%gpct" % (kw["pinned"] * 100)
    if kw.get("disabled") == 0:
        name += "-nodisabled"
    model = add_load(random_fit(seed, hosts, per_host, **kw), seed)  # vm_workload_consolidation reads it
    return name, model, oracle.lower_bound(model)


def emit_cluster(rep, case, model, bound):
    rep.emit(case, "servers", len(model["instances"]), "count")
    rep.emit(case, "servers_dropped", model["meta"]["dropped"], "count")
    rep.emit(case, "hosts_in_use_before", oracle.Cloud(model).hosts_in_use(), "count")
    rep.emit(case, "lower_bound_hosts", bound["bound"], "count")
    rep.emit(case, "hosts_forced_in_use", sum(z["forced"] for z in bound["zones"].values()), "count")
    # what any valid plan must migrate to keep no more hosts than the gap target allows: a peer
    # using fewer migrations than this cannot be beaten on migrations *at* the target
    target_hosts = int(bound["bound"] * (1 + GAP_PCT / 100.0) + 1)
    at_target = oracle.migration_lower_bound(model, target_hosts)
    if at_target is not None:
        rep.emit(case, "migrations_lower_bound_at_gap_target", at_target["bound"], "count")


def run_vigil(model, strategy, params=None):
    with timed() as t:
        plan = registry.run(model, "server_consolidation", strategy, params or {})
    return plan, t["seconds"]


def emit_plan(rep, case, model, bound, plan, seconds, seconds_target=None, judged=True, peer=False):
    """Referee ``plan`` and emit its figures. judged=False: no quality or time targets (another
    bench holds them); peer: a peer's plan, whose violations are reported, not vigil's failure."""
    v = oracle.check(model, plan)
    L = bound["bound"]
    gap = 100.0 * (v.hosts_in_use_after - L) / L if L else 0.0
    rep.emit(case, "hosts_in_use_after", v.hosts_in_use_after, "count", L * 1.05 + 1 if judged else None)
    # "5 % + 1 host" as a percentage of L, so that gap_pct carries the target exactly
    rep.emit(case, "gap_pct", round(gap, 2), "%", round(GAP_PCT + 100.0 / L, 2) if judged and L else None)
    rep.emit(case, "migrations", v.migrations, "count")
    rep.emit(case, "ram_moved_gb", round(v.memory_moved_gb, 1), "GiB")
    rep.emit(case, "seconds", seconds, "s", seconds_target if judged else None)
    rep.emit(case, "oracle_violations", len(v.violations), "count", None if peer else 0)
    for line in v.violations[:5]:
        print("# %s: %s" % (case, line), file=sys.stderr)
    return v


def run_watcher(python, model, strategy, params=None, per_az=False):
    """Watcher's strategy in its own process (bench/_watcher_side.py): (its answer, wall seconds)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({k: frame.to_split(v) for k, v in model.items() if k != "meta"}, fh)
    argv = [python, str(Path(__file__).parent / "_watcher_side.py"), fh.name, strategy, json.dumps(params or {})]
    try:
        with timed() as t:
            out = subprocess.run(argv + (["per-az"] if per_az else []), capture_output=True, text=True)
    finally:
        os.unlink(fh.name)
    if out.returncode:
        raise RuntimeError("watcher side failed: %s" % out.stderr.strip().splitlines()[-1:])
    return json.loads(out.stdout.strip().splitlines()[-1]), t["seconds"]


def watcher_plan(out, strategy):
    """Watcher's ordered solution as a plan the oracle replays (same parameters as vigil's defaults)."""
    actions = []
    for k, a in enumerate(out["actions"]):
        if a["type"] == "migrate":
            inp = {key: a[key] for key in ("migration_type", "source_node", "destination_node")}
            actions.append({"id": "w%d" % k, "type": "migrate", "resource": a["resource"], "input": inp})
        else:
            inp = {"host": a["host"], "state": a["state"]}
            actions.append({"id": "w%d" % k, "type": "compute_service", "resource": a["host"], "input": inp})
    return {"strategy": "watcher:" + strategy, "parameters": {}, "actions": actions}


def run_watcher_consolidation(rep, case, model, bound, python, strategy="vm_workload_consolidation"):
    """Watcher's consolidation, one audit per AZ, refereed and emitted under ``case``/watcher_<strategy>."""
    out, wall = run_watcher(python, model, strategy, per_az=True)
    wcase = "%s/watcher_%s" % (case, strategy)
    v = emit_plan(rep, wcase, model, bound, watcher_plan(out, strategy), out["seconds"], judged=False, peer=True)
    rep.emit(wcase, "seconds_incl_startup", wall, "s")
    rep.emit(wcase, "peak_rss_mb", out["peak_rss_mb"], "MB")
    # hosts an operator disabled that Watcher's plan enables to use them as destinations
    rep.emit(wcase, "hosts_enabled", sum(a["state"] == "enabled" for a in out["actions"] if "state" in a), "count")
    # audits Watcher itself would fail (e.g. its efficacy validation); the plan is read anyway
    rep.emit(wcase, "audit_errors", len(out["errors"]), "count")
    for line in out["errors"]:
        print("# %s: watcher: %s" % (wcase, line), file=sys.stderr)
    return v, out["seconds"]
