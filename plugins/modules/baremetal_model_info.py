#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: baremetal_model_info
short_description: Read Ironic nodes and MAAS machines into vigil's baremetal model
version_added: 0.1.0
description:
  - Reads the bare-metal records that power compute hosts, from OpenStack Ironic and/or
    Canonical MAAS (through python-libmaas), and returns the C(baremetal) table of vigil's
    cluster model in C(split) orientation - id, backend, name, power state (C(on), C(off),
    C(unknown)), provision state (Ironic C(provision_state), MAAS C(status_name)),
    maintenance (Ironic C(maintenance), MAAS C(locked)), linked compute host name, zone
    (MAAS zone, Ironic conductor group) and pool (MAAS resource pool).
  - Each record is linked to the Nova compute host it powers by exact name, never by
    substring - Ironic C(extra.compute_hostname), else C(extra.compute_node_id) (a hypervisor
    id), else the node name; MAAS C(hostname), else C(fqdn). With I(link_compute=true) a
    name links only when Nova has a compute service of exactly that host name.
  - Requests - Ironic node pages of 1000, one MAAS machines list, one Nova os-services list
    (plus hypervisor pages only when Ironic nodes use C(extra.compute_node_id)).
  - A backend whose service is not in the catalog is skipped and named in
    C(model.meta.skipped); authentication failures, unreachable endpoints and missing roles
    fail with a one-line message.
  - Changes nothing; supports check mode.
author:
  - vigil contributors (@vigil-openstack)
options:
  model:
    description:
      - A cluster model from M(vigil.openstack.compute_model_info). When given, the returned
        C(model) is that model with the C(baremetal) table added and the C(nodes) table's
        C(power_backend), C(power_node_id) and C(power_state) filled from it (exact host
        names), which strategies and M(vigil.openstack.node_power) use to power hosts.
    type: dict
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.info_module
  - vigil.openstack.maas
  - vigil.openstack.baremetal_sources
seealso:
  - module: vigil.openstack.compute_model_info
  - module: vigil.openstack.node_power
"""

EXAMPLES = r"""
- name: Ironic nodes linked to compute hosts
  vigil.openstack.baremetal_model_info:
    cloud: mycloud
  register: bm

- name: Ironic and MAAS
  vigil.openstack.baremetal_model_info:
    cloud: mycloud
    backends: [ironic, maas]
    maas_url: http://maas.example.com:5240/MAAS/
    maas_api_key: "{{ vault_maas_api_key }}"
  register: bm

- name: MAAS only, without OpenStack credentials
  vigil.openstack.baremetal_model_info:
    backends: [maas]
    link_compute: false
  environment:
    MAAS_URL: http://maas.example.com:5240/MAAS/
    MAAS_API_KEY: "{{ vault_maas_api_key }}"

- name: Compute hosts that are powered off
  ansible.builtin.debug:
    msg: "{{ bm.model.baremetal.data | selectattr(3, 'equalto', 'off') | map(attribute=6) | list }}"
"""

RETURN = r"""
model:
  description:
    - The bare-metal part of vigil's cluster model, in pandas C(split) orientation; columns
      are documented in docs/model.md.
    - With I(model), the whole given model with C(baremetal) added and C(nodes) linked to it.
  returned: always
  type: dict
  contains:
    baremetal:
      description: One row per Ironic node, then one per MAAS machine.
      type: dict
      sample:
        columns: [id, backend, name, power_state, provision_state, maintenance, hostname, zone, pool]
        data: [["1be2...", "ironic", "bm-compute-1", "on", "active", false, "compute-1", "", ""]]
    meta:
      description: C(digest) of the table, C(collected) time, C(cloud) name, C(backends) read and C(skipped) services.
      type: dict
hostvars:
  description: Per record, facts beyond the table (Ironic driver and resource class, MAAS fqdn, power type, tags), keyed by record id.
  returned: always
  type: dict
unlinked:
  description: Names of records that could not be linked to a compute host.
  returned: always
  type: list
  elements: str
skipped_services:
  description:
    - Services not read because they are not in the catalog, with the reason (the same
      list as C(model.meta.skipped); C(skipped) itself is a name Ansible reserves).
  returned: always
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.collect import baremetal as sources
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import baremetal_model_info
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import run_info_module

ARGUMENT_SPEC = dict(
    backends=dict(type="list", elements="str", choices=list(sources.BACKENDS)),
    link_compute=dict(type="bool", default=True),
    page_size=dict(type="int", default=1000),
    model=dict(type="dict"),
)


def main():
    run_info_module(AnsibleModule, ARGUMENT_SPEC, baremetal_model_info.run, maas=True)


if __name__ == "__main__":
    main()
