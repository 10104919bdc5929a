"""The invariant checker itself: each invariant must catch the breakage it is about
(a checker that never fails proves nothing)."""

import json

from invariants import capture, problems
from support import ironic_id, mixed_plan, server, server_id, wait_for


def test_clean_twin_has_no_problem(rtwin):
    assert problems(rtwin, capture(rtwin)) == []


def test_error_and_lost_servers_are_caught(rtwin):
    base = capture(rtwin)
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        store.servers[server_id(rtwin, "vm2")]["status"] = "ERROR"
        store.servers[server_id(rtwin, "vm5")]["task_state"] = "migrating"
    found = problems(rtwin, base)
    assert any("vm2 left in ERROR" in p for p in found) and any("vm5 left mid-task" in p for p in found), found
    assert not any("vm2 left in ERROR" in p for p in problems(rtwin, base, allow_error={"vm2"}))


def test_power_off_of_a_busy_host_is_caught(rtwin):
    base = capture(rtwin)
    with rtwin.cloud.lock:
        rtwin.cloud.stores["baremetal"].nodes[ironic_id(rtwin, "bm-cmp1")]["power_state"] = "power off"
    assert any("bm-cmp1 is off while cmp1 runs" in p for p in problems(rtwin, base))


def test_anti_affinity_az_and_leftover_allocation_are_caught(rtwin):
    base = capture(rtwin)
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        # a forced move of vm4 next to web-1 (same group) that never completes
        mig = store.live_migrate(store.servers[server_id(rtwin, "vm4")], "cmp1", True, {})
        mig["hang"] = True
    wait_for(lambda: server(rtwin, "vm4")["status"] == "MIGRATING")
    found = problems(rtwin, base)
    assert any("vm4 left mid-task" in p for p in found) and any("still" in p for p in found), found
    assert any("allocated on" in p for p in found), found
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        store.set_host(store.servers[server_id(rtwin, "vm4")], "cmp6")  # az2
    found = problems(rtwin, base)
    assert any("moved from AZ az1 to az2" in p for p in found), found
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        store.set_host(store.servers[server_id(rtwin, "vm4")], "cmp1")
    assert any("anti-affinity group web" in p for p in problems(rtwin, base))


def test_repeated_call_and_false_success_are_caught(rtwin, tmp_path):
    plan = mixed_plan(rtwin)
    base = capture(rtwin)
    m6 = next(a for a in plan["actions"] if a["id"] == "m6")
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        store.record_action(store.servers[m6["resource"]], "live-migration", {}, "compute_live_migration", "cmp2")
        store.record_action(store.servers[m6["resource"]], "live-migration", {}, "compute_live_migration", "cmp2")
    state = {
        "plan_id": plan["id"],
        "actions": {a["id"]: {"state": "SUCCEEDED" if a["id"] == "m6" else "CANCELLED"} for a in plan["actions"]},
    }
    path = tmp_path / "state.json"
    path.write_text(json.dumps(state))
    found = problems(rtwin, base, plan=plan, state_file=path)
    assert any("m6 (migrate, SUCCEEDED) made 2 mutating call(s)" in p for p in found), found
    assert any("m6 SUCCEEDED but server on cmp2, not cmp4" in p for p in found), found
