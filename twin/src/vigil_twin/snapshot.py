"""Serve a vigil model snapshot: turn the cluster model (tables in pandas 'split' orientation,
plugins/module_utils/model/schema.py) back into a topology, so a copy of a real cloud can be
rehearsed on the twin.

Pure Python (no pandas). What a model does not carry is filled with twin defaults: users
(one per user id seen, plus the twin's admin and demo users), passwords, flavor ids (flavors
are rebuilt from the servers' embedded flavors), images (by id). Server names that repeat in
the model (Nova allows it, the topology does not) get ``~<first 8 of uuid>`` appended.
Utilisation profiles come from the ``metrics`` table (cpu_util_pct, ram_used_mb) when present.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from vigil_twin.errors import TopologyError

TWIN_USERS = [
    {"name": "admin", "password": "vigil-admin", "project": "admin", "roles": ["admin", "member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
    {"name": "demo", "password": "vigil-demo", "project": "demo", "roles": ["member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
]


def is_model(data: Any) -> bool:
    """A snapshot payload (``{"vigil_snapshot": 1, "model": ...}``) or a model dict of split tables."""
    if not isinstance(data, dict):
        return False
    if "vigil_snapshot" in data and isinstance(data.get("model"), dict):
        return True
    nodes = data.get("nodes")
    return isinstance(nodes, dict) and "columns" in nodes and "data" in nodes


def read_snapshot_file(path: str) -> Any:
    """The JSON inside a gzip snapshot file, or None when the file is not gzip."""
    with open(path, "rb") as fh:
        if fh.read(2) != b"\x1f\x8b":
            return None
    try:
        with gzip.open(path, "rb") as gz:
            return json.loads(gz.read().decode("utf-8"))
    except (OSError, ValueError) as exc:
        raise TopologyError(f"{path}: not a vigil snapshot (gzip JSON): {exc}") from exc


def _rows(model: dict[str, Any], table: str) -> list[dict[str, Any]]:
    t = model.get(table)
    if t is None:
        return []
    if not isinstance(t, dict) or not isinstance(t.get("columns"), list) or not isinstance(t.get("data"), list):
        raise TopologyError(f"model.{table}: must be a split table {{columns: [...], data: [[...]]}}")
    cols = t["columns"]
    out = []
    for i, row in enumerate(t["data"]):
        if not isinstance(row, list) or len(row) != len(cols):
            raise TopologyError(f"model.{table}.data[{i}]: expected {len(cols)} values")
        out.append(dict(zip(cols, row)))
    return out


def _num(value: Any, default: float = 0) -> Any:
    return default if value is None or value != value else value  # NaN -> default


def _int(value: Any, default: int = 0) -> int:
    return int(_num(value, default))


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


# Aggregate metadata the model carries elsewhere (zones: nodes.az; ratios: the inventories).
_NOT_REBUILT = ("availability_zone", "cpu_allocation_ratio", "ram_allocation_ratio", "disk_allocation_ratio")


def _aggregates_with_metadata(nodes_t: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Aggregates whose metadata gives every host back its ``aggregate_metadata``.

    The model keeps only each host's merged view; giving an aggregate, per key, the values
    every one of its hosts has reproduces each host's union exactly (a value a host has came
    from one of its aggregates, whose hosts all have it), and the union is all Nova reads."""
    hosts_of: dict[str, list[dict[str, Any]]] = {}
    for n in nodes_t:
        for name in _list(n.get("aggregates")):
            if name != (n.get("az") or "nova"):
                hosts_of.setdefault(name, []).append(n)
    out = []
    for name in sorted(hosts_of):
        metas = [
            n.get("aggregate_metadata") if isinstance(n.get("aggregate_metadata"), dict) else {} for n in hosts_of[name]
        ]
        keys = set.intersection(*(set(m) for m in metas)) - set(_NOT_REBUILT)
        metadata = {}
        for key in sorted(keys):
            common = set.intersection(*(set(str(v) for v in _list(m[key])) for m in metas))
            if common:
                metadata[key] = ",".join(sorted(common))
        out.append({"name": name, "metadata": metadata})
    return out


def topology_from_model(data: dict[str, Any]) -> dict[str, Any]:
    model = data["model"] if "vigil_snapshot" in data else data
    nodes_t, inst_t = _rows(model, "nodes"), _rows(model, "instances")
    groups_t, vols_t, pools_t = _rows(model, "server_groups"), _rows(model, "volumes"), _rows(model, "pools")
    bm_t, metrics_t = _rows(model, "baremetal"), _rows(model, "metrics")

    nodes = []
    for n in nodes_t:
        node: dict[str, Any] = {
            "hostname": n["hostname"],
            "vcpus": max(1, _int(n.get("vcpu_total"))),
            "memory_mb": max(1, _int(n.get("memory_mb_total"))),
            "disk_gb": max(1, _int(n.get("disk_gb_total"))),
            "reserved": {
                "vcpus": _int(n.get("vcpu_reserved")),
                "memory_mb": _int(n.get("memory_mb_reserved")),
                "disk_gb": _int(n.get("disk_gb_reserved")),
                "pcpus": _int(n.get("pcpu_reserved")),
            },
            "allocation_ratio": {
                "vcpus": float(_num(n.get("vcpu_allocation_ratio"), 1.0)) or 1.0,
                "memory_mb": float(_num(n.get("memory_mb_allocation_ratio"), 1.0)) or 1.0,
                "disk_gb": float(_num(n.get("disk_gb_allocation_ratio"), 1.0)) or 1.0,
            },
            "az": n.get("az") or "nova",
            "aggregates": [a for a in _list(n.get("aggregates")) if a != (n.get("az") or "nova")],
            "traits": [t for t in _list(n.get("traits")) if t != "COMPUTE_STATUS_DISABLED"],
            "status": n.get("status") or "enabled",
            "state": n.get("state") or "up",
            "disabled_reason": n.get("disabled_reason") or None,
            "forced_down": bool(n.get("forced_down") or False),
        }
        if _int(n.get("pcpu_total")):
            node["pcpus"] = _int(n.get("pcpu_total"))
        if n.get("rp_uuid"):
            node["uuid"] = n["rp_uuid"]
        nodes.append(node)

    # identity: every project and user the model names, plus the twin's own admin/demo
    project_ids = {"admin", "demo"}
    for row in inst_t + groups_t + vols_t:
        if row.get("project_id"):
            project_ids.add(row["project_id"])
    projects = [{"name": "admin"}, {"name": "demo"}] + [
        {"name": p, "id": p} for p in sorted(project_ids - {"admin", "demo"})
    ]
    users = [dict(u) for u in TWIN_USERS]
    seen_users: dict[str, str] = {}
    for row in inst_t:
        uid, pid = row.get("user_id"), row.get("project_id")
        if uid and pid and uid not in seen_users:
            seen_users[uid] = pid
            users.append({"name": uid, "id": uid, "password": f"vigil-{uid[:8]}", "project": pid, "roles": ["member"]})

    # metrics -> utilisation profiles
    cpu: dict[str, float] = {}
    ram_mb: dict[str, float] = {}
    for m in metrics_t:
        if m.get("resource_type") != "instance" or m.get("aggregate") not in (None, "mean"):
            continue
        if m.get("metric") == "cpu_util_pct":
            cpu[m["resource_id"]] = float(_num(m.get("value")))
        elif m.get("metric") == "ram_used_mb":
            ram_mb[m["resource_id"]] = float(_num(m.get("value")))

    flavors: dict[tuple, dict[str, Any]] = {}
    flavor_names: set[str] = set()
    servers = []
    name_count: dict[str, int] = {}
    for row in inst_t:
        name_count[row["name"]] = name_count.get(row["name"], 0) + 1
    server_names: dict[str, str] = {}
    for row in inst_t:
        specs = row.get("extra_specs") if isinstance(row.get("extra_specs"), dict) else {}
        key = (row.get("flavor_name") or "flavor", _int(row.get("vcpus"), 1), _int(row.get("memory_mb"), 1), _int(row.get("disk_gb")),
               _int(row.get("ephemeral_gb")), _int(row.get("swap_mb")), json.dumps(specs, sort_keys=True))  # fmt: skip
        if key not in flavors:
            name = key[0]
            k = 2
            while name in flavor_names:
                name = f"{key[0]}~{k}"
                k += 1
            flavor_names.add(name)
            flavors[key] = {"name": name, "vcpus": max(1, key[1]), "ram": max(1, key[2]), "disk": key[3], "ephemeral": key[4], "swap": key[5],
                            "extra_specs": {str(a): str(b) for a, b in specs.items()}}  # fmt: skip
        name = row["name"] if name_count[row["name"]] == 1 else f"{row['name']}~{row['uuid'][:8]}"
        server_names[row["uuid"]] = name
        status = row.get("status") or "ACTIVE"
        server: dict[str, Any] = {
            "name": name,
            "id": row["uuid"],
            "flavor": flavors[key]["name"],
            "host": row.get("host") or None,
            "project": row.get("project_id") or "demo",
            "status": status
            if status in ("ACTIVE", "SHUTOFF", "PAUSED", "SUSPENDED", "ERROR", "SHELVED_OFFLOADED")
            else "ACTIVE",
            "boot_from_volume": bool(row.get("boot_from_volume") or False),
            "locked": bool(row.get("locked") or False),
            "metadata": row.get("metadata") if isinstance(row.get("metadata"), dict) else {},
            "tags": _list(row.get("tags")),
        }
        if row.get("user_id"):
            server["user"] = row["user_id"]
        if row.get("image_id"):
            server["image"] = row["image_id"]
        elif not server["boot_from_volume"]:
            server["image"] = "cirros"
        if row["uuid"] in cpu:
            server["cpu_util_pct"] = max(0.0, min(100.0, cpu[row["uuid"]]))
        if row["uuid"] in ram_mb and flavors[key]["ram"]:
            server["ram_util_pct"] = max(0.0, min(100.0, 100.0 * ram_mb[row["uuid"]] / flavors[key]["ram"]))
        servers.append(server)

    groups = []
    for g in groups_t:
        group: dict[str, Any] = {
            "name": g.get("name") or g["id"],
            "id": g["id"],
            "policy": g["policy"],
            "project": g.get("project_id") or "demo",
        }
        limit = _int(g.get("max_server_per_host"), 1)
        if g["policy"] == "anti-affinity" and limit > 1:
            group["rules"] = {"max_server_per_host": limit}
        groups.append(group)
    names = [g["name"] for g in groups]
    for g in groups:
        if names.count(g["name"]) > 1:
            g["name"] = f"{g['name']}~{g['id'][:8]}"
    by_id = {g["id"]: g["name"] for g in groups}
    for s in servers:
        gid = next((g["id"] for g in groups_t if s["id"] in _list(g.get("members"))), None)
        if gid:
            s["server_groups"] = [by_id[gid]]

    topology: dict[str, Any] = {
        "identity": {"projects": projects, "users": users},
        "flavors": list(flavors.values()),
        "nodes": nodes,
        "server_groups": groups,
        "servers": servers,
    }
    aggregates = _aggregates_with_metadata(nodes_t)
    if aggregates:
        topology["aggregates"] = aggregates
    if pools_t:
        topology["pools"] = [
            {
                "name": p["name"],
                "total_capacity_gb": float(_num(p.get("total_capacity_gb"))),
                "thin_provisioning": bool(p.get("thin_provisioning") or False),
                "reserved_percentage": float(_num(p.get("reserved_percentage"))),
            }
            for p in pools_t
        ]
        types = sorted({v.get("volume_type") for v in vols_t if v.get("volume_type")})
        topology["volume_types"] = [{"name": t} for t in types]
    if vols_t:
        topology["volumes"] = [
            {
                "name": v.get("name") or v["id"],
                "id": v["id"],
                "size_gb": max(1, _int(v.get("size_gb"), 1)),
                "pool": v.get("pool") or v.get("host"),
                "project": v.get("project_id") or "demo",
                "volume_type": v.get("volume_type") or "__DEFAULT__",
                "attached_to": next((a for a in _list(v.get("attachments")) if a in server_names), None),
                "bootable": bool(v.get("bootable") or False),
            }
            for v in vols_t
        ]
    ironic = [b for b in bm_t if b.get("backend") == "ironic"]
    maas = [b for b in bm_t if b.get("backend") == "maas"]
    if ironic:
        topology["baremetal"] = [
            {
                "name": b.get("name") or b["id"],
                "uuid": b["id"],
                "compute_hostname": b.get("hostname") or None,
                "power_state": "power off" if b.get("power_state") == "off" else "power on",
                "maintenance": bool(b.get("maintenance") or False),
            }
            for b in ironic
        ]
    if maas:
        topology["maas"] = {
            "machines": [
                {
                    "hostname": b.get("name") or b["id"],
                    "system_id": b["id"],
                    "compute_hostname": b.get("hostname") or None,
                    "power_state": "off" if b.get("power_state") == "off" else "on",
                }
                for b in maas
            ]
        }
    return topology
