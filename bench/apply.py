"""Apply benchmark: plan_apply's makespan on live migrations at Nova's pace, and its own
overhead on no-op actions.

Migrations: a plan of N live migrations through ansible-playbook and the plan_apply module,
as users run it, on a twin that runs at most ``max_concurrent_live_migrations`` live
migrations per source host (Nova's default 1; more would wait ``queued``), each lasting
``live_migration_base_seconds + live_migration_seconds_per_gb x RAM GiB`` (twin/README.md).
Cases (issue 21):

- ``500x1s@20``: 500 migrations of 1 s off 40 source hosts at concurrency 20; the per-host
  limit (1) does not bind. Targets: makespan <= 1.15x ideal, <= 4 HTTP requests per action.
- ``500x1s@20-20src``: the same off 20 source hosts, at most 1 live migration per source at
  once (vigil's ``max_concurrent_live_migrations`` and the twin's): every source is a queue
  of 25. Target: <= 1.15x the limit-aware ideal.
- ``mixed-mem``: 20 source hosts, servers of 1, 2, 4 and 8 GiB (0.5 s + 0.25 s/GiB), so
  migration time follows memory; reported against the same bound.

Ideal (a lower bound no schedule beats; durations ``d_i``, concurrency ``C``, per-source limit
``L``, ``S_h`` the migrations off host h)::

    ideal = max( sum(d_i) / C,  max_h sum_{i in S_h}(d_i) / L,  max(d_i) )

with equal durations ``d`` this is ``d x max(ceil(N / C), max_h ceil(|S_h| / L))``. The
makespan is taken from the state file (first start to last finish); also reported: the
median action time, HTTP requests per action (every request the twin answered, token and
discovery included), Nova requests per second of makespan, and the wall time of the playbook.

No-op actions (issue 15, item 6): plans of 1,000 to 10,000 ``nop`` actions, so all the time is
vigil's own. ``seconds``: the plan_apply module run as Ansible runs it on localhost (module
file, arguments in a JSON file), start-up, validation and result included; target 10,000 in
<= 20 s. ``state_bytes``: bytes written by the executor in-process, as the kernel counts them
(``wchar`` of /proc/self/io: nothing else writes during the run), must grow linearly:
``state_bytes_per_action`` of the largest plan within 1.5x of the smallest's.

Usage: python bench/apply.py [--migrations 500] [--concurrency 20] [--seconds 1.0]
                             [--poll-interval 0.1] [--cases 500x1s@20,...]
                             [--noop 1000,2000,4000,10000]   (0 or an empty list: skip a part)
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
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
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutor  # noqa: E402
from vigil_twin.testing import running_twin, write_clouds_yaml  # noqa: E402


def parse_ts(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")


def noop_plan(n):
    actions = [planlib.simple_action("n%d" % i, "nop", "r%d" % i, {"message": "noop"}) for i in range(n)]
    return planlib.new_plan("server_consolidation", "bench", actions=actions)


def bytes_written():
    with open("/proc/self/io") as handle:
        return int(dict(line.split(": ") for line in handle.read().splitlines())["wchar"])


def bench_noop(rep, sizes):
    """No-op plans: module wall time, and the executor's bytes written (in-process)."""
    per_action = {}
    with (
        running_twin({"identity": {}, "nodes": [], "servers": []}, speed=1.0) as twin,
        tempfile.TemporaryDirectory() as tmp,
    ):
        tmp = Path(tmp)
        clouds = write_clouds_yaml(twin, tmp / "clouds.yaml")
        env = dict(os.environ, PYTHONPATH=str(ROOT / ".collections"), OS_CLIENT_CONFIG_FILE=str(clouds))
        for n in sizes:
            case = "noop-%d" % n
            plan = noop_plan(n)
            args_file = tmp / ("args-%d.json" % n)
            module_args = {"cloud": "vigil-twin", "plan": plan, "state_file": str(tmp / ("module-%d.json" % n))}
            args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": module_args}))
            module = ROOT / "plugins" / "modules" / "plan_apply.py"
            with timed() as wall:
                proc = subprocess.run(
                    [sys.executable, str(module), str(args_file)], env=env, capture_output=True, text=True, check=False
                )
            result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
            succeeded = (result.get("counts") or {}).get("SUCCEEDED", 0)
            if proc.returncode != 0 or succeeded != n:
                print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            rep.emit(case, "succeeded", succeeded, "count", n, better="higher")
            rep.emit(case, "seconds", wall["seconds"], "s", 20 if n == 10000 else None)

            executor = PlanExecutor(plan, state_path=str(tmp / ("inproc-%d.json" % n)))
            before = bytes_written()
            executor.run()
            written = bytes_written() - before
            per_action[n] = written / n
            rep.emit(case, "state_bytes", written, "bytes")
            rep.emit(case, "state_bytes_per_action", per_action[n], "bytes")
    if len(per_action) > 1:
        small, large = min(per_action), max(per_action)
        rep.emit(
            "noop-%d-vs-%d" % (large, small),
            "state_bytes_per_action_ratio",
            per_action[large] / per_action[small],
            "ratio",
            1.5,
        )


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--migrations", type=int, default=500)
    ap.add_argument("--concurrency", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=1.0, help="duration of one live migration on the twin")
    ap.add_argument("--poll-interval", type=float, default=0.1, help="plan_apply poll_interval")
    ap.add_argument("--cases", default="spread,per-source,mixed-mem", help="migration cases, comma-separated")
    ap.add_argument("--noop", default="1000,2000,4000,10000", help="sizes of the no-op plans, comma-separated")
    args = ap.parse_args(argv)
    rep = Reporter("apply")
    sizes = [int(x) for x in args.noop.split(",") if x.strip() and int(x) > 0]
    if sizes:
        bench_noop(rep, sizes)
    if args.migrations > 0:
        for case in [c.strip() for c in args.cases.split(",") if c.strip()]:
            bench_migrations(rep, args, case)
    return 1 if rep.failed else 0


def migration_case(args, case):
    """(case name, source hosts, per-source limit, [RAM MiB per server], timing, targets)."""
    n, conc = args.migrations, args.concurrency
    flat = {"live_migration_base_seconds": args.seconds, "live_migration_seconds_per_gb": 0.0}
    if case == "spread":  # the per-host limit does not bind: twice as many sources as slots
        return "%dx%gs@%d" % (n, args.seconds, conc), max(2 * conc, 10), 1, [512] * n, flat, (1.15, 4)
    if case == "per-source":
        return "%dx%gs@%d-%dsrc" % (n, args.seconds, conc, conc), conc, 1, [512] * n, flat, (1.15, None)
    if case == "mixed-mem":
        timing = {"live_migration_base_seconds": 0.5, "live_migration_seconds_per_gb": 0.25}
        hosts = conc
        mem = [1024 * (1 << ((i // hosts) % 4)) for i in range(n)]  # every source gets every size
        return "mixed-mem-%d@%d-%dsrc" % (n, conc, conc), hosts, 1, mem, timing, (None, None)
    raise SystemExit("unknown case %r (spread, per-source, mixed-mem)" % case)


def ideal_makespan(durations, sources, conc, per_source):
    """The lower bound of the module docstring."""
    per_host = {}
    for d, h in zip(durations, sources):
        per_host[h] = per_host.get(h, 0.0) + d
    return max(sum(durations) / conc, max(per_host.values()) / per_source, max(durations))


def bench_migrations(rep, args, which):
    n, conc = args.migrations, args.concurrency
    case, hosts, per_source, mem, timing, (ratio_target, requests_target) = migration_case(args, which)
    flavors = sorted(set(mem))
    nodes = [{"hostname": "src%03d" % i, "vcpus": 256, "memory_mb": 1024 * 1024, "disk_gb": 8000} for i in range(hosts)]
    nodes += [
        {"hostname": "dst%03d" % i, "vcpus": 256, "memory_mb": 1024 * 1024, "disk_gb": 8000} for i in range(hosts)
    ]
    topo = {
        "identity": {},
        "flavors": [{"name": "mem%d" % m, "vcpus": 1, "ram": m, "disk": 1} for m in flavors],
        "nodes": nodes,
        # Round robin: consecutive actions touch different hosts, as a planner's order would.
        "servers": [
            {"name": "vm%04d" % i, "flavor": "mem%d" % mem[i], "host": "src%03d" % (i % hosts)} for i in range(n)
        ],
        "timing": dict(timing, max_concurrent_live_migrations=per_source),
    }
    with running_twin(topo, speed=1.0) as twin, tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clouds = write_clouds_yaml(twin, tmp / "clouds.yaml")
        compute = twin.cloud.stores["compute"]
        ids = {s["name"]: s["id"] for s in compute.servers.values()}
        actions, durations, sources = [], [], []
        for i in range(n):
            server = compute.servers[ids["vm%04d" % i]]
            src = server["host"]
            actions.append(
                planlib.migrate_action("m%d" % i, server["id"], src, "dst%03d" % (i % hosts), "live", "ACTIVE")
            )
            durations.append(
                timing["live_migration_base_seconds"] + timing["live_migration_seconds_per_gb"] * mem[i] / 1024
            )
            sources.append(src)
        plan = planlib.new_plan("server_consolidation", "bench", actions=actions)
        state = tmp / "state.json"
        concurrency = {"total": conc, "migrate": conc, "per_host": 2, "max_concurrent_live_migrations": per_source}
        task = {
            "name": "go",
            "vigil.openstack.plan_apply": {
                "cloud": "vigil-twin",
                "plan": "{{ bench_plan }}",
                "state_file": str(state),
                "poll_interval": args.poll_interval,
                "concurrency": concurrency,
            },
        }
        plan_file = tmp / "vars.json"
        plan_file.write_text(json.dumps({"bench_plan": plan}))
        with timed() as wall:
            result = run_playbook(
                tmp, tasks_play(task), clouds_yaml=clouds, args=["-e", "@" + str(plan_file)], timeout=3600
            )
        if result.rc != 0:
            print(result.stdout[-3000:], result.stderr[-3000:], file=sys.stderr)
            rep.emit(case, "succeeded", 0, "count", n, better="higher")
            return
        data = json.loads(state.read_text())["actions"]
        starts = [parse_ts(a["started"]) for a in data.values()]
        ends = [parse_ts(a["finished"]) for a in data.values()]
        makespan = (max(ends) - min(starts)).total_seconds()
        ideal = ideal_makespan(durations, sources, conc, per_source)
        requests = twin.cloud.requests.summary()
        rep.emit(
            case, "succeeded", sum(1 for a in data.values() if a["state"] == "SUCCEEDED"), "count", n, better="higher"
        )
        rep.emit(case, "ideal", ideal, "s")
        rep.emit(case, "makespan", makespan, "s")
        rep.emit(case, "makespan_ratio", makespan / ideal, "ratio", ratio_target)
        durations_seen = sorted((e - s).total_seconds() for s, e in zip(starts, ends))
        rep.emit(case, "action_seconds_median", durations_seen[len(durations_seen) // 2], "s")
        rep.emit(case, "action_seconds_max", durations_seen[-1], "s")
        rep.emit(case, "playbook_wall", wall["seconds"], "s")
        rep.emit(case, "http_requests_per_action", requests["total"] / n, "count", requests_target)
        rep.emit(case, "nova_requests_per_second", requests["by_service"].get("compute", 0) / makespan, "req/s")
        rep.emit(case, "allocation_violations", compute.violations_seen, "count", 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
