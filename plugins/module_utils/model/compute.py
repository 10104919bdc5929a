# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Builders of the ``nodes``, ``instances`` and ``server_groups`` tables from API payloads.

Inputs are plain dicts as the APIs return them (collect/nova.py, placement.py, glance.py,
neutron.py gather them). One pass over each payload fills one list per column; the
DataFrame is made once. Hosts are joined by exact string equality only: ``compute-1``
never matches ``compute-10`` (Watcher's substring matching does).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

DEFAULT_AZ = "nova"

# Used when Placement inventories are not read (placement summary mode) and no aggregate
# metadata says otherwise: nova.conf initial_{cpu,ram,disk}_allocation_ratio defaults.
DEFAULT_ALLOCATION_RATIOS = {"VCPU": 4.0, "MEMORY_MB": 1.0, "DISK_GB": 1.0, "PCPU": 1.0}
_AGGREGATE_RATIO_KEYS = {
    "VCPU": "cpu_allocation_ratio",
    "MEMORY_MB": "ram_allocation_ratio",
    "DISK_GB": "disk_allocation_ratio",
}
# Resource classes whose hypervisor *_used includes the host's reserved amount.
_RESERVED_IN_USED = ("MEMORY_MB", "DISK_GB")
_HYPERVISOR_STATS = {
    "VCPU": ("vcpus", "vcpus_used"),
    "MEMORY_MB": ("memory_mb", "memory_mb_used"),
    "DISK_GB": ("local_gb", "local_gb_used"),
}

# Neutron vnic types that put a device in the server (a NIC's VF or PF, a vDPA device, a
# smart-NIC VF, an accelerator): Nova 34's VNIC_TYPES_SRIOV and VNIC_TYPES_ACCELERATOR, the
# ports Nova makes a PCI request for.
SRIOV_VNIC_TYPES = frozenset(
    [
        "direct",
        "direct-physical",
        "macvtap",
        "virtio-forwarder",
        "vdpa",
        "remote-managed",
        "accelerator-direct",
        "accelerator-direct-physical",
    ]
)
# Of those, the ones Nova serves from Cyborg (a device profile), not from a NIC on a physnet.
ACCELERATOR_VNIC_TYPES = frozenset(["accelerator-direct", "accelerator-direct-physical"])
IN_PROGRESS_MIGRATION = frozenset(
    [
        "accepted",
        "queued",
        "preparing",
        "running",
        "migrating",
        "post-migrating",
        "pre-migrating",
        "finished",
        "confirming",
        "reverting",
    ]
)
_TRUE = ("true", "1", "yes", "on")
IMAGE_GONE_REASON = (
    "its image is gone from Glance: required traits and CPU policy unknown (compute_model_info"
    " move_servers_without_image lets it move)"
)


def _truthy(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in _TRUE if value is not None else False


def _int(value, default=0):
    try:
        return int(value) if value is not None else default
    except (TypeError, ValueError):
        return default


# -- nodes -----------------------------------------------------------------------------


def compute_services(services):
    """nova-compute services keyed by exact host name."""
    out = {}
    for svc in services or []:
        if svc.get("binary", "nova-compute") == "nova-compute" and svc.get("host"):
            out[svc["host"]] = svc
    return out


def _is_uuid(value):
    text = str(value or "")
    return len(text) == 36 and text.count("-") == 4


def _hypervisor_host(hyp):
    service = hyp.get("service") or {}
    return service.get("host") or hyp.get("hypervisor_hostname")


def _providers_index(providers):
    by_uuid = dict((p.get("uuid"), p) for p in providers or [] if p.get("uuid"))
    # Nova names a compute node's provider after hypervisor_hostname; root providers only.
    by_name = dict(
        (p.get("name"), p)
        for p in providers or []
        if p.get("name") and p.get("parent_provider_uuid") in (None, p.get("uuid"))
    )
    return by_uuid, by_name


def match_provider(hyp, by_uuid, by_name):
    """The resource provider of a hypervisor: same uuid (microversion >= 2.53), else the
    same name as hypervisor_hostname, exactly."""
    rp = by_uuid.get(str(hyp.get("id")))
    if rp is None:
        rp = by_name.get(hyp.get("hypervisor_hostname"))
    return rp


def host_aggregates(aggregates):
    """``{host: [aggregate names]}`` and ``{host: az}`` from os-aggregates, exact host names."""
    names, zones = {}, {}
    for agg in sorted(aggregates or [], key=lambda a: str(a.get("name"))):
        az = agg.get("availability_zone") or (agg.get("metadata") or {}).get("availability_zone")
        for host in agg.get("hosts") or []:
            names.setdefault(host, []).append(agg.get("name"))
            if az:
                zones.setdefault(host, az)
    return names, zones


def host_aggregate_metadata(aggregates):
    """``{host: {key: [values]}}``: the union of the metadata of the host's aggregates, each value
    split on commas (Nova's ``aggregate_metadata_get_by_host``, which its aggregate filters read)."""
    out = {}
    for agg in aggregates or []:
        for key, value in (agg.get("metadata") or {}).items():
            values = [v.strip() for v in str(value if value is not None else "").split(",")]
            for host in agg.get("hosts") or []:
                out.setdefault(host, {}).setdefault(key, set()).update(values)
    return dict((h, dict((k, sorted(v)) for k, v in meta.items())) for h, meta in out.items())


def _aggregate_ratios(aggregates):
    """``{host: {RC: ratio}}`` from aggregate metadata (legacy *_allocation_ratio keys)."""
    out = {}
    for agg in aggregates or []:
        meta = agg.get("metadata") or {}
        for rc, key in _AGGREGATE_RATIO_KEYS.items():
            if key in meta:
                try:
                    ratio = float(meta[key])
                except (TypeError, ValueError):
                    continue
                for host in agg.get("hosts") or []:
                    # Nova's legacy filters use the minimum when a host is in several aggregates.
                    current = out.setdefault(host, {}).get(rc)
                    out[host][rc] = ratio if current is None else min(current, ratio)
    return out


def _from_capacity(capacity, total, reserved):
    """``(total, reserved, ratio)`` with ``(total - reserved) * ratio == capacity``: keep Nova's
    total and reserved estimate when they leave room, else the capacity itself at ratio 1."""
    capacity = float(capacity or 0)
    if capacity <= 0:
        return 0, 0, 1.0
    base = total - reserved
    if base <= 0:
        return int(capacity), 0, 1.0
    ratio = capacity / base
    rounded = round(ratio, 4)  # configured ratios are short decimals (4.0, 1.5); keep them readable
    return total, reserved, rounded if abs(rounded * base - capacity) < 1e-6 else ratio


def instance_usage(instances):
    """``{host: {RC: used}}`` summed from the instances table (what Placement allocates for
    them: pinned instances use PCPU instead of VCPU, boot-from-volume no DISK_GB)."""
    if instances is None or len(instances) == 0:
        return {}
    df = instances[instances["host"].notna() & (instances["host"] != "")]
    disk = df["disk_gb"] + df["ephemeral_gb"] + (df["swap_mb"] + 1023) // 1024
    pinned = df["pinned"].astype(bool)
    parts = {
        "VCPU": df["vcpus"].where(~pinned, 0),
        "PCPU": df["vcpus"].where(pinned, 0),
        "MEMORY_MB": df["memory_mb"],
        "DISK_GB": disk,
    }
    out = {}
    for rc, series in parts.items():
        for host, used in series.groupby(df["host"]).sum().items():
            out.setdefault(host, {})[rc] = int(used)
    return out


def build_nodes(
    hypervisors,
    services=None,
    aggregates=None,
    providers=None,
    inventories=None,
    usages=None,
    traits=None,
    instances=None,
    allocation_ratios=None,
    dead_l2_hosts=None,
    capacities=None,
    full=None,
    device_physnets=None,
):
    """The ``nodes`` table, one row per hypervisor, sorted by hostname.

    ``inventories``/``usages``/``traits``: ``{rp_uuid: ...}`` as Placement returns them per
    provider (``inventories`` the dict under "inventories", ``usages`` under "usages").
    When a provider's inventory is absent the hypervisor statistics (microversion < 2.88)
    give totals; reserved memory and disk are what the hypervisor counts as used beyond the
    instances' flavors (Nova adds reserved_host_memory_mb / reserved_host_disk_mb to *_used),
    reserved VCPU is 0; ratios come from aggregate metadata or ``allocation_ratios``
    (default: Nova's initial ratios). ``capacities`` (``{rp_uuid: {RC: capacity}}``, Placement's
    provider summaries) make that exact: the ratio becomes capacity / (total - reserved), and a
    class the provider lacks has no capacity. ``full`` (rp uuids whose capacity was not read,
    Placement summary mode's left-out providers) get, per class, a capacity equal to what is
    used: never roomier than the host is. Absent usages come from the instances table (if given),
    else the hypervisor's *_used. ``device_physnets``: ``{host: [physnets with VFs]}``."""
    svc_by_host = compute_services(services)
    agg_names, agg_zones = host_aggregates(aggregates)
    agg_ratios = _aggregate_ratios(aggregates)
    agg_meta = host_aggregate_metadata(aggregates)
    by_uuid, by_name = _providers_index(providers)
    inventories = inventories or {}
    usages = usages or {}
    traits = traits or {}
    ratios = dict(DEFAULT_ALLOCATION_RATIOS)
    ratios.update(allocation_ratios or {})
    from_instances = instance_usage(instances)
    dead = set(dead_l2_hosts or ())
    full = set(full or ())
    counts = instances["host"].value_counts().to_dict() if instances is not None and len(instances) else {}

    hyps = sorted((h for h in hypervisors or [] if _hypervisor_host(h)), key=_hypervisor_host)
    cols = dict((c, []) for c in schema.columns("nodes"))
    for hyp in hyps:
        host = _hypervisor_host(hyp)
        rp_uuid = _provider_uuid(hyp, providers, by_uuid, by_name)
        inv = inventories.get(rp_uuid)
        use = usages.get(rp_uuid)
        cols["hostname"].append(host)
        cols["hypervisor_hostname"].append(hyp.get("hypervisor_hostname"))
        cols["hypervisor_id"].append(str(hyp.get("id")) if hyp.get("id") is not None else None)
        cols["rp_uuid"].append(rp_uuid)
        for name, value in _service_columns(hyp, svc_by_host.get(host) or {}).items():
            cols[name].append(value)
        cols["network_agent_up"].append(host not in dead)
        zone = (svc_by_host.get(host) or {}).get("zone")
        cols["az"].append(zone if zone not in (None, "", "internal") else agg_zones.get(host, DEFAULT_AZ))
        cols["aggregates"].append(list(agg_names.get(host, [])))
        cols["aggregate_metadata"].append(agg_meta.get(host, {}))
        cols["traits"].append(sorted(traits.get(rp_uuid) or []) if rp_uuid in traits else [])
        cols["device_physnets"].append(sorted((device_physnets or {}).get(host) or []))
        for rc, values in _class_columns(
            hyp,
            inv,
            use,
            from_instances.get(host, {}) if host in from_instances or instances is not None else None,
            dict(ratios, **agg_ratios.get(host, {})),
            None if rp_uuid in full else (capacities or {}).get(rp_uuid),
            rp_uuid in full,
        ):
            for suffix, value in zip(("_total", "_reserved", "_allocation_ratio", "_used"), values):
                cols[rc.lower() + suffix].append(value)
        cols["instance_count"].append(int(counts.get(host, 0)) if counts else _int(hyp.get("running_vms")))
        cols["power_backend"].append("none")
        cols["power_node_id"].append(None)
        cols["power_state"].append("unknown")
    return frame.from_columns("nodes", cols)


def _service_columns(hyp, svc):
    """Nova's compute service fields of one host: its os-services record ``svc``, else what the
    hypervisor record carries."""
    hsvc = hyp.get("service") or {}
    return {
        "service_id": str(svc.get("id") or hsvc.get("id") or "") or None,
        "status": svc.get("status") or hyp.get("status") or "enabled",
        "state": svc.get("state") or hyp.get("state") or "up",
        "disabled_reason": svc.get("disabled_reason") or hsvc.get("disabled_reason") or "",
        "forced_down": bool(svc.get("forced_down")),
    }


def _provider_uuid(hyp, providers, by_uuid, by_name):
    """The resource provider uuid of a hypervisor, or None."""
    if providers is None:
        # Provider list not read (Placement summary): a compute node's provider has the
        # compute node's uuid, which is the hypervisor id from microversion 2.53 on.
        return str(hyp.get("id")) if _is_uuid(hyp.get("id")) else None
    rp = match_provider(hyp, by_uuid, by_name)
    return rp.get("uuid") if rp else None


def _class_columns(hyp, inv, use, host_use, ratios, cap, unread):
    """``(rc, (total, reserved, allocation ratio, used))`` per resource class of one host.

    ``host_use``: what its instances use (None when the instances are unknown); ``ratios``:
    the allocation ratios without an inventory (the host's aggregates over the defaults)."""
    for rc in schema.RESOURCE_CLASSES:
        used = _class_used(rc, hyp, use, host_use)
        if inv is not None:
            total, reserved, ratio = _class_inventory(inv, rc)
        else:
            total, reserved, ratio = _class_from_hypervisor(rc, hyp, used, host_use, ratios.get(rc, 1.0), cap, unread)
        yield rc, (total, reserved, ratio, used)


def _class_used(rc, hyp, use, host_use):
    """What a host uses of class ``rc``: Placement's usages, else its instances, else the hypervisor's *_used."""
    if use is not None:
        return _int(use.get(rc))
    if host_use is not None:
        return host_use.get(rc, 0)
    stat = _HYPERVISOR_STATS.get(rc)
    return _int(hyp.get(stat[1])) if stat else 0


def _class_inventory(inv, rc):
    """``(total, reserved, allocation ratio)`` of class ``rc`` from a Placement inventory."""
    item = inv.get(rc) or {}
    return (
        _int(item.get("total")),
        _int(item.get("reserved")),
        float(item.get("allocation_ratio", 1.0)) if item else 1.0,
    )


def _class_from_hypervisor(rc, hyp, used, host_use, ratio, cap, unread):
    """``(total, reserved, allocation ratio)`` of class ``rc`` without a Placement inventory:
    the hypervisor statistics, made exact by a provider summary ``cap`` when there is one.
    ``host_use``: what the host's instances use (None when the instances are unknown);
    ``unread``: the provider's capacity was not read (Placement summary mode left it out)."""
    stat = _HYPERVISOR_STATS.get(rc)
    total = _int(hyp.get(stat[0])) if stat else 0
    reserved = 0
    if rc in _RESERVED_IN_USED and host_use is not None and hyp.get(stat[1]) is not None:
        # Nova's memory_mb_used / local_gb_used = reserved_host_* + what instances use
        reserved = max(0, _int(hyp.get(stat[1])) - host_use.get(rc, 0))
    if unread:
        # capacity not read: as much as is used, so the host takes nothing more
        return _from_capacity(used, total, reserved)
    if cap is not None:
        if rc == "VCPU" and total > _int(cap.get("PCPU")):
            total -= _int(cap.get("PCPU"))  # Nova's vcpus counts the dedicated CPUs too
        return _from_capacity(cap.get(rc, 0), total, reserved)
    return total, reserved, ratio


# -- instances -------------------------------------------------------------------------


def required_traits(extra_specs, image_properties=None):
    """Traits a host must have: ``trait:X=required`` in flavor extra specs or image properties."""
    out = set()
    for specs in (extra_specs or {}, image_properties or {}):
        for key, value in specs.items():
            if key.startswith("trait:") and str(value).strip().lower() == "required":
                out.add(key[len("trait:") :])
            # Granular groups: trait1:HW_X=required
            elif key.startswith("trait") and ":" in key and str(value).strip().lower() == "required":
                out.add(key.split(":", 1)[1])
    return sorted(out)


def _resource(specs, rc):
    """Amount of ``resources:RC`` (or a granular ``resourcesN:RC``) in extra specs."""
    total = 0
    for key, value in (specs or {}).items():
        if key.startswith("resources") and key.endswith(":" + rc):
            total += _int(value)
    return total


def is_pinned(specs, image_properties=None):
    props = image_properties or {}
    return (
        str((specs or {}).get("hw:cpu_policy", "")).lower() == "dedicated"
        or str(props.get("hw_cpu_policy", "")).lower() == "dedicated"
        or _resource(specs, "PCPU") > 0
    )


def uses_vgpu(specs):
    return _resource(specs, "VGPU") > 0


def device_ports(ports):
    """``{server id: (vnic types, physical networks)}`` of its device-backed ports (vnic_type in
    SRIOV_VNIC_TYPES). The physnet is the one Nova wrote in ``binding:profile`` when it bound an
    SR-IOV-class port; accelerator ports have none."""
    out = {}
    for port in ports or []:
        vnic = port.get("binding:vnic_type")
        server = port.get("device_id")
        if (
            not server
            or vnic not in SRIOV_VNIC_TYPES
            or not port.get("device_owner", "compute:").startswith("compute:")
        ):
            continue
        vnics, nets = out.setdefault(server, (set(), set()))
        vnics.add(vnic)
        physnet = (port.get("binding:profile") or {}).get("physical_network")
        if physnet and vnic not in ACCELERATOR_VNIC_TYPES:
            nets.add(physnet)
    return dict((k, (sorted(v), sorted(n))) for k, (v, n) in out.items())


def _flavor_of(server, flavors_by_id):
    flavor = server.get("flavor") or {}
    if "vcpus" in flavor:  # microversion >= 2.47 embeds the flavor
        return flavor
    known = flavors_by_id.get(str(flavor.get("id")))
    if known is None:
        return flavor
    out = dict(known)
    out.setdefault("original_name", known.get("name"))
    out.setdefault("extra_specs", known.get("extra_specs") or known.get("OS-FLV-WITH-EXT-SPECS:extra_specs") or {})
    return out


def _image_id(server):
    image = server.get("image")
    if isinstance(image, dict):
        return image.get("id") or None
    return image or None


ROOT_DEVICE = "/dev/vda"


def boot_volume_images(servers, volumes):
    """``{server id: volume_image_metadata}`` of each boot-from-volume server's boot volume: the
    volume attached at the server's root device (``OS-EXT-SRV-ATTR:root_device_name``, /dev/vda
    when not shown). Nova reads a boot volume's image properties there, not in Glance."""
    roots = dict(
        (s.get("id"), s.get("OS-EXT-SRV-ATTR:root_device_name") or ROOT_DEVICE)
        for s in servers or []
        if _image_id(s) is None
    )
    out = {}
    for vol in volumes or []:
        meta = vol.get("volume_image_metadata")
        for att in vol.get("attachments") or []:
            sid = att.get("server_id")
            if meta and sid in roots and att.get("device") == roots[sid]:
                out[sid] = dict(meta)
    return out


def _image_properties(image):
    props = dict(image.get("properties") or {})
    props.update(
        (k, v) for k, v in image.items() if isinstance(k, str) and (k.startswith("trait") or k.startswith("hw_"))
    )
    return props


def _append_needs(cols, specs, image_props, device):
    """What a host must offer the server: traits, pinned CPUs, PCI and device ports, vGPU."""
    vnics, physnets = device
    cols["required_traits"].append(required_traits(specs, image_props))
    cols["pinned"].append(is_pinned(specs, image_props))
    cols["pci"].append(bool(specs.get("pci_passthrough:alias")) or bool(vnics))
    cols["device_vnic_types"].append(vnics)
    cols["device_physnets"].append(physnets)
    cols["vgpu"].append(uses_vgpu(specs))


def build_instances(
    servers,
    flavors=None,
    server_groups=None,
    images=None,
    ports=None,
    migrations=None,
    boot_images=None,
    move_without_image=False,
):
    """The ``instances`` table, one row per server, sorted by uuid.

    ``images``: ``{image_id: image}`` (Glance v2 images carry properties at top level); when
    given, a server whose image is not in it has lost its image (deleted while in use): its
    required traits and CPU policy are unknown, so it does not move unless
    ``move_without_image``. ``boot_images``: ``{server id: volume_image_metadata}`` of
    boot-from-volume servers (see boot_volume_images). ``ports``: Neutron ports
    (binding:vnic_type, device_id, binding:profile). ``migrations``: Nova os-migrations items;
    a server with one in progress is not migratable now.
    """
    flavors_by_id = dict((str(f.get("id")), f) for f in flavors or [])
    images_read = images is not None
    images = images or {}
    boot_images = boot_images or {}
    devices = device_ports(ports)
    groups_of = {}
    for group in server_groups or []:
        for member in group.get("members") or []:
            groups_of.setdefault(member, []).append(group.get("id"))
    migrating = set(
        m.get("instance_uuid") for m in migrations or [] if str(m.get("status", "")).lower() in IN_PROGRESS_MIGRATION
    )

    servers = sorted(servers or [], key=lambda s: str(s.get("id")))
    cols = dict((c, []) for c in schema.columns("instances"))
    cols["block_migration"] = []
    migrating_col = []
    gone_col = []
    for srv in servers:
        uuid = srv.get("id")
        flavor = _flavor_of(srv, flavors_by_id)
        specs = flavor.get("extra_specs") or {}
        image_id = _image_id(srv)
        bfv = image_id is None
        image_props = _image_properties(boot_images.get(uuid) or {} if bfv else images.get(image_id) or {})
        gone_col.append(images_read and not bfv and image_id not in images and not move_without_image)
        ephemeral = _int(flavor.get("ephemeral", flavor.get("OS-FLV-EXT-DATA:ephemeral")))
        swap = _int(flavor.get("swap")) if flavor.get("swap") not in ("", None) else 0
        cols["uuid"].append(uuid)
        cols["name"].append(srv.get("name"))
        cols["project_id"].append(srv.get("tenant_id") or srv.get("project_id"))
        cols["user_id"].append(srv.get("user_id"))
        cols["host"].append(srv.get("OS-EXT-SRV-ATTR:host") or None)
        cols["az"].append(srv.get("OS-EXT-AZ:availability_zone") or None)
        cols["status"].append(srv.get("status"))
        cols["task_state"].append(srv.get("OS-EXT-STS:task_state") or "")
        cols["locked"].append(bool(srv.get("locked")))
        cols["flavor_name"].append(flavor.get("original_name") or flavor.get("name"))
        cols["vcpus"].append(_int(flavor.get("vcpus")))
        cols["memory_mb"].append(_int(flavor.get("ram")))
        cols["disk_gb"].append(0 if bfv else _int(flavor.get("disk")))
        cols["ephemeral_gb"].append(ephemeral)
        cols["swap_mb"].append(swap)
        cols["extra_specs"].append(dict(specs))
        cols["image_id"].append(image_id)
        cols["boot_from_volume"].append(bfv)
        cols["server_groups"].append(list(srv.get("server_groups") or groups_of.get(uuid, [])))
        cols["metadata"].append(dict(srv.get("metadata") or {}))
        cols["tags"].append(list(srv.get("tags") or []))
        _append_needs(cols, specs, image_props, devices.get(uuid, ([], [])))
        # Local root, ephemeral or swap disks must be copied unless the instance store is shared.
        cols["block_migration"].append((not bfv) or ephemeral > 0 or swap > 0)
        migrating_col.append(uuid in migrating)
    cols["migratable"] = None
    cols["migratable_reason"] = None
    df = frame.from_columns("instances", cols)
    mig, reason = migratability(df, np.array(migrating_col, dtype=bool), np.array(gone_col, dtype=bool))
    df["migratable"] = frame.from_columns("instances", {"migratable": mig})["migratable"]
    df["migratable_reason"] = frame.from_columns("instances", {"migratable_reason": reason})["migratable_reason"]
    return df


def migratability(df, migrating=None, image_gone=None):
    """``(migratable, reason)`` arrays for an instances frame: live | cold | no and why.

    Rules, first match wins (Nova's allowed states: live-migrate ACTIVE, cold-migrate
    ACTIVE or SHUTOFF; vigil keeps PAUSED and SUSPENDED servers where they are):
    no host -> no; a task or migration in progress -> no; locked -> no; state other than
    ACTIVE/SHUTOFF -> no; its image gone (``image_gone``) -> no; SHUTOFF -> cold; pinned
    CPUs, PCI/SR-IOV, vGPU -> cold; else live.
    """
    n = len(df)
    if n == 0:
        return [], []
    if migrating is None:
        migrating = np.zeros(n, dtype=bool)
    if image_gone is None:
        image_gone = np.zeros(n, dtype=bool)
    host = df["host"].fillna("").astype(str).to_numpy()
    status = df["status"].fillna("").astype(str).str.upper().to_numpy()
    task = df["task_state"].fillna("").astype(str).to_numpy()
    locked = df["locked"].to_numpy(dtype=bool)
    pinned = df["pinned"].to_numpy(dtype=bool)
    pci = df["pci"].to_numpy(dtype=bool)
    vgpu = df["vgpu"].to_numpy(dtype=bool)
    task_reason = np.char.add("task in progress: ", task.astype(str))
    state_reason = np.char.add(
        np.char.add("state ", status.astype(str)), ": only ACTIVE (live/cold) or SHUTOFF (cold) servers move"
    )
    conditions = [
        host == "",
        task != "",
        np.asarray(migrating, dtype=bool),
        locked,
        ~np.isin(status, ["ACTIVE", "SHUTOFF"]),
        np.asarray(image_gone, dtype=bool),
        status == "SHUTOFF",
        pinned,
        pci,
        vgpu,
    ]
    kinds = ["no", "no", "no", "no", "no", "no", "cold", "cold", "cold", "cold"]
    reasons = [
        np.full(n, "not on a host"),
        task_reason,
        np.full(n, "a migration is in progress"),
        np.full(n, "server is locked"),
        state_reason,
        np.full(n, IMAGE_GONE_REASON),
        np.full(n, "SHUTOFF: cold migration only"),
        np.full(n, "pinned CPUs (hw:cpu_policy=dedicated or resources:PCPU): cold migration only"),
        np.full(n, "PCI passthrough or SR-IOV port: cold migration only"),
        np.full(n, "vGPU: cold migration only"),
    ]
    kind = np.select(conditions, kinds, default="live")
    reason = np.select(conditions, [r.astype(object) for r in reasons], default="")
    return kind.tolist(), reason.tolist()


# -- server groups ---------------------------------------------------------------------


def build_server_groups(server_groups):
    """The ``server_groups`` table (policy from microversion 2.64 ``policy`` or older ``policies``)."""
    groups = sorted(server_groups or [], key=lambda g: str(g.get("id")))
    cols = dict((c, []) for c in schema.columns("server_groups"))
    for g in groups:
        policy = g.get("policy") or ((g.get("policies") or [None])[0])
        rules = g.get("rules") or {}
        cols["id"].append(g.get("id"))
        cols["name"].append(g.get("name"))
        cols["policy"].append(policy)
        cols["members"].append(list(g.get("members") or []))
        cols["max_server_per_host"].append(_int(rules.get("max_server_per_host"), 1))
        cols["project_id"].append(g.get("project_id"))
    return frame.from_columns("server_groups", cols)
