"""The shared poll loop and the exactly-once submit of the action executors (no cloud involved)."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    Action,
    ActionError,
    ActionTimeout,
    Poller,
    RefusedAction,
    StaleAction,
    is_transient,
)


class FakeClock:
    def __init__(self):
        self.t = 0.0
        self.sleeps = []

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.t += seconds


class HttpError(Exception):
    def __init__(self, status):
        super().__init__("HTTP %d" % status)
        self.status_code = status


def test_until_returns_first_value_and_backs_off():
    clock = FakeClock()
    values = iter([None] * 60 + ["ok"])
    poller = Poller(interval=1, factor=2, max_interval=30, clock=clock)
    assert poller.until(lambda: next(values), timeout=6000, what="x") == "ok"
    sleeps = clock.sleeps
    assert sleeps[0] == 1 and sleeps == sorted(sleeps) and max(sleeps) == 30  # grows up to the cap
    # never later than 15% of the time already waited (or the first interval)
    waited = 0
    for s in sleeps:
        assert s <= max(1, 0.15 * waited) + 1e-9
        waited += s


def test_until_is_bounded_and_names_what_it_waited_for():
    clock = FakeClock()
    poller = Poller(interval=1, factor=1, clock=clock)
    with pytest.raises(ActionTimeout, match=r"timed out after 5s waiting for migration of s1"):
        poller.until(lambda: None, timeout=5, what="migration of s1")
    assert clock.t == 5


def test_until_treats_transient_errors_as_not_yet_but_raises_others():
    clock = FakeClock()
    calls = iter([HttpError(503), HttpError(502), "done"])

    def probe():
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    assert Poller(interval=1, clock=clock).until(probe, 60, "x") == "done"
    with pytest.raises(HttpError):
        Poller(clock=clock).until(lambda: (_unused for _unused in ()).throw(HttpError(409)), 60, "x")


def test_retry_retries_reads_on_5xx_only():
    clock = FakeClock()
    calls = []

    def read():
        calls.append(1)
        if len(calls) < 3:
            raise HttpError(503)
        return 42

    assert Poller(clock=clock).retry(read, "read") == 42 and len(calls) == 3
    with pytest.raises(HttpError):
        Poller(clock=clock).retry(lambda: (_unused for _unused in ()).throw(HttpError(404)), "read")


def test_submit_does_not_resend_a_call_that_landed():
    clock = FakeClock()
    sent = []

    def call():
        sent.append(1)
        raise HttpError(504)  # the gateway timed out, but the server did it

    assert Poller(clock=clock).submit(call, landed=lambda: True, what="migrate") is None
    assert len(sent) == 1


def test_submit_resends_only_when_the_call_did_not_land():
    clock = FakeClock()
    sent = []

    def call():
        sent.append(1)
        if len(sent) == 1:
            raise HttpError(503)
        return "accepted"

    assert Poller(clock=clock).submit(call, landed=lambda: False, what="migrate") == "accepted"
    assert len(sent) == 2


def test_submit_turns_client_errors_into_action_errors():
    with pytest.raises(ActionError, match="migrate: HTTP 409"):
        Poller(clock=FakeClock()).submit(
            lambda: (_unused for _unused in ()).throw(HttpError(409)), lambda: False, "migrate"
        )


def test_is_transient():
    assert is_transient(HttpError(503)) and not is_transient(HttpError(400))
    discovery = type("NotSupported", (Exception,), {})
    assert is_transient(discovery("The baremetal service for c:r exists but does not have any supported versions."))
    assert not is_transient(discovery("Method require at least microversion 2.53"))
    assert is_transient(ConnectionResetError()) and not is_transient(ActionError("x"))


class Toy(Action):
    """A light switch: observe/done/stale/in_progress driven by a dict (its action is a valid
    ``nop``, since every executor validates its action with the table's schema first)."""

    type = "nop"

    def observe(self):
        return dict(self.ctx["world"])

    def done(self, state):
        return state["on"]

    def stale(self, state):
        return "gone" if state.get("gone") else None

    def in_progress(self, state):
        return state.get("busy", False)

    def refuse(self, state):
        if state.get("unsafe") and not self.force:
            raise RefusedAction("unsafe")

    def execute(self, state):
        self.ctx["calls"].append("execute")

    def verify(self, state):
        self.ctx["calls"].append("verify")
        return {"on": True}


def run_toy(world, check_mode=False, **ctx):
    calls = []
    ctx.update(world=world, calls=calls)
    result = Toy({"id": "t", "type": "nop", "resource": "r", "input": {}, "parents": []}, ctx).run(
        check_mode=check_mode
    )
    return result, calls


def test_flow_done_means_no_call():
    result, calls = run_toy({"on": True})
    assert result["changed"] is False and calls == []


def test_flow_executes_then_verifies():
    result, calls = run_toy({"on": False})
    assert result["changed"] is True and calls == ["execute", "verify"]
    assert result["before"] == {"on": False} and result["after"] == {"on": True}


def test_flow_in_progress_waits_without_executing():
    result, calls = run_toy({"on": False, "busy": True})
    assert result["changed"] is True and calls == ["verify"]


def test_flow_stale_and_refused_and_check_mode_call_nothing():
    with pytest.raises(StaleAction):
        run_toy({"on": False, "gone": True})
    with pytest.raises(RefusedAction):
        run_toy({"on": False, "unsafe": True})
    result, calls = run_toy({"on": False, "unsafe": True}, force=True)
    assert calls == ["execute", "verify"]
    result, calls = run_toy({"on": False}, check_mode=True)
    assert result["changed"] is True and calls == [] and result["msg"].startswith("would ")


def test_a_call_the_cloud_refused_changed_nothing():
    class Refused(Toy):
        def execute(self, state):
            self.submit(lambda: (_unused for _unused in ()).throw(HttpError(400)), lambda: False, "migrate")

    ctx = {"world": {"on": False}, "calls": [], "poller": Poller(clock=FakeClock())}
    action = Refused({"id": "t", "type": "nop", "resource": "r", "input": {}, "parents": []}, ctx)
    with pytest.raises(ActionError, match="migrate: HTTP 400"):
        action.run()
    assert action.executed is False


def test_timeout_quotes_only_a_transient_error_of_the_last_probe():
    clock = FakeClock()
    poller = Poller(interval=1, factor=1, clock=clock)
    early_error = iter([HttpError(503)] + [None] * 100)

    def probe():
        value = next(early_error)
        if isinstance(value, Exception):
            raise value
        return value

    with pytest.raises(ActionTimeout) as exc:
        poller.until(probe, timeout=10, what="migration of s1")
    assert "last seen" not in str(exc.value)  # the 503 came minutes before: not what it last saw
    failing = Poller(interval=1, factor=1, clock=FakeClock())

    def always_503():
        raise HttpError(503)

    with pytest.raises(ActionTimeout, match=r"last seen: transient error: HTTP 503"):
        failing.until(always_503, timeout=3, what="migration of s1")


def test_sleep_action_honours_timeout_and_cancel():
    import threading
    import time

    from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Interrupted
    from ansible_collections.vigil.openstack.plugins.module_utils.actions.sleep import SleepAction

    clock = FakeClock()
    long_sleep = {"id": "s", "type": "sleep", "resource": "sleep", "input": {"duration": 1e6}, "parents": []}
    with pytest.raises(ActionTimeout, match="longer than the timeout"):
        SleepAction(long_sleep, {"timeout": 5, "poller": Poller(clock=clock)}).run()
    assert clock.sleeps == []  # refused up front, not after sleeping it out
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        SleepAction(long_sleep, {"poller": Poller(stop=stop)}).run()
    assert time.monotonic() - started < 5
