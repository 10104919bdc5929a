"""Neutron v2.0 (catalog type ``network``): networks, subnets, segments, ports and agents, read-only
over HTTP. Nova (the twin's compute service) creates and releases ports for the servers it boots
and deletes, through `NetworkStore.bind_new_port` / `release_ports`.

IP addresses come from each subnet's allocation pool (the CIDR less its network, gateway and
broadcast addresses), lowest free address first, so no two ports share one.

A port bound to a server reports ``binding:host_id`` = the server's current host (read from
the compute store at each request), so ports follow their server when it migrates. Each
compute node has an Open vSwitch agent (plus a NIC Switch agent when SR-IOV ports exist)
whose ``alive`` follows the compute node's state; ``network_agents_down`` in the topology
forces some hosts' agents dead.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Callable
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.services._support import (
    cloud_of,
    compute_nodes,
    compute_servers,
    field,
    int_arg,
    is_admin,
    next_link,
    page,
    project_id,
    section,
    truthy,
    uid,
    unique_names,
)
from vigil_twin.topology import BASE_TIME

VNIC_TYPES = {
    "normal", "direct", "macvtap", "direct-physical", "virtio-forwarder", "baremetal", "vdpa", "remote-managed",
    "accelerator-direct", "accelerator-direct-physical",
}  # fmt: skip
# vnic types whose port is a VF/PF of a NIC on a physical network (Nova's VNIC_TYPES_SRIOV)
SRIOV_VNIC_TYPES = {"direct", "macvtap", "direct-physical", "virtio-forwarder", "vdpa", "remote-managed"}
NETWORK_TYPES = {"vxlan", "vlan", "flat", "geneve", "gre", "local"}

# The query parameters Neutron accepts as filters: the attributes neutron-lib 5 marks
# ``is_filter`` for the extensions ML2 loads (plus the standard attributes and tag filters).
# Anything else is refused with 400, as Neutron does with its default ``filter_validation = true``;
# e.g. ``binding:vnic_type``, ``binding:vif_type`` and ``port_security_enabled`` are not filters.
# The contract suite checks a sample on both backends (test_contract_image_network.py).
_STANDARD = ("description", "revision_number", "tags", "tags-any", "not-tags", "not-tags-any")
_PROJECT = ("tenant_id", "project_id")
FILTERS: dict[str, frozenset[str]] = {
    "ports": frozenset(
        ("id", "name", "network_id", "admin_state_up", "mac_address", "fixed_ips", "device_id", "device_owner",
         "status", "binding:host_id", "security_groups", "ip_allocation", *_PROJECT, *_STANDARD)
    ),
    "networks": frozenset(
        ("id", "name", "admin_state_up", "status", "shared", "mtu", "router:external", "provider:network_type",
         "provider:physical_network", "provider:segmentation_id", *_PROJECT, *_STANDARD)
    ),
    "subnets": frozenset(
        ("id", "name", "network_id", "cidr", "ip_version", "gateway_ip", "enable_dhcp", "ipv6_address_mode",
         "ipv6_ra_mode", "subnetpool_id", "shared", "segment_id", "router:external", *_PROJECT, *_STANDARD)
    ),
    "segments": frozenset(("id", "name", "network_id", "network_type", "physical_network", *_STANDARD)),
    "agents": frozenset(
        ("id", "agent_type", "binary", "topic", "host", "admin_state_up", "alive", "description", "availability_zone")
    ),
}  # fmt: skip
CREATED = BASE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")


def err(status: int, kind: str, message: str) -> HTTPError:
    return HTTPError(status, {"NeutronError": {"type": kind, "message": message, "detail": ""}})


def _bad(status: int, message: str) -> HTTPError:
    return err(status, "HTTPBadRequest", message)


class NetworkStore:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.networks: dict[str, dict[str, Any]] = {}
        self.subnets: dict[str, dict[str, Any]] = {}
        self.segments: dict[str, dict[str, Any]] = {}
        self.ports: dict[str, dict[str, Any]] = {}
        self.by_device: dict[str, list[str]] = {}  # server id -> its port ids (Nova's addresses)
        self._used_ips: dict[str, set[str]] = {}  # subnet id -> addresses taken
        self._cursor: dict[str, int] = {}  # subnet id -> no free address below this one (as int)
        self.reserved_ips: set[str] = set()  # fixed IPs the topology names: never handed out
        self.agents_down: set[str] = set()
        self.controller = "controller"
        # Neutron's [DEFAULT] pagination_max_limit: None (its default, -1) answers a listing
        # without ``limit`` in one page and honours any ``limit``.
        self.pagination_max_limit: int | None = None

    # ports and addresses ----------------------------------------------------------------
    def index_ports(self) -> None:
        self.by_device = {}
        self._used_ips = {sid: set() for sid in self.subnets}
        for pid, p in self.ports.items():
            self._index(pid, p)

    def _index(self, pid: str, p: dict[str, Any]) -> None:
        if p["device_id"]:
            self.by_device.setdefault(p["device_id"], []).append(pid)
        for ip in p["fixed_ips"]:
            self._used_ips.setdefault(ip["subnet_id"], set()).add(ip["ip_address"])

    def allocate_ip(self, subnet_id: str) -> str:
        """The lowest free address of the subnet's allocation pools (Neutron's IPAM does the same)."""
        used = self._used_ips.setdefault(subnet_id, set())
        subnet = self.subnets[subnet_id]
        for pool in subnet["allocation_pools"]:
            start, end = int(ipaddress.ip_address(pool["start"])), int(ipaddress.ip_address(pool["end"]))
            n = max(start, self._cursor.get(subnet_id, start))
            while n <= end:
                text = str(ipaddress.ip_address(n))
                if text not in used and text not in self.reserved_ips:
                    self._cursor[subnet_id] = n + 1
                    return text
                n += 1
        raise err(
            409, "IpAddressGenerationFailure", f"No more IP addresses available on network {subnet['network_id']}."
        )

    def take_ip(self, subnet_id: str, ip: str, where: str) -> None:
        used = self._used_ips.setdefault(subnet_id, set())
        if ip in used:
            raise TopologyError(f"{where}.fixed_ip: {ip} is already allocated on subnet {subnet_id}")
        used.add(ip)

    def add_port(self, port: dict[str, Any]) -> None:
        self.ports[port["id"]] = port
        self._index(port["id"], port)

    def bind_new_port(self, server: dict[str, Any], network_id: str | None = None) -> dict[str, Any]:
        """A port on `network_id` (default: the first network) bound to a server Nova boots."""
        net = self.networks.get(network_id) if network_id else next(iter(self.networks.values()), None)
        if net is None:
            raise err(404, "NetworkNotFound", f"Network {network_id} could not be found.")
        name = ""
        pid = uid("port", f"{server['id']}:{net['id']}:{len(self.by_device.get(server['id'], ()))}")
        _add_port(self, net, name, server["id"], server, "normal", {"id": pid})
        port = self.ports[pid]
        port["_created_by_nova"] = True
        return port

    def release_ports(self, server_id: str) -> None:
        """Nova deletes a server: the ports it created go, the others are unbound (device_id cleared)."""
        for pid in self.by_device.pop(server_id, []):
            p = self.ports[pid]
            if p.get("_created_by_nova"):
                del self.ports[pid]
                for ip in p["fixed_ips"]:
                    self._used_ips.get(ip["subnet_id"], set()).discard(ip["ip_address"])
                    n = int(ipaddress.ip_address(ip["ip_address"]))
                    self._cursor[ip["subnet_id"]] = min(self._cursor.get(ip["subnet_id"], n), n)
            else:
                p.update(device_id="", device_owner="", binding_host=None)

    def addresses(self, server_id: str) -> dict[str, list[dict[str, Any]]]:
        """A server's ``addresses`` as Nova shows them: per network name, one entry per fixed IP."""
        out: dict[str, list[dict[str, Any]]] = {}
        for pid in self.by_device.get(server_id, ()):
            p = self.ports[pid]
            net = self.networks[p["network_id"]]
            for ip in p["fixed_ips"]:
                out.setdefault(net["name"], []).append(
                    {
                        "version": 6 if ":" in ip["ip_address"] else 4,
                        "addr": ip["ip_address"],
                        "OS-EXT-IPS:type": "fixed",
                        "OS-EXT-IPS-MAC:mac_addr": p["mac_address"],
                    }
                )
        return out

    # views -------------------------------------------------------------------------
    def port_view(self, p: dict[str, Any], admin: bool) -> dict[str, Any]:
        server = compute_servers(self.cloud).get(p["device_id"]) if p["device_id"] else None
        host = server.get("host") if server else p["binding_host"]
        body = {k: v for k, v in p.items() if not k.startswith("_") and k != "binding_host"}
        body["fixed_ips"] = [dict(ip) for ip in p["fixed_ips"]]
        body["status"] = "ACTIVE" if host else "DOWN"
        body["binding:vnic_type"] = p["binding:vnic_type"]
        if admin:
            body["binding:host_id"] = host or ""
            body["binding:vif_type"] = (
                ("hw_veb" if p["binding:vnic_type"] in ("direct", "macvtap") else "ovs") if host else "unbound"
            )
            body["binding:vif_details"] = {"port_filter": True} if host else {}
            body["binding:profile"] = dict(p["_profile"])
        return body

    def agents(self) -> list[dict[str, Any]]:
        out = []
        sriov = any(p["binding:vnic_type"] in SRIOV_VNIC_TYPES for p in self.ports.values())
        for kind, binary, topic in (
            ("DHCP agent", "neutron-dhcp-agent", "dhcp_agent"),
            ("L3 agent", "neutron-l3-agent", "l3_agent"),
            ("Metadata agent", "neutron-metadata-agent", "N/A"),
            ("Open vSwitch agent", "neutron-openvswitch-agent", "N/A"),
        ):
            out.append(
                self._agent(self.controller, kind, binary, topic, self.controller not in self.agents_down, "nova")
            )
        compute = self.cloud.stores.get("compute")
        for host, node in compute_nodes(self.cloud).items():
            state = compute.node_state(node) if hasattr(compute, "node_state") else node.get("state", "up")
            alive = state == "up" and host not in self.agents_down
            az = node.get("az", "nova")
            out.append(self._agent(host, "Open vSwitch agent", "neutron-openvswitch-agent", "N/A", alive, az))
            if sriov:
                agent = self._agent(host, "NIC Switch agent", "neutron-sriov-nic-agent", "N/A", alive, az)
                # as neutron-sriov-nic-agent reports [sriov_nic] physical_device_mappings
                agent["configurations"] = {
                    "device_mappings": {net: [f"ens{3 + k}f0"] for k, net in enumerate(node.get("sriov_physnets", []))}
                }
                out.append(agent)
        return out

    @staticmethod
    def _agent(host: str, kind: str, binary: str, topic: str, alive: bool, az: str) -> dict[str, Any]:
        return {
            "id": uid("neutron-agent", f"{host}:{binary}"),
            "agent_type": kind,
            "binary": binary,
            "host": host,
            "topic": topic,
            "alive": alive,
            "admin_state_up": True,
            "availability_zone": az if kind in ("DHCP agent", "L3 agent") else None,
            "created_at": CREATED.replace("T", " ").rstrip("Z"),
            "started_at": CREATED.replace("T", " ").rstrip("Z"),
            "heartbeat_timestamp": CREATED.replace("T", " ").rstrip("Z"),
            "description": None,
            "configurations": {},
            "resources_synced": None,
        }


def _load(cloud: Any, topology: dict[str, Any]) -> NetworkStore:
    store = NetworkStore(cloud)
    nets = section(topology, "networks")
    if not nets and "networks" not in topology:
        nets = [
            {"name": "private", "network_type": "vxlan", "segmentation_id": 1001, "subnets": [{"cidr": "10.0.0.0/16"}]}
        ]
    unique_names(nets, "networks")
    for i, n in enumerate(nets):
        where = f"networks[{i}]"
        name = field(n, where, "name", str)
        nid = field(n, where, "id", str, uid("network", name))
        owner = project_id(cloud, field(n, where, "project", str, "admin"))
        if owner is None:
            raise TopologyError(f"{where}.project: unknown project '{n.get('project')}'")
        raw_segments = field(n, where, "segments", list, None)
        if raw_segments is None:
            raw_segments = [
                {
                    "network_type": n.get("network_type", "vxlan"),
                    "physical_network": n.get("physical_network"),
                    "segmentation_id": n.get("segmentation_id", 1000 + i),
                }
            ]
        segment_ids = []
        for j, s in enumerate(raw_segments):
            swhere = f"{where}.segments[{j}]" if "segments" in n else where
            if not isinstance(s, dict):
                raise TopologyError(f"{swhere}: must be a mapping")
            ntype = field(s, swhere, "network_type", str, "vxlan")
            if ntype not in NETWORK_TYPES:
                raise TopologyError(f"{swhere}.network_type: '{ntype}' is not one of {sorted(NETWORK_TYPES)}")
            physnet = field(s, swhere, "physical_network", str, None)
            if ntype in ("vlan", "flat") and not physnet:
                raise TopologyError(f"{swhere}.physical_network: required for {ntype} networks")
            sid = uid("segment", f"{name}:{j}")
            store.segments[sid] = {
                "id": sid,
                "name": s.get("name"),
                "description": "",
                "network_id": nid,
                "network_type": ntype,
                "physical_network": physnet,
                "segmentation_id": field(s, swhere, "segmentation_id", int, None),
                "created_at": CREATED,
                "updated_at": CREATED,
            }
            segment_ids.append(sid)
        first = store.segments[segment_ids[0]]
        subnet_ids = []
        for j, sn in enumerate(field(n, where, "subnets", list, [])):
            if not isinstance(sn, dict):
                raise TopologyError(f"{where}.subnets[{j}]: must be a mapping")
            cidr = field(sn, f"{where}.subnets[{j}]", "cidr", str)
            try:
                net_range = ipaddress.ip_network(cidr)
            except ValueError as exc:
                raise TopologyError(f"{where}.subnets[{j}].cidr: {exc}") from None
            if net_range.num_addresses < 4:
                raise TopologyError(f"{where}.subnets[{j}].cidr: {cidr} has no room for a gateway and ports")
            sname = sn.get("name") or f"{name}-subnet-{j}"
            snid = uid("subnet", f"{name}:{sname}")
            # Neutron's defaults: the gateway is the first address, the pool the rest (IPv4 less broadcast)
            last = net_range[-1] if net_range.version == 6 else net_range[-2]
            store.subnets[snid] = {
                "id": snid,
                "name": sname,
                "network_id": nid,
                "cidr": str(net_range),
                "ip_version": net_range.version,
                "enable_dhcp": True,
                "gateway_ip": str(net_range[1]),
                "allocation_pools": [{"start": str(net_range[2]), "end": str(last)}],
                "host_routes": [],
                "dns_nameservers": [],
                "dns_publish_fixed_ip": None,
                "ipv6_address_mode": None,
                "ipv6_ra_mode": None,
                "subnetpool_id": None,
                "service_types": [],
                "segment_id": None,
                "description": "",
                "tags": [],
                "tenant_id": owner,
                "project_id": owner,
                "created_at": CREATED,
                "updated_at": CREATED,
                "revision_number": 0,
            }
            subnet_ids.append(snid)
        store.networks[nid] = {
            "id": nid,
            "name": name,
            "status": "ACTIVE",
            "admin_state_up": True,
            "shared": bool(field(n, where, "shared", bool, True)),
            "router:external": bool(field(n, where, "external", bool, False)),
            "mtu": field(n, where, "mtu", int, 1450 if first["network_type"] in ("vxlan", "geneve") else 1500),
            "subnets": subnet_ids,
            "tenant_id": owner,
            "project_id": owner,
            "availability_zones": ["nova"],
            "availability_zone_hints": [],
            "description": "",
            "port_security_enabled": True,
            "tags": [],
            "created_at": CREATED,
            "updated_at": CREATED,
            "revision_number": 1,
            "_segments": segment_ids,
        }
    by_name = {n["name"]: n for n in store.networks.values()}
    default_net = next(iter(store.networks.values()), None)

    down = field(topology, "topology", "network_agents_down", list, [])
    store.agents_down = {str(h) for h in down}
    max_limit = field(topology, "topology", "network_pagination_max_limit", int, -1)
    store.pagination_max_limit = max_limit if max_limit > 0 else None

    servers_by_name = {s.get("name"): sid for sid, s in compute_servers(cloud).items()}
    raw_servers = {s.get("name"): s for s in topology.get("servers") or [] if isinstance(s, dict)}
    # addresses the topology names are kept out of the pools before any is handed out
    for spec in [*section(topology, "ports"), *(q for s in raw_servers.values() for q in s.get("ports") or [])]:
        if isinstance(spec, dict) and spec.get("fixed_ip"):
            store.reserved_ips.add(str(spec["fixed_ip"]))
    for sid, server in compute_servers(cloud).items():
        specs = server.get("ports")
        if specs is None:
            specs = (raw_servers.get(server.get("name")) or {}).get("ports")
        if not specs:
            vnic = "direct" if _wants_sriov(server) else "normal"
            specs = [{"network": default_net["name"], "vnic_type": vnic}] if default_net else []
        for j, spec in enumerate(specs):
            where = f"servers[{server.get('name')}].ports[{j}]"
            if isinstance(spec, str):
                spec = {"network": spec}
            if not isinstance(spec, dict):
                raise TopologyError(f"{where}: must be a network name or a mapping")
            net = by_name.get(spec.get("network")) or store.networks.get(spec.get("network") or "")
            if net is None:
                raise TopologyError(f"{where}.network: unknown network '{spec.get('network')}'")
            vnic = field(spec, where, "vnic_type", str, "normal")
            if vnic not in VNIC_TYPES:
                raise TopologyError(f"{where}.vnic_type: '{vnic}' is not one of {sorted(VNIC_TYPES)}")
            _add_port(store, net, spec.get("name") or f"{server.get('name')}-port-{j}", sid, server, vnic, spec)
    for i, p in enumerate(section(topology, "ports")):
        where = f"ports[{i}]"
        name = field(p, where, "name", str)
        net = by_name.get(field(p, where, "network", str)) or store.networks.get(p["network"])
        if net is None:
            raise TopologyError(f"{where}.network: unknown network '{p['network']}'")
        server_ref = field(p, where, "server", str, None)
        sid = servers_by_name.get(server_ref) or (server_ref if server_ref in compute_servers(cloud) else None)
        if server_ref and sid is None:
            raise TopologyError(f"{where}.server: unknown server '{server_ref}'")
        vnic = field(p, where, "vnic_type", str, "normal")
        if vnic not in VNIC_TYPES:
            raise TopologyError(f"{where}.vnic_type: '{vnic}' is not one of {sorted(VNIC_TYPES)}")
        _add_port(store, net, name, sid, compute_servers(cloud).get(sid) if sid else None, vnic, p)
    return store


def _wants_sriov(server: dict[str, Any]) -> bool:
    """A flavor asking for an SR-IOV NIC gets its default port as a VF (vnic_type direct)."""
    specs = (server.get("flavor") or {}).get("extra_specs") or {}
    return specs.get("trait:HW_NIC_SRIOV") == "required" or "nic" in str(specs.get("pci_passthrough:alias", ""))


def _physnet(store: NetworkStore, net: dict[str, Any]) -> str | None:
    """The physical network of a VLAN/flat network's first segment (None for overlays)."""
    for sid in net.get("_segments") or []:
        seg = store.segments.get(sid) or {}
        if seg.get("physical_network"):
            return seg["physical_network"]
    return None


def _add_port(store: NetworkStore, net: dict[str, Any], name: str, sid: str | None, server, vnic: str, spec) -> None:
    pid = spec.get("id") or uid("port", f"{sid or ''}:{name}")
    n = len(store.ports)
    subnet = net["subnets"][0] if net["subnets"] else None
    ip = None
    if subnet is not None:
        if spec.get("fixed_ip"):
            ip = str(spec["fixed_ip"])
            store.take_ip(subnet, ip, f"ports[{name}]")
        else:
            ip = store.allocate_ip(subnet)
            store.take_ip(subnet, ip, f"ports[{name}]")
    project = (server or {}).get("project_id") or net["project_id"]
    profile = {}
    if vnic in SRIOV_VNIC_TYPES:
        profile = {
            "pci_slot": f"0000:3b:{(n % 32):02x}.{n % 8}",
            "physical_network": spec.get("physical_network") or _physnet(store, net) or "physnet1",
            "pci_vendor_info": "8086:154c",
        }
    store.add_port(
        {
            "id": pid,
            "name": name,
            "network_id": net["id"],
            "mac_address": "fa:16:3e:%02x:%02x:%02x" % ((n >> 16) & 255, (n >> 8) & 255, n & 255),
            "fixed_ips": [{"subnet_id": subnet, "ip_address": ip}] if subnet else [],
            "device_id": sid or "",
            "device_owner": "compute:nova" if sid else "",
            "admin_state_up": True,
            "tenant_id": project,
            "project_id": project,
            "binding:vnic_type": vnic,
            "binding_host": spec.get("binding_host"),
            "security_groups": [],
            "allowed_address_pairs": [],
            "extra_dhcp_opts": [],
            "port_security_enabled": vnic == "normal",
            "description": "",
            "tags": [],
            "created_at": CREATED,
            "updated_at": CREATED,
            "revision_number": 1,
            "_profile": profile,
        }
    )


def _snapshot(store: NetworkStore) -> dict[str, Any]:
    return {
        "networks": copy.deepcopy(store.networks),
        "subnets": copy.deepcopy(store.subnets),
        "segments": copy.deepcopy(store.segments),
        "ports": copy.deepcopy(store.ports),
        "agents_down": sorted(store.agents_down),
    }


def _restore(cloud: Any, old: NetworkStore, data: dict[str, Any]) -> NetworkStore:
    store = NetworkStore(cloud)
    for key in ("networks", "subnets", "segments", "ports"):
        setattr(store, key, copy.deepcopy(data[key]))
    store.agents_down = set(data.get("agents_down") or [])
    store.reserved_ips = set(old.reserved_ips)  # configuration, not state
    store.index_ports()
    store.pagination_max_limit = old.pagination_max_limit  # configuration, not state
    return store


# -- routes ------------------------------------------------------------------------------
router = Router()
_PAGING = {"limit", "marker", "fields", "sort_key", "sort_dir", "page_reverse"}


def _store(request: Request) -> NetworkStore:
    return cloud_of(request).stores["network"]


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(
        200,
        {
            "versions": [
                {"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": f"{request.base_url}/v2.0/"}]}
            ]
        },
    )


def _listing(
    request: Request,
    key: str,
    rows: list[dict[str, Any]],
    singular: str,
    value: Callable[[dict[str, Any], str], Any] | None = None,
    view: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    handled: tuple[str, ...] = (),
) -> Response:
    """Neutron's generic filters (any attribute, repeatable), fields and pagination.

    `value(row, name)` reads a filtered attribute and `view(row)` renders a row, so that only
    the page's rows are rendered; `handled` names filters the caller applied itself.
    """
    filters = {name: values for name, values in request.query.items() if name not in _PAGING and name not in handled}
    invalid = [name for name in filters if name not in FILTERS[key]]
    if invalid:  # Neutron formats the Python list of names into its message
        raise _bad(400, f"{invalid} is invalid attribute for filtering")
    get = value or (lambda r, name: r.get(name))
    for name, values in filters.items():
        wanted = set(values)
        rows = [r for r in rows if _as_text(get(r, name)) in wanted]
    limit = int_arg(request, "limit", lambda s, m: _bad(s, m))
    max_limit = _store(request).pagination_max_limit
    chunk, more = page(
        rows,
        limit,
        request.arg("marker"),
        max_limit or len(rows) + 1,
        lambda m: err(404, f"{singular}NotFound", f"{singular} {m} could not be found."),
    )
    last_id = chunk[-1].get("id") if chunk else None
    if view is not None:
        chunk = [view(r) for r in chunk]
    fields = [f for vs in request.query.get("fields", []) for f in vs.split(",") if f]
    if fields:
        chunk = [{k: r[k] for k in fields if k in r} for r in chunk]
    body: dict[str, Any] = {key: chunk}
    if more and last_id:
        body[f"{key}_links"] = [{"rel": "next", "href": next_link(request, request.path, last_id, limit)}]
    return Response(200, body)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    return "" if value is None else str(value)


_FALSE = ("0", "f", "false", "off", "n", "no")  # oslo strutils.bool_from_string(strict=True)


def _bool_filters(request: Request, names: tuple[str, ...]) -> None:
    """Neutron converts boolean filters as oslo's strict bool_from_string does (true/T/1/yes...),
    refusing anything else; normalise to the 'True'/'False' the rows compare as."""
    for name in names:
        values = request.query.get(name, [])
        for v in values:
            if not truthy(v.strip()) and v.strip().lower() not in _FALSE:
                raise err(400, "InvalidInput", f"Invalid input for operation: '{v}' cannot be converted to boolean.")
        if values:
            request.query[name] = ["True" if truthy(v.strip()) else "False" for v in values]


def _network_view(store: NetworkStore, n: dict[str, Any], admin: bool) -> dict[str, Any]:
    body = {k: v for k, v in n.items() if not k.startswith("_")}
    segs = [store.segments[s] for s in n["_segments"]]
    if admin:
        if len(segs) == 1:
            body["provider:network_type"] = segs[0]["network_type"]
            body["provider:physical_network"] = segs[0]["physical_network"]
            body["provider:segmentation_id"] = segs[0]["segmentation_id"]
        else:
            body["segments"] = [
                {
                    "provider:network_type": s["network_type"],
                    "provider:physical_network": s["physical_network"],
                    "provider:segmentation_id": s["segmentation_id"],
                }
                for s in segs
            ]
    return body


def _network_visible(request: Request, n: dict[str, Any]) -> bool:
    return is_admin(request) or n["shared"] or n["project_id"] == request.context.get("project_id")


@router.route("GET", "/v2.0/networks")
def networks(request: Request) -> Response:
    store = _store(request)
    admin = is_admin(request)
    _bool_filters(request, ("shared", "router:external", "admin_state_up"))
    rows = [_network_view(store, n, admin) for n in store.networks.values() if _network_visible(request, n)]
    return _listing(request, "networks", rows, "Network")


@router.route("GET", "/v2.0/networks/{network_id}")
def network_show(request: Request) -> Response:
    store = _store(request)
    n = store.networks.get(request.params["network_id"])
    if n is None or not _network_visible(request, n):
        raise err(404, "NetworkNotFound", f"Network {request.params['network_id']} could not be found.")
    return Response(200, {"network": _network_view(store, n, is_admin(request))})


@router.route("GET", "/v2.0/subnets")
def subnets(request: Request) -> Response:
    store = _store(request)
    _bool_filters(request, ("enable_dhcp", "shared", "router:external"))
    rows = [dict(s) for s in store.subnets.values() if _network_visible(request, store.networks[s["network_id"]])]
    return _listing(request, "subnets", rows, "Subnet")


@router.route("GET", "/v2.0/subnets/{subnet_id}")
def subnet_show(request: Request) -> Response:
    store = _store(request)
    s = store.subnets.get(request.params["subnet_id"])
    if s is None or not _network_visible(request, store.networks[s["network_id"]]):
        raise err(404, "SubnetNotFound", f"Subnet {request.params['subnet_id']} could not be found.")
    return Response(200, {"subnet": dict(s)})


@router.route("GET", "/v2.0/segments")
def segments(request: Request) -> Response:
    store = _store(request)
    if not is_admin(request):
        return Response(200, {"segments": []})
    return _listing(request, "segments", [dict(s) for s in store.segments.values()], "Segment")


@router.route("GET", "/v2.0/segments/{segment_id}")
def segment_show(request: Request) -> Response:
    store = _store(request)
    s = store.segments.get(request.params["segment_id"])
    if s is None or not is_admin(request):
        raise err(404, "SegmentNotFound", f"Segment {request.params['segment_id']} could not be found.")
    return Response(200, {"segment": dict(s)})


def _port_visible(request: Request, p: dict[str, Any]) -> bool:
    return is_admin(request) or p["project_id"] == request.context.get("project_id")


@router.route("GET", "/v2.0/ports")
def ports(request: Request) -> Response:
    store = _store(request)
    admin = is_admin(request)
    _bool_filters(request, ("admin_state_up",))
    wanted_devices = set(request.query.get("device_id", []))
    source = store.ports.values()
    if wanted_devices:  # the common lookup (ports of one server) without a full scan of views
        source = [p for p in source if p["device_id"] in wanted_devices]
    rows = [p for p in source if _port_visible(request, p)]
    ip_filters = request.query.get("fixed_ips")
    if ip_filters:
        match = _fixed_ips_match(ip_filters)
        rows = [p for p in rows if any(match(ip) for ip in p["fixed_ips"])]
    servers = compute_servers(store.cloud)

    def value(p: dict[str, Any], name: str) -> Any:
        if name in ("binding:host_id", "status"):
            server = servers.get(p["device_id"]) if p["device_id"] else None
            host = server.get("host") if server else p["binding_host"]
            if name == "status":
                return "ACTIVE" if host else "DOWN"
            return host if admin else None
        if name.startswith("_") or name in ("binding_host", "binding:profile"):
            return None
        return p.get(name)

    return _listing(request, "ports", rows, "Port", value, lambda p: store.port_view(p, admin), handled=("fixed_ips",))


def _fixed_ips_match(values: list[str]) -> Callable[[dict[str, str]], bool]:
    """``fixed_ips=ip_address=A&fixed_ips=subnet_id=S``: one of a port's addresses must match every
    key given (any of its values); ``ip_address_substr`` matches part of the address."""
    wanted: dict[str, set[str]] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or key not in ("ip_address", "subnet_id", "ip_address_substr"):
            raise err(400, "InvalidInput", f"Invalid input for operation: Invalid fixed_ips filter '{value}'.")
        wanted.setdefault(key, set()).add(text)

    def match(ip: dict[str, str]) -> bool:
        for key, texts in wanted.items():
            if key == "ip_address_substr":
                if not any(t in ip["ip_address"] for t in texts):
                    return False
            elif ip[key] not in texts:
                return False
        return True

    return match


@router.route("GET", "/v2.0/ports/{port_id}")
def port_show(request: Request) -> Response:
    store = _store(request)
    p = store.ports.get(request.params["port_id"])
    if p is None or not _port_visible(request, p):
        raise err(404, "PortNotFound", f"Port {request.params['port_id']} could not be found.")
    return Response(200, {"port": store.port_view(p, is_admin(request))})


@router.route("GET", "/v2.0/agents")
def agents(request: Request) -> Response:
    store = _store(request)
    if not is_admin(request):
        raise err(403, "HTTPForbidden", "rule:get_agent is disallowed by policy")
    _bool_filters(request, ("alive", "admin_state_up"))
    return _listing(request, "agents", store.agents(), "Agent")


@router.route("GET", "/v2.0/extensions")
def extensions(request: Request) -> Response:
    names = [
        "agent",
        "binding",
        "binding-extended",
        "segment",
        "standard-attr-description",
        "availability_zone",
        "external-net",
        "provider",
        "multi-provider",
        "quotas",
        "quota_details",
    ]
    return Response(
        200, {"extensions": [{"alias": n, "name": n, "description": n, "updated": CREATED, "links": []} for n in names]}
    )


SERVICE = Service(
    name="network",
    prefix="/network",
    router=router,
    load=_load,
    service_type="network",
    catalog_path="",
    requires_token=True,
    snapshot=_snapshot,
    restore=_restore,
    public_paths=("/",),
)

# per-project resources (quotas, default security groups) register on this router
from vigil_twin.services import network_project  # noqa: E402, F401
