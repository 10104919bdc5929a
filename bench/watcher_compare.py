"""Plan quality against OpenStack Watcher's own strategies on the same models.

Issue targets: node_resource_consolidation never releases fewer hosts than Watcher's, nor
uses more migrations for the same released hosts; workload_stabilization lowers the
standard deviation of host cpu load at least as much as Watcher's, with fewer or equal
migrations (both measured on the final placement by the same function here). Runs Watcher 17 offline (bench/_watcher_side.py)
under a Python that has python-watcher, given by --watcher-python or $WATCHER_PYTHON
(e.g. `python3 -m venv /tmp/w && /tmp/w/bin/pip install python-watcher==17.0.0`); without
one it says so and exits 0.

The models are generated (tests/unit/modelgen.py) with the constraints both sides know:
one AZ, no server groups, every server ACTIVE and live-migratable, disk not binding
(Watcher's strategy checks vCPU and RAM only). Both run with host_choice=specify.

Usage: python bench/watcher_compare.py [--watcher-python PATH] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(Path(__file__).parent)]

import numpy as np  # noqa: E402
from common import Reporter, timed  # noqa: E402
from modelgen import add_metrics, random_model  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame  # noqa: E402
from ansible_collections.vigil.openstack.plugins.module_utils.strategies import registry  # noqa: E402

SIZES = [(20, 200), (50, 600), (100, 1500)]


def run_watcher(python, model, strategy, params):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump({k: frame.to_split(v) for k, v in model.items()}, fh)
    try:
        with timed() as t:
            out = subprocess.run(
                [python, str(Path(__file__).parent / "_watcher_side.py"), fh.name, strategy, json.dumps(params)],
                capture_output=True,
                text=True,
                check=True,
            )
    finally:
        os.unlink(fh.name)
    return json.loads(out.stdout.strip().splitlines()[-1]), t["seconds"]


def cpu_std(model, moves):
    """Std dev over hosts of busy vCPUs / vCPU total after ``moves`` {server: host}."""
    nodes, inst, met = model["nodes"], model["instances"], model["metrics"]
    util = dict(zip(met[met["metric"] == "cpu_util_pct"]["resource_id"], met[met["metric"] == "cpu_util_pct"]["value"]))
    hidx = {h: k for k, h in enumerate(nodes["hostname"])}
    busy = np.zeros(len(nodes))
    for u, h, v in zip(inst["uuid"], inst["host"], inst["vcpus"]):
        busy[hidx[moves.get(u, h)]] += v * util.get(u, 100.0) / 100.0
    return float((busy / nodes["vcpu_total"].to_numpy(float)).std())


def stabilization(rep, python, seeds):
    for hosts, instances in SIZES[:2]:
        for seed in range(seeds):
            case = "stabilization/%dx%d/seed%d" % (hosts, instances, seed)
            m = add_metrics(random_model(seed, hosts=hosts, instances=instances, fill=0.5, odd_states=False), seed)
            plan = registry.run(
                m, "workload_balancing", "workload_stabilization", {"metrics": ["cpu"], "thresholds": {"cpu": 0.05}}
            )
            ours = {a["resource"]: a["input"]["destination_node"] for a in plan["actions"] if a["type"] == "migrate"}
            w, _ = run_watcher(
                python,
                m,
                "workload_stabilization",
                {"thresholds": {"instance_cpu_usage": 0.05, "instance_ram_usage": 0.1}},
            )
            before, after_ours, after_w = cpu_std(m, {}), cpu_std(m, ours), cpu_std(m, w["moves"])
            # same threshold: both stop once under it (informational: who overshoots more)
            rep.emit(case, "std_reduction_minus_watcher", (before - after_ours) - (before - after_w), "fraction")
            rep.emit(case, "migrations_minus_watcher", len(ours) - w["migrations"], "count", 0, better="lower")
            # the target: with at most Watcher's number of migrations, lower the std at least as much
            if w["migrations"]:
                same = registry.run(
                    m,
                    "workload_balancing",
                    "workload_stabilization",
                    {"metrics": ["cpu"], "thresholds": {"cpu": 0.0}, "max_migrations": w["migrations"]},
                )
                moved = {
                    a["resource"]: a["input"]["destination_node"] for a in same["actions"] if a["type"] == "migrate"
                }
                rep.emit(case, "std_after_same_migrations_minus_watcher", cpu_std(m, moved) - after_w, "fraction", 0.0)
            rep.emit(case, "std_before", before, "fraction")
            rep.emit(case, "std_after_vigil", after_ours, "fraction")
            rep.emit(case, "std_after_watcher", after_w, "fraction")
            rep.emit(case, "migrations_vigil", len(ours), "count")
            rep.emit(case, "migrations_watcher", w["migrations"], "count")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--watcher-python", default=os.environ.get("WATCHER_PYTHON"))
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    if not args.watcher_python:
        print("watcher_compare: no --watcher-python / $WATCHER_PYTHON; skipped", file=sys.stderr)
        return 0
    rep = Reporter("watcher_compare")
    totals = {"ours": 0, "watcher": 0}
    for hosts, instances in SIZES:
        for seed in range(args.seeds):
            case = "%dx%d/seed%d" % (hosts, instances, seed)
            m = random_model(seed, hosts=hosts, instances=instances, fill=0.5, odd_states=False)
            m["nodes"]["disk_gb_total"] = 100000  # Watcher ignores disk: keep it out of the comparison
            with timed() as t:
                plan = registry.run(
                    m, "server_consolidation", "node_resource_consolidation", {"host_choice": "specify"}
                )
            ours_released = plan["efficacy"]["emptied_compute_nodes_count"]
            ours_moves = plan["efficacy"]["instance_migrations_count"]
            w, tw = run_watcher(args.watcher_python, m, "node_resource_consolidation", {"host_choice": "specify"})
            w_released, w_moves = len(w["emptied"]), w["migrations"]
            totals["ours"] += ours_released
            totals["watcher"] += w_released
            rep.emit(case, "released_hosts_minus_watcher", ours_released - w_released, "count", 0, better="higher")
            if ours_released == w_released:
                rep.emit(case, "migrations_minus_watcher", ours_moves - w_moves, "count", 0, better="lower")
            rep.emit(case, "released_hosts_vigil", ours_released, "count")
            rep.emit(case, "released_hosts_watcher", w_released, "count")
            rep.emit(case, "migrations_vigil", ours_moves, "count")
            rep.emit(case, "migrations_watcher", w_moves, "count")
            rep.emit(case, "seconds_vigil", t["seconds"], "s")
            rep.emit(case, "seconds_watcher_incl_startup", tw, "s")
    rep.emit(
        "all",
        "released_hosts_ratio_vigil_over_watcher",
        totals["ours"] / max(totals["watcher"], 1),
        "ratio",
        1.0,
        better="higher",
    )
    stabilization(rep, args.watcher_python, args.seeds)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
