"""Ironic v1 (catalog type ``baremetal``): nodes, power and maintenance, with microversions.

Power changes are asynchronous as in Ironic: ``PUT /v1/nodes/{node}/states/power`` answers
202 and sets ``target_power_state``; ``power_state`` follows after ``ironic.power_seconds``
(scaled by the twin's speed). A node links to its compute host through
``extra.compute_hostname``; powering it off marks that compute node's service down (and on,
up), as nova-compute stops reporting when its machine is off. Named fault
``power_off_refused`` (target: node uuid or name) leaves the node on with ``last_error`` set.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.services._support import (
    cloud_of,
    compute_nodes,
    field,
    int_arg,
    iso,
    microversion,
    next_link,
    non_negative,
    page,
    section,
    truthy,
    uid,
    unique_names,
)

MIN_VERSION, MAX_VERSION = "1.1", "1.96"
DEFAULT_VERSION = "1.1"
MAX_LIMIT = 1000
PROVISION_STATES = {
    "enroll", "manageable", "available", "active", "deploying", "wait call-back", "deploy failed", "cleaning",
    "clean wait", "clean failed", "inspecting", "inspect failed", "error", "rescue", "adopt failed",
}  # fmt: skip
TARGETS = {
    "power on": "power on",
    "power off": "power off",
    "rebooting": "power on",
    "soft power off": "power off",
    "soft rebooting": "power on",
}
NODE_FIELDS = {
    "uuid", "name", "instance_uuid", "instance_info", "driver", "driver_info", "driver_internal_info", "extra",
    "properties", "power_state", "target_power_state", "provision_state", "target_provision_state",
    "provision_updated_at", "maintenance", "maintenance_reason", "last_error", "reservation", "console_enabled",
    "chassis_uuid", "clean_step", "inspection_started_at", "inspection_finished_at", "raid_config",
    "target_raid_config", "created_at", "updated_at", "links", "ports", "states", "resource_class", "fault",
    "conductor_group", "protected", "protected_reason", "conductor", "owner", "description", "retired",
    "retired_reason", "lessee",
}  # fmt: skip
SUMMARY_FIELDS = ("uuid", "name", "instance_uuid", "power_state", "provision_state", "maintenance", "links")


def err(status: int, message: str, headers: dict[str, str] | None = None) -> HTTPError:
    """Ironic's error body: a JSON document serialised inside ``error_message``."""
    inner = {"faultstring": message, "faultcode": "Client" if status < 500 else "Server", "debuginfo": None}
    return HTTPError(status, {"error_message": json.dumps(inner)}, headers or {})


class BaremetalStore:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.nodes: dict[str, dict[str, Any]] = {}  # uuid -> node
        self.power_seconds = 5.0

    def find(self, ident: str) -> dict[str, Any]:
        node = self.nodes.get(ident) or next((n for n in self.nodes.values() if n["name"] == ident), None)
        if node is None:
            raise err(404, f"Node {ident} could not be found.")
        return node

    def by_hostname(self, hostname: str) -> dict[str, Any] | None:
        return next((n for n in self.nodes.values() if n["extra"].get("compute_hostname") == hostname), None)

    def view(
        self, node: dict[str, Any], request: Request, mv: tuple[int, int], fields: list[str] | None
    ) -> dict[str, Any]:
        base = request.base_url
        body: dict[str, Any] = {
            "uuid": node["uuid"],
            "name": node["name"],
            "instance_uuid": node["instance_uuid"],
            "instance_info": dict(node["instance_info"]),
            "driver": node["driver"],
            "driver_info": {"ipmi_address": node["bmc_address"], "ipmi_username": "admin", "ipmi_password": "******"},  # nosec B105 # a masked placeholder, as Ironic shows it
            "driver_internal_info": {},
            "extra": dict(node["extra"]),
            "properties": dict(node["properties"]),
            "power_state": node["power_state"],
            "target_power_state": node["target_power_state"],
            "provision_state": node["provision_state"],
            "target_provision_state": None,
            "provision_updated_at": node["provision_updated_at"],
            "maintenance": node["maintenance"],
            "maintenance_reason": node["maintenance_reason"],
            "last_error": node["last_error"],
            "reservation": node["reservation"],
            "console_enabled": False,
            "chassis_uuid": None,
            "clean_step": {},
            "inspection_started_at": None,
            "inspection_finished_at": None,
            "raid_config": {},
            "target_raid_config": {},
            "created_at": node["created_at"],
            "updated_at": node["updated_at"],
            "links": [
                {"href": f"{base}/v1/nodes/{node['uuid']}", "rel": "self"},
                {"href": f"{base}/nodes/{node['uuid']}", "rel": "bookmark"},
            ],
            "ports": [{"href": f"{base}/v1/nodes/{node['uuid']}/ports", "rel": "self"}],
            "states": [{"href": f"{base}/v1/nodes/{node['uuid']}/states", "rel": "self"}],
        }
        versioned = [
            ((1, 21), "resource_class", node["resource_class"]),
            ((1, 42), "fault", node["fault"]),
            ((1, 46), "conductor_group", ""),
            ((1, 48), "protected", False),
            ((1, 48), "protected_reason", None),
            ((1, 49), "conductor", "conductor-1"),
            ((1, 50), "owner", node["owner"]),
            ((1, 51), "description", node["description"]),
            ((1, 61), "retired", False),
            ((1, 61), "retired_reason", None),
            ((1, 65), "lessee", None),
        ]
        for since, key, value in versioned:
            if mv >= since:
                body[key] = value
        if fields:
            return {k: body[k] for k in fields if k in body}
        return body

    # transitions -------------------------------------------------------------------
    def set_power(self, node: dict[str, Any], target: str) -> None:
        node["target_power_state"] = TARGETS[target]
        node["reservation"] = "conductor-1"
        node["last_error"] = None
        node["updated_at"] = iso()
        node["_op"] += 1
        token, nid = node["_op"], node["uuid"]
        seconds = self.power_seconds * (2 if target in ("rebooting", "soft rebooting") else 1)
        self.cloud.scheduler.call_later(self.cloud.clock.delay(seconds), lambda: self._finish(nid, token, target))

    def _finish(self, nid: str, token: int, target: str) -> None:
        store = self.cloud.stores.get("baremetal")
        node = store.nodes.get(nid) if store is self else None
        if node is None or node["_op"] != token:
            return
        node["reservation"] = None
        node["target_power_state"] = None
        node["updated_at"] = iso()
        faults = self.cloud.faults
        if TARGETS[target] == "power off" and faults is not None:
            if faults.take("power_off_refused", nid) or faults.take("power_off_refused", node["name"]):
                node["last_error"] = (
                    f"Failed to change power state to '{target}' by '{target}'. "
                    "Error: IPMI call failed: power off (injected fault power_off_refused)."
                )
                return
        node["power_state"] = TARGETS[target]
        self._sync_compute(node)

    def _sync_compute(self, node: dict[str, Any]) -> None:
        """A powered-off hypervisor stops reporting: its nova-compute service goes down."""
        host = node["extra"].get("compute_hostname")
        cnode = compute_nodes(self.cloud).get(host) if host else None
        if cnode is not None and "state" in cnode:
            cnode["state"] = "up" if node["power_state"] == "power on" else "down"


def _load(cloud: Any, topology: dict[str, Any]) -> BaremetalStore:
    store = BaremetalStore(cloud)
    conf = topology.get("ironic") or {}
    if not isinstance(conf, dict):
        raise TopologyError("ironic: must be a mapping")
    store.power_seconds = field(conf, "ironic", "power_seconds", float, 5.0, non_negative)
    entries = section(topology, "baremetal")
    unique_names(entries, "baremetal")
    known_hosts = compute_nodes(cloud)
    topo_hosts = {n.get("hostname"): n for n in topology.get("nodes") or [] if isinstance(n, dict)}
    linked: dict[str, int] = {}
    base_ts = 1_700_000_000.0
    for i, e in enumerate(entries):
        where = f"baremetal[{i}]"
        name = field(e, where, "name", str)
        host = field(e, where, "compute_hostname", str, None)
        if host is not None:
            if host not in known_hosts and host not in topo_hosts:
                raise TopologyError(f"{where}.compute_hostname: unknown compute node '{host}'")
            if host in linked:
                raise TopologyError(
                    f"{where}.compute_hostname: '{host}' is already linked to baremetal[{linked[host]}]"
                )
            linked[host] = i
        power = _power_state(field(e, where, "power_state", str, "power on"), where)
        prov = field(e, where, "provision_state", str, "active")
        if prov not in PROVISION_STATES:
            raise TopologyError(f"{where}.provision_state: '{prov}' is not one of {sorted(PROVISION_STATES)}")
        maintenance = field(e, where, "maintenance", bool, False)
        cnode = topo_hosts.get(host) or known_hosts.get(host) or {}
        nid = field(e, where, "uuid", str, uid("baremetal_node", name))
        created = iso(base_ts + i)
        extra = dict(field(e, where, "extra", dict, {}))
        if host:
            extra["compute_hostname"] = host
        store.nodes[nid] = {
            "uuid": nid,
            "name": name,
            "instance_uuid": field(e, where, "instance_uuid", str, None),
            "instance_info": {},
            "driver": field(e, where, "driver", str, "ipmi"),
            "bmc_address": field(e, where, "bmc_address", str, f"10.0.{(i // 250) % 256}.{i % 250 + 1}"),
            "extra": extra,
            "properties": {
                "cpus": int(cnode.get("vcpus") or e.get("cpus") or 32),
                "memory_mb": int(cnode.get("memory_mb") or e.get("memory_mb") or 131072),
                "local_gb": int(cnode.get("disk_gb") or e.get("local_gb") or 1000),
                "cpu_arch": "x86_64",
            },
            "power_state": power,
            "target_power_state": None,
            "provision_state": prov,
            "provision_updated_at": created,
            "maintenance": maintenance,
            "maintenance_reason": field(e, where, "maintenance_reason", str, None) if maintenance else None,
            "fault": None,
            "last_error": None,
            "reservation": None,
            "resource_class": field(e, where, "resource_class", str, "baremetal"),
            "owner": None,
            "description": field(e, where, "description", str, None),
            "created_at": created,
            "updated_at": created,
            "_op": 0,
        }
    return store


def _power_state(value: str, where: str) -> str:
    aliases = {"on": "power on", "off": "power off", "power on": "power on", "power off": "power off"}
    if value.lower() not in aliases:
        raise TopologyError(f"{where}.power_state: '{value}' is not one of 'power on', 'power off'")
    return aliases[value.lower()]


def _snapshot(store: BaremetalStore) -> dict[str, Any]:
    return {"nodes": copy.deepcopy(store.nodes), "power_seconds": store.power_seconds}


def _restore(cloud: Any, old: BaremetalStore, data: dict[str, Any]) -> BaremetalStore:
    store = BaremetalStore(cloud)
    store.nodes = copy.deepcopy(data["nodes"])
    store.power_seconds = data.get("power_seconds", 5.0)
    for node in store.nodes.values():
        node["target_power_state"] = None  # an in-flight power action does not survive a restore
        node["reservation"] = None
    return store


# -- routes ------------------------------------------------------------------------------
router = Router()


def _store(request: Request) -> BaremetalStore:
    return cloud_of(request, "/baremetal").stores["baremetal"]


def _mv(request: Request) -> tuple[int, int]:
    try:
        return microversion(
            request, "baremetal", "x-openstack-ironic-api-version", MIN_VERSION, MAX_VERSION, DEFAULT_VERSION, err
        )
    except HTTPError as exc:
        exc.headers.update(_version_headers((1, 1)))
        raise


def _version_headers(mv: tuple[int, int]) -> dict[str, str]:
    return {
        "X-OpenStack-Ironic-API-Minimum-Version": MIN_VERSION,
        "X-OpenStack-Ironic-API-Maximum-Version": MAX_VERSION,
        "X-OpenStack-Ironic-API-Version": f"{mv[0]}.{mv[1]}",
        "OpenStack-API-Version": f"baremetal {mv[0]}.{mv[1]}",
        "Vary": "X-OpenStack-Ironic-API-Version, OpenStack-API-Version",
    }


def _respond(status: int, body: Any, mv: tuple[int, int], extra: dict[str, str] | None = None) -> Response:
    headers = _version_headers(mv)
    headers.update(extra or {})
    return Response(status, body, headers)


def _version(base: str) -> dict[str, Any]:
    return {
        "id": "v1",
        "links": [{"href": f"{base}/v1/", "rel": "self"}],
        "status": "CURRENT",
        "min_version": MIN_VERSION,
        "version": MAX_VERSION,
    }


@router.route("GET", "/")
def root(request: Request) -> Response:
    v = _version(request.base_url)
    body = {
        "name": "OpenStack Ironic API",
        "description": "Ironic is an OpenStack project which enables the provision and management of baremetal machines.",
        "default_version": v,
        "versions": [v],
    }
    return _respond(200, body, (1, 1))


@router.route("GET", "/v1")
def v1(request: Request) -> Response:
    mv = _mv(request)
    base = request.base_url
    body = {
        "id": "v1",
        "links": [{"href": f"{base}/v1/", "rel": "self"}],
        "media_types": [{"base": "application/json", "type": "application/vnd.openstack.ironic.v1+json"}],
        "nodes": [{"href": f"{base}/v1/nodes/", "rel": "self"}],
        "version": _version(base),
    }
    return _respond(200, body, mv)


def _fields(request: Request, mv: tuple[int, int]) -> list[str] | None:
    raw = request.arg("fields")
    if not raw:
        return None
    if mv < (1, 8):
        raise err(406, "The fields parameter requires API version 1.8 or later.")
    fields = [f.strip() for f in raw.split(",") if f.strip()]
    bad = [f for f in fields if f not in NODE_FIELDS]
    if bad:
        raise err(400, f'Field(s) "{", ".join(bad)}" are not valid')
    return fields


_FILTERS = {
    "maintenance": lambda n, v: n["maintenance"] == truthy(v),
    "provision_state": lambda n, v: n["provision_state"] == v,
    "associated": lambda n, v: (n["instance_uuid"] is not None) == truthy(v),
    "resource_class": lambda n, v: n["resource_class"] == v,
    "driver": lambda n, v: n["driver"] == v,
    "fault": lambda n, v: n["fault"] == v,
    "instance_uuid": lambda n, v: n["instance_uuid"] == v,
}


def _nodes(request: Request, detail: bool) -> Response:
    store = _store(request)
    mv = _mv(request)
    fields = _fields(request, mv)
    if detail and fields:
        raise err(400, "Can not specify ?detail=True and fields in the same request.")
    rows = sorted(store.nodes.values(), key=lambda n: (n["created_at"], n["uuid"]))
    for key, match in _FILTERS.items():
        value = request.arg(key)
        if value is not None:
            rows = [n for n in rows if match(n, value)]
    limit = int_arg(request, "limit", err)
    if limit == 0:
        limit = None
    chunk, more = page(
        rows, limit, request.arg("marker"), MAX_LIMIT, lambda m: err(400, f"Marker {m} could not be found."), key="uuid"
    )
    if detail or truthy(request.arg("detail")):
        items = [store.view(n, request, mv, None) for n in chunk]
    else:
        items = [store.view(n, request, mv, fields or list(SUMMARY_FIELDS)) for n in chunk]
    body: dict[str, Any] = {"nodes": items}
    if more and chunk:
        body["next"] = next_link(request, request.path, chunk[-1]["uuid"], limit)
    return _respond(200, body, mv)


@router.route("GET", "/v1/nodes")
def nodes_list(request: Request) -> Response:
    return _nodes(request, detail=False)


@router.route("GET", "/v1/nodes/detail")
def nodes_detail(request: Request) -> Response:
    return _nodes(request, detail=True)


@router.route("GET", "/v1/nodes/{ident}")
def node_show(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    node = store.find(request.params["ident"])
    return _respond(200, store.view(node, request, mv, _fields(request, mv)), mv)


@router.route("GET", "/v1/nodes/{ident}/states")
def node_states(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    n = store.find(request.params["ident"])
    body = {
        "power_state": n["power_state"],
        "target_power_state": n["target_power_state"],
        "provision_state": n["provision_state"],
        "target_provision_state": None,
        "provision_updated_at": n["provision_updated_at"],
        "last_error": n["last_error"],
        "console_enabled": False,
        "raid_config": {},
        "target_raid_config": {},
    }
    return _respond(200, body, mv)


@router.route("PUT", "/v1/nodes/{ident}/states/power")
def node_power(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    body = request.json
    if not isinstance(body, dict) or "target" not in body:
        raise err(400, "Invalid input for field/attribute target. Value: None. Mandatory field missing.")
    target = body["target"]
    if target not in TARGETS:
        raise err(400, f"Invalid state '{target}' requested for node {request.params['ident']}.")
    if target.startswith("soft ") and mv < (1, 27):
        raise err(406, f"Soft power actions require API version 1.27 or later (requested {mv[0]}.{mv[1]}).")
    with store.cloud.lock:
        node = store.find(request.params["ident"])
        if node["reservation"]:
            raise err(
                409,
                f"Node {node['uuid']} is locked by host {node['reservation']}, please retry after the current operation is completed.",
            )
        if node["provision_state"] in ("deploying", "cleaning", "inspecting", "wait call-back", "clean wait"):
            raise err(
                409,
                f'The requested action "{target}" can not be performed on node "{node["uuid"]}" while it is in state "{node["provision_state"]}".',
            )
        store.set_power(node, target)
    location = f"{request.base_url}/v1/nodes/{node['uuid']}/states"
    return _respond(202, None, mv, {"Location": location})


@router.route("PUT", "/v1/nodes/{ident}/maintenance")
def maintenance_set(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    body = request.json or {}
    with store.cloud.lock:
        node = store.find(request.params["ident"])
        node["maintenance"] = True
        node["maintenance_reason"] = body.get("reason")
        node["updated_at"] = iso()
    return _respond(202, None, mv)


@router.route("DELETE", "/v1/nodes/{ident}/maintenance")
def maintenance_unset(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    with store.cloud.lock:
        node = store.find(request.params["ident"])
        node["maintenance"] = False
        node["maintenance_reason"] = None
        node["fault"] = None
        node["updated_at"] = iso()
    return _respond(202, None, mv)


@router.route("PATCH", "/v1/nodes/{ident}")
def node_patch(request: Request) -> Response:
    """JSON patch on the few fields the twin lets change (maintenance, extra, description, name)."""
    store = _store(request)
    mv = _mv(request)
    ops = request.json
    if not isinstance(ops, list):
        raise err(400, "Invalid patch: expected a list of operations.")
    with store.cloud.lock:
        node = store.find(request.params["ident"])
        staged = copy.deepcopy(node)
        for op in ops:
            path = str(op.get("path", "")).strip("/").split("/")
            kind = op.get("op")
            if kind not in ("add", "replace", "remove") or not path[0]:
                raise err(400, f"Invalid patch operation: {op!r}")
            top = path[0]
            if top in ("extra", "properties", "instance_info") and len(path) == 2:
                if kind == "remove":
                    staged[top].pop(path[1], None)
                else:
                    staged[top][path[1]] = op.get("value")
            elif (
                top in ("maintenance", "maintenance_reason", "description", "name", "resource_class") and len(path) == 1
            ):
                staged[top] = None if kind == "remove" else op.get("value")
                if top == "maintenance":
                    staged[top] = bool(staged[top])
            else:
                raise err(400, f"Cannot patch /{'/'.join(path)} on the twin.")
        if not staged["maintenance"]:
            staged["maintenance_reason"] = None
        staged["updated_at"] = iso()
        node.clear()
        node.update(staged)
    return _respond(200, store.view(node, request, mv, None), mv)


# -- ports and drivers (read-only) -----------------------------------------------------------
def _port_of(node: dict[str, Any]) -> dict[str, Any]:
    """Each node's one PXE port, its MAC derived from the node's uuid."""
    mac = "52:54:00:" + ":".join(node["uuid"].replace("-", "")[i : i + 2] for i in (0, 2, 4))
    return {
        "uuid": uid("baremetal_port", node["uuid"]),
        "address": mac,
        "node_uuid": node["uuid"],
        "created_at": node["created_at"],
        "updated_at": None,
    }


def _port_view(port: dict[str, Any], base: str, mv: tuple[int, int], detail: bool) -> dict[str, Any]:
    links = [
        {"href": f"{base}/v1/ports/{port['uuid']}", "rel": "self"},
        {"href": f"{base}/ports/{port['uuid']}", "rel": "bookmark"},
    ]
    if not detail:
        return {"uuid": port["uuid"], "address": port["address"], "links": links}
    body: dict[str, Any] = dict(port, extra={}, local_link_connection={}, pxe_enabled=True, internal_info={})
    body["links"] = links
    for version, key, value in (
        ((1, 24), "portgroup_uuid", None),
        ((1, 34), "physical_network", None),
        ((1, 53), "is_smartnic", False),
        ((1, 88), "name", None),
    ):
        if mv >= version:
            body[key] = value
    return body


def _ports(request: Request, detail: bool, node_uuid: str | None = None) -> Response:
    store = _store(request)
    mv = _mv(request)
    node_ref = node_uuid or request.arg("node") or request.arg("node_uuid")
    nodes = [store.find(node_ref)] if node_ref else sorted(store.nodes.values(), key=lambda n: n["created_at"])
    rows = [_port_of(n) for n in nodes]
    address = request.arg("address")
    if address:
        rows = [p for p in rows if p["address"] == address.lower()]
    limit = int_arg(request, "limit", err) or None
    chunk, more = page(
        rows, limit, request.arg("marker"), MAX_LIMIT, lambda m: err(400, f"Marker {m} could not be found."), key="uuid"
    )
    body: dict[str, Any] = {"ports": [_port_view(p, request.base_url, mv, detail) for p in chunk]}
    if more and chunk:
        body["next"] = next_link(request, request.path, chunk[-1]["uuid"], limit)
    return _respond(200, body, mv)


@router.route("GET", "/v1/ports")
def ports_list(request: Request) -> Response:
    return _ports(request, detail=truthy(request.arg("detail")))


@router.route("GET", "/v1/ports/detail")
def ports_detail(request: Request) -> Response:
    return _ports(request, detail=True)


@router.route("GET", "/v1/ports/{port_id}")
def port_show(request: Request) -> Response:
    store = _store(request)
    mv = _mv(request)
    for node in store.nodes.values():
        port = _port_of(node)
        if request.params["port_id"] in (port["uuid"], port["address"]):
            return _respond(200, _port_view(port, request.base_url, mv, True), mv)
    raise err(404, f"Port {request.params['port_id']} could not be found.")


@router.route("GET", "/v1/nodes/{ident}/ports")
def node_ports(request: Request) -> Response:
    node = _store(request).find(request.params["ident"])
    return _ports(request, detail=truthy(request.arg("detail")), node_uuid=node["uuid"])


def _driver_view(name: str, base: str, mv: tuple[int, int]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": name,
        "hosts": ["conductor-1"],
        "links": [
            {"href": f"{base}/v1/drivers/{name}", "rel": "self"},
            {"href": f"{base}/drivers/{name}", "rel": "bookmark"},
        ],
    }
    if mv >= (1, 14):
        body["properties"] = [
            {"href": f"{base}/v1/drivers/{name}/properties", "rel": "self"},
            {"href": f"{base}/drivers/{name}/properties", "rel": "bookmark"},
        ]
    if mv >= (1, 30):
        body["type"] = "dynamic"
    return body


def _drivers(store: BaremetalStore) -> list[str]:
    """The hardware types the conductor has enabled: those the nodes use (ipmi at least)."""
    return sorted({"ipmi", *(n["driver"] for n in store.nodes.values())})


@router.route("GET", "/v1/drivers")
def drivers_list(request: Request) -> Response:
    mv = _mv(request)
    names = _drivers(_store(request))
    return _respond(200, {"drivers": [_driver_view(n, request.base_url, mv) for n in names]}, mv)


@router.route("GET", "/v1/drivers/{name}")
def driver_show(request: Request) -> Response:
    mv = _mv(request)
    if request.params["name"] not in _drivers(_store(request)):
        raise err(404, f"Could not find the following driver(s) or hardware type(s): {request.params['name']}.")
    return _respond(200, _driver_view(request.params["name"], request.base_url, mv), mv)


def load(cloud: Any, topology: dict[str, Any]) -> BaremetalStore:
    return _load(cloud, topology)


SERVICE = Service(
    name="baremetal",
    prefix="/baremetal",
    router=router,
    load=load,
    service_type="baremetal",
    catalog_path="",
    requires_token=True,
    public_paths=("/", "/v1"),
    snapshot=_snapshot,
    restore=_restore,
)
