"""Cinder's state from a topology (load), and to and from a rehearsal snapshot."""

from __future__ import annotations

import copy
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.services._support import (
    compute_servers,
    field,
    iso,
    non_negative,
    project_id,
    section,
    server_by_name,
    uid,
    unique_ids,
    unique_names,
)
from vigil_twin.services.volume.api import POOL_NAME, VOLUME_STATUSES
from vigil_twin.services.volume.store import VolumeStore


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


def snapshot(store: VolumeStore) -> dict[str, Any]:
    return {
        "pools": copy.deepcopy(store.pools),
        "types": copy.deepcopy(store.types),
        "volumes": {
            k: {kk: vv for kk, vv in v.items() if kk != "_dest"} for k, v in copy.deepcopy(store.volumes).items()
        },
        "services": copy.deepcopy(store.services),
        "timing": [store.migration_base_seconds, store.migration_seconds_per_gb, store.retype_seconds],
    }


def restore(cloud: Any, old: VolumeStore, data: dict[str, Any]) -> VolumeStore:
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


def load(cloud: Any, topology: dict[str, Any]) -> VolumeStore:
    return _load(cloud, topology)
