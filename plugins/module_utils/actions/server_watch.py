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

and wakes the waiting executors, which judge the new state exactly as their own polls did:
a server back on its source is a failed migration, one still MIGRATING at the timeout is
stuck (aborted by the executor). ``T`` is the Nova API's own clock (the ``Date`` header of
the previous cycle's answer) minus `MARGIN_S`, so neither clock skew nor Nova's one-second
``updated`` resolution can hide a change. Before an action starts, its server comes from
one listing of its source host (``GET /servers/detail?host=``) shared with every other
server there, then from the cycles.

Adaptive interval: a watched server is due when the fastest migration of a server with the
same memory so far would end, then every `min_interval` while it is about to end (up to 1.5x
that time); without such a figure, or later, after ``ELAPSED_FRACTION`` of the time it has
been watched (a short action is noticed soon after it ends, a long one is not polled for
nothing). The cycle runs when the first server is due, at least `min_interval` and at most
`max_interval` apart.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import email.utils
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
from ansible_collections.vigil.openstack.plugins.module_utils.errors import one_line

MICROVERSION = "2.60"  # embedded flavor (2.47), os-migrations changes-since and uuid (2.59)
MARGIN_S = 2.0  # changes-since looks this much further back than the previous answer's time
IDLE_S = 2.0  # the poll thread ends after this long with nothing watched (and forgets all)
PAGE = 1000


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
        self.durations = {}  # memory_mb -> seconds of recent migrations (watch -> settled)
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
            self.want_migrations += 1 if migrations else 0
            self._ensure_thread()
        try:
            value = self._wait(conn, server_id, test, called, deadline, timeout, what)
        finally:
            with self.cond:
                self.want_migrations -= 1 if migrations else 0
                self.watched.pop(server_id, None)
        with self.cond:
            state = self.servers.get(server_id)
            if state is not None and since < called:  # watched from its start: learn its duration
                recent = self.durations.setdefault(state["memory_mb"], [])
                recent.append(self.clock.now() - since)
                del recent[:-20]
        return value

    def _wait(self, conn, server_id, test, called, deadline, timeout, what):
        seen = None
        while True:
            with self.cond:
                if self.stop is not None and self.stop.is_set():
                    raise Interrupted("the run was cancelled")
                fresh = self.cycle_started >= called and self.cycle != seen
                seen = self.cycle
                state = self.servers.get(server_id) if fresh else None
                gone = server_id in self.gone
            if fresh and state is None:
                if gone:
                    raise ActionError("server %s disappeared while waiting for %s" % (server_id, what))
                # never listed (not changed since the watch began): read it once
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
        due = min(self._due(sid, since, now) for sid, since in self.watched.items())
        earliest = self.attempt_started + self.min_interval
        latest = self.attempt_started + self.max_interval
        return max(0.0, min(max(due, earliest), latest) - now)

    def _due(self, server_id, since, now):
        """When to look at a server next: at the end predicted from the fastest migration of
        its memory size so far, then at `min_interval` while it is about to end, else after
        ELAPSED_FRACTION of the time it has been watched."""
        state = self.servers.get(server_id)
        recent = self.durations.get(state["memory_mb"]) if state else None
        if recent:
            expected = since + min(recent)
            if now < expected:
                return expected
            if now < since + 1.5 * min(recent):
                return self.attempt_started + self.min_interval
        return self.attempt_started + max(self.min_interval, ELAPSED_FRACTION * (now - since))

    def _poll(self):
        started = self.clock.now()
        try:
            conn = self._client()
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
