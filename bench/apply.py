"""Apply benchmark: a plan of N live migrations (1 s each on the twin) through plan_apply.

Issue target: 500 migrations at concurrency 20 finish within 1.25x of the ideal makespan
(ceil(N / concurrency) x 1 s). The plan runs through ansible-playbook and the plan_apply
module, as users run it; the makespan is taken from the state file (first start to last
finish), the wall time of the whole playbook is reported too.

Usage: python bench/apply.py [--migrations 500] [--concurrency 20] [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / ".collections"),
    str(ROOT / "twin" / "src"),
    str(ROOT / "tests" / "integration"),
    str(Path(__file__).parent),
]

from ansible_run import run_playbook, tasks_play  # noqa: E402
from common import Reporter, timed  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib  # noqa: E402
from vigil_twin.testing import running_twin, write_clouds_yaml  # noqa: E402


def topology(n, hosts):
    nodes = [{"hostname": "src%03d" % i, "vcpus": 64, "memory_mb": 65536 * 4, "disk_gb": 4000} for i in range(hosts)]
    nodes += [{"hostname": "dst%03d" % i, "vcpus": 64, "memory_mb": 65536 * 4, "disk_gb": 4000} for i in range(hosts)]
    # Round robin: consecutive actions touch different hosts, as a planner's order would.
    servers = [{"name": "vm%04d" % i, "flavor": "m1.tiny", "host": "src%03d" % (i % hosts)} for i in range(n)]
    return {"identity": {}, "nodes": nodes, "servers": servers}


def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--migrations", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=1.0, help="duration of one live migration on the twin")
    ap.add_argument("--poll-interval", type=float, default=0.2, help="plan_apply poll_interval")
    args = ap.parse_args(argv)
    n, conc = args.migrations, args.concurrency
    hosts = max(2 * conc, 10)
    topo = topology(n, hosts)
    topo["timing"] = {"live_migration_base_seconds": args.seconds, "live_migration_seconds_per_gb": 0.0}
    rep = Reporter("apply")
    case = "%dx%ds@%d" % (n, args.seconds, conc)
    with running_twin(topo, speed=1.0) as twin, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clouds = write_clouds_yaml(twin, tmp / "clouds.yaml")
        compute = twin.cloud.stores["compute"]
        ids = {s["name"]: s["id"] for s in compute.servers.values()}
        actions = []
        for i in range(n):
            name = "vm%04d" % i
            src = compute.servers[ids[name]]["host"]
            actions.append(planlib.migrate_action("m%d" % i, ids[name], src, "dst%03d" % (i % hosts), "live", "ACTIVE"))
        plan = planlib.new_plan("server_consolidation", "bench", actions=actions)
        state = tmp / "state.json"
        task = {
            "name": "go",
            "vigil.openstack.plan_apply": {
                "cloud": "vigil-twin",
                "plan": plan,
                "state_file": str(state),
                "poll_interval": args.poll_interval,
                "concurrency": {"total": conc, "migrate": conc, "per_host": 2},
            },
        }
        plan_file = tmp / "vars.json"
        plan_file.write_text(json.dumps({"bench_plan": plan}))
        task["vigil.openstack.plan_apply"]["plan"] = "{{ bench_plan }}"
        with timed() as wall:
            result = run_playbook(
                tmp, tasks_play(task), clouds_yaml=clouds, args=["-e", "@" + str(plan_file)], timeout=3600
            )
        if result.rc != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
            return 1
        data = json.loads(state.read_text())["actions"]
        starts = [parse_ts(a["started"]) for a in data.values()]
        ends = [parse_ts(a["finished"]) for a in data.values()]
        makespan = (max(ends) - min(starts)).total_seconds()
        ideal = math.ceil(n / conc) * args.seconds
        ok_states = sum(1 for a in data.values() if a["state"] == "SUCCEEDED")
        rep.emit(case, "succeeded", ok_states, "count", n, better="higher")
        rep.emit(case, "makespan_ratio", makespan / ideal, "ratio", 1.25)
        rep.emit(case, "makespan", makespan, "s")
        durations = sorted((e - s).total_seconds() for s, e in zip(starts, ends))
        rep.emit(case, "action_seconds_median", durations[len(durations) // 2], "s")
        rep.emit(case, "action_seconds_max", durations[-1], "s")
        rep.emit(case, "playbook_wall", wall["seconds"], "s")
        rep.emit(case, "http_requests_per_action", twin.cloud.requests.summary()["total"] / n, "count")
        rep.emit(case, "allocation_violations", compute.violations_seen, "count", 0)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
