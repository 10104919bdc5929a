"""Cancel: SIGTERM / SIGINT (Ctrl-C, a job stop) end a run cleanly and within a bounded time.

No action starts after the signal; running actions stop waiting and stay ONGOING (what they
sent may still be under way); the rest is CANCELLED; the next run re-checks the ONGOING ones
against the cloud and finishes the plan with every action carried out once.
(An AWX / ansible-runner cancel is a SIGKILL of the process group: test_sigkill.py.)
"""

import datetime
import json
import signal
import subprocess
import time

import pytest
from invariants import action_calls, assert_invariants, capture, read_state
from support import apply_args, chain_plan, module_cmd, module_env, run_module, start_twin, state_file_states, states

SPEED = 2.0  # a small server's live migration takes a few seconds: the signal lands inside one
BOUND_S = 10.0


def iso(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_signal_cancels_cleanly_and_the_next_run_finishes(stack, tmp_path, scenario, sig):
    scenario(
        "cancel",
        "%s to plan_apply while a live migration runs" % sig,
        "exits within %ds; nothing new starts; running action ONGOING, rest CANCELLED; re-run finishes, each action once"
        % BOUND_S,
    )
    twin = start_twin(stack, tmp_path, speed=SPEED)
    plan = chain_plan(twin)
    state_file = tmp_path / "plan.state.json"
    args = apply_args(plan, state_file)
    base = capture(twin)
    proc = subprocess.Popen(
        module_cmd(tmp_path, "plan_apply", args),
        env=module_env(twin),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while state_file_states(state_file).get("k1") != "ONGOING":
        assert proc.poll() is None and time.monotonic() < deadline, "k1 never started"
        time.sleep(0.02)
    signalled = time.time()
    proc.send_signal(getattr(signal, sig))
    out, _unused = proc.communicate(timeout=60)
    took = time.time() - signalled
    assert took < BOUND_S, "exited %.1fs after %s" % (took, sig)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["failed"] and result["cancelled"] == sig, out
    assert "cancelled by %s" % sig in result["msg"]
    assert states(result) == {
        "k0": "SUCCEEDED",
        "k1": "ONGOING",
        "k2": "CANCELLED",
        "k3": "CANCELLED",
        "k4": "CANCELLED",
    }
    recorded = read_state(state_file)["actions"]
    started_after = [aid for aid, e in recorded.items() if e.get("started") and iso(e["started"]) > signalled]
    assert started_after == [], "started after the signal: %s" % started_after
    # The next run waits for k1 (still migrating or done) instead of sending it again.
    twin.cloud.clock.speed = 50.0  # the rest of the chain need not be slow
    result, out = run_module(tmp_path, "plan_apply", args, twin=twin)
    assert not result.get("failed"), out
    assert set(states(result).values()) == {"SUCCEEDED"}
    calls = {a["id"]: action_calls(twin, base, a) for a in plan["actions"]}
    assert calls == dict.fromkeys(calls, 1)
    assert_invariants(twin, base, plan=plan, state_file=state_file)
