"""Topology files: load (YAML/JSON), validate with errors naming the field, dump, clouds.yaml.

A topology describes the cloud the twin serves (schema in twin/README.md). `load_topology`
returns a `Topology` (a dict) whose sections owned by twin-core (identity, flavors, nodes,
aggregates, server_groups, servers, timing, faults, seed) are validated and filled with
defaults, ids included, so the services can trust them. Every other section (volumes,
pools, baremetal, maas, images, networks, ports ...) is passed through untouched: the
service that owns it validates it when it loads.
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import yaml

from vigil_twin.errors import TopologyError

__all__ = [
    "Topology",
    "TopologyError",
    "dump_topology",
    "flavor_resources",
    "load_topology",
    "stable_hex",
    "stable_uuid",
    "validate_topology",
    "write_clouds_yaml",
]

# libyaml's safe loader when PyYAML was built with it: a tenth of the pure-Python parse time,
# which is most of a twin's start-up
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NAMESPACE = uuid.UUID("6f0c2a3e-3c1b-4f5e-9a57-7a1f6c1d0b11")

SERVER_STATES = {
    # status -> (vm_state, power_state)
    "ACTIVE": ("active", 1),
    "SHUTOFF": ("stopped", 4),
    "PAUSED": ("paused", 3),
    "SUSPENDED": ("suspended", 7),
    "ERROR": ("error", 0),
    "SHELVED_OFFLOADED": ("shelved_offloaded", 0),
}
POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
NODE_RESOURCES = ("vcpus", "memory_mb", "disk_gb", "pcpus")

DEFAULT_FLAVORS = [
    {"name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1},
    {"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20},
    {"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40},
    {"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80},
    {"name": "m1.xlarge", "vcpus": 8, "ram": 16384, "disk": 160},
]
DEFAULT_IDENTITY = {
    "region": "RegionOne",
    "token_lifetime": 3600,  # nosec B105 # a lifetime in seconds, not a password
    "domains": [{"id": "default", "name": "Default"}],
    "roles": ["admin", "member", "reader"],
    "projects": [{"name": "admin"}, {"name": "service"}, {"name": "demo"}],
    "users": [
        {"name": "admin", "password": "vigil-admin", "project": "admin", "roles": ["admin", "member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
        {"name": "demo", "password": "vigil-demo", "project": "demo", "roles": ["member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
    ],
}
DEFAULT_TIMING = {
    "live_migration_base_seconds": 5.0,  # fixed part of a live migration
    "live_migration_seconds_per_gb": 2.0,  # plus this per GiB of server RAM
    "cold_migration_base_seconds": 8.0,
    "cold_migration_seconds_per_gb": 1.0,
    "power_seconds": 2.0,  # os-stop / os-start
    "boot_seconds": 3.0,  # POST /servers: BUILD -> ACTIVE
    "max_concurrent_live_migrations": 1,  # per source compute, as nova.conf (services/migration_pace.py)
}
BASE_TIME = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Topology(dict):
    """A validated topology; the twin does not validate it twice."""


def stable_uuid(kind: str, name: str) -> str:
    """Deterministic id for an object named in a topology (``kind`` = server, image, volume...).

    Services that refer to each other's objects by name use this to agree on ids without
    a lookup: an image named ``cirros`` is ``stable_uuid("image", "cirros")`` in Nova and Glance.
    """
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def stable_hex(kind: str, name: str) -> str:
    """Keystone-style id (32 hex digits, no dashes)."""
    return uuid.uuid5(_NAMESPACE, f"{kind}:{name}").hex


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def flavor_resources(flavor: dict[str, Any], boot_from_volume: bool = False) -> dict[str, int]:
    """Placement resources a server of this flavor consumes, as Nova computes them."""
    specs = flavor.get("extra_specs") or {}
    cpu_rc = "PCPU" if specs.get("hw:cpu_policy") == "dedicated" else "VCPU"
    disk = (0 if boot_from_volume else int(flavor.get("disk", 0))) + int(flavor.get("ephemeral", 0))
    disk += int(math.ceil(int(flavor.get("swap", 0)) / 1024.0))
    res = {cpu_rc: int(flavor["vcpus"]), "MEMORY_MB": int(flavor["ram"])}
    if disk:
        res["DISK_GB"] = disk
    return res


# -- small validators ---------------------------------------------------------------------
def _fail(path: str, msg: str) -> None:
    raise TopologyError(f"{path}: {msg}")


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        _fail(path, f"must be a mapping, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        _fail(path, f"must be a list, got {type(value).__name__}")
    return value


def _str(obj: dict, key: str, path: str, default: Any = ..., allow_none: bool = False) -> Any:
    value = obj.get(key, default)
    if value is ...:
        _fail(f"{path}.{key}", "is required")
    if value is None and (allow_none or default is None):
        return None
    if not isinstance(value, str) or not value:
        _fail(f"{path}.{key}", f"must be a non-empty string, got {value!r}")
    return value


def _num(obj: dict, key: str, path: str, default: Any = ..., integer: bool = True, minimum: float = 0) -> Any:
    value = obj.get(key, default)
    if value is ...:
        _fail(f"{path}.{key}", "is required")
    ok = isinstance(value, int) if integer else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok:
        _fail(f"{path}.{key}", f"must be {'an integer' if integer else 'a number'}, got {value!r}")
    if value < minimum:
        _fail(f"{path}.{key}", f"must be >= {minimum}, got {value!r}")
    return value


def _bool(obj: dict, key: str, path: str, default: bool = False) -> bool:
    value = obj.get(key, default)
    if not isinstance(value, bool):
        _fail(f"{path}.{key}", f"must be true or false, got {value!r}")
    return value


def _str_list(obj: dict, key: str, path: str) -> list[str]:
    items = _list(obj.get(key), f"{path}.{key}")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            _fail(f"{path}.{key}[{i}]", f"must be a non-empty string, got {item!r}")
    return list(items)


def _unique(items: list[dict], key: str, section: str) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, item in enumerate(items):
        value = item[key]
        if value in seen:
            _fail(f"{section}[{i}].{key}", f"duplicate {key} {value!r} (also {section}[{seen[value]}])")
        seen[value] = i
    return seen


def _known(obj: dict, allowed: set[str], path: str) -> None:
    for key in obj:
        if key not in allowed:
            _fail(f"{path}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))})")


# -- sections -----------------------------------------------------------------------------
def _identity(raw: Any) -> dict[str, Any]:
    ident = copy.deepcopy(DEFAULT_IDENTITY)
    raw = _mapping({} if raw is None else raw, "identity")
    _known(raw, {"region", "token_lifetime", "domains", "roles", "projects", "users"}, "identity")
    ident["region"] = _str(raw, "region", "identity", ident["region"])
    ident["token_lifetime"] = _num(raw, "token_lifetime", "identity", ident["token_lifetime"], minimum=1)
    for key in ("domains", "projects", "users", "roles"):
        if key in raw:
            ident[key] = copy.deepcopy(_list(raw[key], f"identity.{key}"))
    domains = []
    for i, d in enumerate(ident["domains"]):
        p = f"identity.domains[{i}]"
        d = _mapping(d, p)
        name = _str(d, "name", p)
        domains.append(
            {"id": _str(d, "id", p, "default" if name == "Default" else stable_hex("domain", name)), "name": name}
        )
    if not any(d["id"] == "default" for d in domains):
        domains.insert(0, {"id": "default", "name": "Default"})
    ident["domains"] = domains
    domain_ids = {d["id"]: d["id"] for d in domains} | {d["name"]: d["id"] for d in domains}
    roles = []
    for i, r in enumerate(ident["roles"]):
        name = r if isinstance(r, str) else _str(_mapping(r, f"identity.roles[{i}]"), "name", f"identity.roles[{i}]")
        roles.append(name)
    for needed in ("admin", "member", "reader"):
        if needed not in roles:
            roles.append(needed)
    ident["roles"] = roles
    projects = []
    for i, pr in enumerate(ident["projects"]):
        p = f"identity.projects[{i}]"
        pr = _mapping(pr, p)
        _known(pr, {"name", "id", "domain", "domain_id", "description", "enabled"}, p)
        name = _str(pr, "name", p)
        dom = _str(pr, "domain", p, pr.get("domain_id") or "default")
        if dom not in domain_ids:
            _fail(f"{p}.domain", f"unknown domain {dom!r}")
        projects.append(
            {
                "name": name,
                "id": _str(pr, "id", p, stable_hex("project", name)),
                "domain_id": domain_ids[dom],
                "description": pr.get("description", ""),
                "enabled": _bool(pr, "enabled", p, True),
            }
        )
    _unique(projects, "name", "identity.projects")
    ident["projects"] = projects
    project_ids = {x["name"]: x["id"] for x in projects} | {x["id"]: x["id"] for x in projects}
    users = []
    for i, u in enumerate(ident["users"]):
        p = f"identity.users[{i}]"
        u = _mapping(u, p)
        _known(
            u,
            {"name", "id", "password", "project", "project_id", "roles", "domain", "domain_id", "email", "enabled"},
            p,
        )
        name = _str(u, "name", p)
        project = _str(u, "project", p, u.get("project_id", ...))
        if project not in project_ids:
            _fail(f"{p}.project", f"unknown project {project!r}")
        user_roles = _str_list(u, "roles", p) or ["member"]
        for j, role in enumerate(user_roles):
            if role not in roles:
                _fail(f"{p}.roles[{j}]", f"unknown role {role!r}")
        dom = _str(u, "domain", p, u.get("domain_id") or "default")
        if dom not in domain_ids:
            _fail(f"{p}.domain", f"unknown domain {dom!r}")
        users.append(
            {
                "name": name,
                "id": _str(u, "id", p, stable_hex("user", name)),
                "password": _str(u, "password", p),
                "project_id": project_ids[project],
                "domain_id": domain_ids[dom],
                "roles": user_roles,
                "email": u.get("email"),
                "enabled": _bool(u, "enabled", p, True),
            }
        )
    _unique(users, "name", "identity.users")
    ident["users"] = users
    if not any("admin" in u["roles"] for u in users) or not any("admin" not in u["roles"] for u in users):
        _fail("identity.users", "need at least one user with the admin role and one without")
    return ident


def _flavors(raw: Any) -> list[dict[str, Any]]:
    items = copy.deepcopy(DEFAULT_FLAVORS) if raw is None else _list(raw, "flavors")
    out = []
    for i, f in enumerate(items):
        p = f"flavors[{i}]"
        f = _mapping(f, p)
        _known(
            f,
            {
                "name",
                "id",
                "vcpus",
                "ram",
                "disk",
                "ephemeral",
                "swap",
                "extra_specs",
                "is_public",
                "description",
                "rxtx_factor",
            },
            p,
        )
        name = _str(f, "name", p)
        specs = _mapping(f.get("extra_specs") or {}, f"{p}.extra_specs")
        for k, v in specs.items():
            if not isinstance(v, str):
                _fail(f"{p}.extra_specs.{k}", f"must be a string, got {v!r}")
        fid = f.get("id", stable_uuid("flavor", name))
        out.append(
            {
                "name": name,
                "id": str(fid),
                "vcpus": _num(f, "vcpus", p, minimum=1),
                "ram": _num(f, "ram", p, minimum=1),
                "disk": _num(f, "disk", p, 0),
                "ephemeral": _num(f, "ephemeral", p, 0),
                "swap": _num(f, "swap", p, 0),
                "extra_specs": dict(specs),
                "is_public": _bool(f, "is_public", p, True),
                "description": f.get("description"),
                "rxtx_factor": float(f.get("rxtx_factor", 1.0)),
            }
        )
    _unique(out, "name", "flavors")
    _unique(out, "id", "flavors")
    return out


def sriov_default(traits: list[str]) -> list[str]:
    """A host with the HW_NIC_SRIOV trait and no ``sriov_physnets`` has VFs on physnet1."""
    return ["physnet1"] if "HW_NIC_SRIOV" in traits else []


def _nodes(raw: Any) -> list[dict[str, Any]]:
    out = []
    allowed = {
        "hostname", "hypervisor_hostname", "id", "uuid", "vcpus", "memory_mb", "disk_gb", "pcpus", "reserved",
        "allocation_ratio", "az", "aggregates", "traits", "status", "state", "disabled_reason", "forced_down",
        "host_ip", "hypervisor_type", "cpu_model", "sriov_physnets",
    }  # fmt: skip
    for i, n in enumerate(_list(raw, "nodes")):
        p = f"nodes[{i}]"
        n = _mapping(n, p)
        _known(n, allowed, p)
        hostname = _str(n, "hostname", p)
        node = {
            "hostname": hostname,
            "hypervisor_hostname": _str(n, "hypervisor_hostname", p, hostname),
            "uuid": _str(n, "uuid", p, stable_uuid("compute_node", hostname)),
            "vcpus": _num(n, "vcpus", p, minimum=1),
            "memory_mb": _num(n, "memory_mb", p, minimum=1),
            "disk_gb": _num(n, "disk_gb", p, minimum=1),
            "pcpus": _num(n, "pcpus", p, 0),
            "az": _str(n, "az", p, "nova"),
            "aggregates": _str_list(n, "aggregates", p),
            "traits": _str_list(n, "traits", p),
            "status": _str(n, "status", p, "enabled"),
            "state": _str(n, "state", p, "up"),
            "disabled_reason": _str(n, "disabled_reason", p, None),
            "forced_down": _bool(n, "forced_down", p, False),
            "host_ip": _str(n, "host_ip", p, f"192.168.{(i // 250) % 256}.{i % 250 + 1}"),
            "hypervisor_type": _str(n, "hypervisor_type", p, "QEMU"),
            "cpu_model": _str(n, "cpu_model", p, "Cascadelake-Server"),
        }
        # physical networks with SR-IOV VFs on the host (its NIC Switch agent's device_mappings)
        node["sriov_physnets"] = (
            _str_list(n, "sriov_physnets", p) if "sriov_physnets" in n else sriov_default(node["traits"])
        )
        if node["status"] not in ("enabled", "disabled"):
            _fail(f"{p}.status", f"must be enabled or disabled, got {node['status']!r}")
        if node["state"] not in ("up", "down"):
            _fail(f"{p}.state", f"must be up or down, got {node['state']!r}")
        reserved = _mapping(n.get("reserved") or {}, f"{p}.reserved")
        _known(reserved, set(NODE_RESOURCES), f"{p}.reserved")
        node["reserved"] = {
            "vcpus": _num(reserved, "vcpus", f"{p}.reserved", 0),
            "memory_mb": _num(reserved, "memory_mb", f"{p}.reserved", 512),
            "disk_gb": _num(reserved, "disk_gb", f"{p}.reserved", 0),
            "pcpus": _num(reserved, "pcpus", f"{p}.reserved", 0),
        }
        ratio = _mapping(n.get("allocation_ratio") or {}, f"{p}.allocation_ratio")
        _known(ratio, set(NODE_RESOURCES), f"{p}.allocation_ratio")
        node["allocation_ratio"] = {
            "vcpus": float(_num(ratio, "vcpus", f"{p}.allocation_ratio", 4.0, integer=False, minimum=0.01)),
            "memory_mb": float(_num(ratio, "memory_mb", f"{p}.allocation_ratio", 1.0, integer=False, minimum=0.01)),
            "disk_gb": float(_num(ratio, "disk_gb", f"{p}.allocation_ratio", 1.0, integer=False, minimum=0.01)),
            "pcpus": 1.0,
        }
        for key in ("vcpus", "memory_mb", "disk_gb", "pcpus"):
            if node["reserved"][key] > node[key] and node[key]:
                _fail(f"{p}.reserved.{key}", f"{node['reserved'][key]} exceeds the node's {key} {node[key]}")
        out.append(node)
    _unique(out, "hostname", "nodes")
    _unique(out, "hypervisor_hostname", "nodes")
    _unique(out, "uuid", "nodes")
    return out


def node_capacity(node: dict[str, Any]) -> dict[str, float]:
    """Placement capacity per resource class: (total - reserved) * allocation_ratio."""
    cap = {}
    for key, rc in (("vcpus", "VCPU"), ("memory_mb", "MEMORY_MB"), ("disk_gb", "DISK_GB"), ("pcpus", "PCPU")):
        if node[key]:
            cap[rc] = (node[key] - node["reserved"][key]) * node["allocation_ratio"][key]
    return cap


def _aggregates(raw: Any, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, a in enumerate(_list(raw, "aggregates")):
        p = f"aggregates[{i}]"
        a = _mapping(a, p)
        _known(a, {"name", "metadata", "uuid", "availability_zone", "hosts"}, p)
        name = _str(a, "name", p)
        meta = {str(k): str(v) for k, v in _mapping(a.get("metadata") or {}, f"{p}.metadata").items()}
        if a.get("availability_zone"):
            meta["availability_zone"] = str(a["availability_zone"])
        out.append(
            {"name": name, "uuid": _str(a, "uuid", p, stable_uuid("aggregate", name)), "metadata": meta, "hosts": []}
        )
    _unique(out, "name", "aggregates")
    by_name = {a["name"]: a for a in out}
    for node in nodes:
        names = list(node["aggregates"])
        if node["az"] != "nova" and not any(
            by_name.get(n, {}).get("metadata", {}).get("availability_zone") == node["az"] for n in names
        ):
            names.append(node["az"])  # an AZ is an aggregate with availability_zone metadata
        for name in names:
            agg = by_name.get(name)
            if agg is None:
                meta = {"availability_zone": name} if name == node["az"] else {}
                agg = by_name[name] = {
                    "name": name,
                    "uuid": stable_uuid("aggregate", name),
                    "metadata": meta,
                    "hosts": [],
                }
                out.append(agg)
            if node["hostname"] not in agg["hosts"]:
                agg["hosts"].append(node["hostname"])
            if name not in node["aggregates"]:
                node["aggregates"].append(name)
    for i, agg in enumerate(out):
        az = agg["metadata"].get("availability_zone")
        for host in agg["hosts"]:
            node = next(n for n in nodes if n["hostname"] == host)
            if az and node["az"] != az:
                _fail(f"aggregates[{i}].availability_zone", f"{az!r} conflicts with host {host} in az {node['az']!r}")
    return out


def _server_groups(raw: Any, project_ids: dict[str, str], default_project: str) -> list[dict[str, Any]]:
    out = []
    for i, g in enumerate(_list(raw, "server_groups")):
        p = f"server_groups[{i}]"
        g = _mapping(g, p)
        _known(g, {"name", "id", "policy", "rules", "project", "project_id"}, p)
        name = _str(g, "name", p)
        policy = _str(g, "policy", p)
        if policy not in POLICIES:
            _fail(f"{p}.policy", f"unknown policy {policy!r} (one of {', '.join(POLICIES)})")
        rules = _mapping(g.get("rules") or {}, f"{p}.rules")
        _known(rules, {"max_server_per_host"}, f"{p}.rules")
        if rules:
            if policy != "anti-affinity":
                _fail(f"{p}.rules", "rules are only allowed with the anti-affinity policy")
            _num(rules, "max_server_per_host", f"{p}.rules", minimum=1)
        project = _str(g, "project", p, g.get("project_id") or default_project)
        if project not in project_ids:
            _fail(f"{p}.project", f"unknown project {project!r}")
        out.append(
            {
                "name": name,
                "id": _str(g, "id", p, stable_uuid("server_group", name)),
                "policy": policy,
                "rules": dict(rules),
                "project_id": project_ids[project],
            }
        )
    _unique(out, "name", "server_groups")
    return out


def _servers(raw: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    flavors = {f["name"]: f for f in t["flavors"]} | {f["id"]: f for f in t["flavors"]}
    nodes = {n["hostname"]: n for n in t["nodes"]}
    groups = {g["name"]: g for g in t["server_groups"]}
    ident = t["identity"]
    project_ids = {x["name"]: x["id"] for x in ident["projects"]} | {x["id"]: x["id"] for x in ident["projects"]}
    user_ids = {x["name"]: x["id"] for x in ident["users"]} | {x["id"]: x["id"] for x in ident["users"]}
    first_user = {}
    for u in ident["users"]:
        first_user.setdefault(u["project_id"], u["id"])
    admin_user = next(u["id"] for u in ident["users"] if "admin" in u["roles"])
    default_project = next(
        (u["project_id"] for u in ident["users"] if "admin" not in u["roles"]), ident["projects"][0]["id"]
    )
    allowed = {
        "name", "id", "flavor", "host", "project", "user", "status", "server_groups", "image", "boot_from_volume",
        "locked", "locked_reason", "metadata", "tags", "cpu_util_pct", "ram_util_pct", "volumes", "ports", "created",
        "key_name", "description", "addresses", "project_id", "user_id",
    }  # fmt: skip
    out = []
    for i, s in enumerate(_list(raw, "servers")):
        p = f"servers[{i}]"
        s = _mapping(s, p)
        _known(s, allowed, p)
        name = _str(s, "name", p)
        flavor = _str(s, "flavor", p)
        if flavor not in flavors:
            _fail(f"{p}.flavor", f"unknown flavor {flavor!r}")
        status = _str(s, "status", p, "ACTIVE")
        if status not in SERVER_STATES:
            _fail(f"{p}.status", f"unknown status {status!r} (one of {', '.join(SERVER_STATES)})")
        host = _str(s, "host", p, None)
        if host is None and status not in ("ERROR", "SHELVED_OFFLOADED"):
            _fail(f"{p}.host", f"is required for a {status} server")
        if status == "SHELVED_OFFLOADED":
            host = None
        if host is not None and host not in nodes:
            _fail(f"{p}.host", f"unknown host {host!r}")
        project = _str(s, "project", p, s.get("project_id") or default_project)
        if project not in project_ids:
            _fail(f"{p}.project", f"unknown project {project!r}")
        pid = project_ids[project]
        user = _str(s, "user", p, s.get("user_id"))
        if user is not None and user not in user_ids:
            _fail(f"{p}.user", f"unknown user {user!r}")
        sg = _str_list(s, "server_groups", p)
        for j, g in enumerate(sg):
            if g not in groups:
                _fail(f"{p}.server_groups[{j}]", f"unknown server group {g!r}")
        if len(sg) > 1:
            _fail(f"{p}.server_groups", "a server belongs to at most one server group")
        bfv = _bool(s, "boot_from_volume", p, False)
        image = s.get("image", None if bfv else "cirros")
        if image is not None and (not isinstance(image, str) or not image):
            _fail(f"{p}.image", f"must be an image name or id, got {image!r}")
        if image is not None and not _looks_like_uuid(image):
            image = stable_uuid("image", image)
        util = {}
        for key in ("cpu_util_pct", "ram_util_pct"):
            if key in s:
                v = _num(s, key, p, integer=False)
                if v > 100:
                    _fail(f"{p}.{key}", f"must be between 0 and 100, got {v!r}")
                util[key] = float(v)
        meta = _mapping(s.get("metadata") or {}, f"{p}.metadata")
        created = s.get("created") or iso(BASE_TIME + timedelta(minutes=i))
        if not isinstance(created, str):
            created = iso(created) if isinstance(created, datetime) else str(created)
        server = {
            "name": name,
            "id": _str(s, "id", p, stable_uuid("server", name)),
            "flavor": flavors[flavor]["name"],
            "host": host,
            "project_id": pid,
            "user_id": user_ids[user] if user else first_user.get(pid, admin_user),
            "status": status,
            "server_groups": sg,
            "image": image,
            "boot_from_volume": bfv,
            "locked": _bool(s, "locked", p, False),
            "locked_reason": s.get("locked_reason"),
            "metadata": {str(k): str(v) for k, v in meta.items()},
            "tags": _str_list(s, "tags", p),
            "cpu_util_pct": util.get("cpu_util_pct", 20.0),
            "ram_util_pct": util.get("ram_util_pct", 50.0),
            "volumes": list(_list(s.get("volumes"), f"{p}.volumes")),
            "ports": list(_list(s.get("ports"), f"{p}.ports")),
            "addresses": dict(_mapping(s.get("addresses") or {}, f"{p}.addresses")),
            "created": created,
            "key_name": s.get("key_name"),
            "description": s.get("description"),
        }
        out.append(server)
    _unique(out, "name", "servers")
    _unique(out, "id", "servers")
    return out


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _check_capacity(t: dict[str, Any]) -> None:
    flavors = {f["name"]: f for f in t["flavors"]}
    used: dict[str, dict[str, int]] = {}
    for s in t["servers"]:
        if s["host"] is None:
            continue
        res = flavor_resources(flavors[s["flavor"]], s["boot_from_volume"])
        acc = used.setdefault(s["host"], {})
        for rc, amount in res.items():
            acc[rc] = acc.get(rc, 0) + amount
    for i, node in enumerate(t["nodes"]):
        cap = node_capacity(node)
        for rc, amount in used.get(node["hostname"], {}).items():
            if amount > cap.get(rc, 0) + 1e-9:
                _fail(
                    f"nodes[{i}]",
                    f"host {node['hostname']} is overcommitted: {rc} used by its servers {amount} > capacity {cap.get(rc, 0):g}"
                    " ((total - reserved) x allocation_ratio)",
                )


def _timing(raw: Any) -> dict[str, Any]:
    timing = dict(DEFAULT_TIMING)
    if raw is None:
        return timing
    raw = _mapping(raw, "timing")
    for key, value in raw.items():
        if key == "max_concurrent_live_migrations":
            timing[key] = _num(raw, key, "timing", minimum=1)
        elif key in DEFAULT_TIMING:
            timing[key] = float(_num(raw, key, "timing", integer=False))
        else:
            timing[key] = value  # other services' timings
    return timing


def _faults(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    raw = _mapping(raw, "faults")
    _known(raw, {"services", "named", "seed"}, "faults")
    _mapping(raw.get("services") or {}, "faults.services")
    for i, spec in enumerate(_list(raw.get("named"), "faults.named")):
        _str(_mapping(spec, f"faults.named[{i}]"), "kind", f"faults.named[{i}]")
    return raw


OWN_SECTIONS = ("identity", "flavors", "nodes", "aggregates", "server_groups", "servers", "timing", "faults", "seed")


def validate_topology(raw: Any) -> Topology:
    """Validate and normalise; raises TopologyError naming the first bad field."""
    if isinstance(raw, Topology):
        return raw
    if raw is None:
        raw = {}
    raw = _mapping(raw, "topology")
    t = Topology()
    for key, value in raw.items():  # other services' sections, untouched
        if key not in OWN_SECTIONS:
            t[key] = value
    seed = raw.get("seed", 1)
    if isinstance(seed, bool) or not isinstance(seed, int):
        _fail("seed", f"must be an integer, got {seed!r}")
    t["seed"] = seed
    t["identity"] = _identity(raw.get("identity"))
    t["flavors"] = _flavors(raw.get("flavors"))
    t["nodes"] = _nodes(raw.get("nodes"))
    t["aggregates"] = _aggregates(raw.get("aggregates"), t["nodes"])
    project_ids = {x["name"]: x["id"] for x in t["identity"]["projects"]} | {
        x["id"]: x["id"] for x in t["identity"]["projects"]
    }
    default_project = next(u["project_id"] for u in t["identity"]["users"] if "admin" not in u["roles"])
    t["server_groups"] = _server_groups(raw.get("server_groups"), project_ids, default_project)
    t["servers"] = _servers(raw.get("servers"), t)
    _check_capacity(t)
    t["timing"] = _timing(raw.get("timing"))
    t["faults"] = _faults(raw.get("faults"))
    return t


def load_topology(path: str | os.PathLike[str]) -> Topology:
    """Read a YAML or JSON topology file, or a vigil model snapshot (gzip JSON, or a JSON/YAML
    model of split tables), and validate it."""
    from vigil_twin.snapshot import is_model, read_snapshot_file, topology_from_model

    path = os.fspath(path)
    try:
        data = read_snapshot_file(path)  # a gzip vigil model snapshot, else None
        if data is None:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except OSError as exc:
        raise TopologyError(f"{path}: cannot read: {exc.strerror}") from exc
    if data is None:
        try:
            data = json.loads(text) if path.endswith(".json") else yaml.load(text, Loader=_YAML_LOADER)  # noqa: S506  # nosec B506 (a safe loader)
        except (ValueError, yaml.YAMLError) as exc:
            raise TopologyError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'YAML'}: {exc}") from exc
    try:
        if is_model(data):
            data = topology_from_model(data)
        return validate_topology(data)
    except TopologyError as exc:
        raise TopologyError(f"{path}: {exc}") from None


def _plain(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def dump_topology(topology: dict[str, Any], path_or_dash: str = "-") -> None:
    """Write a topology as YAML (JSON when the file name ends in .json); ``-`` is stdout."""
    data = _plain(topology)
    as_json = str(path_or_dash).endswith(".json")
    text = (
        json.dumps(data, indent=1) + "\n"
        if as_json
        else yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=120)
    )
    if path_or_dash == "-":
        sys.stdout.write(text)
        return
    tmp = f"{path_or_dash}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path_or_dash)


def write_clouds_yaml(twin: Any, path: str | os.PathLike[str]) -> str:
    """Write clouds.yaml with ``vigil-twin`` (admin, project scope), ``vigil-twin-member``
    (a member user) and ``vigil-twin-system`` (admin, system scope)."""
    ident = twin.cloud.stores["identity"]
    admin = next(u for u in ident.users.values() if "admin" in u["roles"])
    member = next(u for u in ident.users.values() if "admin" not in u["roles"])
    auth_url = f"{twin.url}/identity/v3"

    def cloud(user: dict[str, Any], system: bool = False) -> dict[str, Any]:
        auth = {
            "auth_url": auth_url,
            "username": user["name"],
            "password": user["password"],
            "user_domain_name": "Default",
        }
        if system:
            auth["system_scope"] = "all"
        else:
            auth["project_name"] = ident.projects[user["project_id"]]["name"]
            auth["project_domain_name"] = "Default"
        return {"auth": auth, "region_name": ident.region, "interface": "public", "identity_api_version": 3}

    data = {
        "clouds": {
            "vigil-twin": cloud(admin),
            "vigil-twin-member": cloud(member),
            "vigil-twin-system": cloud(admin, system=True),
        }
    }
    path = os.fspath(path)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        yaml.safe_dump(data, fh, sort_keys=False)
    os.replace(tmp, path)
    return path
