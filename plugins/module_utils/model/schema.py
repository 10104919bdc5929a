# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The cluster model's table schemas: every column, its dtype, unit and source API field.

This is the contract between collectors (which fill the tables), strategies (which read
them) and the twin (which can serve a model snapshot). docs/model.md is generated from
it (``python -m ...model.schema --markdown``) and checked in tests.

dtypes are pandas dtype names. List and dict valued columns are ``object``. Units are
spelled in the column name (``memory_mb``, ``disk_gb``); percentages end in ``_pct``.
"""

from __future__ import absolute_import, division, print_function

from collections import namedtuple

Column = namedtuple("Column", "name dtype source description")

RESOURCE_CLASSES = ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU")


def _rc_columns():
    cols = []
    for rc in RESOURCE_CLASSES:
        low = rc.lower()
        cols += [
            Column(low + "_total", "int64", "placement inventories[%s].total" % rc, "inventory total of %s" % rc),
            Column(low + "_reserved", "int64", "placement inventories[%s].reserved" % rc, "reserved %s" % rc),
            Column(
                low + "_allocation_ratio",
                "float64",
                "placement inventories[%s].allocation_ratio" % rc,
                "overcommit ratio of %s" % rc,
            ),
            Column(low + "_used", "int64", "placement usages[%s]" % rc, "%s allocated to consumers" % rc),
        ]
    return cols


TABLES = {
    "nodes": [
        Column(
            "hostname",
            "string",
            "nova os-services host (os-hypervisors service.host)",
            "compute host name (exact match key; servers' host and migration target)",
        ),
        Column(
            "hypervisor_hostname",
            "string",
            "nova os-hypervisors hypervisor_hostname",
            "hypervisor node name (Placement provider name; may be an FQDN)",
        ),
        Column("hypervisor_id", "string", "nova os-hypervisors id", "hypervisor id (uuid from microversion 2.53)"),
        Column("rp_uuid", "string", "placement resource_providers uuid", "resource provider of the compute node"),
        Column("service_id", "string", "nova os-services id", "nova-compute service id"),
        Column("status", "string", "nova os-services status", "enabled | disabled"),
        Column("state", "string", "nova os-services state", "up | down"),
        Column("disabled_reason", "string", "nova os-services disabled_reason", "why the service is disabled"),
        Column("forced_down", "bool", "nova os-services forced_down", "service forced down"),
        Column(
            "network_agent_up",
            "bool",
            "neutron agents alive / admin_state_up (L2 agent types)",
            "the host's L2 agent is alive (true when Neutron has no agent for it or was not read)",
        ),
        Column("az", "string", "nova os-availability-zone / os-aggregates availability_zone", "availability zone"),
        Column("aggregates", "object", "nova os-aggregates hosts", "list of aggregate names the host is in"),
        Column(
            "aggregate_metadata",
            "object",
            "nova os-aggregates metadata",
            "{key: [values]} over the host's aggregates, comma lists split (as Nova's filters read it)",
        ),
        Column("traits", "object", "placement resource_providers/{uuid}/traits", "list of traits of the provider"),
        Column(
            "device_physnets",
            "object",
            "neutron agents (NIC Switch agent) configurations.device_mappings",
            "physical networks on which the host has SR-IOV VFs (empty: not reported)",
        ),
    ]
    + _rc_columns()
    + [
        Column("instance_count", "int64", "nova servers host", "servers on the host (any state)"),
        Column("power_backend", "string", "ironic/maas link", "ironic | maas | none: how the host is powered"),
        Column(
            "power_node_id",
            "string",
            "ironic nodes uuid / maas machines system_id",
            "bare-metal record powering the host",
        ),
        Column("power_state", "string", "ironic power_state / maas power_state", "on | off | unknown"),
    ],
    "instances": [
        Column("uuid", "string", "nova servers id", "server id"),
        Column("name", "string", "nova servers name", "server name"),
        Column("project_id", "string", "nova servers tenant_id", "owning project"),
        Column("user_id", "string", "nova servers user_id", "owning user"),
        Column("host", "string", "nova servers OS-EXT-SRV-ATTR:host", "compute host (exact)"),
        Column("az", "string", "nova servers OS-EXT-AZ:availability_zone", "availability zone"),
        Column("status", "string", "nova servers status", "ACTIVE, SHUTOFF, PAUSED, ..."),
        Column("task_state", "string", "nova servers OS-EXT-STS:task_state", "in-flight task or empty"),
        Column("locked", "bool", "nova servers locked", "server is locked"),
        Column("flavor_name", "string", "nova servers flavor.original_name", "flavor name"),
        Column("vcpus", "int64", "nova servers flavor.vcpus", "vCPUs"),
        Column("memory_mb", "int64", "nova servers flavor.ram", "RAM in MiB"),
        Column("disk_gb", "int64", "nova servers flavor.disk", "root disk in GiB (0 when boot from volume)"),
        Column("ephemeral_gb", "int64", "nova servers flavor.ephemeral", "ephemeral disk GiB"),
        Column("swap_mb", "int64", "nova servers flavor.swap", "swap MiB"),
        Column("extra_specs", "object", "nova servers flavor.extra_specs", "flavor extra specs dict"),
        Column("image_id", "string", "nova servers image.id", "image id, empty when boot from volume"),
        Column("boot_from_volume", "bool", "nova servers image == ''", "root disk is a Cinder volume"),
        Column("server_groups", "object", "nova os-server-groups members", "list of server group ids"),
        Column("metadata", "object", "nova servers metadata", "metadata dict"),
        Column("tags", "object", "nova servers tags", "list of tags"),
        Column(
            "required_traits", "object", "flavor trait:*=required, image trait:*=required", "traits a host must have"
        ),
        Column("pinned", "bool", "flavor hw:cpu_policy=dedicated / resources:PCPU", "uses pinned CPUs"),
        Column("pci", "bool", "flavor pci_passthrough:alias, neutron ports vnic_type direct", "uses PCI or SR-IOV"),
        Column(
            "device_vnic_types",
            "object",
            "neutron ports binding:vnic_type",
            "vnic types of the server's device-backed ports (direct, macvtap, vdpa, accelerator-direct...)",
        ),
        Column(
            "device_physnets",
            "object",
            "neutron ports binding:profile physical_network",
            "physical networks of those ports (where Neutron shows them)",
        ),
        Column("vgpu", "bool", "flavor resources:VGPU", "uses a vGPU"),
        Column(
            "block_migration",
            "bool",
            "derived: image-backed root disk, ephemeral or swap",
            "has local disks: a live migration copies them unless instance storage is shared",
        ),
        Column("migratable", "string", "derived", "live | cold | no"),
        Column("migratable_reason", "string", "derived", "why not live/cold migratable"),
    ],
    "server_groups": [
        Column("id", "string", "nova os-server-groups id", "server group id"),
        Column("name", "string", "nova os-server-groups name", "name"),
        Column(
            "policy",
            "string",
            "nova os-server-groups policy",
            "affinity | anti-affinity | soft-affinity | soft-anti-affinity",
        ),
        Column("members", "object", "nova os-server-groups members", "list of server ids"),
        Column(
            "max_server_per_host",
            "int64",
            "nova os-server-groups rules.max_server_per_host",
            "anti-affinity limit (1 when unset)",
        ),
        Column("project_id", "string", "nova os-server-groups project_id", "owning project"),
    ],
    "volumes": [
        Column("id", "string", "cinder volumes id", "volume id"),
        Column("name", "string", "cinder volumes name", "volume name"),
        Column("project_id", "string", "cinder volumes os-vol-tenant-attr:tenant_id", "owning project"),
        Column("host", "string", "cinder volumes os-vol-host-attr:host", "host@backend#pool"),
        Column("pool", "string", "cinder volumes os-vol-host-attr:host", "pool name (host@backend#pool)"),
        Column("size_gb", "int64", "cinder volumes size", "size GiB"),
        Column("volume_type", "string", "cinder volumes volume_type", "volume type name"),
        Column("status", "string", "cinder volumes status", "available, in-use, ..."),
        Column("migration_status", "string", "cinder volumes migration_status", "migration state or empty"),
        Column("bootable", "bool", "cinder volumes bootable", "bootable"),
        Column("attachments", "object", "cinder volumes attachments server_id", "list of attached server ids"),
        Column("az", "string", "cinder volumes availability_zone", "availability zone"),
    ],
    "pools": [
        Column("name", "string", "cinder scheduler-stats name", "host@backend#pool"),
        Column("backend", "string", "cinder scheduler-stats capabilities.volume_backend_name", "backend name"),
        Column("total_capacity_gb", "float64", "capabilities.total_capacity_gb", "total GiB"),
        Column("free_capacity_gb", "float64", "capabilities.free_capacity_gb", "free GiB"),
        Column("allocated_capacity_gb", "float64", "capabilities.allocated_capacity_gb", "provisioned GiB"),
        Column(
            "max_over_subscription_ratio",
            "float64",
            "capabilities.max_over_subscription_ratio",
            "thin overcommit ratio",
        ),
        Column("thin_provisioning", "bool", "capabilities.thin_provisioning_support", "thin provisioning"),
        Column("reserved_percentage", "float64", "capabilities.reserved_percentage", "reserved %"),
        Column("volume_types", "object", "cinder types extra_specs volume_backend_name", "volume types served"),
    ],
    "baremetal": [
        Column("id", "string", "ironic nodes uuid / maas system_id", "node id"),
        Column("backend", "string", "derived", "ironic | maas"),
        Column("name", "string", "ironic name / maas hostname", "node name"),
        Column("power_state", "string", "ironic power_state / maas power_state", "on | off | unknown"),
        Column("provision_state", "string", "ironic provision_state / maas status_name", "provision state"),
        Column("maintenance", "bool", "ironic maintenance / maas locked", "in maintenance"),
        Column(
            "hostname", "string", "ironic instance_info/extra compute_hostname, maas hostname", "linked compute host"
        ),
        Column("zone", "string", "maas zone / ironic conductor_group", "zone or conductor group"),
        Column("pool", "string", "maas pool", "resource pool"),
    ],
    "metrics": [
        Column("resource_type", "string", "derived", "node | instance"),
        Column("resource_id", "string", "hostname or server uuid", "what the value is about"),
        Column(
            "metric",
            "string",
            "metric map key",
            "cpu_util_pct, ram_used_mb, outlet_temp_c, inlet_temp_c, airflow, power_w, l3_cache_mb",
        ),
        Column("aggregate", "string", "query", "mean | max | min"),
        Column("period_s", "int64", "query", "window length in seconds"),
        Column("value", "float64", "prometheus", "measured value"),
    ],
}

METRIC_NAMES = ("cpu_util_pct", "ram_used_mb", "outlet_temp_c", "inlet_temp_c", "airflow", "power_w", "l3_cache_mb")


def columns(table):
    return [c.name for c in TABLES[table]]


def dtypes(table):
    return dict((c.name, c.dtype) for c in TABLES[table])


def _cell(text):
    return text.replace("|", "\\|")


def to_markdown():
    out = ["# The cluster model", "", "Generated from `plugins/module_utils/model/schema.py`.", ""]
    for table, cols in TABLES.items():
        out += ["## %s" % table, "", "| column | dtype | source | meaning |", "|---|---|---|---|"]
        out += ["| `%s` | %s | %s | %s |" % (c.name, c.dtype, _cell(c.source), _cell(c.description)) for c in cols]
        out.append("")
    return "\n".join(out)


BEGIN_MARK = "<!-- BEGIN GENERATED from schema.py: do not edit by hand -->"
END_MARK = "<!-- END GENERATED -->"


def update_markdown(text):
    """`text` (docs/model.md) with the part between the markers replaced by `to_markdown()`."""
    head, sep, rest = text.partition(BEGIN_MARK)
    if not sep:
        raise ValueError("no %r marker" % BEGIN_MARK)
    sep, tail = rest.partition(END_MARK)[1:]
    if not sep:
        raise ValueError("no %r marker" % END_MARK)
    return head + BEGIN_MARK + "\n" + to_markdown() + "\n" + END_MARK + tail


if __name__ == "__main__":  # python -m ...model.schema docs/model.md  (rewrites the generated part)
    import sys

    for doc in sys.argv[1:]:
        with open(doc) as fh:
            new = update_markdown(fh.read())
        with open(doc, "w") as fh:
            fh.write(new)
