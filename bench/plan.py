"""Plan benchmark: every strategy on a generated cluster (default 1 000 hosts / 20 000 servers).

Issue target: each strategy plans in under 5 s at 1 000 x 20 000. Also reports, for the
consolidation strategies, hosts in use against the lower bound (target: within 5% + 1).
The model comes from tests/unit/modelgen.py (seeded, valid, with metrics and Cinder pools);
the timed part is registry.run (validation, strategy, DAG, plan validation).

Usage: python bench/plan.py [--hosts 1000] [--instances 20000] [--strategy NAME]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(Path(__file__).parent)]

from common import Reporter, peak_rss_mb, timed  # noqa: E402
from modelgen import add_metrics, add_storage, random_model  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.strategies import registry  # noqa: E402


def cases(model):
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
    """The benchmark's cluster (also tools/plan_digest.py's): metrics, pools, server groups."""
    model = random_model(seed, hosts=hosts, instances=instances, azs=3, fill=0.5, groups=hosts // 5, **kw)
    add_metrics(model, seed)
    add_storage(model, seed, pools=max(4, hosts // 50), volumes=instances // 2)
    pools = model["pools"]  # half the pools of each volume type three times larger: they have room
    pools.loc[pools.index % 4 < 2, "total_capacity_gb"] *= 3
    pools["free_capacity_gb"] = pools["total_capacity_gb"] - pools["allocated_capacity_gb"]
    return model


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=1000)
    ap.add_argument("--instances", type=int, default=20000)
    ap.add_argument("--strategy", default=None)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rep = Reporter("plan")
    case = f"{args.hosts}x{args.instances}"
    model = bench_model(args.hosts, args.instances, args.seed)
    target = 5.0 if args.hosts <= 1000 else 60.0
    for goal, strategy, params in cases(model):
        if args.strategy and strategy != args.strategy:
            continue
        with timed() as t:
            plan = registry.run(model, goal, strategy, params)
        rep.emit(f"{case}/{strategy}", "seconds", t["seconds"], "s", target)
        eff = plan["efficacy"]
        if "lower_bound_hosts" in eff:
            rep.emit(
                f"{case}/{strategy}",
                "hosts_over_lower_bound",
                eff["hosts_in_use_after"] - eff["lower_bound_hosts"],
                "count",
                round(eff["lower_bound_hosts"] * 0.05 + 1, 2),
            )
        rep.emit(f"{case}/{strategy}", "actions", len(plan["actions"]), "count")
    rep.emit(case, "peak_rss_mb", peak_rss_mb(), "MB", 4096.0)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
