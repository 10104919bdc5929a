# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The common interface of action executors and the one bounded poll loop they share.

Every executor follows the same flow (`Action.run`):

1. ``observe()`` reads the live state (GET only);
2. ``done(state)``: the post-condition already holds -> ``changed: false``, nothing mutating;
3. ``stale(state)``: the pre-condition is broken (server gone or moved elsewhere, host down)
   -> `StaleAction`, nothing mutating;
4. ``in_progress(state)``: a previous run started it (crash, Ctrl-C) -> do not start it again,
   only wait for it;
5. otherwise ``execute(state)`` issues the one mutating call (through `submit`, which never
   re-sends a call that landed), then ``verify(state)`` waits (bounded) for the post-condition,
   calling ``abort``/``revert`` where the action type has them.

Transient errors (HTTP 5xx, connection failures) are retried for reads; a mutating call that
fails transiently is re-sent only after ``landed()`` showed that it did not take effect.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

from ansible_collections.vigil.openstack.plugins.module_utils.action_types import action_errors, hosts_of
from ansible_collections.vigil.openstack.plugins.module_utils.errors import http_status, one_line

TRANSIENT_STATUS = (500, 502, 503, 504)
_REMOTE_5XX = re.compile(r"-> 5\d\d\b")
ELAPSED_FRACTION = 0.15  # poll lateness bound, as a fraction of the time waited so far


class ActionError(Exception):
    """The action failed; the message says why in one line."""


class TransientError(Exception):
    """A condition worth retrying that carries no HTTP status (e.g. a version discovery that failed)."""


class ActionTimeout(ActionError):
    """The post-condition did not hold within the timeout."""


class StaleAction(ActionError):
    """The action's pre-condition no longer holds against the live cloud."""


class RefusedAction(ActionError):
    """The action would be unsafe (e.g. power off a host with instances) and was not forced."""


class Interrupted(BaseException):
    """The run was cancelled (SIGTERM from an AWX job cancel) while this action waited.

    A BaseException so that no ``except Exception`` on the way mistakes it for a failure of
    the action: what the action sent may still be under way, and the next run re-checks it.
    """


def is_transient(exc):
    """True for errors worth retrying: 5xx answers and connection failures."""
    if isinstance(exc, TransientError):
        return True
    if isinstance(exc, (ActionError, ValueError, TypeError, KeyError)):
        return False
    if type(exc).__name__ == "VigilConnectionError":
        # connection.connect() wraps the keystoneauth error: judge that one.
        inner = exc.__cause__ or exc.__context__
        return inner is not None and is_transient(inner)
    status = http_status(exc)
    if status is not None:
        return status in TRANSIENT_STATUS
    if type(exc).__name__ == "RemoteError" and _REMOTE_5XX.search(str(exc)):
        # python-libmaas: fetching the API description got a 5xx ("<url> -> 503 Service Unavailable").
        return True
    if type(exc).__name__ == "NotSupported" and "supported versions" in str(exc):
        # openstacksdk's version discovery met a 5xx: the proxy is not cached, asking again works.
        return True
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    if module.startswith("keystoneauth1") and ("Connect" in name or "Timeout" in name or "Discovery" in name):
        return True
    if module.startswith(("requests", "urllib3", "aiohttp")):
        return True
    return isinstance(exc, (ConnectionError, TimeoutError))


def is_not_found(exc):
    return http_status(exc) == 404 or type(exc).__name__ in ("ResourceNotFound", "NotFoundException")


def none_if_not_found(call):
    """``call()``, or None when the cloud answers that the resource does not exist ("gone");
    any other error is raised."""
    try:
        return call()
    except Exception as exc:  # noqa: BLE001 - only not-found means "gone"
        if is_not_found(exc):
            return None
        raise


def input_field(name):
    """A read-only attribute of an executor: its action's input `name` (None when absent; the
    table's schema has checked it)."""
    return property(lambda self: self.input.get(name), doc="input field %r" % name)


class Clock:
    """Time source; tests replace it to run poll loops without sleeping."""

    def now(self):
        return time.monotonic()

    def sleep(self, seconds):
        time.sleep(seconds)

    def wait(self, event, seconds):
        """Sleep until `event` is set or `seconds` pass; True when the event was set."""
        return event.wait(seconds)


class Poller:
    """Bounded polling with backoff: interval grows by `factor` up to `max_interval`.

    `stop` (a threading.Event) cancels every wait: the next pause raises `Interrupted`.
    """

    def __init__(self, interval=0.5, factor=1.5, max_interval=5.0, clock=None, stop=None):
        self.interval = float(interval)
        self.factor = float(factor)
        self.max_interval = max(float(max_interval), self.interval)
        self.clock = clock or Clock()
        self.stop = stop

    def pause(self, seconds):
        """Sleep `seconds`; raise `Interrupted` at once when `stop` is (or becomes) set."""
        if self.stop is None:
            self.clock.sleep(seconds)
            return
        if self.stop.is_set():
            raise Interrupted("the run was cancelled")
        waiter = getattr(self.clock, "wait", None)
        if waiter is not None:
            if waiter(self.stop, seconds):
                raise Interrupted("the run was cancelled")
        else:  # a test clock without wait(): sleep, then look
            self.clock.sleep(seconds)
            if self.stop.is_set():
                raise Interrupted("the run was cancelled")

    def until(self, probe, timeout, what):
        """Call ``probe()`` until it returns something other than None; return that.

        A transient error from the probe counts as "not yet". Raises ActionTimeout naming
        `what` when `timeout` seconds pass, and the transient error of the last probe if it
        failed (one from minutes earlier, followed by good reads, says nothing about the end).
        """
        start = self.clock.now()
        deadline = start + float(timeout)
        interval = self.interval
        while True:
            last = None
            try:
                value = probe()
            except Exception as exc:  # noqa: BLE001 - only transient ones are swallowed
                if not is_transient(exc):
                    raise
                last = "transient error: %s" % one_line(exc)
                value = None
            if value is not None:
                return value
            remaining = deadline - self.clock.now()
            if remaining <= 0:
                raise ActionTimeout("timed out after %ss waiting for %s%s" % (_num(timeout), what, _last(last)))
            self.pause(min(interval, remaining))
            # Back off, but never sleep more than a fraction of the time already waited: a
            # short action is noticed soon after it ends (lateness <= ~ELAPSED_FRACTION).
            elapsed = self.clock.now() - start
            interval = min(interval * self.factor, max(self.interval, ELAPSED_FRACTION * elapsed), self.max_interval)

    def retry(self, call, what, attempts=6):
        """Call a read ``call()``, retrying transient errors with backoff, at most `attempts` times."""
        interval = self.interval
        for attempt in range(attempts):
            try:
                return call()
            except Exception as exc:  # noqa: BLE001 - only transient ones are retried
                if not is_transient(exc) or attempt == attempts - 1:
                    raise
                self.pause(interval)
                interval = min(interval * self.factor, self.max_interval)
        raise AssertionError("unreachable")  # pragma: no cover

    def submit(self, call, landed, what, attempts=6):
        """Send a mutating ``call()`` exactly once in effect.

        On a transient failure, ``landed()`` (reads only) tells whether the call took effect
        anyway; only if it did not is the call sent again.
        """
        interval = self.interval
        for attempt in range(attempts):
            try:
                return call()
            except Exception as exc:  # noqa: BLE001 - only transient ones are retried
                if not is_transient(exc):
                    error = ActionError("%s: %s" % (what, one_line(exc)))
                    error.rejected = True  # the cloud refused the call: nothing changed
                    raise error from exc
                if attempt == attempts - 1:
                    raise ActionError(
                        "%s: gave up after %d transient errors: %s" % (what, attempts, one_line(exc))
                    ) from exc
                self.pause(interval)
                interval = min(interval * self.factor, self.max_interval)
                if self.retry(landed, what + " (did it land?)"):
                    return None
        raise AssertionError("unreachable")  # pragma: no cover


def _num(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")


def _last(last):
    return " (last seen: %s)" % last if last else ""


class Action:
    """Base executor. Subclasses set `type` and implement the hooks used by `run`.

    `action` is one plan action: ``{id, type, resource, input, parents, postcondition}``.
    `ctx` carries what executors need from outside: ``conn`` (openstacksdk Connection,
    may be a zero-argument factory), ``maas`` (factory of a python-libmaas client),
    ``poller``, ``timeout`` (None: per-type default), ``force``, ``wait``, ``log``.
    """

    type = None

    def __init__(self, action, ctx=None):
        self.action = action
        self.id = action.get("id")
        self.resource = action.get("resource")
        self.input = dict(action.get("input") or {})
        self.postcondition = dict(action.get("postcondition") or {})
        ctx = ctx or {}
        self.ctx = ctx
        self._conn = ctx.get("conn")
        self.poller = ctx.get("poller") or Poller()
        self.timeout = ctx.get("timeout")
        self.force = bool(ctx.get("force", False))
        self.wait = ctx.get("wait", True)
        self.log = ctx.get("log") or (lambda msg: None)
        self.executed = False
        self.check_mode = False  # set by run(): a check-mode run writes nothing, not even local records
        # Actions of the plan that wait for this one (None: not known, as for a single-action
        # module): what is only needed by later actions is skipped when none does.
        self.dependents = None

    # -- plumbing -------------------------------------------------------------------
    @property
    def conn(self):
        if callable(self._conn) and not hasattr(self._conn, "compute"):
            # A factory: build once and keep it in the (per-thread) context for the next action.
            self._conn = self._conn()
            self.ctx["conn"] = self._conn
        return self._conn

    def read(self, call, what):
        return self.poller.retry(call, what)

    def submit(self, call, landed, what):
        return self.poller.submit(call, landed, what)

    def wait_for(self, probe, timeout, what):
        return self.poller.until(probe, timeout, what)

    # -- hooks ----------------------------------------------------------------------
    @classmethod
    def hosts(cls, action):
        """Exact host names the action touches (for per-host concurrency limits): the table's."""
        return hosts_of(action)

    def validate(self):
        """Raise ActionError naming every field of the action that its type's schema refuses
        (action_types.py, the one definition of an action's inputs); nothing is read.

        Executors do not override this: a check the schema can express belongs in the schema,
        a check of the cloud's state in ``stale``/``refuse``."""
        errors = action_errors(self.action)
        if errors:
            raise ActionError("invalid %s action: %s" % (self.type, "; ".join(errors)))

    def observe(self):
        """Live state as a plain dict (reads only)."""
        return {}

    def done(self, state):
        return False

    def stale(self, state):
        """Reason string when the pre-condition is broken, else None."""
        return None

    def exists(self, state):
        """The action's resource exists in this cloud (tells a plan for another cloud)."""
        return True

    def in_progress(self, state):
        return False

    def execute(self, state):
        raise NotImplementedError

    def verify(self, state):
        """Wait for the post-condition; return the final state dict. Raise ActionError."""
        return self.observe()

    def effective_timeout(self, state):
        return float(self.timeout) if self.timeout is not None else 600.0

    def describe(self, state):
        """Short human line of what `execute` would do."""
        return "%s %s" % (self.type, self.resource)

    def diff_view(self, state):
        """The part of the state shown in diff mode (placement or state)."""
        return dict(state)

    def predicted(self, state):
        """What `diff_view` should look like after a successful run (for check mode)."""
        after = dict(self.diff_view(state))
        after.update(self.postcondition)
        return after

    # -- the flow -------------------------------------------------------------------
    def run(self, check_mode=False):
        """Run the action. Returns a result dict; raises ActionError (incl. Stale/Refused)."""
        self.check_mode = check_mode
        self.validate()
        state = self.observe()
        before = self.diff_view(state)
        if self.done(state):
            return _result(False, "already done", before, before, state)
        reason = self.stale(state)
        if reason:
            raise StaleAction(reason)
        if self.in_progress(state):
            if check_mode:
                return _result(True, "in progress; would wait for it", before, self.predicted(state), state)
            self.log("%s: already in progress, waiting for it" % self.id)
            final = self.verify(state) if self.wait else state
            return _result(True, "resumed an action in progress", before, self.diff_view(final), final)
        self.refuse(state)
        if check_mode:
            return _result(True, "would " + self.describe(state), before, self.predicted(state), state)
        self.executed = True  # from here on, a failure may have changed something
        try:
            self.execute(state)
        except ActionError as exc:
            if getattr(exc, "rejected", False):
                self.executed = False  # the cloud refused the call itself
            raise
        if not self.wait:
            return _result(True, "submitted: " + self.describe(state), before, self.predicted(state), state)
        final = self.verify(state)
        return _result(True, "done: " + self.describe(state), before, self.diff_view(final), final)

    def refuse(self, state):
        """Raise RefusedAction when the action is unsafe and not forced."""


def _result(changed, msg, before, after, state):
    """What `Action.run` returns."""
    return {"changed": changed, "msg": msg, "before": before, "after": after, "state": state}
