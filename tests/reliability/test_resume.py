"""Resume verifies instead of trusting: a cloud that lost what the state file records, and a
failure that a re-run must not hide."""

import openstack
import openstack.config
from invariants import action_calls, assert_invariants, capture, mutating_requests
from support import apply_plan, chain_plan, server, server_id, states

CHAIN = ("vm1", "vm2", "vm6", "vm5", "vm3")  # k0..k4, each the parent of the next, all to cmp4


apply = apply_plan


def test_cloud_restored_before_resume_is_detected_and_named(rtwin, tmp_path, scenario):
    scenario(
        "resume",
        "the cloud is restored from a snapshot taken before the apply, then the plan is resumed",
        "refused before any call, naming each recorded move the cloud lost; on_drift: rerun redoes them",
    )
    plan = chain_plan(rtwin)
    before_apply = rtwin.snapshot()
    rtwin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(rtwin, "vm6")}]})
    result, out = apply(rtwin, tmp_path, plan)
    assert states(result) == dict(k0="SUCCEEDED", k1="SUCCEEDED", k2="FAILED", k3="CANCELLED", k4="CANCELLED"), out
    rtwin.cloud.faults.clear()
    rtwin.restore(before_apply)  # vm1 and vm2 are back on cmp1: k0 and k1 are lost
    assert (server(rtwin, "vm1")["host"], server(rtwin, "vm2")["host"]) == ("cmp1", "cmp1")

    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, retry_failed=True)
    assert result.get("failed"), out
    msg = result["msg"]
    assert "2 action(s) recorded SUCCEEDED" in msg and "no longer hold" in msg, msg
    assert "k0 (" in msg and "k1 (" in msg and "host=cmp1" in msg, msg
    assert mutating_requests(rtwin, base, ok_only=False) == []

    result, out = apply(rtwin, tmp_path, plan, retry_failed=True, on_drift="rerun")
    assert not result.get("failed"), out
    assert set(states(result).values()) == {"SUCCEEDED"} and result["drifted"] == ["k0", "k1"]
    assert {name: server(rtwin, name)["host"] for name in CHAIN} == dict.fromkeys(CHAIN, "cmp4")
    assert {a["id"]: action_calls(rtwin, base, a) for a in plan["actions"]} == dict.fromkeys(
        ["k0", "k1", "k2", "k3", "k4"], 1
    )
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_failed_action_stays_failed_on_rerun(rtwin, tmp_path, scenario):
    scenario(
        "resume",
        "Nova leaves a server in ERROR (confirmResize fails); the task is run again",
        "the action stays FAILED and the task fails again, sending nothing; retry_failed: true runs it again",
    )
    plan = chain_plan(rtwin)
    vm3 = server_id(rtwin, "vm3")  # SHUTOFF: k4 is a cold migration, confirmed by vigil
    rtwin.cloud.faults.configure({"named": [{"kind": "confirm_fail", "target": vm3}]})
    result, out = apply(rtwin, tmp_path, plan)
    assert result.get("failed") and states(result)["k4"] == "FAILED", out
    assert server(rtwin, "vm3")["status"] == "ERROR"
    rtwin.cloud.faults.clear()
    base = capture(rtwin)
    again, out = apply(rtwin, tmp_path, plan)
    assert again.get("failed"), out
    assert states(again) == states(result) and again["failed_actions"] == ["k4"]
    assert "k4" in again["msg"] and "retry_failed" in again["stopped"]
    assert not again.get("warnings"), again.get("warnings")
    assert mutating_requests(rtwin, base, ok_only=False) == []
    # retry_failed runs it again: Nova's ERROR is still there, so it fails again, naming it.
    retried, out = apply(rtwin, tmp_path, plan, retry_failed=True)
    assert retried.get("failed") and states(retried)["k4"] == "FAILED", out
    assert "is in ERROR" in retried["msg"] and "refused" in retried["msg"], retried["msg"]
    assert mutating_requests(rtwin, base, ok_only=False) == []
    # The operator repairs the server and resets its state; the retry then finds the move done.
    config = openstack.config.OpenStackConfig(config_files=[str(rtwin.clouds_yaml)])
    conn = openstack.connection.Connection(config=config.get_one("vigil-twin"))
    conn.compute.reset_server_state(vm3, "active")
    retried, out = apply(rtwin, tmp_path, plan, retry_failed=True)
    assert not retried.get("failed"), out
    assert set(states(retried).values()) == {"SUCCEEDED"} and server(rtwin, "vm3")["host"] == "cmp4"
    assert retried["actions"][-1]["msg"] == "already done"
