"""Volumes: list (filters, paging), show, and the actions migrate, retype and reset-status."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services._support import int_arg, is_admin, iso, next_link, page, truthy
from vigil_twin.services.volume.api import (
    MAX_LIMIT,
    USER_FILTERS,
    err,
    negotiate,
    policy_error,
    respond,
    router,
    visible,
    volume_store,
)
from vigil_twin.services.volume.store import VolumeStore


def _volumes(request: Request, detail: bool) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
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
    return respond(request, 200, body, mv)


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
    store = volume_store(request)
    mv = negotiate(request)
    vol = store.volumes.get(request.params["volume_id"])
    if vol is None or not visible(request, store, vol):
        raise err(404, f"Volume {request.params['volume_id']} could not be found.")
    return respond(request, 200, {"volume": store.view(vol, request, mv)}, mv)


@router.route("POST", "/v3/volumes/{volume_id}/action")
def volume_action(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    body = request.json
    if not isinstance(body, dict) or len(body) != 1:
        raise err(400, "Invalid request body: expected one action")
    action, args = next(iter(body.items()))
    args = args or {}
    with store.cloud.lock:
        vol = store.volumes.get(request.params["volume_id"])
        if vol is None or not visible(request, store, vol):
            raise err(404, f"Volume {request.params['volume_id']} could not be found.")
        if action == "os-migrate_volume":
            _migrate(request, store, vol, args)
        elif action == "os-retype":
            _retype(request, store, vol, args)
        elif action == "os-reset_status":
            if not is_admin(request):
                raise policy_error("volume_extension:volume_admin_actions:reset_status")
            for key in ("status", "migration_status"):
                if key in args:
                    vol[key] = args[key] or None
            vol["_op"] += 1
            vol.pop("_dest", None)
        else:
            raise err(400, f"There is no such action: {action}")
    return respond(request, 202, None, mv)


def _migrate(request: Request, store: VolumeStore, vol: dict[str, Any], args: dict[str, Any]) -> None:
    if not is_admin(request):
        raise policy_error("volume_extension:volume_admin_actions:migrate_volume")
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
        _retype_in_place(store, vol, new_type)
        return
    candidates = [
        p
        for p in store.pools.values()
        if p["volume_backend_name"] == backend and store.backend_up(p) and store.fits(p, vol["size"])
    ]
    if policy == "never" or not candidates:
        # Cinder accepts the request, then the scheduler/manager refuses: the volume keeps its type.
        _retype_in_place(store, vol, None)
        return
    dest = max(candidates, key=lambda p: store.pool_capabilities(p)["free_capacity_gb"])
    store.start_migration(vol, dest, new_type, lock=False)


def _retype_in_place(store, vol: dict[str, Any], new_type: dict[str, Any] | None) -> None:
    """Status retyping now; after retype_seconds the volume takes `new_type`, or keeps its type (None)."""
    vol["previous_status"] = vol["status"]
    vol["status"] = "retyping"
    vol["_op"] += 1
    token, vid = vol["_op"], vol["id"]
    store.cloud.scheduler.call_later(
        store.cloud.clock.delay(store.retype_seconds), lambda: store.finish_retype_in_place(vid, token, new_type)
    )
