"""plan_apply's bulk observation (actions/server_watch.py), in-process with openstacksdk against
the twin: one poller for every moving server, Nova's live-migration pace per source host, and
no failed or stuck migration missed."""

import json

import pytest
from apply_support import reset_requests

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.plan_apply_run import argument_spec, build_executor

SOURCES, PER_SOURCE = 3, 4
TOPOLOGY = {
    "identity": {},
    "nodes": [{"hostname": "src%d" % i, "vcpus": 32, "memory_mb": 65536, "disk_gb": 500} for i in range(SOURCES)]
    + [{"hostname": "dst%d" % i, "vcpus": 32, "memory_mb": 65536, "disk_gb": 500} for i in range(SOURCES)],
    "servers": [
        {"name": "vm%d-%d" % (h, k), "flavor": "m1.small", "host": "src%d" % h}
        for h in range(SOURCES)
        for k in range(PER_SOURCE)
    ],
    # 0.5 s per live migration at speed 10
    "timing": {"live_migration_base_seconds": 5.0, "live_migration_seconds_per_gb": 0.0},
}


class Module:
    check_mode = False

    def __init__(self):
        self.lines = []

    def log(self, msg):
        self.lines.append(msg)


def moves(twin, names=None):
    compute = twin.cloud.stores["compute"]
    actions = []
    for n, server in enumerate(sorted(compute.servers.values(), key=lambda s: s["name"])):
        if names is None or server["name"] in names:
            src = server["host"]
            dst = "dst" + src[3:]
            actions.append(planlib.migrate_action("m%d" % n, server["id"], src, dst, "live", "ACTIVE"))
    return planlib.new_plan("server_consolidation", "test", actions=actions)


def apply(twin, tmp_path, monkeypatch, plan, **options):
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(twin.clouds_yaml))
    params = {name: spec.get("default") for name, spec in argument_spec().items()}
    params.update(cloud="vigil-twin", plan=plan, state_dir=str(tmp_path / "locks"), wait=True, force=False)
    params.update(options)
    state = str(tmp_path / "state.json")
    executor = build_executor(Module(), params, plan, state, state + ".log")
    return executor.run(), json.loads((tmp_path / "state.json").read_text())["actions"]


def states(summary):
    return {a["id"]: a["state"] for a in summary["actions"]}


def test_one_poller_for_all_and_one_live_migration_per_source(apply_twin_factory, tmp_path, monkeypatch):
    twin = apply_twin_factory(TOPOLOGY, speed=10.0)
    plan = moves(twin)
    reset_requests(twin)
    summary, recorded = apply(
        twin, tmp_path, monkeypatch, plan, poll_interval=0.05, concurrency={"total": 6, "migrate": 6}
    )
    assert set(states(summary).values()) == {"SUCCEEDED"}
    compute = twin.cloud.stores["compute"]
    assert all(compute.servers[a["resource"]]["host"] == a["input"]["destination_node"] for a in plan["actions"])
    # never two live migrations off one source at once (Nova's default), so none waited queued in Nova
    by_source = {}
    for a in plan["actions"]:
        entry = recorded[a["id"]]
        by_source.setdefault(a["input"]["source_node"], []).append((entry["started"], entry["finished"]))
    for spans in by_source.values():
        spans.sort()
        assert all(prev[1] <= nxt[0] for prev, nxt in zip(spans, spans[1:])), spans
    assert len(by_source) == SOURCES  # and the three sources ran side by side
    starts = sorted(recorded[a["id"]]["started"] for a in plan["actions"])
    assert starts[SOURCES - 1] < min(recorded[a["id"]]["finished"] for a in plan["actions"])
    # servers are watched in bulk: no per-server poll, few requests per action
    counts = twin.cloud.requests.summary()
    assert counts["total"] / len(plan["actions"]) <= 8, counts
    log = twin.cloud.requests.log
    one_by_one = [r for r in log if r["service"] == "compute" and r["path"].rsplit("/", 1)[-1] in compute.servers]
    assert one_by_one == []


def test_a_migration_that_fails_between_two_polls_is_not_missed(apply_twin_factory, tmp_path, monkeypatch):
    twin = apply_twin_factory(TOPOLOGY, speed=100.0)  # 0.05 s: over long before the next poll
    twin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": "vm0-1"}]})
    plan = moves(twin, names=("vm0-0", "vm0-1", "vm1-0"))
    summary, _recorded = apply(twin, tmp_path, monkeypatch, plan, poll_interval=1.0, on_failure="continue_independent")
    failed = [a for a in summary["actions"] if a["state"] == "FAILED"]
    compute = twin.cloud.stores["compute"]
    assert [compute.servers[a["resource"]]["name"] for a in failed] == ["vm0-1"]
    assert "still on src0" in failed[0]["error"]
    assert sum(1 for a in summary["actions"] if a["state"] == "SUCCEEDED") == 2
    server = compute.server_by_name["vm0-1"]
    assert (compute.servers[server]["host"], compute.servers[server]["status"]) == ("src0", "ACTIVE")


def test_a_stuck_migration_times_out_and_is_aborted(apply_twin_factory, tmp_path, monkeypatch):
    twin = apply_twin_factory(TOPOLOGY, speed=10.0)
    twin.cloud.faults.configure({"named": [{"kind": "migration_hang", "target": "vm1-0"}]})
    plan = moves(twin, names=("vm1-0", "vm2-0"))
    summary, _recorded = apply(
        twin, tmp_path, monkeypatch, plan, poll_interval=0.1, timeout=3, on_failure="continue_independent"
    )
    by_id = {a["id"]: a for a in summary["actions"]}
    compute = twin.cloud.stores["compute"]
    stuck = next(a for a in plan["actions"] if compute.servers[a["resource"]]["name"] == "vm1-0")
    assert by_id[stuck["id"]]["state"] == "FAILED"
    assert "timed out after 3s" in by_id[stuck["id"]]["error"] and "aborted" in by_id[stuck["id"]]["error"]
    server = compute.servers[stuck["resource"]]
    assert (server["host"], server["status"], server["task_state"]) == ("src1", "ACTIVE", None)
    assert sum(1 for a in summary["actions"] if a["state"] == "SUCCEEDED") == 1


@pytest.mark.parametrize("dependents", [False, True])
def test_source_released_only_for_dependents(apply_twin_factory, tmp_path, monkeypatch, dependents):
    """The source's hold in Placement is read only when a later action waits for this one."""
    twin = apply_twin_factory(TOPOLOGY, speed=10.0)
    plan = moves(twin, names=("vm0-0", "vm0-1"))
    if dependents:
        plan["actions"][1]["parents"] = [plan["actions"][0]["id"]]
    reset_requests(twin)
    summary, _recorded = apply(twin, tmp_path, monkeypatch, plan, poll_interval=0.05)
    assert set(states(summary).values()) == {"SUCCEEDED"}
    migration_uuids = {m["uuid"] for m in twin.cloud.stores["compute"].migrations.values()}
    reads = [r for r in twin.cloud.requests.log if r["path"].rsplit("/", 1)[-1] in migration_uuids]
    assert len(reads) == (1 if dependents else 0), reads
