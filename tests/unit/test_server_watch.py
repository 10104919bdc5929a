# -*- coding: utf-8 -*-
"""ServerWatch on recorded Nova answers: where changes-since looks back from, what a cycle
may answer, a deleted server. (Against the twin: tests/integration/apply/test_server_watch.py.)"""

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
