"""Plan quality against OpenStack Watcher's own strategies on the same models, in one run.

Random fit (issue 13): on random-fit clouds (tests/unit/randomfit.py: 1 000 hosts / 20 000
servers, 3 AZs, 3 % of hosts disabled; and the same without disabled hosts, since Watcher
re-enables disabled hosts to fill them and vigil does not), vigil's node_resource_consolidation
(the goal's default) against Watcher 17's vm_workload_consolidation, its best consolidator,
run once per AZ (Watcher's strategy has no notion of AZ; an operator audits each AZ) and with
no measurements, so that it packs by allocation as vigil's strategy does; disks are in both
models. Both plans are replayed by tests/unit/oracle.py, which measures hosts in use, gap to
the lower bound, migrations and RAM moved the same way for both. Targets: vigil's plan uses
no more hosts than Watcher's; seconds are compared as a ratio measured in this run (Watcher's
time is inside its process, model building and interpreter start excluded).

Small clusters (the first comparison, on tests/unit/modelgen.py's half-capacity clusters:
case names start with "modelgen-"): one AZ, no server groups, every server ACTIVE and
live-migratable, disk not binding; node_resource_consolidation never releases fewer hosts than
Watcher's node_resource_consolidation, nor uses more migrations for the same released hosts;
workload_stabilization lowers the standard deviation of host cpu load at least as much as
Watcher's, with fewer or equal migrations (both measured on the final placement by the same
function here).

Runs Watcher offline (bench/_watcher_side.py) under a Python that has python-watcher, given
by --watcher-python or $WATCHER_PYTHON (e.g. `python3 -m venv /tmp/w && /tmp/w/bin/pip install
python-watcher==17.0.0`); without one it says so and exits 0.

Usage: python bench/watcher_compare.py [--watcher-python PATH] [--seeds 3] [--randomfit-seeds 1,2]
                                       [--randomfit-hosts 1000] [--only randomfit|small]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(Path(__file__).parent)]

import _referee  # noqa: E402
import numpy as np  # noqa: E402
from _referee import run_watcher  # noqa: E402
from common import Reporter, timed  # noqa: E402
from modelgen import add_metrics, random_model  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry  # noqa: E402

SIZES = [(20, 200), (50, 600), (100, 1500)]


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
            case = "modelgen-stabilization/%dx%d/seed%d" % (hosts, instances, seed)
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


def randomfit(rep, python, hosts, seeds):
    totals = {"vigil": 0, "watcher": 0, "vigil_s": 0.0, "watcher_s": 0.0}
    for seed in seeds:
        for kw in ({}, {"disabled": 0.0}):
            case, model, bound = _referee.cluster(hosts, seed, **kw)
            _referee.emit_cluster(rep, case, model, bound)
            ours = {}
            for strategy in ("node_resource_consolidation", "vm_workload_consolidation"):
                plan, seconds = _referee.run_vigil(model, strategy)
                v = _referee.emit_plan(rep, "%s/%s" % (case, strategy), model, bound, plan, seconds, judged=False)
                ours[strategy] = (v, seconds)
            w, w_seconds = _referee.run_watcher_consolidation(rep, case, model, bound, python)
            v, seconds = ours["node_resource_consolidation"]
            rep.emit(case, "hosts_in_use_vigil_minus_watcher", v.hosts_in_use_after - w.hosts_in_use_after, "count", 0)
            rep.emit(case, "migrations_vigil_minus_watcher", v.migrations - w.migrations, "count")
            rep.emit(case, "seconds_ratio_watcher_over_vigil", w_seconds / seconds, "ratio", 1.0, better="higher")
            totals["vigil"] += v.hosts_in_use_after
            totals["watcher"] += w.hosts_in_use_after
            totals["vigil_s"] += seconds
            totals["watcher_s"] += w_seconds
    all_case = "randomfit-%d-all" % hosts
    rep.emit(all_case, "hosts_in_use_ratio_vigil_over_watcher", totals["vigil"] / totals["watcher"], "ratio", 1.0)
    rep.emit(
        all_case, "seconds_ratio_watcher_over_vigil", totals["watcher_s"] / totals["vigil_s"], "ratio", 1.0, "higher"
    )


def small(rep, python, seeds):
    totals = {"ours": 0, "watcher": 0}
    for hosts, instances in SIZES:
        for seed in range(seeds):
            case = "modelgen-%dx%d/seed%d" % (hosts, instances, seed)
            m = random_model(seed, hosts=hosts, instances=instances, fill=0.5, odd_states=False)
            m["nodes"]["disk_gb_total"] = 100000  # Watcher ignores disk: keep it out of the comparison
            with timed() as t:
                plan = registry.run(
                    m, "server_consolidation", "node_resource_consolidation", {"host_choice": "specify"}
                )
            ours_released = plan["efficacy"]["emptied_compute_nodes_count"]
            ours_moves = plan["efficacy"]["instance_migrations_count"]
            w, tw = run_watcher(python, m, "node_resource_consolidation", {"host_choice": "specify"})
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
        "modelgen-all",
        "released_hosts_ratio_vigil_over_watcher",
        totals["ours"] / max(totals["watcher"], 1),
        "ratio",
        1.0,
        better="higher",
    )
    stabilization(rep, python, seeds)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--watcher-python", default=os.environ.get("WATCHER_PYTHON"))
    ap.add_argument("--seeds", type=int, default=3, help="seeds of the small clusters")
    ap.add_argument("--randomfit-seeds", default="1,2")
    ap.add_argument("--randomfit-hosts", type=int, default=1000)
    ap.add_argument("--only", choices=("randomfit", "small"), default=None)
    args = ap.parse_args()
    if not args.watcher_python:
        print("watcher_compare: no --watcher-python / $WATCHER_PYTHON; skipped", file=sys.stderr)
        return 0
    rep = Reporter("watcher_compare")
    if args.only != "small":
        seeds = [int(s) for s in args.randomfit_seeds.split(",")]
        randomfit(rep, args.watcher_python, args.randomfit_hosts, seeds)
    if args.only != "randomfit":
        small(rep, args.watcher_python, args.seeds)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
