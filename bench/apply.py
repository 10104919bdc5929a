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

Where the time goes (issue 21), figures that do not depend on how busy the machine is: per
action, from the state file (the scheduler's start and finish), the twin's request log (when it
answered the destination's service read, the os-migrateLive POST, each bulk poll, the
allocations read) and its migration records (accepted, out of the source's queue, ended):

- ``submit_cost`` (start -> POST answered) = ``to_service_read`` (state file written, worker
  picked, the destination's service read) + ``post``;
- ``twin_queue`` (waiting for the source's slot inside Nova) and ``twin_service_excess`` (the
  twin's migration time minus the nominal duration: its pace model and its one process);
- ``detection`` (end -> the first bulk poll the twin answered after it);
- ``confirm`` (that poll -> finish) = ``allocations_read`` + ``to_finish`` (scheduler);
- ``refill`` (a finish -> the start of the action that takes its slot);
- ``overhead_per_action_mean`` (finish - start - nominal duration) and ``overhead_ratio``;
- ``ansible_cpu_ms_per_action`` / ``twin_cpu_ms_per_action``: CPU time of ansible-playbook with
  the module, and of the twin, per action; ``twin_handle_ms_<kind>``/``twin_count_<kind>``: the
  twin's own time per request kind (its dispatch, timed in this process) and their counts;
  ``poll_bytes_mean``: the size of a bulk poll's answer.

``BENCH_APPLY_DUMP=<prefix>`` writes each case's per-action timeline to ``<prefix>-<case>.json``.

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
import bisect
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
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
        served = twin_service_times(twin)
        plan_file = tmp / "vars.json"
        plan_file.write_text(json.dumps({"bench_plan": plan}))
        cpu_before = cpu_seconds()
        with timed() as wall:
            result = run_playbook(
                tmp, tasks_play(task), clouds_yaml=clouds, args=["-e", "@" + str(plan_file)], timeout=3600
            )
        cpu = {k: v - cpu_before[k] for k, v in cpu_seconds().items()}
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
        # CPU seconds do not depend on how busy the machine is: ansible-playbook and the module
        # (children), and this process (the twin's threads)
        rep.emit(case, "ansible_cpu_ms_per_action", 1000 * cpu["children"] / n, "ms")
        rep.emit(case, "twin_cpu_ms_per_action", 1000 * cpu["self"] / n, "ms")
        rep.emit(case, "http_requests_per_action", requests["total"] / n, "count", requests_target)
        rep.emit(case, "nova_requests_per_second", requests["by_service"].get("compute", 0) / makespan, "req/s")
        rep.emit(case, "allocation_violations", compute.violations_seen, "count", 0)
        for kind, times in sorted(served.items()):
            rep.emit(case, "twin_handle_ms_%s" % kind, 1000 * sum(t for t, _n in times) / len(times), "ms")
            rep.emit(case, "twin_count_%s" % kind, len(times), "count")
        polls = served.get("poll") or [(0, 0)]
        rep.emit(case, "poll_bytes_mean", sum(n for _t, n in polls) / len(polls), "bytes")
        limit_binds = hosts * per_source <= conc
        emit_breakdown(
            rep, case, data, compute, twin.cloud.requests.log, conc, limit_binds, dict(zip(ids.values(), durations))
        )


def cpu_seconds():
    """User + system CPU seconds of this process and of its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"self": own.ru_utime + own.ru_stime, "children": children.ru_utime + children.ru_stime}


def request_kind(method, raw_path):
    """The requests of a live-migration run, by what they are for."""
    if "changes-since" in raw_path:
        return "poll"
    if "/servers/detail" in raw_path:
        return "host_listing"
    if method == "POST" and raw_path.endswith("/action"):
        return "post"
    for part in ("os-services", "allocations", "os-migrations", "resource_providers", "auth/tokens"):
        if part in raw_path:
            return part.replace("-", "_").replace("/", "_")
    return "other"


def twin_service_times(twin):
    """Wrap the in-process twin's dispatch to time it: {kind: [(seconds, bytes of a listing)]}.

    The time covers the twin's work under its lock (routing, authentication, the handler), not
    the JSON encoding nor the socket: what the twin itself costs per request."""
    served = {}
    handle = twin.handle

    def timed_handle(method, raw_path, headers, body):
        start = time.perf_counter()
        service, response = handle(method, raw_path, headers, body)
        size = len(response.body) if isinstance(response.body, bytes) else 0  # listings come encoded
        served.setdefault(request_kind(method, raw_path), []).append((time.perf_counter() - start, size))
        return service, response

    twin.handle = timed_handle
    return served


def epoch(text):
    """A UTC timestamp of the state file or the twin (with or without ``Z``) as POSIX seconds."""
    return parse_ts(text.rstrip("Z") + "Z").replace(tzinfo=datetime.timezone.utc).timestamp()


def action_timeline(state_actions, migrations, log, nominal):
    """Per live migration: what the executor and the twin each saw, in POSIX seconds.

    ``started``/``finished``: the scheduler's transitions (state file); ``submit``: the twin
    answered the os-migrateLive POST (request log); ``accepted``: the migration record was
    created; ``running``: it left the source's queue; ``ended``: it completed; ``noticed``: the
    first bulk poll (``GET /servers/detail?changes-since``) the twin answered after the end.
    """
    offset = time.time() - time.monotonic()  # the twin runs in this process: its monotonic clock is ours
    posts, polls, services, allocations = {}, [], {}, {}
    for entry in log:
        path = entry["path"]
        if entry["method"] == "POST" and path.endswith("/action") and "/servers/" in path:
            posts.setdefault(path.split("/servers/")[1].split("/")[0], entry["time"])
        elif entry["method"] == "GET" and path.endswith("/os-services"):
            services.setdefault(entry["query"], []).append(entry["time"])
        elif entry["method"] == "GET" and "/allocations/" in path:
            allocations.setdefault(path.rsplit("/", 1)[1], []).append(entry["time"])
        elif entry["method"] == "GET" and path.endswith("/servers/detail") and "changes-since" in entry["query"]:
            polls.append(entry["time"])
    polls.sort()
    by_server = {}
    for mig in migrations.values():
        if mig["migration_type"] == "live-migration" and mig["status"] == "completed":
            by_server[mig["server_uuid"]] = mig
    rows = []
    for entry in state_actions.values():
        mig = by_server.get(entry["resource"])
        if mig is None or entry["resource"] not in posts:
            continue
        ended = epoch(mig["updated_at"])
        noticed = polls[bisect.bisect_right(polls, ended)] if polls and polls[-1] > ended else None
        submit = posts[entry["resource"]]
        # the destination's service read just before the POST, the allocations read after the end
        read = [t for q, ts in services.items() if mig["dest_compute"] in q for t in ts if t <= submit]
        alloc = [t for t in allocations.get(entry["resource"], ()) if t >= ended]
        rows.append(
            {
                "source": mig["source_compute"],
                "nominal": nominal[entry["resource"]],
                "started": epoch(entry["started"]),
                "observed": max(read) if read else None,
                "submit": submit,
                "allocations": min(alloc) if alloc else None,
                "accepted": epoch(mig["created_at"]),
                "running": mig["started"] + offset,
                "ended": ended,
                "noticed": noticed,
                "finished": epoch(entry["finished"]),
            }
        )
    return rows


def refill_gaps(rows, conc, per_source):
    """Seconds from an action's finish (scheduler) to the start of the action that took its
    slot: the k-th finish frees the slot of the (C+k)-th start (of its source when the
    per-source limit binds)."""
    groups = {}
    for row in rows:
        groups.setdefault(row["source"] if per_source else "", []).append(row)
    width = 1 if per_source else conc
    gaps = []
    for group in groups.values():
        finishes = sorted(r["finished"] for r in group)
        starts = sorted(r["started"] for r in group)
        gaps += [s - f for f, s in zip(finishes, starts[width:])]
    return gaps


def emit_breakdown(rep, case, state_actions, compute, log, conc, per_source, nominal):
    """Where an action's time goes (means and medians over the actions, in seconds)."""
    rows = action_timeline(state_actions, compute.migrations, log, nominal)
    if os.environ.get("BENCH_APPLY_DUMP"):
        Path(os.environ["BENCH_APPLY_DUMP"] + "-" + case + ".json").write_text(json.dumps(rows))
    if not rows:
        return
    parts = {
        "submit_cost": [r["submit"] - r["started"] for r in rows],  # scheduler start -> twin answered the POST
        "to_service_read": [r["observed"] - r["started"] for r in rows if r["observed"]],
        "post": [r["submit"] - r["observed"] for r in rows if r["observed"]],
        "twin_queue": [r["running"] - r["accepted"] for r in rows],  # waiting for the source's slot
        "twin_service_excess": [r["ended"] - r["running"] - r["nominal"] for r in rows],  # vs the pace model
        "detection": [r["noticed"] - r["ended"] for r in rows if r["noticed"]],  # end -> first poll after it
        "confirm": [r["finished"] - r["noticed"] for r in rows if r["noticed"]],  # that poll -> scheduler finish
        "allocations_read": [r["allocations"] - r["noticed"] for r in rows if r["noticed"] and r["allocations"]],
        "to_finish": [r["finished"] - r["allocations"] for r in rows if r["allocations"]],
        "refill": refill_gaps(rows, conc, per_source),  # finish -> next start in the freed slot
    }
    for name, values in parts.items():
        if values:
            values = sorted(values)
            rep.emit(case, name + "_mean", sum(values) / len(values), "s")
            rep.emit(case, name + "_median", values[len(values) // 2], "s")
    overhead = sum(r["finished"] - r["started"] - r["nominal"] for r in rows) / len(rows)
    rep.emit(case, "overhead_per_action_mean", overhead, "s")
    rep.emit(case, "overhead_ratio", overhead / (sum(r["nominal"] for r in rows) / len(rows)), "ratio")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
