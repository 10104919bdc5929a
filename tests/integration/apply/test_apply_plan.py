"""plan_apply through ansible-playbook against the twin: order, stop-on-failure, stale, crash and resume, 503s."""

import json
import os
import re
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest
from ansible_run import BIN, ROOT, ansible_env, run_playbook, tasks_play
from apply_support import failed, mutating, node_id, request_log, reset_requests, server, server_id, service, task

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import read_state

pytestmark = pytest.mark.slow


def evacuation_plan(twin):
    """Disable cmp3, move its two servers to cmp4, power cmp3 off; independently move vm6 cmp2 -> cmp1."""
    nid = node_id(twin, "bm-cmp3")
    actions = [
        planlib.compute_service_action("s1", "cmp3", "disabled", "vigil: evacuate"),
        planlib.migrate_action("a1", server_id(twin, "vm4"), "cmp3", "cmp4", "live", "ACTIVE", parents=["s1"]),
        planlib.migrate_action("a2", server_id(twin, "vm5"), "cmp3", "cmp4", "live", "ACTIVE", parents=["s1"]),
        planlib.migrate_action("a4", server_id(twin, "vm6"), "cmp2", "cmp1", "live", "ACTIVE"),
        planlib.node_power_action("p1", "cmp3", "ironic", nid, "off", parents=["a1", "a2"]),
    ]
    return planlib.new_plan("server_consolidation", "test", actions=actions)


def apply_task(plan, state_file, check=False, **kw):
    return task("plan_apply", check=check, plan=plan, state_file=str(state_file), poll_interval=0.05, **kw)


def states(result):
    return {a["id"]: a["state"] for a in result["actions"]}


def ok_calls_per_action(twin, plan):
    """Successful mutating requests that belong to each action (by the resource in the path)."""
    calls = mutating(twin, ok_only=True)
    out = {}
    for action in plan["actions"]:
        if action["type"] == "compute_service":
            key = "/os-services"
        else:
            key = action["resource"]
        out[action["id"]] = sum(1 for c in calls if key in c["path"])
    return out


def test_plan_apply_check_mode_then_apply_then_nothing_to_do(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    state_file = tmp_path / "plan.state.json"

    reset_requests(apply_twin)
    check = run(apply_task(plan, state_file, check=True))
    assert not failed(check), check.stdout
    order = [(o["id"], o["wave"], o["would"]) for o in check.task("go")["order"]]
    assert order == [("s1", 1, "run"), ("a4", 1, "run"), ("a1", 2, "run"), ("a2", 2, "run"), ("p1", 3, "run")]
    assert mutating(apply_twin) == [] and not state_file.exists()

    applied = run(apply_task(plan, state_file))
    res = applied.task("go")
    assert not failed(applied), applied.stdout
    assert states(res) == dict.fromkeys(["s1", "a1", "a2", "a4", "p1"], "SUCCEEDED")
    assert res["changed"] is True
    assert [server(apply_twin, n)["host"] for n in ("vm4", "vm5", "vm6")] == ["cmp4", "cmp4", "cmp1"]
    assert all(server(apply_twin, n)["status"] == "ACTIVE" for n in ("vm4", "vm5", "vm6"))
    assert apply_twin.cloud.stores["compute"].violations_seen == 0
    assert service(apply_twin, "cmp3")["status"] == "disabled"
    assert apply_twin.cloud.stores["baremetal"].nodes[node_id(apply_twin, "bm-cmp3")]["power_state"] == "power off"
    assert ok_calls_per_action(apply_twin, plan) == dict.fromkeys(["s1", "a1", "a2", "a4", "p1"], 1)
    assert apply_twin.cloud.stores["compute"].violations_seen == 0

    data = json.loads(state_file.read_text())
    assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
    # the progress log: a start and an end line per action, private like the state file
    progress = Path(res["progress_file"])
    assert progress == Path(str(state_file) + ".log") and stat.S_IMODE(os.stat(progress).st_mode) == 0o600
    lines = progress.read_text().splitlines()
    for aid in ("s1", "a1", "a2", "a4", "p1"):
        assert sum(" %s: start " % aid in line for line in lines) == 1, lines
        assert sum(" %s: SUCCEEDED" % aid in line for line in lines) == 1, lines
    assert all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ", line) for line in lines)
    assert data["plan_id"] == plan["id"] and {a["state"] for a in data["actions"].values()} == {"SUCCEEDED"}
    # Dependencies held: p1 started after a1 and a2 finished, a1 after s1.
    acts = data["actions"]
    assert acts["p1"]["started"] >= max(acts["a1"]["finished"], acts["a2"]["finished"])
    assert acts["a1"]["started"] >= acts["s1"]["finished"]

    reset_requests(apply_twin)
    again = run(apply_task(plan, state_file))
    assert not failed(again) and again.task("go")["changed"] is False
    assert mutating(apply_twin) == []
    assert progress.read_text().splitlines()[: len(lines)] == lines  # appended to, never rewritten


def test_failed_migration_stops_the_plan(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    apply_twin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(apply_twin, "vm4")}]})
    result = run(apply_task(plan, tmp_path / "s.json", concurrency={"total": 1}))
    res = result.task("go")
    assert failed(result)
    assert states(res) == {"s1": "SUCCEEDED", "a1": "FAILED", "a2": "CANCELLED", "a4": "CANCELLED", "p1": "CANCELLED"}
    assert res["failed_actions"] == ["a1"] and "a1" in res["msg"]
    assert server(apply_twin, "vm4")["host"] == "cmp3" and server(apply_twin, "vm4")["status"] == "ACTIVE"
    assert not any("/baremetal/" in c["path"] for c in mutating(apply_twin))


def test_failed_migration_continue_independent(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    apply_twin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(apply_twin, "vm4")}]})
    result = run(apply_task(plan, tmp_path / "s.json", on_failure="continue_independent"))
    res = result.task("go")
    assert failed(result)
    assert states(res) == {"s1": "SUCCEEDED", "a1": "FAILED", "a2": "SUCCEEDED", "a4": "SUCCEEDED", "p1": "CANCELLED"}
    assert "parent a1 failed" in next(a for a in res["actions"] if a["id"] == "p1")["error"]
    assert server(apply_twin, "vm4")["host"] == "cmp3" and server(apply_twin, "vm4")["status"] == "ACTIVE"
    assert server(apply_twin, "vm6")["host"] == "cmp1"
    assert not any("/baremetal/" in c["path"] for c in mutating(apply_twin))


def test_host_down_makes_actions_onto_it_stale(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    apply_twin.cloud.faults.configure({"named": [{"kind": "host_down", "target": "cmp4"}]})
    reset_requests(apply_twin)
    result = run(apply_task(plan, tmp_path / "s.json"))
    res = result.task("go")
    assert not failed(result), result.stdout
    assert states(res) == {"s1": "SUCCEEDED", "a1": "SKIPPED", "a2": "SKIPPED", "a4": "SUCCEEDED", "p1": "SKIPPED"}
    assert "destination host cmp4 is down" in next(a for a in res["actions"] if a["id"] == "a1")["error"]
    calls = ok_calls_per_action(apply_twin, plan)
    assert calls["a1"] == calls["a2"] == calls["p1"] == 0
    assert server(apply_twin, "vm4")["host"] == "cmp3"


def test_bad_plans_are_refused_before_anything_runs(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    other_cloud = json.loads(json.dumps(plan))
    for action in other_cloud["actions"]:
        action["resource"] = "00000000-0000-4000-8000-0000000000%02d" % len(action["id"])
        if action["type"] == "compute_service":
            action["input"]["host"] = action["resource"] = "no-such-host"
        if action["type"] == "node_power":
            action["input"]["node_id"] = action["resource"]
    unknown_type = json.loads(json.dumps(plan))
    unknown_type["actions"][0]["type"] = "teleport"
    reset_requests(apply_twin)
    for bad, expected in (
        (other_cloud, "does not match this cloud"),
        (unknown_type, "teleport"),
        ({"id": "x"}, "invalid plan"),
    ):
        result = run(apply_task(bad, tmp_path / "s.json"))
        assert failed(result) and expected in result.task("go")["msg"]
    assert mutating(apply_twin) == [] and not (tmp_path / "s.json").exists()


def chain_plan(twin, n):
    """n live migrations cmp1/cmp2/cmp3 servers -> cmp4, one after the other."""
    names = ["vm1", "vm2", "vm6", "vm4", "vm5"][:n]
    actions, parent = [], []
    for i, name in enumerate(names):
        srv = server(twin, name)
        actions.append(
            planlib.migrate_action("m%d" % i, srv["id"], srv["host"], "cmp4", "live", "ACTIVE", parents=parent)
        )
        parent = ["m%d" % i]
    return planlib.new_plan("server_consolidation", "test", actions=actions)


def test_kill_9_then_rerun_resumes_without_repeating(apply_twin_factory, tmp_path):
    twin = apply_twin_factory(speed=8.0)  # a live migration of vm1 takes ~1.6 s here
    plan = chain_plan(twin, 5)
    state_file = tmp_path / "plan.state.json"
    playbook = tmp_path / "apply.yml"
    playbook.write_text(json.dumps(tasks_play(apply_task(plan, state_file))))
    env = ansible_env(tmp_path, twin.clouds_yaml)
    cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    proc = subprocess.Popen(
        cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        seen = {}
        while time.monotonic() < deadline:
            if state_file.exists():
                # as a re-run would read it: the snapshot plus its journal
                seen = {k: v["state"] for k, v in read_state(state_file)["actions"].items()}
                if list(seen.values()).count("SUCCEEDED") >= 2 and "ONGOING" in seen.values():
                    break
            time.sleep(0.05)
        assert "ONGOING" in seen.values(), seen
    finally:
        # kill -9 the executor itself (the module process, whose pid the lock file holds) and ansible.
        lock = tmp_path / "plan.state.json.lock"
        holder = lock.read_text().strip() if lock.exists() else ""
        if holder:
            os.kill(int(holder), signal.SIGKILL)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    killed_at = dict(seen)

    result = run_playbook(tmp_path, tasks_play(apply_task(plan, state_file)), clouds_yaml=twin.clouds_yaml)
    res = result.task("go")
    assert not failed(result), result.stdout
    assert set(states(res).values()) == {"SUCCEEDED"}
    assert all(
        server(twin, n)["host"] == "cmp4" and server(twin, n)["status"] == "ACTIVE"
        for n in ("vm1", "vm2", "vm6", "vm4", "vm5")
    )
    # Exactly one migration request per action over both runs: nothing was repeated.
    assert ok_calls_per_action(twin, plan) == {a["id"]: 1 for a in plan["actions"]}
    data = json.loads(state_file.read_text())
    assert data["runs"] == 2
    ongoing = [k for k, v in killed_at.items() if v == "ONGOING"]
    assert data["actions"][ongoing[0]].get("resumed") is True
    for aid, state in killed_at.items():
        if state == "SUCCEEDED":
            assert data["actions"][aid]["attempts"] == 1


@pytest.mark.parametrize(
    "faults",
    [
        {"seed": 7, "services": {"*": {"error_rate": 0.1, "error_status": 503}}},
        {"seed": 11, "services": {"*": {"error_rate": 0.1, "error_status": 503}}},
        # Writes hit hard: each action's call must still land exactly once.
        {"seed": 3, "services": {"*": {"error_rate": 0.5, "error_status": 503, "methods": ["POST", "PUT", "DELETE"]}}},
    ],
    ids=["10pct-seed7", "10pct-seed11", "50pct-writes"],
)
def test_plan_completes_under_503_injection(apply_twin, run, tmp_path, faults):
    plan = evacuation_plan(apply_twin)
    apply_twin.cloud.faults.configure(faults)
    reset_requests(apply_twin)
    result = run(apply_task(plan, tmp_path / "s.json"))
    res = result.task("go")
    assert not failed(result), result.stdout
    assert set(states(res).values()) == {"SUCCEEDED"}
    log = request_log(apply_twin)
    assert any(e["status"] == 503 for e in log)  # the faults did hit
    if "methods" in faults["services"]["*"]:
        assert any(e["status"] == 503 and e["method"] in ("POST", "PUT", "DELETE") for e in log)
    assert ok_calls_per_action(apply_twin, plan) == dict.fromkeys(["s1", "a1", "a2", "a4", "p1"], 1)
    assert [server(apply_twin, n)["host"] for n in ("vm4", "vm5", "vm6")] == ["cmp4", "cmp4", "cmp1"]
    assert all(server(apply_twin, n)["status"] == "ACTIVE" for n in ("vm4", "vm5", "vm6"))
    assert apply_twin.cloud.stores["compute"].violations_seen == 0


def test_maas_power_actions_run_in_plan_worker_threads(apply_twin, run, tmp_path):
    """python-libmaas needs an asyncio loop in each worker thread; MAAS actions run there."""
    machines = {m["hostname"]: m for m in apply_twin.cloud.stores["maas"].machines.values()}
    actions = [planlib.compute_service_action("s4", "cmp4", "disabled", "vigil: power off")]
    actions.append(
        planlib.node_power_action("p4", "cmp4", "maas", machines["cmp4"]["system_id"], "off", parents=["s4"])
    )
    # cmp1 runs servers: its power-off is refused, whatever else happens.
    actions.append(planlib.node_power_action("p1", "cmp1", "maas", machines["cmp1"]["system_id"], "off"))
    plan = planlib.new_plan("saving_energy", "test", actions=actions)
    result = run(
        apply_task(
            plan,
            tmp_path / "s.json",
            on_failure="continue_independent",
            maas_url=apply_twin.maas_url,
            maas_api_key=apply_twin.maas_api_key,
        )
    )
    res = result.task("go")
    assert failed(result)
    assert states(res) == {"s4": "SUCCEEDED", "p4": "SUCCEEDED", "p1": "FAILED"}
    assert "refused" in next(a for a in res["actions"] if a["id"] == "p1")["error"]
    assert machines["cmp4"]["power_state"] == "off" and machines["cmp1"]["power_state"] == "on"


def test_plan_file_in_yaml_with_default_state_file(apply_twin, run, tmp_path):
    import yaml

    plan = planlib.new_plan(
        "test",
        "test",
        actions=[planlib.migrate_action("a", server_id(apply_twin, "vm6"), "cmp2", "cmp1", "live", "ACTIVE")],
    )
    plan_file = tmp_path / "plan.yaml"
    plan_file.write_text(yaml.safe_dump(plan))
    result = run(task("plan_apply", plan_file=str(plan_file), poll_interval=0.05))
    assert not failed(result), result.stdout
    assert result.task("go")["state_file"] == str(plan_file) + ".state.json"
    assert json.loads((tmp_path / "plan.yaml.state.json").read_text())["actions"]["a"]["state"] == "SUCCEEDED"
    missing = run(task("plan_apply", plan_file=str(tmp_path / "nope.yaml")))
    assert failed(missing) and "cannot read plan file" in missing.task("go")["msg"]


def test_wave_by_wave_playbook_with_one_state_file(apply_twin, run, tmp_path):
    plan = evacuation_plan(apply_twin)
    state_file = tmp_path / "waves.state.json"
    wave_task = task("plan_apply", plan="{{ plan }}", state_file=str(state_file), only="{{ item }}", poll_interval=0.05)
    wave_task["loop"] = "{{ plan | vigil.openstack.plan_waves(ids_only=true) }}"
    reset_requests(apply_twin)
    result = run(wave_task, extra_vars={"plan": plan})
    assert result.rc == 0, result.stdout
    waves = [r["result"] for r in result.results if r["task"] == "go"]
    assert waves and not any(r["status"] == "failed" for r in result.results)
    data = json.loads(state_file.read_text())
    assert {a["state"] for a in data["actions"].values()} == {"SUCCEEDED"}
    assert data["runs"] >= 3  # one per wave
    assert ok_calls_per_action(apply_twin, plan) == dict.fromkeys(["s1", "a1", "a2", "a4", "p1"], 1)
    assert [server(apply_twin, n)["host"] for n in ("vm4", "vm5", "vm6")] == ["cmp4", "cmp4", "cmp1"]
