# -*- coding: utf-8 -*-
"""ServerWatch on recorded Nova answers: where changes-since looks back from, what a cycle
may answer, a deleted server. (Against the twin: tests/integration/apply/test_server_watch.py.)"""

import datetime
import threading

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import ActionError
from ansible_collections.vigil.openstack.plugins.module_utils.actions.server_watch import ServerWatch


def body(sid, host, status="ACTIVE", task=None, ram=2048):
    return {
        "id": sid,
        "name": sid,
        "status": status,
        "OS-EXT-SRV-ATTR:host": host,
        "OS-EXT-SRV-ATTR:hypervisor_hostname": host,
        "OS-EXT-STS:task_state": task,
        "flavor": {"original_name": "m1", "ram": ram, "disk": 1},
    }


class Response:
    def __init__(self, servers, date):
        self.status_code = 200
        self.headers = {"Date": date}
        self._servers = servers

    def json(self):
        return {"servers": self._servers}


class Nova:
    """Answers GET /servers/detail from `self.now` (list of bodies), records the params."""

    def __init__(self):
        self.calls = []
        self.now = []
        self.date = "Sun, 06 Dec 2026 07:00:00 GMT"
        self.lock = threading.Lock()

    def get(self, path, params=None, microversion=None):
        with self.lock:
            self.calls.append((path, dict(params or {})))
            servers = [s for s in self.now if params.get("host") in (None, s["OS-EXT-SRV-ATTR:host"])]
            return Response(servers, self.date)


class Conn:
    def __init__(self, nova):
        self.compute = nova


def test_changes_since_looks_back_from_novas_clock():
    nova = Nova()
    nova.now = [body("s1", "h1"), body("s2", "h2")]
    watch = ServerWatch(lambda: Conn(nova), min_interval=0.01)
    assert watch.server(Conn(nova), "s1", host="h1")["host"] == "h1"
    assert nova.calls[0] == ("/servers/detail", {"host": "h1", "all_tenants": 1, "limit": 1000})
    nova.date = "Sun, 06 Dec 2026 07:00:05 GMT"
    nova.now = [body("s1", "h2")]
    state = watch.wait(Conn(nova), "s1", lambda s: s if s["host"] == "h2" else None, 5, "move")
    assert state["host"] == "h2"
    polls = [p for path, p in nova.calls if "changes-since" in p]
    # the first cycle looks back from the listing's Date (07:00:00) minus the margin
    assert polls[0]["changes-since"] == "2026-12-06T06:59:58Z"
    watch.stop = threading.Event()
    watch.stop.set()


def test_a_cycle_that_began_before_the_wait_does_not_answer_it():
    nova = Nova()
    nova.now = [body("s1", "h1")]  # settled on its source: what a poll before the move call saw
    watch = ServerWatch(lambda: Conn(nova), min_interval=0.01)
    watch.server(Conn(nova), "s1", host="h1")
    seen = []

    def test(state):
        seen.append(state["host"])
        return state if state["host"] == "h2" else None

    nova.now = [body("s1", "h2")]
    assert watch.wait(Conn(nova), "s1", test, 5, "move")["host"] == "h2"
    assert seen[0] == "h2"  # the listing taken before the wait was never offered to it
    watch.stop = threading.Event()
    watch.stop.set()


def test_a_deleted_server_ends_the_wait():
    nova = Nova()
    nova.now = [body("s1", "h1", status="MIGRATING", task="migrating")]
    watch = ServerWatch(lambda: Conn(nova), min_interval=0.01)
    watch.server(Conn(nova), "s1", host="h1")
    nova.now = [body("s1", "h1", status="DELETED")]
    with pytest.raises(ActionError, match="s1 disappeared while waiting for move"):
        watch.wait(Conn(nova), "s1", lambda s: None, 5, "move")
    watch.stop = threading.Event()
    watch.stop.set()


class FlakyNova(Nova):
    """Answers 503 to the first `failures` changes-since polls, then as Nova."""

    def __init__(self, failures):
        super().__init__()
        self.failures = failures

    def get(self, path, params=None, microversion=None):
        if "changes-since" in (params or {}) and self.failures > 0:
            self.failures -= 1
            from openstack import exceptions

            raise exceptions.HttpException("Service Unavailable", http_status=503)
        return super().get(path, params, microversion)


def test_a_failed_cycle_does_not_offer_what_was_kept_before_the_wait():
    nova = FlakyNova(failures=3)
    nova.now = [body("s1", "h1")]  # settled on its source, listed before the move call
    watch = ServerWatch(lambda: Conn(nova), min_interval=0.01)
    watch.server(Conn(nova), "s1", host="h1")
    nova.now = [body("s1", "h2")]  # the move is done by the time a poll answers
    seen = []

    def test(state):
        seen.append(state["host"])
        return state

    assert watch.wait(Conn(nova), "s1", test, 5, "move")["host"] == "h2"
    assert seen == ["h2"]  # the stale h1 kept before the wait was never offered
    assert nova.failures == 0
    watch.stop = threading.Event()
    watch.stop.set()


# -- when the poll thread looks: at predicted ends -------------------------------------------


class FakeClock:
    def __init__(self, t=0.0):
        self.t = t

    def now(self):
        return self.t


def moving(sid, ram=2048):
    return {
        "id": sid,
        "host": "h1",
        "status": "MIGRATING",
        "task_state": "migrating",
        "memory_mb": ram,
    }


def paced_watch(durations=None, min_interval=0.1, max_interval=5.0):
    """A watch (no poll thread) that has seen moves of 2 GiB servers take `durations` at least."""
    watch = ServerWatch(None, min_interval=min_interval, max_interval=max_interval, clock=FakeClock())
    if durations:
        watch.durations[2048] = list(durations)
    return watch


def start_move(watch, sid, at, ram=2048):
    """What wait() records for a server watched before its move call, answered at `at`."""
    watch.watched[sid] = at - 0.01
    watch.moved_at[sid] = at
    watch.servers[sid] = moving(sid, ram)
    watch.read_at[sid] = at


def after_cycle(watch, started):
    watch.attempt_started = watch.cycle_started = started
    watch._note_moving(started)
    watch.clock.t = started


def test_a_move_is_looked_at_when_moves_of_its_size_end_not_every_interval_before():
    watch = paced_watch([1.0] * 5)
    start_move(watch, "s1", at=10.0)
    after_cycle(watch, 10.2)
    assert watch._pause() == pytest.approx(10.0 + 1.0 * 1.005 - 10.2)


def test_a_predicted_end_not_there_yet_is_looked_at_again_soon():
    watch = paced_watch([1.0] * 5)
    start_move(watch, "s1", at=10.0)
    after_cycle(watch, 11.01)  # the look at its predicted end still saw it moving
    assert watch._pause() == pytest.approx(0.25 * 0.1)
    after_cycle(watch, 11.6)  # past 1.5x the expected time: a fraction of the time it has been watched
    assert watch._pause() == pytest.approx(0.15 * (11.6 - 9.99))


def test_ends_predicted_close_together_are_read_by_one_cycle():
    watch = paced_watch([1.0] * 5)
    start_move(watch, "s1", at=10.0)
    start_move(watch, "s2", at=10.04)  # within half an interval of s1's end
    start_move(watch, "s3", at=10.3)  # not: looked at in a cycle of its own
    after_cycle(watch, 10.5)
    assert watch._pause() == pytest.approx(10.04 + 1.005 - 10.5)


def test_a_long_move_is_still_looked_at_every_max_interval():
    # a move predicted to take 100 s that fails after 3 s is seen by the next cycle within 5 s
    watch = paced_watch([100.0] * 5)
    start_move(watch, "s1", at=10.0)
    after_cycle(watch, 10.2)
    assert watch._pause() == pytest.approx(5.0)


def test_without_a_figure_or_after_a_resume_the_pace_follows_the_time_watched():
    watch = paced_watch()  # no move of this size seen yet
    start_move(watch, "s1", at=10.0)
    after_cycle(watch, 10.2)
    assert watch._pause() == pytest.approx(0.1)  # min_interval while 15 % of 0.21 s is less
    watch = paced_watch([1.0] * 5)
    watch.watched["s2"] = 0.0  # resumed: wait() began with no move call before it
    watch.servers["s2"] = moving("s2")
    after_cycle(watch, 10.0)
    assert watch._pause() == pytest.approx(1.5)


def test_a_duration_is_learnt_as_a_lower_bound():
    watch = paced_watch()
    start_move(watch, "s1", at=10.0)
    after_cycle(watch, 10.5)
    after_cycle(watch, 10.9)  # the last cycle that saw it moving
    watch.servers["s1"] = dict(moving("s1"), status="ACTIVE", task_state=None)
    watch.read_at["s1"] = 11.3  # the move ended between 10.9 and the read at 11.3
    after_cycle(watch, 11.3)
    watch._learn("s1")
    assert watch.durations[2048] == [pytest.approx(0.9)]
    assert watch.expected(2048) == pytest.approx(0.9)


def test_a_state_read_before_the_move_call_is_not_its_end():
    watch = paced_watch([1.0] * 5)
    start_move(watch, "s1", at=10.0)
    watch.servers["s1"] = dict(moving("s1"), status="ACTIVE", task_state=None)
    watch.read_at["s1"] = 9.5  # the listing of its host, before the call
    assert not watch._ended("s1", watch.servers["s1"])
    after_cycle(watch, 10.2)
    assert watch.still_at["s1"] == 10.2


def test_one_slow_move_does_not_delay_the_looks_at_the_others():
    watch = paced_watch([1.0] * 19 + [30.0])
    assert watch.expected(2048) == pytest.approx(1.0)
    assert watch.expected(4096) is None


# -- a cycle whose client took long to build ---------------------------------------------------


class ClockedNova(Nova):
    """Nova with its own wall clock (`self.t`, seconds): each server changes at a time, Date is
    the clock, changes-since lists what changed at or after it, both to the second."""

    def __init__(self):
        super().__init__()
        self.t = 1_000_000.0
        self.updated = {}  # server id -> when it last changed

    def change(self, server):
        self.now = [s for s in self.now if s["id"] != server["id"]] + [server]
        self.updated[server["id"]] = int(self.t)

    def get(self, path, params=None, microversion=None):
        import email.utils

        with self.lock:
            self.calls.append((path, dict(params or {})))
            date = email.utils.formatdate(self.t, usegmt=True)
            if path != "/servers/detail":  # GET /servers/<id>
                response = Response([], date)
                response.json = lambda: {"server": next(s for s in self.now if path.endswith(s["id"]))}
                return response
            servers = [s for s in self.now if params.get("host") in (None, s["OS-EXT-SRV-ATTR:host"])]
            if "changes-since" in params:
                since = datetime.datetime.strptime(params["changes-since"], "%Y-%m-%dT%H:%M:%SZ")
                since = since.replace(tzinfo=datetime.timezone.utc).timestamp()
                servers = [s for s in servers if self.updated[s["id"]] >= since]
            return Response(servers, date)


def test_a_cycle_that_waited_for_its_client_does_not_hide_a_move():
    """The poll thread's cycle began, then waited seconds for its client (token and version
    discovery retried), while an action listed its server's host, moved it, and the move
    ended. The cycle's listing (the server on its destination) must not lose to the host
    listing taken before the move, nor leave the next cycle looking back past the move."""
    nova = ClockedNova()
    nova.change(body("s0", "h0", status="MIGRATING", task="migrating"))
    nova.change(body("s1", "h1"))
    connected = threading.Event()
    connecting = threading.Event()

    def slow_connect():
        connecting.set()
        assert connected.wait(10)
        return Conn(nova)

    watch = ServerWatch(slow_connect, min_interval=0.01)
    watch.stop = threading.Event()
    try:
        watch.watch("s0")  # another action's server: the poll thread starts a cycle, then connects
        assert connecting.wait(5)
        assert watch.server(Conn(nova), "s1", host="h1")["host"] == "h1"  # the action's own listing
        watch.watch("s1")
        nova.change(body("s1", "h2"))  # moved (and already settled) right after that listing
        nova.t += 5  # the client takes 5 s
        connected.set()
        seen = watch.wait(Conn(nova), "s1", lambda state: state, 5, "move")
        assert seen["host"] == "h2"
    finally:
        watch.stop.set()
