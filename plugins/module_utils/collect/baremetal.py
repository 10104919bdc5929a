# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Gathers what the ``baremetal`` table needs from Ironic, MAAS and Nova.

Shared by the baremetal_model_info module and the vigil.openstack.baremetal inventory
plugin. Requests: Ironic node pages, 1 MAAS machines read (after python-libmaas connects),
1 Nova os-services (the compute host names to link against, exactly) and, only when some
Ironic node names its hypervisor by id (``extra.compute_node_id``), the hypervisor pages.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, ironic, maas, nova, rest
from ansible_collections.vigil.openstack.plugins.module_utils.model import baremetal as baremetal_table

BACKENDS = ("ironic", "maas")


def default_backends(params):
    """Ironic always; MAAS too when its URL is configured (option or MAAS_URL)."""
    backends = ["ironic"]
    if params.get("maas_url") or os.environ.get("MAAS_URL"):
        backends.append("maas")
    return backends


def compute_links(conn, ironic_nodes, skipped):
    """``(compute host names, {hypervisor id: host})`` from Nova, or ``(None, {})`` when
    Nova is not in the catalog (noted in ``skipped``)."""
    try:
        ad = endpoint.adapter(conn, nova.SERVICE)
    except rest.CollectError as err:
        if err.kind != "missing_service":
            raise
        skipped.append(
            {"service": nova.SERVICE, "reason": err.message + "; bare-metal records are not linked to compute hosts"}
        )
        return None, {}
    hosts = sorted(s["host"] for s in nova.services(ad) if s.get("host"))
    hypervisors = {}
    if any((n.get("extra") or {}).get("compute_node_id") is not None for n in ironic_nodes or []):
        for hyp in nova.hypervisors(ad):
            host = (hyp.get("service") or {}).get("host") or hyp.get("hypervisor_hostname")
            hypervisors[str(hyp.get("id"))] = host
    return hosts, hypervisors


def collect(params, backends=None, link_compute=True, page_size=ironic.PAGE_SIZE):
    """Raw payloads for the baremetal table.

    ``params``: connection options (connection.openstack_argument_spec +
    maas_argument_spec names). Returns ``{"ironic": [...], "maas": [...],
    "compute_hosts": [...] | None, "hypervisors": {...}, "skipped": [...]}``.
    Raises connection.VigilConnectionError / rest.CollectError with one-line reasons.
    """
    backends = list(backends or default_backends(params))
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError("unknown backends %s; choose from %s" % (", ".join(unknown), ", ".join(BACKENDS)))
    out = {"ironic": [], "maas": [], "compute_hosts": None, "hypervisors": {}, "skipped": []}
    skipped = out["skipped"]
    conn = connection.connect(params) if ("ironic" in backends or link_compute) else None
    if "ironic" in backends:
        out["ironic"] = rest.optional(ironic.SERVICE, ironic.collect, skipped, conn, page_size=page_size) or []
    if "maas" in backends:
        out["maas"] = maas.collect(connection.connect_maas(params))
    if link_compute:
        out["compute_hosts"], out["hypervisors"] = compute_links(conn, out["ironic"], skipped)
    return out


def linked_node(params, hostname, backend=None):
    """``(node id, backend)`` of the bare-metal record that powers compute host ``hostname``,
    matched exactly; ValueError naming the host when it cannot be read or nothing matches."""
    backends = [backend] if backend else default_backends(params)
    try:
        raw = collect(params, backends, link_compute=False)
    except Exception as exc:  # noqa: BLE001 - one line for the user
        raise ValueError("looking up the node of %s: %s" % (hostname, exc)) from None
    table = baremetal_table.build(raw["ironic"], raw["maas"])
    rows = table[table["hostname"] == hostname]
    if rows.empty:
        raise ValueError(
            "no Ironic node or MAAS machine is linked to compute host %s (%s); give node and backend"
            % (hostname, baremetal_table.describe_backends(backends))
        )
    return str(rows["id"].iloc[0]), str(rows["backend"].iloc[0])
