"""Servers: list (with Nova's filters and paging), show, create, delete, metadata, volume attachments."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from vigil_twin.http import HTTPError, Request, Response
from vigil_twin.services import changes_since
from vigil_twin.services._support import truthy
from vigil_twin.services.compute.api import (
    compute_store,
    fault,
    limit_arg,
    next_href,
    now_iso,
    route,
    server_or_404,
)
from vigil_twin.services.compute.store import ComputeStore, server_record
from vigil_twin.topology import stable_uuid


# -- servers -------------------------------------------------------------------------------
def render_server(
    store: ComputeStore, s: dict[str, Any], mv: tuple[int, int], admin: bool, host_status: str, base: str
) -> dict[str, Any]:
    sid = s["id"]
    links = [
        {"rel": "self", "href": f"{base}/v2.1/servers/{sid}"},
        {"rel": "bookmark", "href": f"{base}/servers/{sid}"},
    ]
    if mv >= (2, 47):
        flavor: dict[str, Any] = dict(s["flavor"], extra_specs=dict(s["flavor"]["extra_specs"]))
    else:
        flavor = {"id": s["flavor_id"], "links": [{"rel": "bookmark", "href": f"{base}/flavors/{s['flavor_id']}"}]}
    image: Any = (
        ""
        if not s["image"]
        else {"id": s["image"], "links": [{"rel": "bookmark", "href": f"{base}/images/{s['image']}"}]}
    )
    host_id = hashlib.sha224(f"{s['project_id']}{s['host']}".encode()).hexdigest() if s["host"] else ""
    v: dict[str, Any] = {
        "id": sid,
        "name": s["name"],
        "status": s["status"],
        "tenant_id": s["project_id"],
        "user_id": s["user_id"],
        "metadata": dict(s["metadata"]),
        "hostId": host_id,
        "image": image,
        "flavor": flavor,
        "created": s["created"],
        "updated": s["updated"],
        "addresses": store.addresses(s),
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links,
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": s["az"] or "",
        "config_drive": "",
        "key_name": s["key_name"],
        "OS-SRV-USG:launched_at": s["launched_at"],
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": s["task_state"],
        "OS-EXT-STS:vm_state": s["vm_state"],
        "OS-EXT-STS:power_state": s["power_state"],
        "os-extended-volumes:volumes_attached": [
            {"id": vid, "delete_on_termination": False} if mv >= (2, 3) else {"id": vid} for vid in s["volumes"]
        ],
        "security_groups": [{"name": g} for g in s.get("security_groups", ["default"])],
    }
    if s["status"] in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"):
        v["progress"] = 0
    if admin:
        v["OS-EXT-SRV-ATTR:host"] = s["host"]
        v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s["node"]
        v["OS-EXT-SRV-ATTR:instance_name"] = s["instance_name"]
        if mv >= (2, 3):
            v["OS-EXT-SRV-ATTR:reservation_id"] = s["reservation_id"]
            v["OS-EXT-SRV-ATTR:launch_index"] = 0
            v["OS-EXT-SRV-ATTR:kernel_id"] = ""
            v["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            v["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
            v["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            v["OS-EXT-SRV-ATTR:user_data"] = None
    elif mv >= (2, 90):
        v["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
    if mv >= (2, 9):
        v["locked"] = s["locked"]
    if mv >= (2, 16) and admin:
        v["host_status"] = host_status
    if mv >= (2, 19):
        v["description"] = s["description"]
    if mv >= (2, 26):
        v["tags"] = list(s["tags"])
    if mv >= (2, 63):
        v["trusted_image_certificates"] = None
    if mv >= (2, 73):
        v["locked_reason"] = s["locked_reason"] if s["locked"] else None
    if mv >= (2, 71):
        v["server_groups"] = list(s["server_groups"])
    if mv >= (2, 96):
        v["pinned_availability_zone"] = None
    if s.get("fault"):  # a failed build: Nova shows the fault (details only to admins)
        v["fault"] = dict(s["fault"], details="") if admin else dict(s["fault"])
    return v


def _host_status(store: ComputeStore, host: str | None, memo: dict[str | None, str]) -> str:
    if host not in memo:
        if host is None:
            memo[host] = ""
        else:
            node = store.nodes[host]
            if store.node_state(node) == "down":
                memo[host] = "DOWN"
            elif node["status"] == "disabled":
                memo[host] = "MAINTENANCE"
            else:
                memo[host] = "UP"
    return memo[host]


def _encoded(store: ComputeStore, request: Request, ids: list[str], memo: dict[str | None, str]) -> list[bytes]:
    mv = request.context["mv"]
    admin = bool(request.context.get("is_admin"))
    cache = store._cache.setdefault((mv, admin, request.base_url), {})
    out = []
    for sid in ids:
        server = store.servers[sid]
        hs = _host_status(store, server["host"], memo) if admin and mv >= (2, 16) else ""
        hit = cache.get(sid)
        if hit is None or hit[0] != hs:
            hit = (
                hs,
                json.dumps(
                    render_server(store, server, mv, admin, hs, request.base_url), separators=(",", ":")
                ).encode(),
            )
            cache[sid] = hit
        out.append(hit[1])
    return out


# query argument -> the server field it must equal exactly
EXACT_FILTERS = (
    ("flavor", "flavor_id"),
    ("image", "image"),
    ("availability_zone", "az"),
    ("vm_state", "vm_state"),
    ("task_state", "task_state"),
    ("key_name", "key_name"),
    ("uuid", "id"),
    ("user_id", "user_id"),
)


def _filter_servers(store: ComputeStore, request: Request) -> list[str]:
    ctx = request.context
    admin = bool(ctx.get("is_admin"))
    all_tenants = request.arg("all_tenants")
    # Nova (common.is_all_tenants): a bare `all_tenants` (empty value) means all projects
    all_projects = all_tenants is not None and (all_tenants == "" or truthy(all_tenants))
    if all_projects and not admin:
        raise fault(403, "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.")
    candidates: list[str] | None = None
    host = request.arg("host") if admin else None
    node = request.arg("node") if admin else None
    project = request.arg("project_id") or request.arg("tenant_id")
    if not admin or not all_projects:
        project_scope = project if (admin and project) else ctx.get("project_id")
    else:
        project_scope = project
    if host is not None:
        candidates = sorted(store.by_host.get(host, ()), key=store.pos.__getitem__)
    elif project_scope is not None:
        candidates = sorted(store.by_project.get(project_scope, ()), key=store.pos.__getitem__)
    else:
        candidates = store.order
    checks: list[Callable[[dict[str, Any]], bool]] = []
    if host is not None and project_scope is not None:
        checks.append(lambda s: s["project_id"] == project_scope)
    status = request.arg("status")
    if status:
        want = status.upper()
        checks.append(lambda s: s["status"] == want)
    if node:
        checks.append(lambda s: s["node"] == node)
    name = request.arg("name")
    if name:
        rx = re.compile(name)
        checks.append(lambda s: rx.search(s["name"]) is not None)
    for arg, field in EXACT_FILTERS:
        want_value = request.arg(arg)
        if want_value:
            checks.append(lambda s, f=field, w=want_value: s[f] == w)
    locked = request.arg("locked")
    if locked is not None and request.context["mv"] >= (2, 73):
        want_locked = truthy(locked)
        checks.append(lambda s: s["locked"] == want_locked)
    tags = request.arg("tags")
    if tags and request.context["mv"] >= (2, 26):
        need = set(tags.split(","))
        checks.append(lambda s: need <= set(s["tags"]))
    if checks:
        candidates = [sid for sid in candidates if all(c(store.servers[sid]) for c in checks)]
    return changes_since.servers(store, request, candidates)


def _paginate(
    request: Request, ids: list[str], full: bool, store: ComputeStore, not_found_msg: str
) -> tuple[list[str], int]:
    limit = limit_arg(request)
    marker = request.arg("marker")
    start = 0
    if marker:
        if full and marker in store.pos:
            start = store.pos[marker] + 1
        else:
            try:
                start = ids.index(marker) + 1
            except ValueError:
                raise fault(400, not_found_msg.format(marker=marker)) from None
    return ids[start : start + limit], limit


def _list_servers(request: Request, detail: bool) -> Response:
    store = compute_store(request)
    with store.cloud.lock:
        ids = _filter_servers(store, request)
        page, limit = _paginate(request, ids, ids is store.order, store, "marker [{marker}] not found")
        if detail:
            parts = _encoded(store, request, page, {})
        else:
            base = request.base_url
            parts = [
                json.dumps(
                    {
                        "id": sid,
                        "name": store.servers[sid]["name"],
                        "links": [
                            {"rel": "self", "href": f"{base}/v2.1/servers/{sid}"},
                            {"rel": "bookmark", "href": f"{base}/servers/{sid}"},
                        ],
                    },
                    separators=(",", ":"),
                ).encode()
                for sid in page
            ]
    body = b'{"servers":[' + b",".join(parts) + b"]"
    if page and len(page) == limit:
        links = [{"rel": "next", "href": next_href(request, "/servers/detail" if detail else "/servers", page[-1])}]
        body += b',"servers_links":' + json.dumps(links).encode()
    body += b"}"
    return Response(200, body, {"Content-Type": "application/json"})


@route("GET", "/servers")
def list_servers(request: Request) -> Response:
    return _list_servers(request, detail=False)


@route("GET", "/servers/detail")
def list_servers_detail(request: Request) -> Response:
    return _list_servers(request, detail=True)


@route("GET", "/servers/{server_id}")
def show_server(request: Request) -> Response:
    store = compute_store(request)
    with store.cloud.lock:
        server = server_or_404(request, store)
        part = _encoded(store, request, [server["id"]], {})[0]
    return Response(200, b'{"server":' + part + b"}", {"Content-Type": "application/json"})


@route("GET", "/servers/{server_id}/os-volume_attachments")
def volume_attachments(request: Request) -> Response:
    store = compute_store(request)
    server = server_or_404(request, store)
    mv = request.context["mv"]
    items = []
    for vid in server["volumes"]:
        item = {"id": vid, "volumeId": vid, "serverId": server["id"], "device": None}
        if mv >= (2, 70):
            item["tag"] = None
        if mv >= (2, 79):
            item["delete_on_termination"] = False
        if mv >= (2, 89):
            item.pop("id")
            item["attachment_id"] = stable_uuid("attachment", f"{server['id']}:{vid}")
            item["bdm_uuid"] = stable_uuid("bdm", f"{server['id']}:{vid}")
        items.append(item)
    return Response(200, {"volumeAttachments": items})


# -- create and delete -------------------------------------------------------------------------
def _create_error(field: str, detail: str) -> HTTPError:
    return fault(400, f"Invalid input for field/attribute {field}. {detail}")


def _requested_networks(store: ComputeStore, body: dict[str, Any], mv: tuple[int, int]) -> list[str | None]:
    """Network ids to give the server one port each: `None` is the first network ("auto")."""
    nets = body.get("networks")
    if nets is None:
        if mv >= (2, 37):
            raise _create_error("server", "Value: networks. 'networks' is a required property")
        return [None]
    if nets in ("auto", "none"):
        if mv < (2, 37):
            raise _create_error("networks", f"Value: {nets}. {nets!r} is not of type 'array'")
        return [None] if nets == "auto" else []
    if not isinstance(nets, list):
        raise _create_error("networks", f"Value: {nets}. {nets!r} is not of type 'array'")
    network = store.cloud.stores.get("network")
    out: list[str | None] = []
    for entry in nets:
        if not isinstance(entry, dict) or "uuid" not in entry:
            raise fault(400, "The twin books a port per network uuid only (networks: [{uuid: ...}], auto or none).")
        if network is not None and entry["uuid"] not in network.networks:
            raise fault(400, f"Network {entry['uuid']} could not be found.")
        out.append(entry["uuid"])
    return out


@route("POST", "/servers")
def create_server(request: Request) -> Response:
    """Boot a server: scheduled at once through the twin's Placement (see ComputeStore.boot); 202
    with BUILD, ACTIVE after the topology's ``boot_seconds``, ERROR when no host fits."""
    store = compute_store(request)
    mv = request.context["mv"]
    body = request.json.get("server") if isinstance(request.json, dict) else None
    if not isinstance(body, dict):
        raise fault(400, "Invalid input for field/attribute server. 'server' is a required property")
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise _create_error("name", f"Value: {name}. 'name' must be a non-empty string of at most 255 characters")
    ref = str(body.get("flavorRef") or "").rstrip("/").rsplit("/", 1)[-1]
    if not ref:
        raise _create_error("server", "Value: flavorRef. 'flavorRef' is a required property")
    flavor = store.flavors.get(ref)
    if flavor is None:
        raise fault(400, f"Flavor {ref} could not be found.")
    image = str(body.get("imageRef") or "").rstrip("/").rsplit("/", 1)[-1]
    bdm = body.get("block_device_mapping_v2") or []
    boot_from_volume = not image and any(isinstance(b, dict) and b.get("boot_index") in (0, "0") for b in bdm)
    if not image and not boot_from_volume:
        raise fault(
            400,
            "Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.",
        )
    metadata = body.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _create_error("metadata", f"Value: {metadata}. Metadata values must be strings")
    key_name = body.get("key_name")
    if key_name is not None and key_name not in store.key_names():
        raise fault(400, "Invalid key_name provided.")
    az = body.get("availability_zone") or None
    if az is not None and az not in {n["az"] for n in store.nodes.values()}:
        raise fault(400, "The requested availability zone is not available")
    outer = request.json
    hints = outer.get("os:scheduler_hints") or outer.get("OS-SCH-HNT:scheduler_hints") or {}
    groups = [hints["group"]] if isinstance(hints, dict) and hints.get("group") else []
    for gid in groups:
        if gid not in store.groups:
            raise fault(400, f"Invalid server group {gid}")
    networks = _requested_networks(store, body, mv)
    ctx = request.context
    sid = str(uuidlib.uuid4())
    entry = {
        "id": sid,
        "name": name,
        "status": "BUILD",
        "project_id": ctx.get("project_id"),
        "user_id": ctx.get("user_id"),
        "volumes": [],
        "cpu_util_pct": 0.0,
        "ram_util_pct": 0.0,
        "image": image or "",
        "boot_from_volume": boot_from_volume,
        "locked": False,
        "locked_reason": None,
        "metadata": metadata,
        "tags": list(body.get("tags") or []) if mv >= (2, 52) else [],
        "created": now_iso(),
        "key_name": key_name,
        "description": body.get("description") if mv >= (2, 19) else None,
        "ports": [],
        "security_groups": [g.get("name") for g in body.get("security_groups") or [] if isinstance(g, dict)],
    }
    server = server_record(entry, flavor, groups, [], store.next_instance)
    store.next_instance += 1
    server["launched_at"] = None
    store.boot(server, az, networks)
    base = request.base_url
    view = {
        "id": sid,
        "links": [
            {"rel": "self", "href": f"{base}/v2.1/servers/{sid}"},
            {"rel": "bookmark", "href": f"{base}/servers/{sid}"},
        ],
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": [{"name": "default"}],
        "adminPass": secrets.token_urlsafe(9),
    }
    return Response(202, {"server": view}, {"Location": f"{base}/v2.1/servers/{sid}"})


@route("DELETE", "/servers/{server_id}")
def delete_server(request: Request) -> Response:
    store = compute_store(request)
    server = server_or_404(request, store)
    if server["locked"] and not request.context.get("is_admin"):
        raise fault(409, f"Instance {server['id']} is locked")
    if server["task_state"] not in (None, "spawning"):
        # Nova would delete it anyway; the twin refuses while a move is in flight (documented)
        raise fault(409, f"Cannot 'delete' instance {server['id']} while it is in task_state {server['task_state']}")
    store.delete(server)
    return Response(204)


# -- metadata (read-only) -------------------------------------------------------------------------
@route("GET", "/servers/{server_id}/metadata")
def server_metadata(request: Request) -> Response:
    server = server_or_404(request, compute_store(request))
    return Response(200, {"metadata": dict(server["metadata"])})


@route("GET", "/servers/{server_id}/metadata/{key}")
def server_metadata_item(request: Request) -> Response:
    server = server_or_404(request, compute_store(request))
    key = request.params["key"]
    if key not in server["metadata"]:
        raise fault(404, "Metadata item was not found")
    return Response(200, {"meta": {key: server["metadata"][key]}})


@route("GET", "/servers/{server_id}/os-security-groups")
def server_security_groups(request: Request) -> Response:
    """The groups a server is in: only its project's ``default`` exists in the twin's Neutron."""
    server = server_or_404(request, compute_store(request))
    groups = [
        {
            "id": stable_uuid("security_group", server["project_id"]),
            "name": name,
            "description": "Default security group",
            "tenant_id": server["project_id"],
            "rules": [],
        }
        for name in server.get("security_groups", ["default"])
    ]
    return Response(200, {"security_groups": groups})
