"""Exactly once: a call Nova carried out whose answer never reached vigil is not sent again.

A load balancer's 504 or a connection dropped after Nova accepted ``os-migrateLive`` or
``confirmResize`` used to be re-sent by the transport (keystoneauth's retries) half a second
later: Nova answered 409, the action FAILED and the plan stopped while the migration went on.
Mutating requests now reach vigil's own "did it land?" check instead.
"""

import pytest
from invariants import action_calls, assert_invariants, capture, new_requests, nova_actions_since
from support import (
    apply_args,
    apply_plan,
    chain_plan,
    mixed_plan,
    run_module,
    server,
    server_id,
    start_module,
    start_twin,
    state_file_states,
    wait_for,
)

ALL = dict.fromkeys(["s3", "m4", "m5", "p3", "c3", "m6", "v1", "s5", "p5"], "SUCCEEDED")
CASES = {
    # call -> (server whose call loses its answer, the instance actions Nova must record once each)
    "os-migrateLive": ("vm6", {"live-migration": 1}),
    "confirmResize": ("vm3", {"migrate": 1, "confirmResize": 1}),
}


@pytest.mark.parametrize("answer", [504, "drop"])
@pytest.mark.parametrize("call", sorted(CASES))
def test_lost_answer_after_an_accepted_call(rtwin, tmp_path, scenario, call, answer):
    name, expected = CASES[call]
    how = "a gateway's 504" if answer == 504 else "a dropped connection"
    scenario(
        "exactly once",
        "Nova carries out %s, the answer is lost (%s)" % (call, how),
        "one POST of %s, action SUCCEEDED, plan completes" % call,
    )
    plan = mixed_plan(rtwin)
    sid = server_id(rtwin, name)
    lost = {"kind": "lost_answer", "service": "compute", "path": "/servers/%s/action" % sid, "body": call}
    rtwin.cloud.faults.configure({"named": [dict(lost, answer=answer, times=1)]})
    base = capture(rtwin)
    result, out = apply_plan(rtwin, tmp_path, plan)
    assert not result.get("failed"), out
    assert {a["id"]: a["state"] for a in result["actions"]} == ALL
    assert nova_actions_since(rtwin, base, sid) == expected
    posts = [
        e for e in new_requests(rtwin, base) if e["method"] == "POST" and e["path"].endswith("/servers/%s/action" % sid)
    ]
    assert len(posts) == sum(expected.values()), posts
    assert not rtwin.cloud.faults.state()["named"], "the fault never fired"
    assert server(rtwin, name)["status"] in ("ACTIVE", "SHUTOFF")
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_second_run_of_a_plan_with_another_state_file_is_refused(stack, tmp_path, scenario):
    scenario(
        "exactly once",
        "a second plan_apply of the same plan, given another state_file, while the first runs",
        "refused at once naming the running pid and its state file; every action still runs once",
    )
    twin = start_twin(stack, tmp_path, speed=2.0)
    plan = chain_plan(twin)
    base = capture(twin)
    first_state = tmp_path / "first.state.json"
    first = start_module(tmp_path, "plan_apply", apply_args(plan, first_state), twin=twin)
    try:
        wait_for(lambda: state_file_states(first_state).get("k0") == "ONGOING")
        second_state = tmp_path / "other" / "second.state.json"
        result, out = run_module(
            tmp_path, "plan_apply", apply_args(plan, second_state, state_dir=str(tmp_path)), twin=twin
        )
        assert result.get("failed"), out
        assert "another vigil run (pid %d) is applying plan %s" % (first.pid, plan["id"]) in result["msg"], result
        assert str(first_state) in result["msg"]
        assert not second_state.exists()
        twin.cloud.clock.speed = 50.0
        assert first.wait(timeout=120) == 0
    finally:
        if first.poll() is None:
            first.kill()
    assert set(state_file_states(first_state).values()) == {"SUCCEEDED"}
    assert {a["id"]: action_calls(twin, base, a) for a in plan["actions"]} == dict.fromkeys(
        [a["id"] for a in plan["actions"]], 1
    )
