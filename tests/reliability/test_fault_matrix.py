"""The fault matrix: plan_apply against a twin that fails in every way the issue lists.

Each case runs the plan_apply module, then checks the invariants (invariants.py) and the
outcome the scenario promises. Generic faults (5xx bursts, latency) hit one service at a
time; named faults make one resource misbehave.
"""

import json
import threading
import time

import pytest
from invariants import assert_invariants, capture, mutating_requests, nova_actions_since
from support import (
    MIXED_FINAL,
    add_burst,
    apply_args,
    apply_plan,
    chain_plan,
    ironic_id,
    maas_id,
    mixed_plan,
    run_module,
    server,
    server_id,
    start_twin,
    state_file_states,
    states,
    volume_id,
    wait_for,
)

ALL = dict.fromkeys(["s3", "m4", "m5", "p3", "c3", "m6", "v1", "s5", "p5"], "SUCCEEDED")
SERVICES = ["identity", "compute", "placement", "volume", "baremetal", "maas"]
SERVICE_NAMES = {
    "identity": "Keystone",
    "compute": "Nova",
    "placement": "Placement",
    "volume": "Cinder",
    "baremetal": "Ironic",
    "maas": "MAAS",
}


apply = apply_plan


def assert_mixed_done(twin):
    for name, host in MIXED_FINAL.items():
        assert server(twin, name)["host"] == host, name


def test_mixed_plan_without_faults(rtwin, tmp_path, scenario):
    scenario(
        "baseline",
        "mixed plan (Nova, Placement, Cinder, Ironic, MAAS), no fault",
        "all SUCCEEDED; re-run changes nothing",
    )
    plan = mixed_plan(rtwin)
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert not result.get("failed"), out
    assert states(result) == ALL
    assert_mixed_done(rtwin)
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")
    # idempotence: the same run again sends nothing mutating
    again = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert not result.get("failed") and result["changed"] is False, out
    assert mutating_requests(rtwin, again, ok_only=False) == []


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("kind", ["5xx", "latency"])
def test_service_faults(rtwin, tmp_path, scenario, service, kind):
    """A burst of 503s (the service's next 2 requests, then 30% of them) or 0.1 s latency on every request."""
    name = SERVICE_NAMES[service]
    if kind == "5xx":
        spec = {"error_rate": 0.3, "error_status": 503}
        scenario(
            "API faults",
            "%s: a burst of 503s, then 30%% of requests" % name,
            "plan completes; one mutating call per action",
        )
    else:
        spec = {"latency": 0.1}
        scenario(
            "API faults", "%s: 0.1 s latency on every request" % name, "plan completes; one mutating call per action"
        )
    plan = mixed_plan(rtwin)
    rtwin.cloud.faults.configure({"seed": 2, "services": {service: spec}})
    base = capture(rtwin)
    if kind == "5xx":
        add_burst(rtwin, service, 2)
    result, out = apply(rtwin, tmp_path, plan)
    rtwin.cloud.faults.clear()
    assert not result.get("failed"), out
    assert states(result) == ALL
    assert_mixed_done(rtwin)
    if kind == "5xx":
        assert any(e["status"] == 503 and e["service"] == service for e in rtwin.cloud.requests.log[base.log_start :])
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_token_expiry_mid_plan(stack, tmp_path, scenario):
    scenario(
        "named faults",
        "Keystone token of the admin expires mid-plan",
        "re-authenticates; plan completes; nothing repeated",
    )
    twin = start_twin(stack, tmp_path, speed=10.0)
    plan = chain_plan(twin)
    base = capture(twin)
    state_file = tmp_path / "plan.state.json"
    expired = {}

    def expire_after_first():
        wait_for(lambda: "SUCCEEDED" in state_file_states(state_file).values(), timeout=60)
        twin.cloud.faults.configure({"named": [{"kind": "token_expire", "target": "admin"}]})
        expired["at"] = time.time()

    t = threading.Thread(target=expire_after_first, daemon=True)
    t.start()
    result, out = apply(twin, tmp_path, plan)
    t.join(5)
    assert "at" in expired
    assert not result.get("failed"), out
    assert set(states(result).values()) == {"SUCCEEDED"}
    log = twin.cloud.requests.log[base.log_start :]
    after = [e for e in log if e["time"] >= expired["at"]]
    assert any(e["status"] == 401 for e in after), "the expired token was never refused"
    assert any(e["service"] == "identity" and e["method"] == "POST" for e in after), "no re-authentication"
    assert_invariants(twin, base, plan=plan, state_file=state_file)


def test_live_migration_fails(rtwin, tmp_path, scenario):
    scenario(
        "named faults",
        "a live migration fails (on_failure: continue_independent)",
        "action FAILED, server ACTIVE on its source, dependents CANCELLED, the rest SUCCEEDED",
    )
    plan = mixed_plan(rtwin)
    rtwin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(rtwin, "vm4")}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent")
    assert result.get("failed") and "m4" in result["msg"], out
    assert states(result) == dict(ALL, m4="FAILED", p3="CANCELLED")
    vm4 = server(rtwin, "vm4")
    assert (vm4["host"], vm4["status"]) == ("cmp3", "ACTIVE")
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_live_migration_fails_stop(rtwin, tmp_path, scenario):
    scenario("named faults", "a live migration fails (on_failure: stop)", "action FAILED, nothing new starts after it")
    plan = chain_plan(rtwin)
    rtwin.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(rtwin, "vm2")}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert result.get("failed"), out
    assert states(result) == {
        "k0": "SUCCEEDED",
        "k1": "FAILED",
        "k2": "CANCELLED",
        "k3": "CANCELLED",
        "k4": "CANCELLED",
    }
    assert result["stopped"] == "action k1 failed"
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_live_migration_hangs_and_is_aborted(rtwin, tmp_path, scenario):
    scenario(
        "named faults",
        "a live migration hangs past its timeout",
        "aborted (migration cancelled), server ACTIVE on its source, FAILED",
    )
    plan = mixed_plan(rtwin)
    rtwin.cloud.faults.configure({"named": [{"kind": "migration_hang", "target": server_id(rtwin, "vm6")}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent", timeout=4)
    assert result.get("failed"), out
    assert states(result) == dict(ALL, m6="FAILED")
    error = next(a["error"] for a in result["actions"] if a["id"] == "m6")
    assert "timed out" in error and "aborted migration" in error, error
    vm6 = server(rtwin, "vm6")
    assert (vm6["host"], vm6["status"]) == ("cmp2", "ACTIVE")
    migs = [m for m in rtwin.cloud.stores["compute"].migrations.values() if m["server_uuid"] == vm6["id"]]
    assert [m["status"] for m in migs] == ["cancelled"]
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_cold_migration_confirm_fails(rtwin, tmp_path, scenario):
    scenario(
        "named faults",
        "a cold migration whose confirmResize fails",
        "action FAILED naming the server's ERROR; no retry of the confirm; others SUCCEEDED",
    )
    plan = mixed_plan(rtwin)
    rtwin.cloud.faults.configure({"named": [{"kind": "confirm_fail", "target": server_id(rtwin, "vm3")}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent")
    assert result.get("failed"), out
    assert states(result) == dict(ALL, c3="FAILED")
    error = next(a["error"] for a in result["actions"] if a["id"] == "c3")
    assert "ERROR" in error, error
    assert nova_actions_since(rtwin, base, server_id(rtwin, "vm3")) == {"migrate": 1, "confirmResize": 1}
    # the cloud put vm3 in ERROR (the injected fault), not vigil: allowed for vm3 only
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json", allow_error={"vm3"})


def test_destination_down_before_the_run(rtwin, tmp_path, scenario):
    scenario(
        "named faults", "the destination host is down when the plan runs", "moves onto it SKIPPED (stale), no call sent"
    )
    plan = mixed_plan(rtwin)
    rtwin.cloud.faults.configure({"named": [{"kind": "host_down", "target": "cmp4"}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert not result.get("failed"), out
    assert states(result) == dict(ALL, m4="SKIPPED", m5="SKIPPED", m6="SKIPPED", p3="SKIPPED")
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_destination_goes_down_mid_migration(stack, tmp_path, scenario):
    scenario(
        "named faults",
        "the destination host goes down during a live migration",
        "that migration FAILED, server back ACTIVE on its source; later moves not attempted",
    )
    twin = start_twin(stack, tmp_path, speed=5.0)  # a small server's live migration: ~1.8 s
    plan = chain_plan(twin, names=("vm2", "vm6", "vm5"))
    base = capture(twin)
    state_file = tmp_path / "plan.state.json"

    def down_when_second_runs():
        wait_for(lambda: server(twin, "vm6")["status"] == "MIGRATING", timeout=60)  # k1 is under way
        twin.cloud.faults.configure({"named": [{"kind": "host_down", "target": "cmp4"}]})

    t = threading.Thread(target=down_when_second_runs, daemon=True)
    t.start()
    result, out = apply(twin, tmp_path, plan)
    t.join(5)
    assert result.get("failed"), out
    assert states(result) == {"k0": "SUCCEEDED", "k1": "FAILED", "k2": "CANCELLED"}
    vm6 = server(twin, "vm6")
    assert (vm6["host"], vm6["status"]) == ("cmp2", "ACTIVE")
    assert_invariants(twin, base, plan=plan, state_file=state_file)


def test_service_disabled_by_someone_else_mid_plan(stack, tmp_path, scenario):
    scenario(
        "named faults",
        "an operator disables the destination's compute service mid-plan",
        "the running move finishes; later moves onto it SKIPPED as stale",
    )
    twin = start_twin(stack, tmp_path, speed=5.0)
    plan = chain_plan(twin, names=("vm2", "vm6", "vm5"))
    base = capture(twin)
    state_file = tmp_path / "plan.state.json"

    def disable_when_first_runs():
        wait_for(lambda: server(twin, "vm2")["status"] == "MIGRATING", timeout=60)  # k0 is under way
        with twin.cloud.lock:
            store = twin.cloud.stores["compute"]
            store.set_service_status(store.nodes["cmp4"], False, "maintenance by ops")

    t = threading.Thread(target=disable_when_first_runs, daemon=True)
    t.start()
    result, out = apply(twin, tmp_path, plan)
    t.join(5)
    assert not result.get("failed"), out
    assert states(result) == {"k0": "SUCCEEDED", "k1": "SKIPPED", "k2": "SKIPPED"}
    assert "disabled" in next(a["error"] for a in result["actions"] if a["id"] == "k1")
    assert twin.cloud.stores["compute"].nodes["cmp4"]["disabled_reason"] == "maintenance by ops"
    assert_invariants(twin, base, plan=plan, state_file=state_file)


def test_volume_migration_errors(rtwin, tmp_path, scenario):
    scenario(
        "named faults",
        "a Cinder volume migration ends in error",
        "action FAILED, volume in-use on its source pool, attachment intact",
    )
    plan = mixed_plan(rtwin)
    vid = volume_id(rtwin, "vol1")
    rtwin.cloud.faults.configure({"named": [{"kind": "volume_migration_fail", "target": vid}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent")
    assert result.get("failed"), out
    assert states(result) == dict(ALL, v1="FAILED")
    vol = rtwin.cloud.stores["volume"].volumes[vid]
    assert vol["pool"] == "cinder1@lvm#pool-a" and vol["status"] == "in-use"
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_ironic_refuses_power_off(rtwin, tmp_path, scenario):
    scenario("named faults", "an Ironic node refuses to power off", "action FAILED, node still on")
    plan = mixed_plan(rtwin)
    nid = ironic_id(rtwin, "bm-cmp3")
    rtwin.cloud.faults.configure({"named": [{"kind": "power_off_refused", "target": nid}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent", timeout=5)
    assert result.get("failed"), out
    assert states(result) == dict(ALL, p3="FAILED")
    assert rtwin.cloud.stores["baremetal"].nodes[nid]["power_state"] == "power on"
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_maas_machine_stuck_powering(rtwin, tmp_path, scenario):
    scenario(
        "named faults",
        "a MAAS machine accepts power-off but never changes state",
        "action FAILED after its timeout, machine on",
    )
    plan = mixed_plan(rtwin)
    sid = maas_id(rtwin, "cmp5")
    rtwin.cloud.faults.configure({"named": [{"kind": "maas_stuck_powering", "target": sid}]})
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_failure="continue_independent", timeout=3)
    assert result.get("failed"), out
    assert states(result) == dict(ALL, p5="FAILED")
    assert "timed out" in next(a["error"] for a in result["actions"] if a["id"] == "p5")
    assert rtwin.cloud.stores["maas"].machines[sid]["power_state"] == "on"
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_refused_power_off_of_a_busy_host(rtwin, tmp_path, scenario):
    scenario("safety", "a plan powers off a host that still runs servers", "refused (FAILED), no power call sent")
    from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

    plan = planlib.new_plan(
        "saving_energy",
        "reliability",
        actions=[planlib.node_power_action("p1", "cmp1", "ironic", ironic_id(rtwin, "bm-cmp1"), "off")],
    )
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert result.get("failed") and "refused" in result["msg"], out
    assert mutating_requests(rtwin, base, ok_only=False) == []
    assert json.loads((tmp_path / "plan.state.json").read_text())["actions"]["p1"]["state"] == "FAILED"
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_check_mode_sends_nothing(rtwin, tmp_path, scenario):
    scenario(
        "safety",
        "check mode on the mixed plan",
        "lists every action as 'run' in DAG order; no mutating request, no state file",
    )
    plan = mixed_plan(rtwin)
    base = capture(rtwin)
    args = apply_args(plan, tmp_path / "plan.state.json", maas_url=rtwin.maas_url, maas_api_key=rtwin.maas_api_key)
    args["_ansible_check_mode"] = True
    result, out = run_module(tmp_path, "plan_apply", args, twin=rtwin)
    assert not result.get("failed"), out
    assert result["check_mode"] is True and result["counts"] == {"run": 9}
    waves = {o["id"]: o["wave"] for o in result["order"]}
    assert waves["s3"] < waves["m4"] < waves["p3"] and waves["s5"] < waves["p5"]
    assert mutating_requests(rtwin, base, ok_only=False) == []
    assert not (tmp_path / "plan.state.json").exists()
    assert_invariants(rtwin, base)
