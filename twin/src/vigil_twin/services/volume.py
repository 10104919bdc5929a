"""Cinder v3 (catalog type ``block-storage``): volumes, types, pools, services, migrate and retype.

Endpoint ``/volume/v3/{project_id}`` as Cinder publishes it (the project segment is optional,
as in Cinder >= 3.67), version discovery at ``/volume/``. Migrations and retypes move through
``migration_status`` starting -> migrating -> success | error over time, the host changes and
pool capacities follow (the destination is reserved while the copy runs, as Cinder's generic
migration does with its temporary volume). Named fault ``volume_migration_fail`` (target:
volume id or name) makes the next migration of that volume end in ``error`` on the source.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Response
from vigil_twin.services import Service
from vigil_twin.services._support import (
    PrefixRouter,
    cloud_of,
    compute_servers,
    field,
    int_arg,
    is_admin,
    iso,
    microversion,
    next_link,
    non_negative,
    page,
    project_id,
    section,
    server_by_name,
    truthy,
    uid,
    unique_ids,
    unique_names,
)

MIN_VERSION, MAX_VERSION = "3.0", "3.71"
MAX_LIMIT = 1000
POOL_NAME = re.compile(r"^(?P<host>[^@#\s]+)@(?P<backend>[^@#\s]+)#(?P<pool>[^@#\s]+)$")
VOLUME_STATUSES = {"available", "in-use", "error", "creating", "maintenance", "reserved", "error_deleting"}
USER_FILTERS = {"name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size"}


# -- errors as Cinder shapes them --------------------------------------------------------
_FAULT_NAMES = {400: "badRequest", 403: "forbidden", 404: "itemNotFound", 406: "notAcceptable", 409: "conflict"}


def err(status: int, message: str) -> HTTPError:
    return HTTPError(status, {_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}})


def _policy(action: str) -> HTTPError:
    return err(403, f"Policy doesn't allow {action} to be performed.")


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


# -- topology ---------------------------------------------------------------------------
def _load(cloud: Any, topology: dict[str, Any]) -> VolumeStore:
    store = VolumeStore(cloud)
    conf = topology.get("cinder") or {}
    if not isinstance(conf, dict):
        raise TopologyError("cinder: must be a mapping")
    store.migration_base_seconds = field(conf, "cinder", "migration_base_seconds", float, 5.0, non_negative)
    store.migration_seconds_per_gb = field(conf, "cinder", "migration_seconds_per_gb", float, 0.2, non_negative)
    store.retype_seconds = field(conf, "cinder", "retype_seconds", float, 1.0, non_negative)
    now = iso()

    pools = section(topology, "pools")
    unique_names(pools, "pools")
    backend_state: dict[str, tuple[str, str, str, str | None]] = {}
    for i, p in enumerate(pools):
        where = f"pools[{i}]"
        name = field(p, where, "name", str)
        m = POOL_NAME.match(name)
        if not m:
            raise TopologyError(f"{where}.name: '{name}' is not of the form host@backend#pool")
        total = field(p, where, "total_capacity_gb", (int, float), check=non_negative)
        ratio = field(
            p, where, "max_over_subscription_ratio", (int, float), 20.0 if p.get("thin_provisioning") else 1.0
        )
        if ratio < 1:
            raise TopologyError(f"{where}.max_over_subscription_ratio: must be >= 1")
        reserved = field(p, where, "reserved_percentage", (int, float), 0, non_negative)
        if reserved > 100:
            raise TopologyError(f"{where}.reserved_percentage: must be <= 100")
        state = field(p, where, "state", str, "up", lambda s: None if s in ("up", "down") else "must be up or down")
        status = field(
            p,
            where,
            "status",
            str,
            "enabled",
            lambda s: None if s in ("enabled", "disabled") else "must be enabled or disabled",
        )
        store.pools[name] = {
            "name": name,
            "host": m["host"],
            "backend": m["backend"],
            "pool": m["pool"],
            "volume_backend_name": field(p, where, "volume_backend_name", str, m["backend"]),
            "total_capacity_gb": float(total),
            "used_gb": float(field(p, where, "used_gb", (int, float), 0, non_negative)),  # space not from volumes
            "thin": bool(field(p, where, "thin_provisioning", bool, False)),
            "thin_fill": float(field(p, where, "thin_fill_ratio", (int, float), 0.5, non_negative)),
            "max_over_subscription_ratio": float(ratio),
            "reserved_percentage": reserved,
            "storage_protocol": field(p, where, "storage_protocol", str, "iSCSI"),
            "vendor_name": field(p, where, "vendor_name", str, "Open Source"),
            "az": field(p, where, "availability_zone", str, "nova"),
            "updated_at": now,
        }
        key = f"{m['host']}@{m['backend']}"
        prev = backend_state.get(key)
        reason = p.get("disabled_reason")
        if prev is None or state == "down" or status == "disabled":
            backend_state[key] = (state, status, store.pools[name]["az"], reason)

    store.services["cinder-scheduler:controller"] = _service(
        "cinder-scheduler", "controller", "nova", "up", "enabled", None, now
    )
    for host, (state, status, az, reason) in backend_state.items():
        store.services[f"cinder-volume:{host}"] = _service("cinder-volume", host, az, state, status, reason, now)

    # volume types: explicit section, else one per name used by volumes (backend of their pools)
    volumes = section(topology, "volumes")
    types = section(topology, "volume_types")
    unique_names(types, "volume_types")
    for i, t in enumerate(types):
        where = f"volume_types[{i}]"
        name = field(t, where, "name", str)
        specs = dict(field(t, where, "extra_specs", dict, {}))
        backend = field(t, where, "volume_backend_name", str, None)
        if backend:
            specs["volume_backend_name"] = backend
        store.types[t.get("id") or uid("volume-type", name)] = _vtype(
            t.get("id") or uid("volume-type", name), name, specs, t
        )
    for v in volumes:
        tname = v.get("volume_type")
        pool = store.pools.get(v.get("pool") or "")
        if isinstance(tname, str) and tname and store.type_by_name_or_id(tname) is None:
            specs = {"volume_backend_name": pool["volume_backend_name"]} if pool else {}
            store.types[uid("volume-type", tname)] = _vtype(uid("volume-type", tname), tname, specs, {})
    if store.type_by_name_or_id("__DEFAULT__") is None:
        store.types[uid("volume-type", "__DEFAULT__")] = _vtype(
            uid("volume-type", "__DEFAULT__"), "__DEFAULT__", {}, {}
        )

    unique_ids(volumes, "volumes", "volume")
    servers = server_by_name(cloud)
    base_ts = 1_700_000_000.0
    for i, v in enumerate(volumes):
        where = f"volumes[{i}]"
        name = field(v, where, "name", str)
        size = field(v, where, "size_gb", int, check=lambda n: "must be >= 1" if n < 1 else None)
        pool_name = field(v, where, "pool", str)
        if pool_name not in store.pools:
            raise TopologyError(f"{where}.pool: unknown pool '{pool_name}'")
        tname = field(v, where, "volume_type", str, "__DEFAULT__")
        attached = field(v, where, "attached_to", str, None)
        server_id = None
        if attached is not None:
            server_id = servers.get(attached) or (attached if attached in compute_servers(cloud) else None)
            if server_id is None and compute_servers(cloud):
                raise TopologyError(f"{where}.attached_to: unknown server '{attached}'")
            if server_id is None:
                server_id = uid("server", attached)  # no compute service loaded: keep a stable id
        status = field(v, where, "status", str, "in-use" if attached else "available")
        if status not in VOLUME_STATUSES:
            raise TopologyError(f"{where}.status: '{status}' is not one of {sorted(VOLUME_STATUSES)}")
        pid = project_id(cloud, field(v, where, "project", str, None))
        if pid is None:
            raise TopologyError(f"{where}.project: unknown project '{v.get('project')}'")
        vid = v.get("id") or uid("volume", name)
        created = iso(base_ts + i)
        store.volumes[vid] = {
            "id": vid,
            "name": name,
            "description": v.get("description"),
            "size": size,
            "pool": pool_name,
            "availability_zone": store.pools[pool_name]["az"],
            "project_id": pid,
            "user_id": uid("user", str(v.get("user") or "admin")).replace("-", ""),
            "volume_type": tname,
            "status": status,
            "migration_status": None,
            "name_id": vid,
            "bootable": bool(field(v, where, "bootable", bool, False)),
            "metadata": dict(field(v, where, "metadata", dict, {})),
            # Glance properties of the image the volume was made from (Cinder copies them)
            "image_metadata": {k: str(x) for k, x in field(v, where, "image_metadata", dict, {}).items()},
            "attachments": [
                {
                    "server_id": server_id,
                    "attachment_id": uid("attachment", f"{vid}:{server_id}"),
                    "device": field(v, where, "device", str, "/dev/vdb"),
                    "attached_at": created,
                }
            ]
            if server_id
            else [],
            "created_at": created,
            "updated_at": created,
            "_op": 0,
        }
    _attach_from_servers(store)
    store.order = sorted(store.volumes, key=lambda k: (store.volumes[k]["created_at"], k), reverse=True)
    return store


def _attach_from_servers(store: VolumeStore) -> None:
    """Servers may list their volumes (by name or id) instead of volumes naming their server."""
    by_ref = {v["name"]: v for v in store.volumes.values()} | store.volumes
    for sid, server in compute_servers(store.cloud).items():
        for ref in server.get("volumes") or []:
            ref = ref.get("id") or ref.get("name") if isinstance(ref, dict) else ref
            vol = by_ref.get(ref)
            if vol is None or any(a["server_id"] == sid for a in vol["attachments"]):
                continue
            vol["attachments"].append(
                {
                    "server_id": sid,
                    "attachment_id": uid("attachment", f"{vol['id']}:{sid}"),
                    "device": f"/dev/vd{chr(ord('b') + len(vol['attachments']))}",
                    "attached_at": vol["created_at"],
                }
            )
            if vol["status"] == "available":
                vol["status"] = "in-use"


def _service(binary, host, zone, state, status, reason, now) -> dict[str, Any]:
    return {
        "binary": binary,
        "host": host,
        "zone": zone,
        "state": state,
        "status": status,
        "disabled_reason": reason if status == "disabled" else None,
        "updated_at": now,
    }


def _vtype(tid: str, name: str, specs: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": tid,
        "name": name,
        "description": entry.get("description"),
        "is_public": bool(entry.get("is_public", True)),
        "extra_specs": specs,
    }


def _snapshot(store: VolumeStore) -> dict[str, Any]:
    return {
        "pools": copy.deepcopy(store.pools),
        "types": copy.deepcopy(store.types),
        "volumes": {
            k: {kk: vv for kk, vv in v.items() if kk != "_dest"} for k, v in copy.deepcopy(store.volumes).items()
        },
        "services": copy.deepcopy(store.services),
        "timing": [store.migration_base_seconds, store.migration_seconds_per_gb, store.retype_seconds],
    }


def _restore(cloud: Any, old: VolumeStore, data: dict[str, Any]) -> VolumeStore:
    store = VolumeStore(cloud)
    store.pools = copy.deepcopy(data["pools"])
    store.types = copy.deepcopy(data["types"])
    store.volumes = copy.deepcopy(data["volumes"])
    store.services = copy.deepcopy(data["services"])
    store.migration_base_seconds, store.migration_seconds_per_gb, store.retype_seconds = data.get(
        "timing", [5.0, 0.2, 1.0]
    )
    for vol in store.volumes.values():
        if vol.get("migration_status") in ("starting", "migrating"):
            vol["migration_status"] = "error"  # an in-flight copy does not survive a restore
            vol["status"] = vol.pop("previous_status", vol["status"])
    store.order = sorted(store.volumes, key=lambda k: (store.volumes[k]["created_at"], k), reverse=True)
    return store


# -- routes ------------------------------------------------------------------------------
_COLLECTIONS = {
    "volumes",
    "types",
    "scheduler-stats",
    "os-services",
    "attachments",
    "snapshots",
    "backups",
    "limits",
    "extensions",
}


def _strip_project(request: Request) -> None:
    """/v3/{project_id}/volumes -> /v3/volumes (Cinder accepts both since 3.67)."""
    parts = request.path.split("/")
    if len(parts) > 2 and parts[1] == "v3" and parts[2] and parts[2] not in _COLLECTIONS:
        request.context["url_project_id"] = parts[2]
        request.path = "/".join(parts[:2] + parts[3:])


router = PrefixRouter(_strip_project)


def _mv(request: Request) -> tuple[int, int]:
    return microversion(request, "volume", None, MIN_VERSION, MAX_VERSION, MIN_VERSION, err)


def _respond(request: Request, status: int, body: Any, mv: tuple[int, int]) -> Response:
    return Response(
        status,
        body,
        {"OpenStack-API-Version": f"volume {mv[0]}.{mv[1]}", "Vary": "OpenStack-API-Version"},
    )


def _version_doc(base: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(300, {"versions": [_version_doc(request.base_url)]})


@router.route("GET", "/v3")
def version_v3(request: Request) -> Response:
    return Response(200, {"versions": [_version_doc(request.base_url)]})


def _visible(request: Request, store: VolumeStore, vol: dict[str, Any]) -> bool:
    return is_admin(request) or vol["project_id"] == request.context.get("project_id")


def _volumes(request: Request, detail: bool) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    admin = is_admin(request)
    all_tenants = admin and truthy(request.arg("all_tenants", "0"))
    filters = {
        k: vs[-1]
        for k, vs in request.query.items()
        if k not in ("all_tenants", "limit", "marker", "sort", "sort_key", "sort_dir", "with_count", "offset")
    }
    if not admin:
        bad = sorted(set(filters) - USER_FILTERS)
        if bad:
            raise err(400, f"Invalid filters {', '.join(bad)} are found in query options.")
    pid = request.context.get("project_id")
    want_project = filters.pop("project_id", None) if admin else None
    rows = []
    for vid in store.order:
        v = store.volumes[vid]
        if want_project is not None:
            if v["project_id"] != want_project:
                continue
        elif not all_tenants and v["project_id"] != pid:
            continue
        if not _matches(v, filters):
            continue
        rows.append(v)
    limit = int_arg(request, "limit", err)
    chunk, more = page(
        rows, limit, request.arg("marker"), MAX_LIMIT, lambda m: err(404, f"Marker {m} could not be found.")
    )
    if detail:
        items = [store.view(v, request, mv) for v in chunk]
    else:
        items = [{"id": v["id"], "name": v["name"], "links": store.view(v, request, mv)["links"]} for v in chunk]
    body: dict[str, Any] = {"volumes": items}
    if more and chunk:
        body["volumes_links"] = [{"rel": "next", "href": next_link(request, request.path, chunk[-1]["id"], limit)}]
    if mv >= (3, 45) and truthy(request.arg("with_count")):
        body["count"] = len(rows)
    return _respond(request, 200, body, mv)


def _matches(v: dict[str, Any], filters: dict[str, str]) -> bool:
    for key, want in filters.items():
        if key == "metadata":
            continue
        if key == "host":
            have = v["pool"]
            if want != have and not have.startswith(want + "#") and not have.startswith(want + "@"):
                return False
            continue
        if key == "bootable":
            if truthy(want) != v["bootable"]:
                return False
            continue
        have = v.get(key)
        if have is None and key in ("migration_status",):
            have = ""
        if str(have) != want:
            return False
    return True


@router.route("GET", "/v3/volumes/detail")
def volumes_detail(request: Request) -> Response:
    return _volumes(request, detail=True)


@router.route("GET", "/v3/volumes")
def volumes_list(request: Request) -> Response:
    return _volumes(request, detail=False)


@router.route("GET", "/v3/volumes/{volume_id}")
def volume_show(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    vol = store.volumes.get(request.params["volume_id"])
    if vol is None or not _visible(request, store, vol):
        raise err(404, f"Volume {request.params['volume_id']} could not be found.")
    return _respond(request, 200, {"volume": store.view(vol, request, mv)}, mv)


@router.route("POST", "/v3/volumes/{volume_id}/action")
def volume_action(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    body = request.json
    if not isinstance(body, dict) or len(body) != 1:
        raise err(400, "Invalid request body: expected one action")
    action, args = next(iter(body.items()))
    args = args or {}
    with store.cloud.lock:
        vol = store.volumes.get(request.params["volume_id"])
        if vol is None or not _visible(request, store, vol):
            raise err(404, f"Volume {request.params['volume_id']} could not be found.")
        if action == "os-migrate_volume":
            _migrate(request, store, vol, args)
        elif action == "os-retype":
            _retype(request, store, vol, args)
        elif action == "os-reset_status":
            if not is_admin(request):
                raise _policy("volume_extension:volume_admin_actions:reset_status")
            for key in ("status", "migration_status"):
                if key in args:
                    vol[key] = args[key] or None
            vol["_op"] += 1
            vol.pop("_dest", None)
        else:
            raise err(400, f"There is no such action: {action}")
    return _respond(request, 202, None, mv)


def _migrate(request: Request, store: VolumeStore, vol: dict[str, Any], args: dict[str, Any]) -> None:
    if not is_admin(request):
        raise _policy("volume_extension:volume_admin_actions:migrate_volume")
    host = args.get("host")
    if not host or not isinstance(host, str):
        if args.get("cluster"):
            raise err(400, "Migrating to a cluster is not supported by the twin; give a host.")
        raise err(400, "Invalid input received: host must be given.")
    force_host_copy = _bool_arg(args, "force_host_copy")
    lock = _bool_arg(args, "lock_volume")
    del force_host_copy  # the twin always copies; the flag only needs to be valid
    if vol["status"] not in ("available", "in-use"):
        raise err(
            400,
            f"Invalid volume: Volume {vol['id']} status must be available or in-use, but current status is: {vol['status']}.",
        )
    if vol["migration_status"] in ("starting", "migrating"):
        raise err(400, f"Invalid volume: Volume {vol['id']} is already part of an active migration.")
    dest = _resolve_host(store, host, vol["size"])
    if dest is None or not store.backend_up(dest):
        raise err(400, f"Invalid host: No available service named {host}")
    if dest["name"] == vol["pool"] or (("#" not in host) and host == vol["pool"].split("#")[0]):
        raise err(400, "Invalid host: Destination host must be different than the current host.")
    pinned = (
        (store.type_by_name_or_id(vol["volume_type"] or "") or {}).get("extra_specs", {}).get("volume_backend_name")
    )
    if not store.fits(dest, vol["size"]) or (pinned and pinned != dest["volume_backend_name"]):
        # Cinder's scheduler refuses asynchronously (CapacityFilter, or CapabilitiesFilter for a
        # type pinned to another backend): migration_status error, volume untouched.
        vol["migration_status"] = "error"
        vol["updated_at"] = iso()
        return
    store.start_migration(vol, dest, None, lock)


def _bool_arg(args: dict[str, Any], key: str) -> bool:
    value = args.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise err(400, f"Invalid input received: {key} must be a boolean, got {value!r}")


def _resolve_host(store: VolumeStore, host: str, size: int) -> dict[str, Any] | None:
    if host in store.pools:
        return store.pools[host]
    if "#" in host:
        return None
    candidates = [p for p in store.pools.values() if f"{p['host']}@{p['backend']}" == host]
    if not candidates:
        return None
    return max(candidates, key=lambda p: store.pool_capabilities(p)["free_capacity_gb"])


def _retype(request: Request, store: VolumeStore, vol: dict[str, Any], args: dict[str, Any]) -> None:
    new_ref = args.get("new_type")
    if not new_ref:
        raise err(400, "Invalid input received: new_type must be given.")
    policy = args.get("migration_policy") or "never"
    if policy not in ("never", "on-demand"):
        raise err(400, f"Invalid input received: migration_policy must be 'on-demand' or 'never', passed: {policy}")
    new_type = store.type_by_name_or_id(new_ref)
    if new_type is None:
        raise err(404, f"Volume type with name {new_ref} could not be found.")
    if vol["status"] not in ("available", "in-use") or vol["migration_status"] in ("starting", "migrating"):
        raise err(
            400,
            "Invalid volume: Retype needs volume to be in available or in-use state, not be part of an active "
            "migration or a consistency group, requested type has to be different that the one from the volume, "
            f"and for in-use volumes front-end qos specs cannot change; current status: {vol['status']}.",
        )
    if new_type["name"] == vol["volume_type"]:
        raise err(400, "Invalid volume: New volume type must be different from the original.")
    backend = new_type["extra_specs"].get("volume_backend_name")
    pool = store.pools[vol["pool"]]
    if not backend or backend == pool["volume_backend_name"]:
        vol["previous_status"] = vol["status"]
        vol["status"] = "retyping"
        vol["_op"] += 1
        token, vid = vol["_op"], vol["id"]
        store.cloud.scheduler.call_later(
            store.cloud.clock.delay(store.retype_seconds), lambda: store.finish_retype_in_place(vid, token, new_type)
        )
        return
    candidates = [
        p
        for p in store.pools.values()
        if p["volume_backend_name"] == backend and store.backend_up(p) and store.fits(p, vol["size"])
    ]
    if policy == "never" or not candidates:
        # Cinder accepts the request, then the scheduler/manager refuses: the volume keeps its type.
        vol["previous_status"] = vol["status"]
        vol["status"] = "retyping"
        vol["_op"] += 1
        token, vid = vol["_op"], vol["id"]
        store.cloud.scheduler.call_later(
            store.cloud.clock.delay(store.retype_seconds), lambda: store.finish_retype_in_place(vid, token, None)
        )
        return
    dest = max(candidates, key=lambda p: store.pool_capabilities(p)["free_capacity_gb"])
    store.start_migration(vol, dest, new_type, lock=False)


@router.route("GET", "/v3/types")
def types_list(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    items = [store.type_view(t, request) for t in store.types.values() if t["is_public"] or is_admin(request)]
    return _respond(request, 200, {"volume_types": items}, mv)


@router.route("GET", "/v3/types/{type_id}")
def type_show(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    t = store.type_by_name_or_id(request.params["type_id"])
    if t is None:
        raise err(404, f"Volume type {request.params['type_id']} could not be found.")
    return _respond(request, 200, {"volume_type": store.type_view(t, request)}, mv)


@router.route("GET", "/v3/types/{type_id}/extra_specs")
def type_extra_specs(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    t = store.type_by_name_or_id(request.params["type_id"])
    if t is None:
        raise err(404, f"Volume type {request.params['type_id']} could not be found.")
    if not is_admin(request):
        raise _policy("volume_extension:types_extra_specs:index")
    return _respond(request, 200, {"extra_specs": dict(t["extra_specs"])}, mv)


@router.route("GET", "/v3/scheduler-stats/get_pools")
def get_pools(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    if not is_admin(request):
        raise _policy("scheduler_extension:scheduler_stats:get_pools")
    detail = truthy(request.arg("detail", "false"))
    name = request.arg("name")
    backend = None
    if request.arg("volume_type") and mv >= (3, 35):
        t = store.type_by_name_or_id(request.arg("volume_type"))
        if t is None:
            raise err(404, f"Volume type {request.arg('volume_type')} could not be found.")
        backend = t["extra_specs"].get("volume_backend_name")
    pools = []
    for p in store.pools.values():
        if name and p["name"] != name:
            continue
        if backend and p["volume_backend_name"] != backend:
            continue
        entry: dict[str, Any] = {"name": p["name"]}
        if detail:
            entry["capabilities"] = store.pool_capabilities(p)
        pools.append(entry)
    return _respond(request, 200, {"pools": pools}, mv)


@router.route("GET", "/v3/os-services")
def services_list(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    if not is_admin(request):
        raise _policy("volume_extension:services:index")
    binary, host = request.arg("binary"), request.arg("host")
    items = [
        store.service_view(s, mv)
        for s in store.services.values()
        if (not binary or s["binary"] == binary) and (not host or s["host"] == host)
    ]
    return _respond(request, 200, {"services": items}, mv)


@router.route("PUT", "/v3/os-services/{action}")
def services_update(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    if not is_admin(request):
        raise _policy("volume_extension:services:update")
    action = request.params["action"]
    if action not in ("enable", "disable", "disable-log-reason"):
        raise err(404, f"Unknown action {action}")
    body = request.json or {}
    host, binary = body.get("host"), body.get("binary") or "cinder-volume"
    svc = store.services.get(f"{binary}:{host}")
    if svc is None:
        raise err(404, f"Service {binary} on host {host} could not be found.")
    with store.cloud.lock:
        svc["status"] = "enabled" if action == "enable" else "disabled"
        svc["disabled_reason"] = body.get("disabled_reason") if action == "disable-log-reason" else None
        svc["updated_at"] = iso()
    return _respond(
        request,
        200,
        {
            "host": host,
            "binary": binary,
            "status": svc["status"],
            "disabled": svc["status"] == "disabled",
            "disabled_reason": svc["disabled_reason"],
        },
        mv,
    )


def _attachment_view(vol: dict[str, Any], a: dict[str, Any], detail: bool) -> dict[str, Any]:
    body = {
        "id": a["attachment_id"],
        "status": "attached",
        "instance": a["server_id"],
        "volume_id": vol["id"],
    }
    if detail:
        body.update(
            {
                "attached_at": a["attached_at"],
                "detached_at": None,
                "attach_mode": "rw",
                "connection_info": {"driver_volume_type": "iscsi", "volume_id": vol["id"]},
            }
        )
    return body


def _attachments(request: Request, detail: bool) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    if mv < (3, 27):
        raise err(404, "The resource could not be found.")
    all_tenants = is_admin(request) and truthy(request.arg("all_tenants", "0"))
    want_volume, want_instance = request.arg("volume_id"), request.arg("instance_id")
    items = []
    for vid in store.order:
        v = store.volumes[vid]
        if not all_tenants and v["project_id"] != request.context.get("project_id"):
            continue
        if want_volume and vid != want_volume:
            continue
        for a in v["attachments"]:
            if want_instance and a["server_id"] != want_instance:
                continue
            items.append(_attachment_view(v, a, detail))
    return _respond(request, 200, {"attachments": items}, mv)


@router.route("GET", "/v3/attachments")
def attachments_list(request: Request) -> Response:
    return _attachments(request, detail=False)


@router.route("GET", "/v3/attachments/detail")
def attachments_detail(request: Request) -> Response:
    return _attachments(request, detail=True)


@router.route("GET", "/v3/attachments/{attachment_id}")
def attachment_show(request: Request) -> Response:
    store = _store_of(request)
    mv = _mv(request)
    if mv < (3, 27):
        raise err(404, "The resource could not be found.")
    for v in store.volumes.values():
        for a in v["attachments"]:
            if a["attachment_id"] == request.params["attachment_id"] and _visible(request, store, v):
                return _respond(request, 200, {"attachment": _attachment_view(v, a, True)}, mv)
    raise err(404, f"VolumeAttachment {request.params['attachment_id']} could not be found.")


def _store_of(request: Request) -> VolumeStore:
    return cloud_of(request, "/volume").stores["volume"]


def load(cloud: Any, topology: dict[str, Any]) -> VolumeStore:
    return _load(cloud, topology)


SERVICE = Service(
    name="volume",
    prefix="/volume",
    router=router,
    load=load,
    service_type="block-storage",
    catalog_path="/v3",
    requires_token=True,
    public_paths=("/", "/v3"),
    snapshot=_snapshot,
    restore=_restore,
)
