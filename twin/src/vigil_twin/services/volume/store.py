"""Cinder's state (`VolumeStore`): volumes, types, pools, services, and migrations over time."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request
from vigil_twin.services._support import compute_servers, is_admin, iso, uid
from vigil_twin.services.volume.api import err


# -- store -------------------------------------------------------------------------------
class VolumeStore:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.pools: dict[str, dict[str, Any]] = {}  # "host@backend#pool" -> pool
        self.types: dict[str, dict[str, Any]] = {}  # id -> type
        self.volumes: dict[str, dict[str, Any]] = {}  # id -> volume
        self.services: dict[str, dict[str, Any]] = {}  # "binary:host" -> service
        self.migration_base_seconds = 5.0
        self.migration_seconds_per_gb = 0.2
        self.retype_seconds = 1.0
        self.order: list[str] = []  # volume ids, newest first (Cinder's default sort)

    # capacity ----------------------------------------------------------------------
    def allocated_gb(self, pool_name: str) -> int:
        total = 0
        for v in self.volumes.values():
            if v["pool"] == pool_name:
                total += v["size"]
            if v.get("_dest") == pool_name:
                total += v["size"]  # the migration's copy on the destination
        return total

    def pool_capabilities(self, pool: dict[str, Any]) -> dict[str, Any]:
        allocated = self.allocated_gb(pool["name"])
        written = allocated * (pool["thin_fill"] if pool["thin"] else 1.0)  # thin volumes are partly written
        free = max(round(pool["total_capacity_gb"] - pool["used_gb"] - written, 2), 0.0)
        return {
            "pool_name": pool["pool"],
            "volume_backend_name": pool["volume_backend_name"],
            "total_capacity_gb": pool["total_capacity_gb"],
            "free_capacity_gb": free,
            "allocated_capacity_gb": allocated,
            "provisioned_capacity_gb": allocated,
            "reserved_percentage": pool["reserved_percentage"],
            "max_over_subscription_ratio": str(pool["max_over_subscription_ratio"]),
            "thin_provisioning_support": pool["thin"],
            "thick_provisioning_support": not pool["thin"],
            "storage_protocol": pool["storage_protocol"],
            "vendor_name": pool["vendor_name"],
            "driver_version": "1.0.0",
            "QoS_support": False,
            "multiattach": True,
            "backend_state": "up" if self.backend_up(pool) else "down",
            "timestamp": pool["updated_at"],
        }

    def fits(self, pool: dict[str, Any], size: int) -> bool:
        """Cinder's CapacityFilter, simplified: reserved space kept, thin pools bound by oversubscription."""
        caps = self.pool_capabilities(pool)
        reserved = pool["total_capacity_gb"] * pool["reserved_percentage"] / 100.0
        if pool["thin"]:
            limit = pool["total_capacity_gb"] * pool["max_over_subscription_ratio"]
            return (
                caps["provisioned_capacity_gb"] + size <= limit - reserved and caps["free_capacity_gb"] - reserved >= 0
            )
        return caps["free_capacity_gb"] - reserved >= size

    def backend_up(self, pool: dict[str, Any]) -> bool:
        svc = self.services.get(f"cinder-volume:{pool['host']}@{pool['backend']}")
        return bool(svc and svc["state"] == "up" and svc["status"] == "enabled")

    def type_by_name_or_id(self, ref: str) -> dict[str, Any] | None:
        if ref in self.types:
            return self.types[ref]
        return next((t for t in self.types.values() if t["name"] == ref), None)

    def detach_server(self, server_id: str) -> None:
        """Nova deleted a server: its volumes are detached (available again when nothing else holds them)."""
        for vol in self.volumes.values():
            kept = [a for a in vol["attachments"] if a["server_id"] != server_id]
            if len(kept) != len(vol["attachments"]):
                vol["attachments"] = kept
                if not kept and vol["status"] == "in-use":
                    vol["status"] = "available"

    def get(self, volume_id: str) -> dict[str, Any]:
        vol = self.volumes.get(volume_id)
        if vol is None:
            raise err(404, f"Volume {volume_id} could not be found.")
        return vol

    # views -------------------------------------------------------------------------
    def view(self, v: dict[str, Any], request: Request, mv: tuple[int, int]) -> dict[str, Any]:
        vtype = self.type_by_name_or_id(v["volume_type"]) or {}
        servers = compute_servers(self.cloud)
        attachments = []
        for a in v["attachments"]:
            server = servers.get(a["server_id"]) or {}
            attachments.append(
                {
                    "id": v["id"],
                    "attachment_id": a["attachment_id"],
                    "volume_id": v["id"],
                    "server_id": a["server_id"],
                    "host_name": server.get("host", a.get("host_name")),
                    "device": a["device"],
                    "attached_at": a["attached_at"],
                }
            )
        body: dict[str, Any] = {
            "id": v["id"],
            "name": v["name"],
            "description": v["description"],
            "status": v["status"],
            "size": v["size"],
            "availability_zone": v["availability_zone"],
            "created_at": v["created_at"],
            "updated_at": v["updated_at"],
            "attachments": attachments,
            "volume_type": v["volume_type"],
            "snapshot_id": None,
            "source_volid": None,
            "metadata": dict(v["metadata"]),
            "bootable": "true" if v["bootable"] else "false",
            **({"volume_image_metadata": dict(v["image_metadata"])} if v.get("image_metadata") else {}),
            "encrypted": False,
            "multiattach": False,
            "replication_status": None,
            "consistencygroup_id": None,
            "user_id": v["user_id"],
            "os-vol-tenant-attr:tenant_id": v["project_id"],
            "links": [
                {"rel": "self", "href": f"{request.base_url}/v3/{v['project_id']}/volumes/{v['id']}"},
                {"rel": "bookmark", "href": f"{request.base_url}/{v['project_id']}/volumes/{v['id']}"},
            ],
        }
        if is_admin(request):
            body["os-vol-host-attr:host"] = v["pool"]
            body["os-vol-mig-status-attr:migstat"] = v["migration_status"]
            body["os-vol-mig-status-attr:name_id"] = v["name_id"] if v["name_id"] != v["id"] else None
        if mv >= (3, 13):
            body["group_id"] = None
        if mv >= (3, 21):
            body["provider_id"] = None
        if mv >= (3, 48):
            body["service_uuid"] = uid("cinder-service", v["pool"].split("#")[0])
            body["shared_targets"] = False
        if mv >= (3, 61) and is_admin(request):
            body["cluster_name"] = None
        if mv >= (3, 63):
            body["volume_type_id"] = vtype.get("id")
        if mv >= (3, 65):
            body["consumes_quota"] = True
        return body

    def type_view(self, t: dict[str, Any], request: Request) -> dict[str, Any]:
        body = {
            "id": t["id"],
            "name": t["name"],
            "description": t["description"],
            "is_public": t["is_public"],
            "os-volume-type-access:is_public": t["is_public"],
            "qos_specs_id": None,
            "extra_specs": dict(t["extra_specs"]) if is_admin(request) else {},
        }
        return body

    def service_view(self, s: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
        body = {
            "binary": s["binary"],
            "host": s["host"],
            "zone": s["zone"],
            "status": s["status"],
            "state": s["state"],
            "updated_at": s["updated_at"],
            "disabled_reason": s["disabled_reason"],
            "frozen": False,
            "replication_status": "disabled",
            "active_backend_id": None,
        }
        if mv >= (3, 7):
            body["cluster"] = None
        if mv >= (3, 49) and s["binary"] == "cinder-volume":
            body["backend_state"] = "up" if s["state"] == "up" else "down"
        return body

    # transitions -------------------------------------------------------------------
    def start_migration(self, vol: dict[str, Any], dest: dict[str, Any], new_type: dict[str, Any] | None, lock: bool):
        vol["previous_status"] = vol["status"]
        vol["migration_status"] = "starting"
        vol["_dest"] = dest["name"]
        vol["_op"] += 1
        if lock:
            vol["status"] = "maintenance"
        elif new_type is not None:
            vol["status"] = "retyping"
        vol["updated_at"] = iso()
        token, vid = vol["_op"], vol["id"]
        clock = self.cloud.clock
        seconds = self.migration_base_seconds + self.migration_seconds_per_gb * vol["size"]
        self.cloud.scheduler.call_later(clock.delay(min(1.0, seconds / 10)), lambda: self._migrating(vid, token))
        self.cloud.scheduler.call_later(clock.delay(seconds), lambda: self._finish(vid, token, new_type))

    def _current(self, vid: str, token: int) -> dict[str, Any] | None:
        store = self.cloud.stores.get("volume")  # a restore may have replaced this store
        vol = store.volumes.get(vid) if store is self else None
        return vol if vol is not None and vol["_op"] == token else None

    def _migrating(self, vid: str, token: int) -> None:
        vol = self._current(vid, token)
        if vol and vol["migration_status"] == "starting":
            vol["migration_status"] = "migrating"
            vol["updated_at"] = iso()

    def _finish(self, vid: str, token: int, new_type: dict[str, Any] | None) -> None:
        vol = self._current(vid, token)
        if not vol:
            return
        dest = self.pools.get(vol.pop("_dest", None) or "")
        faults = self.cloud.faults
        failed = dest is None or not self.backend_up(dest)
        if faults is not None and (
            faults.take("volume_migration_fail", vid) or faults.take("volume_migration_fail", vol["name"])
        ):
            failed = True
        if failed:
            vol["migration_status"] = "error"
        else:
            vol["migration_status"] = "success"
            vol["pool"] = dest["name"]
            vol["availability_zone"] = dest["az"]
            vol["name_id"] = uid("volume-copy", f"{vid}:{token}")  # generic migration: data under a new id
            if new_type is not None:
                vol["volume_type"] = new_type["name"]
        vol["status"] = vol.pop("previous_status", vol["status"])
        vol["updated_at"] = iso()

    def finish_retype_in_place(self, vid: str, token: int, new_type: dict[str, Any] | None) -> None:
        vol = self._current(vid, token)
        if not vol:
            return
        if new_type is not None:
            vol["volume_type"] = new_type["name"]
        vol["status"] = vol.pop("previous_status", "available")
        vol["updated_at"] = iso()
