# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Live and cold migration of a server.

Live: ``os-migrateLive`` with ``block_migration`` auto (or as given), the destination when
the plan names one, ``force`` only when asked. On timeout the in-progress migration is
aborted (``DELETE /servers/{id}/migrations/{mid}``). Verified: the server is settled in the
status it had before, on the expected host (exact name), with its Placement allocations
on that host only.

Cold: ``migrate`` (with host when given), wait for VERIFY_RESIZE, then confirmResize when
the server landed where expected, revertResize (and fail) when it did not.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    Action,
    ActionError,
    ActionTimeout,
    input_field,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import (
    ServerActionMixin,
    allocation_providers,
    compute_service,
    name_providers,
    settled,
)
from ansible_collections.vigil.openstack.plugins.module_utils.errors import one_line

# Default timeouts scale with the memory (live: dirty-page copy) and disk (cold) to move.
LIVE_BASE_S, LIVE_PER_GIB_S = 300, 30
COLD_BASE_S, COLD_PER_GIB_RAM_S, COLD_PER_GIB_DISK_S = 600, 30, 10
ABORT_WAIT_S = 120

LIVE_STATUSES = ("ACTIVE", "PAUSED")
COLD_STATUSES = ("ACTIVE", "SHUTOFF")


class MigrateAction(ServerActionMixin, Action):
    type = "migrate"

    @property
    def live(self):
        return self.input.get("migration_type") == "live"

    source = input_field("source_node")

    @property
    def destination(self):
        return self.input.get("destination_node") or self.postcondition.get("host")

    def observe(self):
        state = {"server": self.observed_server(host=self.source), "destination_service": None}
        if self.destination:
            state["destination_service"] = self.read(
                lambda: compute_service(self.conn, self.destination), "read service of %s" % self.destination
            )
        return state

    def on_target(self, server, source=None):
        """On the destination; without one, off the source (unknown source: never)."""
        if self.destination:
            return server["host"] == self.destination
        source = source or self.source
        return bool(source) and server["host"] != source

    def done(self, state):
        server = state["server"]
        if server is None or not settled(server) or server["status"] == "ERROR" or not self.on_target(server):
            return False
        # A cold migration waiting for confirmation is not done (unless asked not to confirm).
        return server["status"] != "VERIFY_RESIZE" or self.live or not self.input.get("confirm", True)

    def stale(self, state):
        gone = self.server_gone(state)
        if gone or self.in_progress(state):
            return gone
        server = state["server"]
        if self.source and server["host"] != self.source:
            return "server %s is on %s, not on its source %s (moved since the plan was made)" % (
                self.resource,
                server["host"],
                self.source,
            )
        allowed = LIVE_STATUSES if self.live else COLD_STATUSES
        if server["status"] not in allowed:
            return "server %s is %s; a %s migration needs %s" % (
                self.resource,
                server["status"],
                "live" if self.live else "cold",
                " or ".join(allowed),
            )
        if self.destination:
            svc = state["destination_service"]
            if svc is None:
                return "destination host %s has no nova-compute service" % self.destination
            if svc["state"] != "up" or svc["forced_down"]:
                return "destination host %s is down" % self.destination
            if svc["status"] != "enabled" and not self.force:
                return "destination host %s is disabled" % self.destination
        return None

    def in_progress(self, state):
        server = state["server"]
        if server is None:
            return False
        if self.live:
            return server["status"] == "MIGRATING" or server["task_state"] == "migrating"
        return server["status"] in ("RESIZE", "VERIFY_RESIZE") or (server["task_state"] or "").startswith("resize")

    def effective_timeout(self, state):
        if self.timeout is not None:
            return float(self.timeout)
        server = state["server"] or {}
        ram_gib = (server.get("memory_mb") or 0) / 1024.0
        if self.live:
            return LIVE_BASE_S + LIVE_PER_GIB_S * ram_gib
        return COLD_BASE_S + COLD_PER_GIB_RAM_S * ram_gib + COLD_PER_GIB_DISK_S * (server.get("disk_gb") or 0)

    def describe(self, state):
        kind = "live-migrate" if self.live else "cold-migrate"
        server = state.get("server") or {}
        return "%s server %s from %s to %s" % (
            kind,
            self.resource,
            server.get("host"),
            self.destination or "(scheduler)",
        )

    def diff_view(self, state):
        server = state.get("server") or {}
        return {"host": server.get("host"), "status": server.get("status")}

    def predicted(self, state):
        return {"host": self.destination or "(scheduler)", "status": self.expected_status(state)}

    def expected_status(self, state):
        server = state.get("server") or {}
        status = self.postcondition.get("status")
        if status:
            return status
        if server.get("status") in LIVE_STATUSES + COLD_STATUSES:
            return server["status"]
        return None  # resumed mid-way: the status before is not known

    def landed(self):
        server = self.server()
        return server is not None and (
            not settled(server) or server["status"] == "VERIFY_RESIZE" or self.on_target(server)
        )

    # -- execute / verify -------------------------------------------------------------
    def execute(self, state):
        if self.watcher is not None:
            self.watcher.watch(self.resource)  # before the call: the watch learns how long it takes
        try:
            self._send()
        except ActionError:
            if self.watcher is not None:
                self.watcher.unwatch(self.resource)
            raise

    def _send(self):
        try:
            if self.live:
                block = self.input.get("block_migration", "auto")
                self.submit(
                    lambda: self.conn.compute.live_migrate_server(
                        self.resource, host=self.destination, force=self.force, block_migration=block
                    ),
                    self.landed,
                    "live migration of %s" % self.resource,
                )
            else:
                self.submit(
                    lambda: self.conn.compute.migrate_server(self.resource, host=self.destination),
                    self.landed,
                    "cold migration of %s" % self.resource,
                )
        except ActionError as exc:
            if not getattr(exc, "rejected", False):
                raise
            named = ActionError(name_providers(self.conn, str(exc)))
            named.rejected = True
            raise named from exc

    def verify(self, state):
        timeout = self.effective_timeout(state)
        expected = self.expected_status(state)
        source = self.source or (state["server"] or {}).get("host")
        if self.live:
            return self._verify_live(timeout, expected, source)
        return self._verify_cold(timeout, expected, source)

    def _check_placement(self, server, source, kind):
        if server["status"] == "ERROR":
            raise ActionError("%s migration of %s left it in ERROR on %s" % (kind, self.resource, server["host"]))
        if not self.on_target(server, source):
            if server["host"] == source:
                return "%s migration of %s failed: server still on %s (%s)" % (
                    kind,
                    self.resource,
                    source,
                    server["status"],
                )
            return "%s migration of %s put it on %s, expected %s" % (
                kind,
                self.resource,
                server["host"],
                self.destination,
            )
        return None

    def _verify_live(self, timeout, expected, source):
        # The source's hold in Placement matters only to what runs after this move (dependents).
        release = self.dependents != 0
        try:
            server = self.wait_settled(timeout, "live migration of %s" % self.resource, migrations=release)
        except ActionTimeout as exc:
            raise ActionTimeout("%s; %s" % (exc, self.abort())) from exc
        problem = self._check_placement(server, source, "live")
        if problem:
            raise ActionError(problem)
        if expected and server["status"] != expected:
            raise ActionError(
                "server %s is %s after live migration, was %s" % (self.resource, server["status"], expected)
            )
        server = self.wait_allocations(timeout, server)
        if release:
            self.wait_source_released(timeout)
        return {"server": server, "destination_service": None}

    def wait_source_released(self, timeout):
        """Wait until the live migration's record no longer holds the source in Placement.

        Nova's source compute drops that hold only after marking the migration completed, and
        a plan's next move onto the source may need the room."""
        seen = self.watcher.migration(self.resource) if self.watcher is not None else None
        if seen and seen.get("uuid"):
            consumer = seen["uuid"]
        else:
            records = self.read(
                lambda: [
                    m
                    for m in self.conn.compute.migrations(instance_uuid=self.resource)
                    if (m.migration_type or "") == "live-migration" and getattr(m, "uuid", None)
                ],
                "list migrations of %s" % self.resource,
            )
            if not records:
                return
            consumer = max(records, key=lambda m: (str(m.created_at or ""), m.id or 0)).uuid
        cache = self.ctx.setdefault("provider_names", {})

        def probe():
            return True if allocation_providers(self.conn, consumer, cache) in (None, []) else None

        self.wait_for(probe, timeout, "migration %s to release its hold on the source" % consumer)

    def abort(self):
        """Abort the server's in-progress live migration; return what happened, in words."""
        try:
            migrations = self.read(lambda: list(self.conn.compute.server_migrations(self.resource)), "list migrations")
            running = [m for m in migrations if (m.status or "").lower() in ("queued", "preparing", "running")]
            if not running:
                return "no in-progress migration to abort"
            for mig in running:
                self.submit(
                    lambda mig=mig: self.conn.compute.abort_server_migration(
                        mig.id, self.resource, ignore_missing=True
                    ),
                    lambda: settled(self.server()),
                    "abort migration %s of %s" % (mig.id, self.resource),
                )
            server = self.wait_settled(ABORT_WAIT_S, "abort of the live migration of %s" % self.resource)
            return "aborted migration %s; server %s on %s" % (
                ",".join(str(m.id) for m in running),
                server["status"],
                server["host"],
            )
        except Exception as exc:  # noqa: BLE001 - the timeout is the error to report; say the abort failed too
            return "abort failed: %s" % one_line(exc)

    def _verify_cold(self, timeout, expected, source):
        server = self.wait_status(("VERIFY_RESIZE",), timeout, "cold migration of %s" % self.resource)
        if server["status"] != "VERIFY_RESIZE":
            problem = self._check_placement(server, source, "cold")
            if problem:
                raise ActionError(problem)
            # Confirmed by someone else (or resize auto-confirm) while we waited.
            return {"server": self.wait_allocations(timeout, server), "destination_service": None}

        def ok(srv):
            if self.destination and srv["host"] != self.destination:
                return "cold migration of %s went to %s, expected %s" % (self.resource, srv["host"], self.destination)
            if not self.on_target(srv, source):
                return "cold migration of %s stayed on %s" % (self.resource, source)
            return None

        final = self.finish_resize(server, timeout, ok, expected, confirm=self.input.get("confirm", True))
        return {"server": final, "destination_service": None}
