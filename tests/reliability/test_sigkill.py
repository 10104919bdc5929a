"""The executor killed with SIGKILL at random points, then re-run: it resumes, nothing is repeated.

Each seed starts plan_apply on the mixed plan (every action type, every service), kills the
process at a seed-chosen moment (after the n-th change of the state file, plus a jitter) (before anything, between actions, inside a migration, a
confirm, a volume copy or a power change), runs it again to the end and checks the
invariants plus: every action SUCCEEDED with exactly one execution's worth of mutating calls
over both runs, and the final cloud is the one an uninterrupted run gives. A few seeds kill
the re-run too.
"""

import os
import random
import signal
import time

import pytest
from invariants import action_calls, assert_invariants, capture
from support import (
    MIXED_FINAL,
    apply_args,
    mixed_plan,
    run_module,
    server,
    start_module,
    start_twin,
    state_file_states,
    states,
)

SPEED = 15.0  # a small server's live migration ~0.6 s; an uninterrupted run ~2 s plus startup


def kill_at(proc, state_file, transition, jitter):
    """SIGKILL `proc` `jitter` seconds after the state file changed for the `transition`-th time
    (0: during start-up, before the state file is first written)."""
    seen, last = 0, None
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline and seen < transition:
        current = state_file_states(state_file)
        if current and current != last:
            seen, last = seen + 1, current
        time.sleep(0.005)
    time.sleep(jitter)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.mark.parametrize("seed", range(24))
def test_sigkill_then_rerun(stack, tmp_path, scenario, seed):
    kills = 2 if seed >= 20 else 1
    scenario(
        "crash",
        "SIGKILL of the executor at a random point (seed %d%s), then re-run"
        % (seed, ", re-run killed too" if kills == 2 else ""),
        "resumes; every action SUCCEEDED exactly once; final cloud as an uninterrupted run",
    )
    rng = random.Random(seed)
    twin = start_twin(stack, tmp_path, speed=SPEED)
    plan = mixed_plan(twin)
    state_file = tmp_path / "plan.state.json"
    args = apply_args(
        plan, state_file, maas_url=twin.maas_url, maas_api_key=twin.maas_api_key, concurrency={"total": 3}
    )
    base = capture(twin)
    at_kill = []
    for _unused in range(kills):
        proc = start_module(tmp_path, "plan_apply", args, twin=twin)
        kill_at(proc, state_file, rng.randint(0, 9), rng.uniform(0.0, 0.4))
        at_kill.append(state_file_states(state_file))
    result, out = run_module(tmp_path, "plan_apply", args, twin=twin)
    assert not result.get("failed"), out
    assert set(states(result).values()) == {"SUCCEEDED"}, states(result)
    for name, host in MIXED_FINAL.items():
        assert server(twin, name)["host"] == host, name
    calls = {a["id"]: action_calls(twin, base, a) for a in plan["actions"]}
    assert calls == dict.fromkeys(calls, 1), "killed at %s" % at_kill
    assert_invariants(twin, base, plan=plan, state_file=state_file)
