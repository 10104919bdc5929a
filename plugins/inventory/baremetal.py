# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: baremetal
short_description: Ironic nodes and MAAS machines as an inventory, grouped by power and provision state
version_added: 0.1.0
description:
  - One host per OpenStack Ironic node and per Canonical MAAS machine (python-libmaas), with
    the columns of vigil's C(baremetal) table as host variables - C(baremetal_id),
    C(backend), C(power_state) (C(on), C(off), C(unknown)), C(provision_state),
    C(maintenance), C(compute_hostname) (the Nova compute host the machine is, matched
    exactly), C(zone), C(pool) - plus backend facts (Ironic C(driver), C(resource_class);
    MAAS C(fqdn), C(power_type), C(baremetal_tags)).
  - Default groups - C(baremetal) (all), C(ironic) / C(maas), C(power_on) / C(power_off) /
    C(power_unknown), C(provision_<state>), C(zone_<zone>), C(pool_<pool>), C(maintenance),
    and C(linked) / C(unlinked) (to a compute host). C(compose), C(groups) and
    C(keyed_groups) add more.
  - The configuration file name must end with C(baremetal.yml) or C(baremetal.yaml).
  - Works as an AWX / AAP inventory source I(sourced from a project) - attach an OpenStack
    credential (it injects C(OS_CLIENT_CONFIG_FILE)) and, for MAAS, set C(MAAS_URL) and
    C(MAAS_API_KEY) in the source's environment variables or a custom credential.
author:
  - vigil contributors (@vigil-openstack)
extends_documentation_fragment:
  - constructed
  - inventory_cache
  - vigil.openstack.openstack
  - vigil.openstack.maas
  - vigil.openstack.inventory
  - vigil.openstack.baremetal_sources
options:
  plugin:
    choices: [vigil.openstack.baremetal]
  maas_url:
    env:
      - name: MAAS_URL
  maas_api_key:
    env:
      - name: MAAS_API_KEY
  backends:
    env:
      - name: VIGIL_BAREMETAL_BACKENDS
  link_compute:
    env:
      - name: VIGIL_BAREMETAL_LINK_COMPUTE
  inventory_hostname:
    description:
      - What names the hosts - the record's C(name) (Ironic node name, MAAS hostname), the
        linked C(compute_hostname), or the record C(id) (Ironic uuid, MAAS system_id).
      - When the chosen value is empty, or two records would share it, the record id is used.
    type: str
    choices: [name, compute_hostname, id]
    default: name
"""

EXAMPLES = r"""
# inventory/baremetal.yml - Ironic only, credentials from clouds.yaml / OS_* / AWX
plugin: vigil.openstack.baremetal
cloud: mycloud
---

# Ironic and MAAS, hosts named after their compute host, extra groups
plugin: vigil.openstack.baremetal
cloud: mycloud
backends: [ironic, maas]
maas_url: http://maas.example.com:5240/MAAS/
inventory_hostname: compute_hostname
keyed_groups:
  - key: baremetal_tags
    prefix: tag
groups:
  can_power_off: power_state == 'on' and not maintenance
compose:
  ansible_host: fqdn | default(omit)
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: /tmp/vigil-inventory-cache
cache_timeout: 300
"""

from ansible.errors import AnsibleParserError

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import baremetal as sources
from ansible_collections.vigil.openstack.plugins.module_utils.collect import rest
from ansible_collections.vigil.openstack.plugins.module_utils.model import baremetal
from ansible_collections.vigil.openstack.plugins.plugin_utils.inventory import VigilInventory

CONNECTION_OPTIONS = tuple(connection.openstack_argument_spec()) + tuple(connection.maas_argument_spec())


class InventoryModule(VigilInventory):
    NAME = "vigil.openstack.baremetal"
    FILE_NAMES = ("baremetal.yml", "baremetal.yaml")

    def _collect(self):
        params = dict((name, self.get_option(name)) for name in CONNECTION_OPTIONS)
        backends = self.get_option("backends") or sources.default_backends(params)
        try:
            return sources.collect(params, backends, self.get_option("link_compute"), self.get_option("page_size"))
        except (connection.VigilConnectionError, rest.CollectError, ValueError) as exc:
            # one line for the user, no traceback of the SDK underneath
            raise AnsibleParserError("vigil.openstack.baremetal: %s" % exc) from None

    def _host_names(self, rows):
        key = self.get_option("inventory_hostname")
        wanted = [(r["hostname"] if key == "compute_hostname" else r[key]) or r["id"] for r in rows]
        counts = {}
        for name in wanted:
            counts[name] = counts.get(name, 0) + 1
        return [name if counts[name] == 1 else r["id"] for name, r in zip(wanted, rows)]

    def _populate(self, data):
        table = baremetal.build(data["ironic"], data["maas"], data["compute_hosts"], data["hypervisors"])
        extras = baremetal.extra_hostvars(data["ironic"], data["maas"])
        rows = table.astype(object).where(table.notna(), None).to_dict("records")
        for host, row, extra in zip(self._host_names(rows), rows, extras):
            hostvars = dict(extra)
            hostvars["baremetal_tags"] = hostvars.pop("tags", [])  # "tags" is a reserved play keyword
            hostvars.update(
                baremetal_id=row["id"],
                baremetal_name=row["name"],
                backend=row["backend"],
                power_state=row["power_state"],
                provision_state=row["provision_state"],
                maintenance=bool(row["maintenance"]),
                compute_hostname=row["hostname"],
                zone=row["zone"],
                pool=row["pool"],
            )
            self._add_host(host, hostvars)

    @staticmethod
    def _default_groups(v):
        groups = [
            "baremetal",
            v["backend"],
            "power_" + v["power_state"],
            "linked" if v["compute_hostname"] else "unlinked",
        ]
        if v["provision_state"]:
            groups.append("provision_" + v["provision_state"].lower().replace(" ", "_"))
        if v["zone"]:
            groups.append("zone_" + v["zone"])
        if v["pool"]:
            groups.append("pool_" + v["pool"])
        if v["maintenance"]:
            groups.append("maintenance")
        return groups
