# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Builder of the ``baremetal`` table from Ironic node and MAAS machine payloads.

Linking a bare-metal record to the compute host it powers is exact, never by substring
(Watcher's ``compute-1`` matching ``compute-10`` is the bug this avoids):

- Ironic: ``extra.compute_hostname``, else ``extra.compute_node_id`` (a Nova hypervisor
  id, Watcher's convention) through the hypervisor id -> hostname map, else the node
  name when it is exactly a compute host name.
- MAAS: ``owner_data.compute_hostname`` (when the machine's hostname is not the compute
  host's), else the machine ``hostname``, else its ``fqdn``, when exactly a compute host.

With ``compute_hosts`` given (the Nova host names), a candidate links only when it is
one of them; without it (Nova not read), the declared names (Ironic
``extra.compute_hostname``, MAAS ``owner_data.compute_hostname`` or hostname) are taken
as they are.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

IRONIC_POWER = {"power on": "on", "power off": "off"}
MAAS_POWER = {"on": "on", "off": "off"}


def backends_read(meta):
    """Which bare-metal services the model's records come from, for warnings: a plan that
    powers nothing must say whether MAAS or Ironic was read at all."""
    return describe_backends(((meta or {}).get("baremetal") or {}).get("backends"))


def describe_backends(backends):
    if not backends:
        return "no bare-metal backend was read"
    return "bare-metal backends read: " + ", ".join(backends)


def ironic_power(state):
    return IRONIC_POWER.get(state, "unknown")


def maas_power(state):
    return MAAS_POWER.get(getattr(state, "value", state), "unknown")


def ironic_link(node, compute_hosts=None, hypervisors=None):
    """The compute host name an Ironic node powers, or '' (exact matches only)."""
    extra = node.get("extra") or {}
    declared = extra.get("compute_hostname")
    candidates = []
    if declared:
        candidates.append(declared)
    node_id = extra.get("compute_node_id")
    if node_id is not None and hypervisors:
        host = hypervisors.get(str(node_id))
        if host:
            candidates.append(host)
    if compute_hosts is None:
        return candidates[0] if candidates else ""
    candidates.append(node.get("name"))
    for c in candidates:
        if c and c in compute_hosts:
            return c
    return ""


def maas_link(machine, compute_hosts=None):
    """The compute host name a MAAS machine is, or '' (exact matches only)."""
    declared = (machine.get("owner_data") or {}).get("compute_hostname")
    hostname = machine.get("hostname") or ""
    if compute_hosts is None:
        return declared or hostname
    for c in (declared, hostname, machine.get("fqdn")):
        if c and c in compute_hosts:
            return c
    return ""


def _related_name(value):
    # MAAS embeds zone/pool as objects ({"name": ...}); recorded payloads may hold the name.
    if isinstance(value, dict):
        return value.get("name") or ""
    return value or ""


def build(ironic_nodes=None, maas_machines=None, compute_hosts=None, hypervisors=None):
    """The ``baremetal`` table: Ironic nodes first, then MAAS machines.

    ``compute_hosts``: iterable of Nova compute host names to link against (None: no
    check). ``hypervisors``: ``{hypervisor id: hostname}`` for Ironic ``compute_node_id``.
    """
    nodes = ironic_nodes or []
    machines = maas_machines or []
    hosts = set(compute_hosts) if compute_hosts is not None else None
    hyp = dict((str(k), v) for k, v in (hypervisors or {}).items())
    columns = {
        "id": [n.get("uuid") for n in nodes] + [m.get("system_id") for m in machines],
        "backend": ["ironic"] * len(nodes) + ["maas"] * len(machines),
        "name": [n.get("name") or "" for n in nodes] + [m.get("hostname") or "" for m in machines],
        "power_state": [ironic_power(n.get("power_state")) for n in nodes]
        + [maas_power(m.get("power_state")) for m in machines],
        "provision_state": [n.get("provision_state") or "" for n in nodes]
        + [m.get("status_name") or "" for m in machines],
        "maintenance": [bool(n.get("maintenance")) for n in nodes] + [bool(m.get("locked")) for m in machines],
        "hostname": [ironic_link(n, hosts, hyp) for n in nodes] + [maas_link(m, hosts) for m in machines],
        "zone": [n.get("conductor_group") or "" for n in nodes] + [_related_name(m.get("zone")) for m in machines],
        "pool": [""] * len(nodes) + [_related_name(m.get("pool")) for m in machines],
    }
    return frame.from_columns("baremetal", columns)


def extra_hostvars(ironic_nodes=None, maas_machines=None):
    """Per-record facts beyond the table (for inventory hostvars), in the table's row order."""
    out = []
    for n in ironic_nodes or []:
        out.append(
            {
                "driver": n.get("driver"),
                "resource_class": n.get("resource_class"),
                "instance_uuid": n.get("instance_uuid"),
                "maintenance_reason": n.get("maintenance_reason"),
                "raw_power_state": n.get("power_state"),
                "tags": [],
            }
        )
    for m in maas_machines or []:
        out.append(
            {
                "fqdn": m.get("fqdn"),
                "power_type": m.get("power_type"),
                "architecture": m.get("architecture"),
                "cpu_count": m.get("cpu_count"),
                "memory_mb": m.get("memory"),
                "raw_power_state": m.get("power_state"),
                "tags": list(m.get("tag_names") or []),
            }
        )
    return out


def link_nodes(nodes, table):
    """The ``nodes`` table with ``power_backend``, ``power_node_id`` and ``power_state`` filled
    from the ``baremetal`` table, joined on exact host name.

    A host powered by both an Ironic node and a MAAS machine takes the first record
    (Ironic before MAAS, as `build` orders them). Unlinked hosts get ``none`` / empty /
    ``unknown``. Returns a new frame; ``nodes`` is not modified.
    """
    out = nodes.copy()
    linked = table[table["hostname"].fillna("") != ""].drop_duplicates("hostname", keep="first").set_index("hostname")
    host = out["hostname"]
    out["power_backend"] = host.map(linked["backend"]).fillna("none").astype(out["power_backend"].dtype)
    out["power_node_id"] = host.map(linked["id"]).astype(out["power_node_id"].dtype)
    out["power_state"] = host.map(linked["power_state"]).fillna("unknown").astype(out["power_state"].dtype)
    return out
