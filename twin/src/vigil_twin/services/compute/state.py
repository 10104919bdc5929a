"""Nova's state from a topology (load), and to and from a rehearsal snapshot."""

from __future__ import annotations

import copy
import time
from typing import Any

from vigil_twin.services.compute.api import is_uuid
from vigil_twin.services.compute.keypairs import keypair_record
from vigil_twin.services.compute.store import ComputeStore, server_record
from vigil_twin.topology import stable_uuid, validate_topology


# -- load, snapshot, restore ----------------------------------------------------------------
def load(cloud: Any, topology: dict[str, Any]) -> ComputeStore:
    t = validate_topology(topology)
    store = ComputeStore(cloud, t)
    placement = store.placement
    for i, f in enumerate(t["flavors"]):
        store.flavors[f["id"]] = dict(f, int_id=i + 1)
        store.flavor_by_name[f["name"]] = f["id"]
    boot = "2026-01-01T00:00:00.000000"
    for i, n in enumerate(t["nodes"]):
        node = dict(n)
        node["hypervisor_id"] = i + 1
        node["service_id"] = i + 3  # 1 and 2 are the controller's scheduler and conductor
        node["service_uuid"] = stable_uuid("nova-compute", n["hostname"])
        node["rp_uuid"] = n["uuid"]
        node["hypervisor_uuid"] = n["uuid"]
        node["local_gb"] = n["disk_gb"]
        node["aggregates"] = list(n["aggregates"])
        store.nodes[node["hostname"]] = node
        store.node_by_id[str(node["hypervisor_id"])] = node
        store.node_by_id[node["uuid"]] = node
        store.by_host[node["hostname"]] = set()
    for sid, binary in ((1, "nova-scheduler"), (2, "nova-conductor")):
        svc_uuid = stable_uuid(binary, "controller")
        store.services[svc_uuid] = {
            "id": sid,
            "uuid": svc_uuid,
            "binary": binary,
            "host": "controller",
            "updated_at": boot,
        }
    for node in store.nodes.values():
        store.services[node["service_uuid"]] = {
            "id": node["service_id"],
            "uuid": node["service_uuid"],
            "binary": "nova-compute",
            "host": node["hostname"],
            "updated_at": boot,
        }
    for i, a in enumerate(t["aggregates"]):
        store.aggregates[i + 1] = {
            "id": i + 1,
            "uuid": a["uuid"],
            "name": a["name"],
            "metadata": dict(a["metadata"]),
            "hosts": list(a["hosts"]),
        }
    admin_user = next(u["id"] for u in t["identity"]["users"] if "admin" in u["roles"])
    group_by_name = {}
    for g in t["server_groups"]:
        store.groups[g["id"]] = dict(g, members=[], user_id=admin_user)
        group_by_name[g["name"]] = g["id"]
    # volumes attached through the volumes section (Cinder's): same ids as Cinder derives them
    attached: dict[str, list[str]] = {}
    for v in topology.get("volumes") or []:
        if isinstance(v, dict) and v.get("attached_to"):
            vid = v.get("id") or stable_uuid("volume", str(v.get("name")))
            attached.setdefault(str(v["attached_to"]), []).append(vid)
    for i, s in enumerate(t["servers"]):
        flavor = store.flavors[store.flavor_by_name[s["flavor"]]]
        vols = [v if is_uuid(v) else stable_uuid("volume", v) for v in s["volumes"] if isinstance(v, str)]
        for vid in attached.get(s["name"], []) + attached.get(s["id"], []):
            if vid not in vols:
                vols.append(vid)
        server = server_record(s, flavor, [group_by_name[g] for g in s["server_groups"]], vols, i + 1)
        store.add_server(server)
        if s["host"] is not None:
            store.set_host(server, s["host"])
            placement.put_allocations(
                server["id"],
                {store.nodes[s["host"]]["uuid"]: store.resources_for(server)},
                server["project_id"],
                server["user_id"],
                check=False,
            )
    store.order = sorted(store.servers, key=lambda sid: (store.servers[sid]["created"], sid), reverse=True)
    store.pos = {sid: i for i, sid in enumerate(store.order)}
    store.next_instance = len(t["servers"]) + 1
    for s in store.servers.values():
        if s["key_name"]:
            store.keypairs.setdefault((s["user_id"], s["key_name"]), keypair_record(s["user_id"], s["key_name"], boot))
    store.check_violations()
    return store


_SNAP_SKIP = {"flavor_ref", "action"}


def snapshot(store: ComputeStore) -> dict[str, Any]:
    return {
        "nodes": copy.deepcopy(store.nodes),
        "servers": {
            sid: {k: v for k, v in s.items() if k not in _SNAP_SKIP} for sid, s in copy.deepcopy(store.servers).items()
        },
        "groups": copy.deepcopy(store.groups),
        "aggregates": copy.deepcopy(list(store.aggregates.values())),
        "migrations": [
            {k: v for k, v in m.items() if k not in ("action", "new_flavor", "started")}
            for m in store.migrations.values()
        ],
        "actions": {sid: [{k: v for k, v in r.items()} for r in recs] for sid, recs in store.actions.items()},
        "next_migration": store._next_migration,
    }


def restore(cloud: Any, store: ComputeStore, data: dict[str, Any]) -> ComputeStore:
    """Restore servers, nodes and records (placement is restored by its own service)."""
    store.nodes = copy.deepcopy(data["nodes"])
    store.node_by_id = {}
    for node in store.nodes.values():
        store.node_by_id[str(node["hypervisor_id"])] = node
        store.node_by_id[node["uuid"]] = node
    store.servers = {}
    store.by_host = {h: set() for h in store.nodes}
    store.by_project = {}
    for sid, s in copy.deepcopy(data["servers"]).items():
        s["flavor_ref"] = store.flavors[s["flavor_id"]]
        store.servers[sid] = s
        if s["host"] is not None:
            store.by_host.setdefault(s["host"], set()).add(sid)
        store.by_project.setdefault(s["project_id"], set()).add(sid)
    store.server_by_name = {}
    for sid, s in store.servers.items():
        store.server_by_name.setdefault(s["name"], sid)
    store.groups = copy.deepcopy(data["groups"])
    store.aggregates = {a["id"]: a for a in copy.deepcopy(data["aggregates"])}
    store.migrations = {}
    for m in copy.deepcopy(data["migrations"]):
        m["started"] = time.monotonic()
        m["new_flavor"] = store.flavors[m["new_flavor_id"]]
        store.migrations[m["id"]] = m
    store.actions = copy.deepcopy(data.get("actions") or {})
    store._next_migration = data.get("next_migration", len(store.migrations) + 1)
    store.order = sorted(store.servers, key=lambda sid: (store.servers[sid]["created"], sid), reverse=True)
    store.pos = {sid: i for i, sid in enumerate(store.order)}
    store._cache.clear()
    return store
