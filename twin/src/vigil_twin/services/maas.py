"""MAAS 2.0 API at ``/MAAS/api/2.0/``: what python-libmaas needs, machines and their power.

Auth is MAAS's: OAuth 1.0a with the PLAINTEXT signature, the API key being
``consumer_key:token_key:token_secret``; a missing or wrong key gets 401 (``describe/`` and
``version/`` stay anonymous, as in MAAS). Operations are ``?op=`` on the resource URL, as
MAAS's Piston handlers do, and the ``describe/`` document lists them so python-libmaas builds
its bindings from it. Power actions answer at once with the machine; its ``power_state``
follows after ``maas.power_seconds``. Named fault ``maas_stuck_powering`` (target: system_id
or hostname) accepts the action but the power state never changes.

The twin's MAAS URL and key are set on the cloud at load: ``cloud.maas_url`` and
``cloud.maas_api_key``.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.services._support import (
    cloud_of,
    compute_nodes,
    field,
    non_negative,
    section,
    unique_names,
)
from vigil_twin.topology import stable_hex

API = "/api/2.0"
VERSION = {
    "capabilities": [
        "networks-management",
        "static-ipaddresses",
        "ipv6-deployment-ubuntu",
        "devices-management",
        "storage-deployment-ubuntu",
        "network-deployment-ubuntu",
        "bridging-interface-ubuntu",
        "bridging-automatic-ubuntu",
        "authenticate-api",
    ],
    "version": "3.4.0",
    "subversion": "vigil-twin",
}
# MAAS NODE_STATUS values, by name as shown in status_name
STATUSES = {
    "New": 0,
    "Commissioning": 1,
    "Failed commissioning": 2,
    "Missing": 3,
    "Ready": 4,
    "Reserved": 5,
    "Deployed": 6,
    "Retired": 7,
    "Broken": 8,
    "Deploying": 9,
    "Allocated": 10,
    "Failed deployment": 11,
    "Releasing": 12,
    "Failed releasing": 13,
    "Disk erasing": 14,
    "Failed disk erasing": 15,
    "Rescue mode": 16,
}
POWER_ON_OK = {"Deployed", "Allocated", "Deploying", "Broken", "Rescue mode", "Ready"}


def _plain(status: int, message: str) -> HTTPError:
    """MAAS answers errors as plain text."""
    return HTTPError(status, message, {"Content-Type": "text/plain; charset=utf-8"})


class MaasStore:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.api_key = ""
        self.username = "admin"
        self.zones: dict[str, dict[str, Any]] = {}
        self.pools: dict[str, dict[str, Any]] = {}
        self.tags: dict[str, dict[str, Any]] = {}
        self.machines: dict[str, dict[str, Any]] = {}  # system_id -> machine
        self.power_seconds = 5.0

    # auth --------------------------------------------------------------------------
    def check_auth(self, request: Request) -> None:
        header = request.header("authorization") or ""
        if not header.lower().startswith("oauth "):
            raise _plain(401, "Authorization Error: 'No authentication credentials given'")
        params = {}
        for part in header[6:].split(","):
            key, _, value = part.strip().partition("=")
            params[key.strip()] = unquote(value.strip().strip('"'))
        consumer, token, secret = self.api_key.split(":")
        if params.get("oauth_signature_method", "PLAINTEXT") != "PLAINTEXT":
            raise _plain(401, "Authorization Error: 'Only the PLAINTEXT signature method is supported'")
        if params.get("oauth_consumer_key") != consumer or params.get("oauth_token") != token:
            raise _plain(401, "Authorization Error: 'Invalid access token: %s'" % params.get("oauth_token", ""))
        if params.get("oauth_signature") != f"&{secret}":
            raise _plain(401, "Authorization Error: 'Invalid signature'")

    # views -------------------------------------------------------------------------
    def machine_view(self, m: dict[str, Any], base: str) -> dict[str, Any]:
        zone, pool = self.zones[m["zone"]], self.pools[m["pool"]]
        return {
            "system_id": m["system_id"],
            "hostname": m["hostname"],
            "fqdn": f"{m['hostname']}.maas",
            "domain": {"id": 0, "name": "maas", "authoritative": True, "ttl": None, "resource_record_count": 0},
            "node_type": 0,
            "node_type_name": "Machine",
            "power_state": m["power_state"],
            "power_type": m["power_type"],
            "status": STATUSES[m["status_name"]],
            "status_name": m["status_name"],
            "status_message": m["status_message"],
            "status_action": "",
            "architecture": m["architecture"],
            "cpu_count": m["cpu_count"],
            "memory": m["memory"],
            "storage": m["storage"],
            "osystem": "ubuntu",
            "distro_series": "jammy",
            "hwe_kernel": None,
            "min_hwe_kernel": "",
            "netboot": m["status_name"] != "Deployed",
            "locked": False,
            "disable_ipv4": False,
            "owner": self.username if m["status_name"] in ("Deployed", "Allocated", "Deploying") else None,
            "owner_data": dict(m["owner_data"]),
            "zone": self.zone_view(zone, base),
            "pool": self.pool_view(pool, base),
            "tag_names": list(m["tags"]),
            "ip_addresses": [m["ip"]],
            "interface_set": [],
            "boot_interface": None,
            "blockdevice_set": [],
            "boot_disk": None,
            "resource_uri": f"/MAAS{API}/machines/{m['system_id']}/",
        }

    def zone_view(self, z: dict[str, Any], base: str) -> dict[str, Any]:
        return {
            "id": z["id"],
            "name": z["name"],
            "description": z["description"],
            "resource_uri": f"/MAAS{API}/zones/{z['name']}/",
        }

    def pool_view(self, p: dict[str, Any], base: str) -> dict[str, Any]:
        return {
            "id": p["id"],
            "name": p["name"],
            "description": p["description"],
            "resource_uri": f"/MAAS{API}/resourcepool/{p['id']}/",
        }

    def tag_view(self, t: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": t["name"],
            "comment": t["comment"],
            "definition": t["definition"],
            "kernel_opts": t["kernel_opts"],
            "resource_uri": f"/MAAS{API}/tags/{t['name']}/",
        }

    def find(self, system_id: str) -> dict[str, Any]:
        m = self.machines.get(system_id)
        if m is None:
            raise _plain(404, "No Machine matches the given query.")
        return m

    # transitions -------------------------------------------------------------------
    def power(self, m: dict[str, Any], want: str) -> None:
        m["_op"] += 1
        token, sid = m["_op"], m["system_id"]
        self.cloud.scheduler.call_later(
            self.cloud.clock.delay(self.power_seconds), lambda: self._finish(sid, token, want)
        )

    def _finish(self, sid: str, token: int, want: str) -> None:
        store = self.cloud.stores.get("maas")
        m = store.machines.get(sid) if store is self else None
        if m is None or m["_op"] != token:
            return
        faults = self.cloud.faults
        if faults is not None and (
            faults.take("maas_stuck_powering", sid) or faults.take("maas_stuck_powering", m["hostname"])
        ):
            return  # the BMC never reports the new state
        m["power_state"] = want
        host = m["owner_data"].get("compute_hostname", m["hostname"])
        cnode = compute_nodes(self.cloud).get(host)
        if cnode is not None and "state" in cnode:
            cnode["state"] = "up" if want == "on" else "down"  # nova-compute stops reporting when off


# -- topology ---------------------------------------------------------------------------
def _load(cloud: Any, topology: dict[str, Any]) -> MaasStore:
    store = MaasStore(cloud)
    conf = topology.get("maas") or {}
    if not isinstance(conf, dict):
        raise TopologyError("maas: must be a mapping")
    default_key = ":".join(
        (stable_hex("maas", "consumer")[:18], stable_hex("maas", "token")[:18], stable_hex("maas", "secret"))
    )
    key = field(conf, "maas", "api_key", str, default_key)
    if len(key.split(":")) != 3 or not all(key.split(":")):
        raise TopologyError("maas.api_key: must be consumer_key:token_key:token_secret")
    store.api_key = key
    store.username = field(conf, "maas", "username", str, "admin")
    store.power_seconds = field(conf, "maas", "power_seconds", float, 5.0, non_negative)

    zones = section(conf, "zones") or [{"name": "default"}]
    unique_names(zones, "maas.zones")
    for i, z in enumerate(zones):
        name = field(z, f"maas.zones[{i}]", "name", str)
        store.zones[name] = {"id": i + 1, "name": name, "description": z.get("description") or ""}
    pools = section(conf, "pools") or [{"name": "default"}]
    unique_names(pools, "maas.pools")
    for i, p in enumerate(pools):
        name = field(p, f"maas.pools[{i}]", "name", str)
        store.pools[name] = {"id": i, "name": name, "description": p.get("description") or ""}
    for i, t in enumerate(section(conf, "tags")):
        name = field(t, f"maas.tags[{i}]", "name", str)
        store.tags[name] = {
            "name": name,
            "comment": t.get("comment") or "",
            "definition": t.get("definition") or "",
            "kernel_opts": t.get("kernel_opts"),
        }

    machines = section(conf, "machines")
    unique_names(machines, "maas.machines", key="hostname")
    hosts = compute_nodes(cloud)
    topo_hosts = {n.get("hostname") for n in topology.get("nodes") or [] if isinstance(n, dict)}
    for i, e in enumerate(machines):
        where = f"maas.machines[{i}]"
        hostname = field(e, where, "hostname", str)
        sid = field(e, where, "system_id", str, stable_hex("maas-machine", hostname)[:6])
        if sid in store.machines:
            raise TopologyError(f"{where}.system_id: duplicate '{sid}'")
        link = field(e, where, "compute_hostname", str, None)
        if link is not None and link not in hosts and link not in topo_hosts:
            raise TopologyError(f"{where}.compute_hostname: unknown compute node '{link}'")
        power = field(e, where, "power_state", str, "on")
        if power not in ("on", "off", "unknown", "error"):
            raise TopologyError(f"{where}.power_state: '{power}' is not one of on, off, unknown, error")
        status = field(e, where, "status", str, "Deployed")
        if status not in STATUSES:
            raise TopologyError(f"{where}.status: '{status}' is not a MAAS status ({', '.join(STATUSES)})")
        zone = field(e, where, "zone", str, next(iter(store.zones)))
        if zone not in store.zones:
            raise TopologyError(f"{where}.zone: unknown zone '{zone}'")
        pool = field(e, where, "pool", str, next(iter(store.pools)))
        if pool not in store.pools:
            raise TopologyError(f"{where}.pool: unknown pool '{pool}'")
        tags = field(e, where, "tags", list, [])
        for tag in tags:
            if not isinstance(tag, str):
                raise TopologyError(f"{where}.tags: entries must be strings")
            store.tags.setdefault(tag, {"name": tag, "comment": "", "definition": "", "kernel_opts": None})
        cnode = hosts.get(link or hostname) or {}
        owner_data = dict(field(e, where, "owner_data", dict, {}))
        if link and link != hostname:
            owner_data["compute_hostname"] = link
        store.machines[sid] = {
            "system_id": sid,
            "hostname": hostname,
            "power_state": power,
            "power_type": field(e, where, "power_type", str, "ipmi"),
            "status_name": status,
            "status_message": status,
            "architecture": field(e, where, "architecture", str, "amd64/generic"),
            "cpu_count": field(e, where, "cpu_count", int, int(cnode.get("vcpus") or 32)),
            "memory": field(e, where, "memory", int, int(cnode.get("memory_mb") or 131072)),
            "storage": float(field(e, where, "storage", (int, float), float(cnode.get("disk_gb") or 1000) * 1000)),
            "zone": zone,
            "pool": pool,
            "tags": tags,
            "owner_data": owner_data,
            "ip": field(e, where, "ip", str, f"10.1.{(i // 250) % 256}.{i % 250 + 1}"),
            "_op": 0,
        }
    cloud.maas_url = f"{cloud.base_url}/MAAS/"
    cloud.maas_api_key = store.api_key
    return store


def _snapshot(store: MaasStore) -> dict[str, Any]:
    return {
        "api_key": store.api_key,
        "username": store.username,
        "zones": copy.deepcopy(store.zones),
        "pools": copy.deepcopy(store.pools),
        "tags": copy.deepcopy(store.tags),
        "machines": copy.deepcopy(store.machines),
        "power_seconds": store.power_seconds,
    }


def _restore(cloud: Any, old: MaasStore, data: dict[str, Any]) -> MaasStore:
    store = MaasStore(cloud)
    for key in ("api_key", "username", "zones", "pools", "tags", "machines", "power_seconds"):
        setattr(store, key, copy.deepcopy(data[key]))
    cloud.maas_api_key = store.api_key
    return store


# -- describe document ----------------------------------------------------------------------
# (handler name, path below /MAAS/api/2.0, params, actions [(name, method, op)], anonymous?)
HANDLERS = [
    ("VersionHandler", "/version/", [], [("read", "GET", None)], True),
    ("UsersHandler", "/users/", [], [("read", "GET", None), ("whoami", "GET", "whoami")], False),
    ("UserHandler", "/users/{username}/", ["username"], [("read", "GET", None)], False),
    ("MaasHandler", "/maas/", [], [("get_config", "GET", "get_config")], False),
    (
        "MachinesHandler",
        "/machines/",
        [],
        [("read", "GET", None), ("power_parameters", "GET", "power_parameters")],
        False,
    ),
    (
        "MachineHandler",
        "/machines/{system_id}/",
        ["system_id"],
        [
            ("read", "GET", None),
            ("power_on", "POST", "power_on"),
            ("power_off", "POST", "power_off"),
            ("query_power_state", "GET", "query_power_state"),
            ("power_parameters", "GET", "power_parameters"),
        ],
        False,
    ),
    ("ZonesHandler", "/zones/", [], [("read", "GET", None)], False),
    ("ZoneHandler", "/zones/{name}/", ["name"], [("read", "GET", None)], False),
    ("ResourcePoolsHandler", "/resourcepools/", [], [("read", "GET", None)], False),
    ("ResourcePoolHandler", "/resourcepool/{id}/", ["id"], [("read", "GET", None)], False),
    ("TagsHandler", "/tags/", [], [("read", "GET", None)], False),
    ("TagHandler", "/tags/{name}/", ["name"], [("read", "GET", None), ("machines", "GET", "machines")], False),
]


def _describe(base: str) -> dict[str, Any]:
    host = base[: -len("/MAAS")] if base.endswith("/MAAS") else base
    resources, handlers = [], []
    for name, path, params, actions, anon in HANDLERS:
        full = f"/MAAS{API}{path}"
        handler = {
            "name": name,
            "doc": f"{name} (vigil twin)",
            "params": params,
            "path": full,
            "uri": f"{host}{full}",
            "actions": [
                {"name": a, "method": m, "op": op, "restful": op is None, "doc": f"{a} ({m})"} for a, m, op in actions
            ],
        }
        handlers.append(handler)
        anon_handler = dict(handler, name=f"Anon{name}") if anon else None
        resources.append({"name": name, "auth": handler, "anon": anon_handler})
    return {"doc": "MAAS API", "hash": "vigil-twin-maas-2.0", "handlers": handlers, "resources": resources}


# -- routes ------------------------------------------------------------------------------
router = Router()


def _store(request: Request, anonymous: bool = False) -> MaasStore:
    store = cloud_of(request).stores["maas"]
    if not anonymous:
        store.check_auth(request)
    return store


def _ok(body: Any) -> Response:
    return Response(200, body, {"Content-Type": "application/json"})


def _op(request: Request, allowed: dict[str, Any]):
    op = request.arg("op")
    fn = allowed.get(op)
    if fn is None:
        raise _plain(400, f"Unrecognised signature: method={request.method} op={op}")
    return fn


@router.route("GET", f"{API}/describe")
def describe(request: Request) -> Response:
    return _ok(_describe(request.base_url))


@router.route("GET", f"{API}/version")
def version(request: Request) -> Response:
    return _ok(dict(VERSION))


@router.route("GET", f"{API}/users")
def users(request: Request) -> Response:
    store = _store(request)
    me = {"username": store.username, "email": f"{store.username}@example.com", "is_superuser": True, "is_local": True}

    def whoami(_: Request) -> Response:
        return _ok(me)

    def read(_: Request) -> Response:
        return _ok([me])

    return _op(request, {None: read, "whoami": whoami})(request)


@router.route("GET", f"{API}/users/{{username}}")
def user(request: Request) -> Response:
    store = _store(request)
    if request.params["username"] != store.username:
        raise _plain(404, "No User matches the given query.")
    return _ok(
        {"username": store.username, "email": f"{store.username}@example.com", "is_superuser": True, "is_local": True}
    )


@router.route("GET", f"{API}/maas")
def maas_config(request: Request) -> Response:
    _store(request)
    config = {"maas_name": "vigil-twin", "default_distro_series": "jammy", "default_osystem": "ubuntu"}

    def get_config(req: Request) -> Response:
        return _ok(config.get(req.arg("name") or ""))

    return _op(request, {"get_config": get_config})(request)


@router.route("GET", f"{API}/machines")
def machines(request: Request) -> Response:
    store = _store(request)

    def read(req: Request) -> Response:
        rows = list(store.machines.values())
        for key, attr in (("hostname", "hostname"), ("id", "system_id"), ("zone", "zone"), ("pool", "pool")):
            wanted = req.query.get(key)
            if wanted:
                rows = [m for m in rows if m[attr] in wanted]
        return _ok([store.machine_view(m, req.base_url) for m in rows])

    def power_parameters(req: Request) -> Response:
        wanted = req.query.get("id") or list(store.machines)
        return _ok({sid: {"power_address": store.machines[sid]["ip"]} for sid in wanted if sid in store.machines})

    return _op(request, {None: read, "power_parameters": power_parameters})(request)


@router.route("GET", f"{API}/machines/{{system_id}}")
def machine_get(request: Request) -> Response:
    store = _store(request)
    m = store.find(request.params["system_id"])

    def read(req: Request) -> Response:
        return _ok(store.machine_view(m, req.base_url))

    def query_power_state(_: Request) -> Response:
        return _ok({"state": m["power_state"]})

    def power_parameters(_: Request) -> Response:
        return _ok({"power_address": m["ip"], "power_user": "admin"})

    return _op(request, {None: read, "query_power_state": query_power_state, "power_parameters": power_parameters})(
        request
    )


@router.route("POST", f"{API}/machines/{{system_id}}")
def machine_post(request: Request) -> Response:
    store = _store(request)

    def power_on(req: Request) -> Response:
        with store.cloud.lock:
            m = store.find(req.params["system_id"])
            if m["status_name"] not in POWER_ON_OK:
                raise _plain(409, f"{m['hostname']}: Cannot power on a machine in status '{m['status_name']}'.")
            if m["power_type"] in ("", "manual"):
                raise _plain(503, f"{m['hostname']}: Unable to be powered on, power type is '{m['power_type']}'.")
            store.power(m, "on")
            return _ok(store.machine_view(m, req.base_url))

    def power_off(req: Request) -> Response:
        with store.cloud.lock:
            m = store.find(req.params["system_id"])
            if m["power_type"] in ("", "manual"):
                raise _plain(503, f"{m['hostname']}: Unable to be powered off, power type is '{m['power_type']}'.")
            store.power(m, "off")
            return _ok(store.machine_view(m, req.base_url))

    return _op(request, {"power_on": power_on, "power_off": power_off})(request)


@router.route("GET", f"{API}/zones")
def zones(request: Request) -> Response:
    store = _store(request)
    return _ok([store.zone_view(z, request.base_url) for z in store.zones.values()])


@router.route("GET", f"{API}/zones/{{name}}")
def zone(request: Request) -> Response:
    store = _store(request)
    z = store.zones.get(request.params["name"])
    if z is None:
        raise _plain(404, "No Zone matches the given query.")
    return _ok(store.zone_view(z, request.base_url))


@router.route("GET", f"{API}/resourcepools")
def pools(request: Request) -> Response:
    store = _store(request)
    return _ok([store.pool_view(p, request.base_url) for p in store.pools.values()])


@router.route("GET", f"{API}/resourcepool/{{id}}")
def pool(request: Request) -> Response:
    store = _store(request)
    p = next((p for p in store.pools.values() if str(p["id"]) == request.params["id"]), None)
    if p is None:
        raise _plain(404, "No ResourcePool matches the given query.")
    return _ok(store.pool_view(p, request.base_url))


@router.route("GET", f"{API}/tags")
def tags(request: Request) -> Response:
    store = _store(request)
    return _ok([store.tag_view(t) for t in store.tags.values()])


@router.route("GET", f"{API}/tags/{{name}}")
def tag(request: Request) -> Response:
    store = _store(request)
    t = store.tags.get(request.params["name"])
    if t is None:
        raise _plain(404, "No Tag matches the given query.")

    def read(_: Request) -> Response:
        return _ok(store.tag_view(t))

    def machines_op(req: Request) -> Response:
        return _ok([store.machine_view(m, req.base_url) for m in store.machines.values() if t["name"] in m["tags"]])

    return _op(request, {None: read, "machines": machines_op})(request)


SERVICE = Service(
    name="maas",
    prefix="/MAAS",
    router=router,
    load=_load,
    service_type=None,
    requires_token=False,
    snapshot=_snapshot,
    restore=_restore,
)
