# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""One poller for every server a plan run is moving: Nova read in bulk, once per cycle.

Instead of each running action polling its own server, the executors of one ``plan_apply``
run share a `ServerWatch`. While some server is watched, one thread reads per cycle

- ``GET /servers/detail?all_tenants=1&changes-since=T``: every server that changed since the
  previous cycle (a migrating server changes when it starts, settles, fails or is aborted);
- ``GET /os-migrations?changes-since=T`` (2.59), only in cycles where an executor asked for
  migration records (the uuid of a live migration's Placement consumer);

and wakes the waiting executors, which judge the new state exactly as their own polls did
(and only a state read after their call: one the cycles did not replace since is read again,
``GET /servers/<id>``):
a server back on its source is a failed migration, one still MIGRATING at the timeout is
stuck (aborted by the executor). ``T`` is the Nova API's own clock (the ``Date`` header of
the previous cycle's answer) minus `MARGIN_S`, so neither clock skew nor Nova's one-second
``updated`` resolution can hide a change. Before an action starts, its server comes from
one listing of its source host (``GET /servers/detail?host=``) shared with every other
server there, then from the cycles.

Adaptive interval, timed on predicted ends. A server whose wait began right after the call
that moved it is due when moves of servers with the same memory have been seen to take
(`expected`: a high quantile of recent lower bounds, the start of the last cycle that still saw
each move going; bounds below the real durations, so the estimate cannot creep past them, and
one slow move does not delay the looks at the others), plus `GUARD_FRACTION` of it, and at
least `RETRY_FRACTION` of `min_interval` after the previous cycle. If the first cycle after
that still sees it moving, it is due again that much later, while it is about to end (up to
1.5x the expected time). Without such a
figure, or later, it is due after ``ELAPSED_FRACTION`` of the time it has been watched, at
least `min_interval` after the previous cycle (a stuck or long migration is not polled for
nothing). A cycle waits for every look due within `GROUP_FRACTION` of `min_interval` after
the first (one read sees those moves end; the actions started together after it then end
together again), and comes at most `max_interval` after the previous one, so a move that fails
long before its predicted end is still seen within `max_interval`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
import math
import threading

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    ELAPSED_FRACTION,
    ActionError,
    ActionTimeout,
    Clock,
    Interrupted,
    is_not_found,
    is_transient,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import settled
from ansible_collections.vigil.openstack.plugins.module_utils.errors import one_line

MICROVERSION = "2.60"  # embedded flavor (2.47), os-migrations changes-since and uuid (2.59)
MARGIN_S = 2.0  # changes-since looks this much further back than the previous answer's time
IDLE_S = 2.0  # the poll thread ends after this long with nothing watched (and forgets all)
PAGE = 1000
RECENT = 20  # durations remembered per memory size
QUANTILE = 0.8  # of the recent lower bounds: one slow move does not delay the looks at the others
GUARD_FRACTION = 0.005  # a predicted end is looked at this much (of the expected time) after it
RETRY_FRACTION = 0.25  # of min_interval: the next look when a predicted end was not there yet
GROUP_FRACTION = 0.5  # of min_interval: ends predicted this close together are read by one cycle


def server_from_body(body):
    """A server of Nova's JSON (2.47+) as the dict `nova.server_state` returns."""
    flavor = body.get("flavor") or {}
    return {
        "id": body["id"],
        "name": body.get("name"),
        "host": body.get("OS-EXT-SRV-ATTR:host"),
        "node": body.get("OS-EXT-SRV-ATTR:hypervisor_hostname"),
        "status": (body.get("status") or "").upper(),
        "task_state": body.get("OS-EXT-STS:task_state") or None,
        "vm_state": body.get("OS-EXT-STS:vm_state"),
        "locked": bool(body.get("locked")),
        "flavor_name": flavor.get("original_name") or flavor.get("name"),
        "memory_mb": int(flavor.get("ram") or 0),
        "disk_gb": int(flavor.get("disk") or 0),
    }


def _server_time(response, fallback):
    """The API's clock from the Date header (UTC), or `fallback` when it has none."""
    raw = getattr(response, "headers", {}).get("Date")
    try:
        return email.utils.parsedate_to_datetime(raw).astimezone(datetime.timezone.utc) if raw else fallback
    except (TypeError, ValueError):
        return fallback


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


class ServerWatch:
    """Bulk observation of the servers (and live migrations) of one plan run; thread-safe.

    `connect` builds the poll thread's own client (a zero-argument factory); executors pass
    their own client to `server()`. `stop` (a threading.Event) ends every wait with
    `Interrupted`, as the executors' own poller does.
    """

    def __init__(self, connect, min_interval=0.2, max_interval=5.0, clock=None, stop=None, log=None):
        self.connect = connect
        self.min_interval = float(min_interval)
        self.max_interval = max(float(max_interval), self.min_interval)
        self.clock = clock or Clock()
        self.stop = stop
        self.log = log or (lambda msg: None)
        self.cond = threading.Condition()
        self.servers = {}  # id -> state dict (server_from_body)
        self.read_at = {}  # id -> clock.now() when the read that gave its state started
        self.gone = set()  # ids Nova listed as deleted
        self.migrations = {}  # server id -> its latest live migration record {id, uuid, status, ...}
        self.watched = {}  # server id -> watched since (clock.now())
        self.moved_at = {}  # server id -> when its wait began, right after the call that moved it
        self.still_at = {}  # server id -> start of the latest cycle that saw it still moving
        self.durations = {}  # memory_mb -> lower bounds of recent moves' durations (moved_at -> end)
        self.cycle = 0  # poll cycles that answered
        self.cycle_started = 0.0  # when the last cycle that answered started
        self.attempt_started = 0.0  # when the last cycle started, answered or not (pacing)
        self.error = None  # the last cycle's error (transient), quoted by a timeout
        self.want_migrations = 0
        self.since = None  # the API's time of the previous answer
        self.requests = 0
        self._thread = None
        self._conn = None

    # -- what executors call -----------------------------------------------------------
    def server(self, conn, server_id, host=None):
        """The server's state: from the watch when it is current, else one listing of `host`
        (every server there is kept for its own action), else a read of the server alone."""
        with self.cond:
            if server_id in self.servers and self._running():
                return dict(self.servers[server_id])
        if host:
            self._list(conn, {"host": host}, self.clock.now())
            with self.cond:
                self._ensure_thread()  # keeps what was listed current for the actions to come
                if server_id in self.servers:
                    return dict(self.servers[server_id])
        return self._read_one(conn, server_id)

    def watch(self, server_id):
        """Watch a server from now on (call before the request that moves it)."""
        with self.cond:
            self.watched[server_id] = self.clock.now()
            self._ensure_thread()

    def unwatch(self, server_id):
        with self.cond:
            self.watched.pop(server_id, None)

    def wait(self, conn, server_id, test, timeout, what, migrations=False):
        """Wait until ``test(state)`` returns something other than None on a cycle that started
        after this call; return that. ActionTimeout naming `what` (and the last poll error)."""
        called = self.clock.now()
        deadline = called + float(timeout)
        with self.cond:
            since = self.watched.setdefault(server_id, called)
            if since < called:  # watched before the call that moved it: its end can be predicted
                self.moved_at[server_id] = called
            self.want_migrations += 1 if migrations else 0
            self._ensure_thread()
        try:
            value = self._wait(conn, server_id, test, called, deadline, timeout, what)
            with self.cond:
                self._learn(server_id)
        finally:
            with self.cond:
                self.want_migrations -= 1 if migrations else 0
                self.watched.pop(server_id, None)
                self.moved_at.pop(server_id, None)
                self.still_at.pop(server_id, None)
        return value

    def _learn(self, server_id):
        """A move watched from its call ended: keep a lower bound of how long it took (the
        start of the last cycle that still saw it moving), for the looks at the next ones."""
        state = self.servers.get(server_id)
        moved = self.moved_at.get(server_id)
        if state is None or moved is None:
            return
        recent = self.durations.setdefault(state["memory_mb"], [])
        recent.append(max(0.0, self.still_at.get(server_id, moved) - moved))
        del recent[:-RECENT]

    def expected(self, memory_mb):
        """How long a move of a server with this memory is expected to take at least (None: no figure)."""
        recent = sorted(self.durations.get(memory_mb) or ())
        if not recent or not recent[-1]:
            return None
        return recent[min(len(recent) - 1, int(math.ceil(QUANTILE * len(recent))) - 1)]

    def _wait(self, conn, server_id, test, called, deadline, timeout, what):
        seen = None
        while True:
            with self.cond:
                if self.stop is not None and self.stop.is_set():
                    raise Interrupted("the run was cancelled")
                fresh = self.cycle_started >= called and self.cycle != seen
                seen = self.cycle
                # Only a state read after the call is judged: one read before it (the host's
                # listing) that a fresh cycle did not replace means that cycle's window did not
                # reach back to the call (a cycle slowed by its client or its answer).
                state = self.servers.get(server_id) if fresh else None
                current = state is not None and self.read_at.get(server_id, -1.0) >= called
                gone = server_id in self.gone
            if fresh and not current:
                if gone:
                    raise ActionError("server %s disappeared while waiting for %s" % (server_id, what))
                # not listed since the call: read it once
                state = self._read_one(conn, server_id)
                if state is None:
                    raise ActionError("server %s disappeared while waiting for %s" % (server_id, what))
            if state is not None:
                value = test(dict(state))
                if value is not None:
                    return value
            with self.cond:
                remaining = deadline - self.clock.now()
                if remaining <= 0:
                    last = " (last poll: %s)" % self.error if self.error else ""
                    raise ActionTimeout("timed out after %ss waiting for %s%s" % (_num(timeout), what, last))
                if self.cycle == seen:
                    self.cond.wait(min(remaining, self.max_interval))

    def migration(self, server_id):
        """The latest live migration record seen for the server (None before any was seen)."""
        with self.cond:
            record = self.migrations.get(server_id)
            return dict(record) if record else None

    def _read_one(self, conn, server_id):
        started = self.clock.now()
        try:
            response = self._get(conn, "/servers/%s" % server_id, {})
        except Exception as exc:  # noqa: BLE001 - only not-found means "gone"
            if is_not_found(exc):
                return None
            raise
        state = server_from_body(response.json()["server"])
        with self.cond:
            self._keep(state, started)
        return dict(state)

    def _keep(self, state, started):
        """Keep a server's state unless a read started later already gave a newer one."""
        sid = state["id"]
        if self.read_at.get(sid, -1.0) > started:
            return
        self.read_at[sid] = started
        if state["status"] in ("DELETED", "SOFT_DELETED"):
            self.servers.pop(sid, None)
            self.gone.add(sid)
        else:
            self.servers[sid] = state
            self.gone.discard(sid)

    # -- the poll thread ---------------------------------------------------------------
    def _running(self):
        return self._thread is not None and self._thread.is_alive()

    def _ensure_thread(self):
        if not self._running():
            self._thread = threading.Thread(target=self._loop, name="vigil-server-watch", daemon=True)
            self._thread.start()

    def _loop(self):
        idle_since = None
        while True:
            with self.cond:
                if self.stop is not None and self.stop.is_set():
                    self._forget()
                    return
                if not self.watched:
                    idle_since = idle_since if idle_since is not None else self.clock.now()
                    if self.clock.now() - idle_since >= IDLE_S:
                        self._forget()
                        return
                else:
                    idle_since = None
                pause = self._pause()
            if pause > 0:
                if self.stop is not None:
                    if self.clock.wait(self.stop, pause):
                        continue
                else:
                    self.clock.sleep(pause)
            self._poll()

    def _forget(self):
        """Nothing watched: what is known goes stale from now on, so it is dropped."""
        self.servers.clear()
        self.read_at.clear()
        self.gone.clear()
        self.migrations.clear()
        self.since = None
        self._thread = None
        self.cond.notify_all()

    def _pause(self):
        now = self.clock.now()
        if not self.watched:
            return self.min_interval
        dues = [self._due(sid, since, now) for sid, since in self.watched.items()]
        first = min(dues)
        due = max(d for d in dues if d <= first + GROUP_FRACTION * self.min_interval)
        return max(0.0, min(due, self.attempt_started + self.max_interval) - now)

    def _due(self, server_id, since, now):
        """When to look at a server next (see the module's docstring)."""
        last = self.attempt_started
        state = self.servers.get(server_id)
        moved = self.moved_at.get(server_id)
        expected = self.expected(state["memory_mb"]) if state is not None and moved is not None else None
        if expected is not None and not self._ended(server_id, state):
            end = moved + expected * (1 + GUARD_FRACTION)
            if self.cycle_started < end:  # no cycle yet after its predicted end
                return max(end, last + RETRY_FRACTION * self.min_interval)
            if now < moved + 1.5 * expected:  # that cycle still saw it moving: it is about to end
                return last + RETRY_FRACTION * self.min_interval
        return last + max(self.min_interval, ELAPSED_FRACTION * (now - since))

    def _ended(self, server_id, state):
        """A read made after the call that moved the server shows it settled (its waiter is
        about to take it off the watch)."""
        return self.read_at.get(server_id, -1.0) >= self.moved_at[server_id] and settled(state)

    def _note_moving(self, started):
        """After a cycle that started at `started`: the servers it still saw moving ended later."""
        for server_id in self.moved_at:
            state = self.servers.get(server_id)
            if state is not None and not self._ended(server_id, state):
                self.still_at[server_id] = started

    def _poll(self):
        started = self.clock.now()
        try:
            conn = self._client()
            # The cycle starts when its client is ready: building one may take seconds (token
            # and version discovery, retried), and what an executor read meanwhile is older
            # than what this cycle reads (_keep goes by when a read started).
            started = self.clock.now()
            with self.cond:
                want_migrations = self.want_migrations > 0
            self._changes(conn, want_migrations, started)
            error = None
        except Exception as exc:  # noqa: BLE001 - a failed cycle is retried; waiters time out
            if not is_transient(exc):
                self._conn = None
            error = one_line(exc)
            self.log("server watch: poll failed (%s), retrying" % error)
        with self.cond:
            self.error = error
            self.attempt_started = started
            if error is None:
                # Only a cycle that answered is news: after a failed one, what is kept may
                # predate the call a waiter made (a waiter would take a stale ACTIVE for done).
                self.cycle_started = started
                self.cycle += 1
                self._note_moving(started)
            self.cond.notify_all()

    def _client(self):
        if self._conn is None:
            self._conn = self.connect()
        return self._conn

    def _changes(self, conn, want_migrations, started):
        with self.cond:
            since = self.since
        if since is None:
            # First cycle: what executors read before comes from listings taken after now.
            since = _utcnow()
        stamp = (since - datetime.timedelta(seconds=MARGIN_S)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self._list(conn, {"changes-since": stamp}, started, advance=True)
        if want_migrations:
            response = self._get(
                conn, "/os-migrations", {"changes-since": stamp, "migration_type": "live-migration", "limit": PAGE}
            )
            records = sorted(
                response.json().get("migrations") or [], key=lambda m: (m.get("created_at") or "", m["id"])
            )
            with self.cond:
                for m in records:
                    self.migrations[m["instance_uuid"]] = m

    def _get(self, conn, path, params):
        self.requests += 1
        response = conn.compute.get(path, params=params, microversion=MICROVERSION)
        if response.status_code >= 400:
            from openstack import exceptions  # imported late: keeps this module importable without the SDK

            exceptions.raise_from_response(response)
        return response

    def _list(self, conn, filters, started, advance=False):
        """List servers (every page) and keep them; `advance`: a cycle's listing, whose answer
        time is where the next cycle looks back from."""
        params = dict(filters, all_tenants=1, limit=PAGE)
        found, answered = [], None
        while True:
            asked = _utcnow()
            response = self._get(conn, "/servers/detail", params)
            answered = answered or _server_time(response, asked)
            servers = response.json().get("servers") or []
            found += [server_from_body(s) for s in servers]
            if len(servers) < PAGE:
                break
            params["marker"] = servers[-1]["id"]
        if "host" in filters:
            found = [s for s in found if s["host"] == filters["host"]]  # exact names only
        with self.cond:
            for state in found:
                self._keep(state, started)
            if advance or self.since is None:
                # A listing before any cycle: the first cycle looks back from its time.
                self.since = answered
            self.cond.notify_all()
        return found


def _num(value):
    return ("%.1f" % value).rstrip("0").rstrip(".")
