"""Plan benchmark on random-fit clouds (tests/unit/randomfit.py), refereed by tests/unit/oracle.py.

Quality, per cluster: the lower bound L (docs/strategies/benchmarks.md), hosts forced in
use, then for each consolidation strategy the hosts in use after (measured by replaying
the plan in the oracle), gap to L, migrations, RAM moved, seconds and oracle violations.
Targets from issue 13: hosts in use within 5 % + 1 host of L (gap_pct's target is that
same limit as a percentage of L), 0 violations, under 5 s at 1 000 hosts (60 s at 10 000).
Peak RSS is the process's high-water mark after each cluster (clusters run smallest first).
With --watcher-python or $WATCHER_PYTHON, Watcher 17's vm_workload_consolidation (one audit
per AZ, bench/_watcher_side.py) runs on the same clusters up to 1 000 hosts in the same
run, refereed the same way (no targets: they are vigil's).

Speed: every strategy on randomfit-1000x20000-s1 with modelgen's metrics (node temperatures,
airflow, power; server cpu load uniform in 0-100 %, so many hosts are over their measured-load
limit and vm_workload_consolidation offloads first) and Cinder pools (target 5 s each); case
names start with "speed-".

Usage: python bench/plan.py [--seeds 1,2,3] [--huge] [--only quality|speed] [--strategy NAME]
                            [--watcher-python PATH]
--huge adds randomfit-10000x200000-s1 (a few minutes; not part of `make bench`).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(Path(__file__).parent)]

import _referee  # noqa: E402
from common import Reporter, peak_rss_mb, timed  # noqa: E402
from modelgen import add_metrics, add_storage, random_model  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.strategies import registry  # noqa: E402

WATCHER_MAX_HOSTS = 1000  # Watcher's first-fit grows with hosts x servers: minutes beyond this


def speed_cases(model):
    hosts = list(model["nodes"]["hostname"])
    yield "server_consolidation", "node_resource_consolidation", {}
    yield "server_consolidation", "vm_workload_consolidation", {}
    yield "server_consolidation", "basic", {}
    yield "workload_balancing", "workload_stabilization", {}
    yield "workload_balancing", "workload_balance", {}
    yield "workload_balancing", "storage_capacity_balance", {"volume_threshold": 60.0}
    yield "cluster_maintaining", "host_maintenance", {"maintenance_node": hosts[0], "backup_node": hosts[1]}
    yield (
        "hardware_maintenance",
        "zone_migration",
        {"compute_nodes": [{"src_node": h} for h in hosts[:5]], "parallel_total": 200, "parallel_per_node": 50},
    )
    yield "saving_energy", "saving_energy", {}
    yield "thermal_optimization", "outlet_temperature", {}
    yield "airflow_optimization", "uniform_airflow", {}
    yield "noisy_neighbor", "noisy_neighbor", {}
    yield "dummy", "dummy", {}


def bench_model(hosts, instances, seed, **kw):
    """tools/plan_digest.py's fixed clusters (modelgen): metrics, pools, server groups."""
    model = random_model(seed, hosts=hosts, instances=instances, azs=3, fill=0.5, groups=hosts // 5, **kw)
    add_metrics(model, seed)
    add_storage(model, seed, pools=max(4, hosts // 50), volumes=instances // 2)
    pools = model["pools"]  # half the pools of each volume type three times larger: they have room
    pools.loc[pools.index % 4 < 2, "total_capacity_gb"] *= 3
    pools["free_capacity_gb"] = pools["total_capacity_gb"] - pools["allocated_capacity_gb"]
    return model


def speed(rep, only):
    case, model, _unused = _referee.cluster(1000, 1)
    case = "speed-" + case  # not the quality case: this model's load is modelgen's
    add_metrics(model, 1)  # node temperatures, airflow, power and L3 for the other goals
    add_storage(model, 1, pools=20, volumes=10000)
    pools = model["pools"]  # half the pools of each volume type three times larger: they have room
    pools.loc[pools.index % 4 < 2, "total_capacity_gb"] *= 3
    pools["free_capacity_gb"] = pools["total_capacity_gb"] - pools["allocated_capacity_gb"]
    for goal, strategy, params in speed_cases(model):
        if only and strategy != only:
            continue
        with timed() as t:
            plan = registry.run(model, goal, strategy, params)
        rep.emit("%s/%s" % (case, strategy), "seconds", t["seconds"], "s", 5.0)
        rep.emit("%s/%s" % (case, strategy), "actions", len(plan["actions"]), "count")


def clusters(seeds, huge):
    yield 200, 1, {}
    for seed in seeds:
        yield 1000, seed, {}
    yield 1000, seeds[0], {"pinned": 0.01}  # 1 % cold-only servers: hosts forced in use
    if huge:
        yield 10000, 1, {}


def quality(rep, seeds, huge, only, watcher):
    for hosts, seed, kw in clusters(seeds, huge):
        case, model, bound = _referee.cluster(hosts, seed, **kw)
        _referee.emit_cluster(rep, case, model, bound)
        for strategy in _referee.CONSOLIDATION:
            if only and strategy != only:
                continue
            plan, seconds = _referee.run_vigil(model, strategy)
            target = 5.0 if hosts <= 1000 else 60.0
            _referee.emit_plan(rep, "%s/%s" % (case, strategy), model, bound, plan, seconds, target)
        if watcher and hosts <= WATCHER_MAX_HOSTS:
            _referee.run_watcher_consolidation(rep, case, model, bound, watcher)
        rep.emit(case, "peak_rss_mb", peak_rss_mb(), "MB", 4096.0)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1,2,3", help="seeds of the 1 000-host clusters")
    ap.add_argument("--huge", action="store_true", help="add the 10 000-host / 200 000-server cluster")
    ap.add_argument("--only", choices=("quality", "speed"), default=None)
    ap.add_argument("--strategy", default=None)
    ap.add_argument("--watcher-python", default=os.environ.get("WATCHER_PYTHON"))
    args = ap.parse_args()
    rep = Reporter("plan")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.only != "speed":
        quality(rep, seeds, args.huge, args.strategy, args.watcher_python)
    if args.only != "quality":
        speed(rep, args.strategy)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
