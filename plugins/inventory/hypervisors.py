# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: hypervisors
short_description: Nova compute hosts as an inventory, with capacity and usage from Placement
version_added: 0.1.0
description:
  - One host per Nova compute node, read in bulk by the same collectors as
    M(vigil.openstack.compute_model_info) (Nova, Placement, Neutron; Glance for instance
    details), so the host variables are the columns of vigil's C(nodes) table (the amounts
    per resource class are grouped in C(capacity)) -
    C(hostname), C(hypervisor_hostname), C(hypervisor_id), C(rp_uuid), C(service_id),
    C(status) (C(enabled)/C(disabled)), C(state) (C(up)/C(down)), C(disabled_reason),
    C(forced_down), C(network_agent_up), C(az), C(aggregates), C(traits), C(instance_count),
    C(power_backend), C(power_node_id), C(power_state).
  - C(capacity) holds per resource class (C(VCPU), C(MEMORY_MB), C(DISK_GB), C(PCPU)) the
    table's C(total), C(reserved), C(allocation_ratio) and C(used), plus C(usable), which is
    (C(total) - C(reserved)) * C(allocation_ratio), and C(free), which is C(usable) - C(used).
  - With I(instances=true), C(instances) lists the servers on the host (uuid, name, status,
    project_id, flavor_name, vcpus, memory_mb, disk_gb, migratable, migratable_reason).
  - Default groups - C(hypervisors) (all), C(az_<zone>), C(aggregate_<name>),
    C(status_enabled) / C(status_disabled), C(state_up) / C(state_down). C(compose),
    C(groups) and C(keyed_groups) add more.
  - Host names are the Nova compute service host names, matched exactly (C(compute-1) and
    C(compute-10) are different hosts).
  - The configuration file name must end with C(hypervisors.yml) or C(hypervisors.yaml).
  - Works as an AWX / AAP inventory source I(sourced from a project) - attach an OpenStack
    credential, it injects C(OS_CLIENT_CONFIG_FILE) (and C(OS_CLOUD)).
author:
  - vigil contributors (@vigil-openstack)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - vigil.openstack.openstack
  - vigil.openstack.inventory
options:
  plugin:
    choices: [vigil.openstack.hypervisors]
  scope:
    description:
      - Which hosts to list, as the C(scope) of M(vigil.openstack.compute_model_info) -
        C(availability_zones), C(host_aggregates), C(compute_nodes) and C(exclude) with
        C(compute_nodes) and C(host_aggregates).
    type: dict
    default: {}
  instances:
    description:
      - Add the list of servers on each host as the C(instances) host variable. Reads the
        Glance properties of their images too.
    type: bool
    default: false
  placement_detail:
    description:
      - How much of Placement to read, as in M(vigil.openstack.compute_model_info) - C(full)
        (three requests per host), C(summary) (one request - Placement's provider summaries;
        hosts without memory free are modelled full, with no traits) or C(auto) (C(full) up to
        50 hosts).
    type: str
    choices: [auto, full, summary]
    default: auto
  read_network:
    description: Read Neutron L2 agents (sets C(network_agent_up)).
    type: bool
    default: true
  inventory_hostname:
    description:
      - What names the hosts - the compute service C(hostname) or the C(hypervisor_hostname)
        (the Placement provider name, often a FQDN).
    type: str
    choices: [hostname, hypervisor_hostname]
    default: hostname
"""

EXAMPLES = r"""
# inventory/hypervisors.yml - credentials from clouds.yaml / OS_CLOUD / OS_* (AWX credential)
plugin: vigil.openstack.hypervisors
cloud: mycloud
---

# One AZ, servers per host, extra groups, cached for five minutes
plugin: vigil.openstack.hypervisors
cloud: mycloud
scope:
  availability_zones: [az1]
  exclude:
    compute_nodes: [compute-99]
instances: true
groups:
  empty: instance_count == 0 and status == 'enabled'
  nearly_full: capacity.MEMORY_MB.free < 8192
keyed_groups:
  - key: traits
    prefix: trait
compose:
  ansible_host: hypervisor_hostname
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/vigil-inventory-cache
cache_timeout: 300
"""

from ansible.errors import AnsibleParserError

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema
from ansible_collections.vigil.openstack.plugins.plugin_utils.inventory import VigilInventory

CONNECTION_OPTIONS = tuple(connection.openstack_argument_spec())
RC_COLUMNS = frozenset(
    "%s_%s" % (rc.lower(), part)
    for rc in schema.RESOURCE_CLASSES
    for part in ("total", "reserved", "allocation_ratio", "used")
)
INSTANCE_VARS = (
    "uuid",
    "name",
    "status",
    "project_id",
    "flavor_name",
    "vcpus",
    "memory_mb",
    "disk_gb",
    "migratable",
    "migratable_reason",
)


def capacity(row):
    """Per resource class: total, reserved, allocation_ratio, used, usable, free."""
    out = {}
    for rc in schema.RESOURCE_CLASSES:
        low = rc.lower()
        total, reserved, ratio, used = (
            row[low + "_total"],
            row[low + "_reserved"],
            row[low + "_allocation_ratio"],
            row[low + "_used"],
        )
        usable = (total - reserved) * ratio
        out[rc] = dict(
            total=total, reserved=reserved, allocation_ratio=ratio, used=used, usable=usable, free=usable - used
        )
    return out


class InventoryModule(VigilInventory):
    NAME = "vigil.openstack.hypervisors"
    FILE_NAMES = ("hypervisors.yml", "hypervisors.yaml")

    def _collect(self):
        # Imported here: pandas and the collectors are not needed when the cache answers.
        from ansible_collections.vigil.openstack.plugins.module_utils.collect import compute_model, rest
        from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
        from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scope_mod

        params = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        with_instances = self.get_option("instances")
        try:
            scope = scope_mod.normalize(self.get_option("scope"))
            conn = connection.connect(params)
            tables, meta = compute_model.collect(
                conn,
                scope=scope,
                placement_detail=self.get_option("placement_detail"),
                with_network=self.get_option("read_network"),
                with_images=with_instances,
            )
        except (connection.VigilConnectionError, rest.CollectError, ValueError) as exc:
            # one line for the user, no traceback of the SDK underneath
            raise AnsibleParserError("vigil.openstack.hypervisors: %s" % exc) from None
        if not with_instances:
            tables.pop("instances")
        tables.pop("server_groups")
        # The cache keeps JSON: the model in split form, as modules return it.
        return frame.dump_model(tables, meta)

    def _rows(self, model, table):
        data = model.get(table)
        if not data:
            return []
        return [dict(zip(data["columns"], row)) for row in data["data"]]

    def _populate(self, data):
        name_key = self.get_option("inventory_hostname")
        per_host = {}
        for inst in self._rows(data, "instances"):
            per_host.setdefault(inst["host"], []).append(dict((k, inst[k]) for k in INSTANCE_VARS))
        for row in self._rows(data, "nodes"):
            host = row[name_key] or row["hostname"]
            hostvars = dict((k, v) for k, v in row.items() if k not in RC_COLUMNS)
            hostvars["capacity"] = capacity(row)
            if "instances" in data:
                hostvars["instances"] = per_host.get(row["hostname"], [])
            self._add_host(host, hostvars)

    @staticmethod
    def _default_groups(v):
        groups = ["hypervisors", "status_" + str(v["status"]), "state_" + str(v["state"])]
        if v["az"]:
            groups.append("az_" + v["az"])
        groups.extend("aggregate_" + a for a in v["aggregates"] or [])
        return groups
