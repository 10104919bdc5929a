# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Migrate a Cinder volume to a pool (host@backend#pool) or retype it with on-demand migration.

Bounded wait on ``migration_status`` (Watcher waits forever), then checks the final pool or
type and that the volume's attachments are those it had before.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    Action,
    ActionError,
    RefusedAction,
    input_field,
    none_if_not_found,
)
from ansible_collections.vigil.openstack.plugins.module_utils.collect import cinder
from ansible_collections.vigil.openstack.plugins.module_utils.model import storage

BASE_S, PER_GIB_S = 600, 6
BUSY_MIGRATION = ("starting", "migrating")
USABLE = ("available", "in-use")


def volume_state(conn, volume_id):
    vol = none_if_not_found(lambda: conn.block_storage.get_volume(volume_id))
    if vol is None:
        return None
    return {
        "id": vol.id,
        "host": vol.host,
        "status": vol.status,
        "migration_status": vol.migration_status or None,
        "volume_type": vol.volume_type,
        "size_gb": int(vol.size or 0),
        "attached_to": sorted(a.get("server_id") for a in (vol.attachments or []) if a.get("server_id")),
    }


class VolumeMigrateAction(Action):
    type = "volume_migrate"

    kind = input_field("migration_type")
    pool = input_field("destination_pool")
    new_type = input_field("destination_type")

    def volume(self):
        return self.read(lambda: volume_state(self.conn, self.resource), "read volume %s" % self.resource)

    def observe(self):
        return {"volume": self.volume()}

    def _settled(self, vol):
        return vol["migration_status"] not in BUSY_MIGRATION and vol["status"] != "retyping"

    def _on_target(self, vol):
        if self.kind == "retype":
            return vol["volume_type"] == self.new_type and (
                not self.input.get("destination_pool") or vol["host"] == self.pool
            )
        return vol["host"] == self.pool

    def done(self, state):
        vol = state["volume"]
        return vol is not None and self._settled(vol) and vol["status"] in USABLE and self._on_target(vol)

    def in_progress(self, state):
        vol = state["volume"]
        return vol is not None and not self._settled(vol)

    def exists(self, state):
        return state["volume"] is not None

    def stale(self, state):
        vol = state["volume"]
        if vol is None:
            return "volume %s not found" % self.resource
        if self.in_progress(state):
            return None
        if vol["status"] not in USABLE:
            return "volume %s is %s; migration needs available or in-use" % (self.resource, vol["status"])
        source = self.input.get("source_pool")
        if source and vol["host"] != source:
            return "volume %s is on %s, not on its source %s (moved since the plan was made)" % (
                self.resource,
                vol["host"],
                source,
            )
        return None

    def refuse(self, state):
        """A type that pins ``volume_backend_name`` keeps its volumes on that backend: Cinder
        accepts the migrate call (202) and its scheduler then fails it (migration_status error).
        Say so before calling, and point at the retype that can move it."""
        vol = state["volume"]
        if self.kind != "migrate" or not vol.get("volume_type"):
            return
        types = self.read(lambda: cinder.volume_types(self.conn.block_storage), "read volume types")
        pinned = storage.pinned_backend(types, vol["volume_type"])
        if not pinned:
            return
        pools = self.read(lambda: cinder.pools(self.conn.block_storage), "read Cinder pools")
        dest = next((p for p in pools if p.get("name") == self.pool), None)
        backend = storage.pool_backend(dest or {"name": self.pool})
        if backend != pinned:
            raise RefusedAction(
                "refusing to migrate volume %s to %s: its type %s pins volume_backend_name %s and that pool "
                "is on backend %s, so Cinder's scheduler would fail the migration; retype it instead "
                "(migration_type: retype, destination_type: a type of backend %s)"
                % (self.resource, self.pool, vol["volume_type"], pinned, backend, backend)
            )

    def effective_timeout(self, state):
        if self.timeout is not None:
            return float(self.timeout)
        return BASE_S + PER_GIB_S * ((state["volume"] or {}).get("size_gb") or 0)

    def describe(self, state):
        vol = state.get("volume") or {}
        if self.kind == "retype":
            return "retype volume %s from %s to %s (on-demand migration)" % (
                self.resource,
                vol.get("volume_type"),
                self.new_type,
            )
        return "migrate volume %s from %s to %s" % (self.resource, vol.get("host"), self.pool)

    def diff_view(self, state):
        vol = state.get("volume") or {}
        return {"host": vol.get("host"), "volume_type": vol.get("volume_type"), "status": vol.get("status")}

    def predicted(self, state):
        after = self.diff_view(state)
        if self.kind == "retype":
            after["volume_type"] = self.new_type
        if self.pool:
            after["host"] = self.pool
        return after

    def _landed(self):
        vol = self.volume()
        return vol is not None and (not self._settled(vol) or self._on_target(vol))

    def execute(self, state):

        def call():
            if self.kind == "retype":
                return self.conn.block_storage.retype_volume(self.resource, self.new_type, migration_policy="on-demand")
            return self.conn.block_storage.migrate_volume(
                self.resource, host=self.pool, force_host_copy=bool(self.input.get("force_host_copy", False))
            )

        self.submit(call, self._landed, self.describe(state))

    def verify(self, state):
        before = state["volume"] or {}

        def probe():
            vol = volume_state(self.conn, self.resource)
            if vol is None:
                raise ActionError("volume %s disappeared during migration" % self.resource)
            return vol if self._settled(vol) else None

        vol = self.wait_for(probe, self.effective_timeout(state), "migration of volume %s" % self.resource)
        if vol["migration_status"] == "error":
            raise ActionError(
                "migration of volume %s failed (migration_status error; still on %s)" % (self.resource, vol["host"])
            )
        if not self._on_target(vol):
            raise ActionError(
                "volume %s is on %s with type %s after migration, expected %s"
                % (
                    self.resource,
                    vol["host"],
                    vol["volume_type"],
                    self.pool if self.kind == "migrate" else self.new_type,
                )
            )
        if before.get("attached_to") is not None and vol["attached_to"] != before["attached_to"]:
            raise ActionError(
                "volume %s attachments changed during migration: %s -> %s"
                % (self.resource, before["attached_to"], vol["attached_to"])
            )
        return {"volume": vol}
