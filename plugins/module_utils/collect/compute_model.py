# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The compute part of the cluster model from a live cloud: runs the Nova, Placement,
Glance, Neutron and (for boot-from-volume servers) Cinder collectors, builds ``nodes``,
``instances`` and ``server_groups``, applies the scope. Shared by compute_model_info and the
hypervisors inventory plugin.

Nova is required (without it there is no compute model); Placement, Glance, Neutron and
Cinder are optional: when one is not in the catalog the model is built from what exists and
``meta.skipped`` says what was left out and what that costs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import (
    cinder,
    glance,
    neutron,
    nova,
    placement,
    rest,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import compute, frame
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scope_mod

SERVICES = ("compute", "placement", "image", "network", "block-storage")


def _skip(skipped, service, err, consequence):
    skipped.append(
        {
            "service": service,
            "reason": err.message if isinstance(err, rest.CollectError) else str(err),
            "consequence": consequence,
        }
    )


def _optional(skipped, service, consequence, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except rest.CollectError as err:
        if err.kind != "missing_service":
            raise
        _skip(skipped, service, err, consequence)
        return None


def collect(
    conn,
    scope=None,
    placement_detail="auto",
    all_projects=True,
    page_size=nova.PAGE_SIZE,
    with_network=True,
    with_images=True,
    with_migrations=True,
    allocation_ratios=None,
    cloud_name=None,
    move_servers_without_image=False,
):
    """``(tables, meta)``: DataFrames of nodes, instances and server_groups, and the meta dict
    (cloud, collected, skipped, scope, placement detail level). Raises rest.CollectError
    (a one-line reason) when Nova cannot be read, ScopeError for a bad scope."""
    scope = scope_mod.normalize(scope)
    skipped = []
    raw = nova.collect(conn, all_projects=all_projects, page_size=page_size, with_migrations=with_migrations)
    # Instances first: their image ids say which images to read.
    instances, net, missing_images = _read_instances(
        conn, raw, skipped, with_images, with_network, page_size, move_servers_without_image
    )
    pl = _read_placement(conn, raw, scope, placement_detail, skipped)
    nodes = compute.build_nodes(
        raw["hypervisors"],
        raw["services"],
        raw["aggregates"],
        providers=pl.get("resource_providers"),
        inventories=pl.get("inventories"),
        usages=pl.get("usages"),
        traits=pl.get("traits"),
        instances=instances,
        allocation_ratios=allocation_ratios,
        dead_l2_hosts=neutron.dead_l2_hosts((net or {}).get("agents")),
        device_physnets=neutron.device_physnets((net or {}).get("agents")),
        capacities=pl.get("capacities"),
        full=pl.get("unsummarized"),
    )
    tables = {
        "nodes": nodes,
        "instances": instances,
        "server_groups": compute.build_server_groups(raw["server_groups"]),
    }
    if scope:
        tables, _movable = scope_mod.apply(tables, scope)
    meta = {
        "cloud": cloud_name or getattr(conn.config, "name", None),
        "collected": frame.now_iso(),
        "skipped": skipped,
        "scope": scope,
        "placement_detail": pl.get("detail", "none"),
        # summary mode: hosts Placement gave no summary for (no memory free), modelled full
        "placement_estimated": sorted(
            nodes.loc[nodes["rp_uuid"].isin(pl.get("unsummarized") or []), "hostname"].tolist()
        ),
        # servers whose image Glance no longer has (kept in place unless move_servers_without_image)
        "images_missing": missing_images,
        "migrations_in_progress": sorted(
            m.get("instance_uuid")
            for m in raw["migrations"]
            if str(m.get("status", "")).lower() in compute.IN_PROGRESS_MIGRATION
        ),
    }
    return tables, meta


def _read_instances(conn, raw, skipped, with_images, with_network, page_size, move_without_image):
    """``(instances table, neutron data or None, ids of servers whose image is gone)``: Glance,
    Cinder (boot volumes' image properties) and Neutron are optional extras."""
    image_ids = set(compute._image_id(s) for s in raw["servers"])
    images = None
    if with_images and image_ids - {None}:
        images = _optional(
            skipped,
            "image",
            "image properties (trait:*=required, hw_cpu_policy) not read",
            glance.collect,
            conn,
            image_ids,
        )
    # Boot-from-volume servers: their image properties are the boot volume's copy in Cinder.
    boot = None
    if with_images and None in image_ids:
        boot = _optional(
            skipped,
            "block-storage",
            "boot volumes' image properties (trait:*=required, hw_cpu_policy) not read",
            cinder.boot_images,
            conn,
            page_size,
        )
    net = None
    if with_network:
        net = _optional(
            skipped,
            "network",
            "SR-IOV ports and L2 agents not read: only flavor PCI aliases mark instances pci",
            neutron.collect,
            conn,
        )
    instances = compute.build_instances(
        raw["servers"],
        flavors=raw["flavors"],
        server_groups=raw["server_groups"],
        images=(images or {}).get("images"),
        ports=(net or {}).get("ports"),
        migrations=raw["migrations"],
        boot_images=compute.boot_volume_images(raw["servers"], (boot or {}).get("volumes")),
        move_without_image=move_without_image,
    )
    known = (images or {}).get("images")
    missing = sorted(
        s.get("id")
        for s in raw["servers"]
        if known is not None and compute._image_id(s) is not None and compute._image_id(s) not in known
    )
    return instances, net, missing


def _read_placement(conn, raw, scope, placement_detail, skipped):
    """Placement's data (``{}`` when skipped), read only for the providers of hosts in scope."""
    probe = compute.build_nodes(raw["hypervisors"], raw["services"], raw["aggregates"])
    in_scope = probe["hostname"][scope_mod.host_mask(probe, scope)] if scope else probe["hostname"]
    wanted_ids = probe.loc[in_scope.index, "hypervisor_id"].dropna()
    wanted_names = set(probe.loc[in_scope.index, "hypervisor_hostname"].dropna()) | set(wanted_ids)
    pl = _optional(
        skipped,
        "placement",
        "capacity from Nova hypervisor statistics with default reserved/allocation ratios; no traits",
        placement.collect,
        conn,
        detail=placement_detail,
        provider_count=len(in_scope),
        provider_filter=lambda p: p.get("uuid") in wanted_names or p.get("name") in wanted_names,
        provider_uuids=sorted(u for u in wanted_ids if compute._is_uuid(u)),
    )
    return pl or {}
