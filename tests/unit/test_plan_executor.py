"""The plan executor's scheduler and state machine, driven by fake executors over an in-memory world.

The fakes stand in for the cloud calls only; the DAG, limits, state file and resume logic
under test are the real ones.
"""

import json
import os
import stat
import threading
import time

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, ActionError
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import (
    PlanExecutionError,
    PlanExecutor,
)
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import read_state


class World:
    """Where fake servers live: server -> host; counts the 'mutating calls'."""

    def __init__(self, placement=None):
        self.placement = dict(placement or {})
        self.lock = threading.Lock()
        self.calls = []
        self.running = []
        self.max_running = 0
        self.max_per_host = {}
        self.fail = set()
        self.in_flight = set()  # servers whose migration "was sent" but has not finished
        self.duration = 0.02

    def host_load(self):
        load = {}
        for _unused, hosts in self.running:
            for h in hosts:
                load[h] = load.get(h, 0) + 1
        return load


class FakeMigrate(Action):
    """Moves world.placement[server] to destination; honours done/stale/in_progress like the real one."""

    type = "migrate"

    @classmethod
    def hosts(cls, action):
        return [action["input"]["source_node"], action["input"]["destination_node"]]

    @property
    def world(self):
        return self.ctx["world"]

    def observe(self):
        return {"host": self.world.placement.get(self.resource), "busy": self.resource in self.world.in_flight}

    def done(self, state):
        return state["host"] == self.input["destination_node"] and not state["busy"]

    def exists(self, state):
        return state["host"] is not None

    def stale(self, state):
        if state["host"] is None:
            return "server %s not found" % self.resource
        if state["host"] != self.input["source_node"] and not state["busy"]:
            return "server moved to %s" % state["host"]
        return None

    def in_progress(self, state):
        return state["busy"]

    def execute(self, state):
        w = self.world
        with w.lock:
            w.calls.append(self.id)
            w.running.append((self.id, self.hosts(self.action)))
            w.max_running = max(w.max_running, len(w.running))
            for h, n in w.host_load().items():
                w.max_per_host[h] = max(w.max_per_host.get(h, 0), n)
        time.sleep(w.duration)

    def verify(self, state):
        w = self.world
        with w.lock:
            w.running = [r for r in w.running if r[0] != self.id]
            if self.id in w.fail:
                raise ActionError("migration of %s failed: still on %s" % (self.resource, self.input["source_node"]))
            w.placement[self.resource] = self.input["destination_node"]
            w.in_flight.discard(self.resource)
        return self.observe()


class FakeNop(Action):
    type = "nop"

    def observe(self):
        return {}

    def done(self, state):
        self.ctx["world"].calls.append(self.id)
        return True


EXECUTORS = {"migrate": FakeMigrate, "nop": FakeNop}


def mig(aid, server, src, dst, parents=()):
    return planlib.migrate_action(aid, server, src, dst, "live", "ACTIVE", parents=parents)


def make_plan(actions):
    plan = planlib.new_plan("server_consolidation", "test", actions=actions)
    return plan


def executor(plan, world, tmp_path=None, **kw):
    path = str(tmp_path / "state.json") if tmp_path is not None else None
    return PlanExecutor(plan, state_path=path, make_ctx=lambda: {"world": world}, executors=EXECUTORS, **kw)


def states(summary):
    return {a["id"]: a["state"] for a in summary["actions"]}


def test_runs_dag_in_dependency_order(tmp_path):
    world = World({"s1": "h1", "s2": "h1", "s3": "h2"})
    plan = make_plan(
        [
            mig("a1", "s1", "h1", "h3"),
            mig("a2", "s2", "h1", "h3", parents=["a1"]),
            mig("a3", "s3", "h2", "h4", parents=["a2"]),
        ]
    )
    summary = executor(plan, world, tmp_path).run()
    assert states(summary) == {"a1": "SUCCEEDED", "a2": "SUCCEEDED", "a3": "SUCCEEDED"}
    assert world.calls == ["a1", "a2", "a3"]
    assert world.placement == {"s1": "h3", "s2": "h3", "s3": "h4"}
    assert summary["changed"] is True and summary["failed_actions"] == []


def test_concurrency_limits_total_type_and_host(tmp_path):
    servers = {"s%d" % i: "src%d" % (i % 6) for i in range(24)}
    world = World(servers)
    world.duration = 0.05
    actions = [mig("a%d" % i, "s%d" % i, "src%d" % (i % 6), "dst%d" % (i % 3)) for i in range(24)]
    summary = executor(make_plan(actions), world, tmp_path, limits={"total": 10, "migrate": 5, "per_host": 2}).run()
    assert set(states(summary).values()) == {"SUCCEEDED"}
    assert world.max_running <= 5
    assert max(world.max_per_host.values()) <= 2
    assert world.max_running >= 2  # it does run in parallel


def test_failure_stop_cancels_everything_not_started(tmp_path):
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    world.fail.add("a1")
    plan = make_plan(
        [
            mig("a1", "s1", "h1", "h9"),
            mig("a2", "s2", "h2", "h9", parents=["a1"]),
            mig("a3", "s3", "h3", "h8", parents=["a2"]),
        ]
    )
    summary = executor(plan, world, tmp_path, on_failure="stop").run()
    assert states(summary) == {"a1": "FAILED", "a2": "CANCELLED", "a3": "CANCELLED"}
    assert "still on h1" in summary["actions"][0]["error"]
    assert world.calls == ["a1"]
    assert summary["failed_actions"] == ["a1"]


def test_failure_continue_independent_runs_only_independent_actions(tmp_path):
    world = World({"s1": "h1", "s2": "h2", "s3": "h3", "s4": "h4"})
    world.fail.add("a1")
    plan = make_plan(
        [
            mig("a1", "s1", "h1", "h9"),
            mig("a2", "s2", "h2", "h9", parents=["a1"]),
            mig("a3", "s3", "h3", "h8"),
            mig("a4", "s4", "h4", "h8", parents=["a3", "a2"]),
        ]
    )
    summary = executor(plan, world, tmp_path, on_failure="continue_independent", limits={"total": 1}).run()
    assert states(summary) == {"a1": "FAILED", "a2": "CANCELLED", "a3": "SUCCEEDED", "a4": "CANCELLED"}
    assert world.calls == ["a1", "a3"]
    assert summary["actions"][3]["error"] == "parent a1 failed"


def test_stale_action_skipped_with_dependents_and_others_go_on(tmp_path):
    world = World({"s1": "elsewhere", "s2": "h2"})
    plan = make_plan(
        [mig("a1", "s1", "h1", "h9"), mig("a2", "s1", "h9", "h8", parents=["a1"]), mig("a3", "s2", "h2", "h8")]
    )
    summary = executor(plan, world, tmp_path, on_stale="skip").run()
    assert states(summary) == {"a1": "SKIPPED", "a2": "SKIPPED", "a3": "SUCCEEDED"}
    assert summary["actions"][0]["error"].startswith("stale: server moved to elsewhere")
    assert world.calls == ["a3"]


def test_stale_stop_cancels_the_rest(tmp_path):
    world = World({"s1": "elsewhere", "s2": "h2"})
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a3", "s2", "h2", "h8", parents=["a1"])])
    summary = executor(plan, world, tmp_path, on_stale="stop").run()
    assert states(summary) == {"a1": "SKIPPED", "a3": "CANCELLED"}
    assert summary["stopped"] == "action a1 is stale"


def test_already_done_is_succeeded_without_a_call(tmp_path):
    world = World({"s1": "h9"})
    summary = executor(make_plan([mig("a1", "s1", "h1", "h9")]), world, tmp_path).run()
    assert states(summary) == {"a1": "SUCCEEDED"}
    assert world.calls == [] and summary["changed"] is False


def test_state_file_is_written_atomically_mode_0600(tmp_path):
    world = World({"s1": "h1"})
    plan = make_plan([mig("a1", "s1", "h1", "h9")])
    executor(plan, world, tmp_path).run()
    path = tmp_path / "state.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data["plan_id"] == plan["id"]
    entry = data["actions"]["a1"]
    assert entry["state"] == "SUCCEEDED" and entry["attempts"] == 1
    assert entry["started"] and entry["finished"] and entry["error"] is None
    # no temporary file left behind; the journal is empty once the run folded it into the snapshot
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json", "state.json.journal", "state.json.lock"]
    assert len((tmp_path / "state.json.journal").read_text().splitlines()) == 1  # its header only


def test_every_transition_is_persisted_before_the_action_runs(tmp_path):
    world = World({"s1": "h1"})
    seen = []

    class Spy(FakeMigrate):
        def execute(self, state):
            # what a run started after a crash right now would read (snapshot + journal)
            seen.append(read_state(tmp_path / "state.json")["actions"][self.id]["state"])
            super().execute(state)

    plan = make_plan([mig("a1", "s1", "h1", "h9")])
    PlanExecutor(
        plan, str(tmp_path / "state.json"), lambda: {"world": world}, executors={"migrate": Spy, "nop": FakeNop}
    ).run()
    assert seen == ["ONGOING"]


def test_resume_never_repeats_succeeded_and_rechecks_ongoing(tmp_path):
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    plan = make_plan(
        [
            mig("a1", "s1", "h1", "h9"),
            mig("a2", "s2", "h2", "h9", parents=["a1"]),
            mig("a3", "s3", "h3", "h9", parents=["a2"]),
        ]
    )
    # A first run "crashed": a1 done, a2 sent (in flight in the cloud), a3 never started.
    world.placement["s1"] = "h9"
    world.in_flight.add("s2")
    state = {
        "plan_id": plan["id"],
        "model_digest": None,
        "actions": {
            "a1": {"state": "SUCCEEDED", "started": "t", "finished": "t", "error": None, "attempts": 1},
            "a2": {"state": "ONGOING", "started": "t", "finished": None, "error": None, "attempts": 1},
        },
    }
    (tmp_path / "state.json").write_text(json.dumps(state))
    summary = executor(plan, world, tmp_path).run()
    assert states(summary) == {"a1": "SUCCEEDED", "a2": "SUCCEEDED", "a3": "SUCCEEDED"}
    assert world.calls == ["a3"]  # a1 not repeated, a2 waited for, not re-sent
    data = json.loads((tmp_path / "state.json").read_text())
    assert data["actions"]["a1"]["attempts"] == 1 and data["actions"]["a2"]["attempts"] == 2
    assert data["actions"]["a2"]["resumed"] is True
    # A third run changes nothing and calls nothing.
    world.calls.clear()
    again = executor(plan, world, tmp_path).run()
    assert world.calls == [] and again["changed"] is False
    assert set(states(again).values()) == {"SUCCEEDED"}


def test_failed_action_stays_failed_on_rerun_until_retry_failed(tmp_path):
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    world.fail.add("a1")
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"])])
    assert states(executor(plan, world, tmp_path).run()) == {"a1": "FAILED", "a2": "CANCELLED"}
    world.fail.clear()
    world.calls.clear()
    # A plain re-run neither hides the failure nor runs it again: the operator decides.
    again = executor(plan, world, tmp_path).run()
    assert states(again) == {"a1": "FAILED", "a2": "CANCELLED"}
    assert again["failed_actions"] == ["a1"] and "retry_failed" in again["stopped"]
    assert world.calls == []
    check = executor(plan, world, tmp_path).run(check_mode=True)
    assert [o["would"] for o in check["order"]] == ["fail", "cancel"]
    retried = executor(plan, world, tmp_path, retry_failed=True).run()
    assert states(retried) == {"a1": "SUCCEEDED", "a2": "SUCCEEDED"}
    assert world.calls == ["a1", "a2"]


def test_failed_action_on_rerun_cancels_only_its_descendants_when_continuing(tmp_path):
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    world.fail.add("a1")
    plan = make_plan(
        [mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"]), mig("a3", "s3", "h3", "h8")]
    )
    first = executor(plan, world, tmp_path, limits={"total": 1}).run()  # a1 fails, the plan stops
    assert states(first) == {"a1": "FAILED", "a2": "CANCELLED", "a3": "CANCELLED"}
    world.fail.clear()
    world.calls.clear()
    second = executor(plan, world, tmp_path, on_failure="continue_independent").run()
    assert states(second) == {"a1": "FAILED", "a2": "CANCELLED", "a3": "SUCCEEDED"}
    assert world.calls == ["a3"] and second["failed_actions"] == ["a1"]


def test_resume_rechecks_succeeded_parents_and_stops_on_drift(tmp_path):
    world = World({"s1": "h1", "s2": "h2"})
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"])])
    world.fail.add("a2")
    executor(plan, world, tmp_path).run()
    before = (tmp_path / "state.json").read_text()
    world.fail.clear()
    world.placement["s1"] = "h1"  # the cloud lost a1's move (restored from a backup)
    world.calls.clear()
    with pytest.raises(PlanExecutionError, match=r"a1 \(.*no longer hold|no longer hold.*a1 \("):
        executor(plan, world, tmp_path, retry_failed=True).run()
    assert world.calls == []  # a2 never started on the word of a parent that did not hold
    assert (tmp_path / "state.json").read_text() == before
    check = executor(plan, world, tmp_path, retry_failed=True).run(check_mode=True)
    assert [o["would"] for o in check["order"]] == ["fail", "cancel"]
    rerun = executor(plan, world, tmp_path, retry_failed=True, on_drift="rerun").run()
    assert states(rerun) == {"a1": "SUCCEEDED", "a2": "SUCCEEDED"} and rerun["drifted"] == ["a1"]
    assert world.calls == ["a1", "a2"] and world.placement == {"s1": "h9", "s2": "h9"}


def test_resume_samples_the_other_succeeded_actions_and_reads_all_on_drift(tmp_path):
    """Beyond the parents it relies on, a resume reads a sample; one drifted in it -> all are read."""
    from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import RECHECK_SAMPLE

    reads = []

    class CountingMigrate(FakeMigrate):
        def observe(self):
            reads.append(self.id)
            return FakeMigrate.observe(self)

    n = 100
    world = World(dict(("s%d" % i, "h1") for i in range(n + 1)))
    plan = make_plan([mig("a%d" % i, "s%d" % i, "h1", "h9") for i in range(n + 1)])
    world.fail.add("a%d" % n)

    def run(**kw):
        return PlanExecutor(
            plan,
            state_path=str(tmp_path / "state.json"),
            make_ctx=lambda: {"world": world},
            executors={"migrate": CountingMigrate, "nop": FakeNop},
            on_failure="continue_independent",
            **kw,
        ).run()

    run()
    world.fail.clear()
    reads.clear()
    assert states(run(retry_failed=True))["a%d" % n] == "SUCCEEDED"  # nothing drifted: resume goes on
    assert len([r for r in reads if r != "a%d" % n]) == RECHECK_SAMPLE  # a100 is read by its own run
    for i in range(0, n, 3):  # the cloud went back: a third of the moves are lost
        world.placement["s%d" % i] = "h1"
    reads.clear()
    world.calls.clear()
    with pytest.raises(PlanExecutionError) as refused:
        run()
    lost = ["a%d" % i for i in range(0, n, 3)]
    assert "%d action(s) recorded SUCCEEDED" % len(lost) in str(refused.value)
    assert set(reads) == set("a%d" % i for i in range(n + 1))  # the sample found drift: everything was read
    assert world.calls == []


def test_cancel_starts_nothing_new_and_leaves_in_flight_ongoing(tmp_path):
    """A cancel (SIGTERM) ends the waits of running actions: they stay ONGOING for the next run."""
    from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Poller

    class SlowMigrate(FakeMigrate):
        def verify(self, state):
            # the migration runs in the cloud; vigil waits for it through the interruptible poller
            self.world.in_flight.add(self.resource)
            return self.poller.until(lambda: None, 30, "migration of %s" % self.resource)

    world = World({"s1": "h1", "s2": "h2"})
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"])])
    run = PlanExecutor(
        plan,
        state_path=str(tmp_path / "state.json"),
        make_ctx=lambda: {"world": world, "poller": Poller(interval=0.05)},
        executors={"migrate": SlowMigrate, "nop": FakeNop},
    )
    threading.Timer(0.3, run.cancel, args=("SIGTERM",)).start()
    started = time.monotonic()
    summary = run.run()
    assert time.monotonic() - started < 5
    assert states(summary) == {"a1": "ONGOING", "a2": "CANCELLED"}
    assert summary["cancelled"] == "SIGTERM" and "cancelled" in summary["stopped"]
    on_disk = json.loads((tmp_path / "state.json").read_text())["actions"]
    assert on_disk["a1"]["state"] == "ONGOING" and on_disk["a2"]["state"] == "CANCELLED"
    assert world.calls == ["a1"]
    # The next run sees a1 still in flight, waits for it instead of sending it again, then runs a2.
    world.in_flight.discard("s1")
    world.placement["s1"] = "h9"
    world.calls.clear()
    summary = executor(plan, world, tmp_path).run()
    assert states(summary) == {"a1": "SUCCEEDED", "a2": "SUCCEEDED"} and world.calls == ["a2"]


def test_state_file_of_another_plan_is_refused(tmp_path):
    world = World({"s1": "h1"})
    (tmp_path / "state.json").write_text(json.dumps({"plan_id": "other", "actions": {}}))
    with pytest.raises(PlanExecutionError, match="belongs to plan other"):
        executor(make_plan([mig("a1", "s1", "h1", "h9")]), world, tmp_path).run()
    assert world.calls == []


def test_invalid_plan_executes_nothing(tmp_path):
    world = World({"s1": "h1"})
    plan = make_plan([mig("a1", "s1", "h1", "h9", parents=["a2"]), mig("a2", "s1", "h9", "h8", parents=["a1"])])
    with pytest.raises(PlanExecutionError, match="dependency cycle"):
        executor(plan, world, tmp_path).run()
    bad = make_plan([{"id": "x", "type": "teleport", "resource": "s1", "input": {}, "parents": []}])
    with pytest.raises(PlanExecutionError, match="teleport"):
        executor(bad, world, tmp_path).run()
    with pytest.raises(PlanExecutionError, match="invalid plan"):
        executor({"actions": "nope"}, world, tmp_path).run()
    assert world.calls == [] and not (tmp_path / "state.json").exists()


def test_plan_for_another_cloud_is_refused(tmp_path):
    world = World({})
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h1", "h9")])
    with pytest.raises(PlanExecutionError, match="does not match this cloud"):
        executor(plan, world, tmp_path).run()
    assert world.calls == []


def test_model_digest_mismatch_is_refused(tmp_path):
    world = World({"s1": "h1"})
    plan = make_plan([mig("a1", "s1", "h1", "h9")])
    plan["model_digest"] = "sha256:aaa"
    with pytest.raises(PlanExecutionError, match="computed from model sha256:aaa"):
        executor(plan, world, tmp_path, model_digest="sha256:bbb").run()


def test_bad_options_are_refused():
    plan = make_plan([])
    with pytest.raises(PlanExecutionError, match="on_failure"):
        PlanExecutor(plan, on_failure="yolo")
    with pytest.raises(PlanExecutionError, match="concurrency: unknown key"):
        PlanExecutor(plan, limits={"teleport": 1})
    with pytest.raises(PlanExecutionError, match="positive integer"):
        PlanExecutor(plan, limits={"total": 0})


def test_check_mode_lists_order_and_touches_nothing(tmp_path):
    world = World({"s1": "h1", "s2": "h9", "s3": "gone-host"})
    plan = make_plan(
        [
            mig("a1", "s1", "h1", "h9"),
            mig("a2", "s2", "h1", "h9"),
            mig("a3", "s3", "h3", "h9"),
            planlib.simple_action("n1", "nop", "-", {"message": "hi"}, parents=["a1"]),
            mig("a4", "s1", "h9", "h8", parents=["a3"]),
        ]
    )
    result = executor(plan, world, tmp_path).run(check_mode=True)
    order = {o["id"]: (o["wave"], o["would"]) for o in result["order"]}
    assert order == {"a1": (1, "run"), "a2": (1, "done"), "a3": (1, "skip"), "n1": (2, "run"), "a4": (2, "cancel")}
    assert [o["id"] for o in result["order"]] == ["a1", "a2", "a3", "n1", "a4"]
    assert world.calls == [] and not (tmp_path / "state.json").exists()
    assert world.placement["s1"] == "h1"


def test_a_second_concurrent_run_is_refused(tmp_path):
    world = World({"s1": "h1"})
    plan = make_plan([mig("a1", "s1", "h1", "h9")])
    first = executor(plan, world, tmp_path)
    first.state.acquire()
    try:
        with pytest.raises(PlanExecutionError, match=r"another run \(pid \d+\) holds"):
            executor(plan, world, tmp_path).run()
    finally:
        first.state.release()
    assert world.calls == []


def test_wave_by_wave_with_one_state_file(tmp_path):
    """`only` runs a subset (a wave, or one action per task) against the shared state file."""
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    plan = make_plan(
        [mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"]), mig("a3", "s3", "h3", "h8")]
    )

    def run_(only):
        return executor(plan, world, tmp_path, only=only).run()

    waves = executor(plan, world, tmp_path).waves()
    assert waves == [["a1", "a3"], ["a2"]]
    first = run_(waves[0])
    assert states(first) == {"a1": "SUCCEEDED", "a3": "SUCCEEDED"}  # only the wave is reported
    data = json.loads((tmp_path / "state.json").read_text())
    assert data["actions"]["a2"]["state"] == "PENDING"  # untouched
    second = run_(waves[1])
    assert states(second) == {"a2": "SUCCEEDED"}
    assert world.calls == ["a1", "a3", "a2"]
    with pytest.raises(PlanExecutionError, match="only: unknown action id"):
        run_(["zz"])


def test_only_an_action_whose_parent_failed_is_cancelled(tmp_path):
    world = World({"s1": "h1", "s2": "h2"})
    world.fail.add("a1")
    plan = make_plan([mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h9", parents=["a1"])])
    executor(plan, world, tmp_path, only=["a1"]).run()
    second = executor(plan, world, tmp_path, only=["a2"]).run()
    assert states(second) == {"a2": "CANCELLED"}
    assert second["actions"][0]["error"] == "parent(s) did not succeed: a1"
    assert world.calls == ["a1"]


def test_wave_by_wave_stop_means_a_failed_wave_stops_the_next(tmp_path):
    """on_failure=stop holds across waves: an independent action of a later wave does not run."""
    world = World({"s1": "h1", "s2": "h2", "s3": "h3"})
    world.fail.add("a1")
    plan = make_plan(
        [mig("a1", "s1", "h1", "h9"), mig("a2", "s2", "h2", "h8", parents=["a1"]), mig("a3", "s3", "h3", "h7")]
    )
    executor(plan, world, tmp_path, only=["a1"]).run()
    later = executor(plan, world, tmp_path, only=["a3"]).run()
    assert states(later) == {"a3": "CANCELLED"}
    assert later["actions"][0]["error"] == "plan stopped: action a1 failed earlier"
    assert world.calls == ["a1"]
    independent = executor(plan, world, tmp_path, only=["a3"], on_failure="continue_independent").run()
    assert states(independent) == {"a3": "SUCCEEDED"}


def test_state_file_directories_are_all_private(tmp_path):
    world = World({"s1": "h1"})
    plan = make_plan([mig("a1", "s1", "h1", "h9")])
    path = tmp_path / "new" / "deeper" / "state.json"
    PlanExecutor(plan, state_path=str(path), make_ctx=lambda: {"world": world}, executors=EXECUTORS).run()
    for directory in (tmp_path / "new", tmp_path / "new" / "deeper"):
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory


def test_one_live_migration_per_source_host_by_default(tmp_path):
    servers = {"s%d" % i: "src%d" % (i % 2) for i in range(8)}
    world = World(servers)
    world.duration = 0.05
    actions = [mig("a%d" % i, "s%d" % i, "src%d" % (i % 2), "dst%d" % i) for i in range(8)]
    summary = executor(make_plan(actions), world, tmp_path, limits={"per_host": None}).run()
    assert set(states(summary).values()) == {"SUCCEEDED"}
    assert world.max_per_host["src0"] == world.max_per_host["src1"] == 1  # Nova's default pace
    assert world.max_running == 2  # both sources side by side
    summary = executor(
        make_plan([mig("b%d" % i, "s%d" % i, world.placement["s%d" % i], "src9") for i in range(4)]),
        world,
        tmp_path / "again",
        limits={"per_host": None, "max_concurrent_live_migrations": 3, "total": 8},
    ).run()
    assert world.max_per_host["dst0"] == 1 and world.max_running >= 3


def test_migrations_off_the_busiest_host_start_first(tmp_path):
    world = World({"s1": "ha", "s2": "hb", "s3": "hb", "s4": "hb"})
    plan = make_plan(
        [
            mig("a1", "s1", "ha", "hz"),
            planlib.simple_action("n1", "nop", "note"),
            mig("a2", "s2", "hb", "hy"),
            mig("a3", "s3", "hb", "hy"),
            mig("a4", "s4", "hb", "hy"),
        ]
    )
    summary = executor(plan, world, tmp_path, limits={"total": 1}).run()
    assert set(states(summary).values()) == {"SUCCEEDED"}
    # hb has three moves to start, ha one: hb's go first until both have one left (then plan
    # order); the nop keeps its place between the ready migrations
    assert world.calls == ["a2", "a3", "a1", "n1", "a4"]
