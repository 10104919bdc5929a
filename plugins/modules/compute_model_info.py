#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: compute_model_info
short_description: Read Nova, Placement, Glance and Neutron into vigil's compute model
version_added: 0.1.0
description:
  - Reads the compute side of an OpenStack cloud in bulk and returns the C(nodes),
    C(instances) and C(server_groups) tables of vigil's cluster model in C(split)
    orientation, with C(meta) (digest, collection time, cloud, skipped services, scope).
  - Nova - hypervisors, nova-compute services, aggregates, availability zones (from the
    services and aggregates), servers of all projects with their flavors and extra specs,
    server groups, migrations of the last day. Placement - resource providers and, per
    I(placement_detail), their inventories (total, reserved, allocation ratio per resource
    class, PCPU included), usages and traits. Glance - properties of the images in use
    (required traits, CPU policy). Neutron - SR-IOV ports and L2 agents.
  - Derives for each instance whether it can move C(live), C(cold) or C(no), with the reason
    (state, task in flight, lock, pinned CPUs, PCI/SR-IOV, vGPU), the traits its host must
    have, and whether a live migration copies local disks (C(block_migration)).
  - A boot-from-volume server takes its image properties (required traits, C(hw_cpu_policy))
    from its boot volume's C(volume_image_metadata), as Nova does - one Cinder request for
    the bootable volumes of all projects, made only when such a server exists.
  - A server whose image Glance no longer has keeps no image constraints, so it stays where
    it is (C(migratable=no)) with a warning, unless I(move_servers_without_image).
  - Host names are matched exactly everywhere (C(compute-1) never matches C(compute-10)).
  - About 30 requests for 1000 hypervisors and 20000 servers with C(placement_detail=summary)
    (C(auto) picks it above 50 providers); docs/model.md lists what each collector reads.
  - Needs an admin role. Placement, Glance and Neutron are optional - when one is missing
    from the catalog the model is built from what exists and C(model.meta.skipped) says what
    was left out. Changes nothing in the cloud; supports check mode.
author:
  - vigil contributors (@vigil-openstack)
options:
  availability_zones:
    description:
      - Only hosts in these availability zones.
    type: list
    elements: str
  host_aggregates:
    description:
      - Only hosts in at least one of these host aggregates (names).
    type: list
    elements: str
  compute_nodes:
    description:
      - Only these compute hosts (exact host names as in C(openstack compute service list)).
    type: list
    elements: str
  projects:
    description:
      - Only instances of these projects (ids or names) may move; other instances stay in the
        model as load. Names are resolved through Keystone.
    type: list
    elements: str
  domains:
    description:
      - Only instances of projects in these domains (ids or names) may move. With
        I(projects), the union of both.
    type: list
    elements: str
  exclude:
    description:
      - Hosts and instances left out of the audit, as Watcher's scope C(exclude).
      - Excluded hosts are dropped from the model; excluded instances stay (they take
        capacity) and the planner never moves them.
    type: dict
    suboptions:
      compute_nodes:
        description: Host names never used as source or destination.
        type: list
        elements: str
      host_aggregates:
        description: Hosts in any of these aggregates are excluded.
        type: list
        elements: str
      instances:
        description: Instance ids (or names) that never move.
        type: list
        elements: str
      projects:
        description: Instances of these projects (ids or names) never move.
        type: list
        elements: str
      instance_metadata:
        description: Instances whose metadata has all these key/value pairs never move.
        type: dict
      instance_tags:
        description: Instances with any of these tags never move.
        type: list
        elements: str
  placement_detail:
    description:
      - How much of Placement to read.
      - C(full) reads inventories, usages and traits of every provider in scope (three
        requests per provider, eight at a time) - exact reserved amounts, allocation ratios,
        PCPU inventory and every trait.
      - C(summary) reads Placement's provider summaries in one request
        (C(GET /allocation_candidates?resources=MEMORY_MB:1)) - exact capacity, usages and traits
        of every compute node with memory free, whatever its vCPUs; totals and reserved memory
        and disk come from Nova's hypervisor statistics and the allocation ratio is what makes
        their product Placement's capacity.
      - A host without a MiB of memory free can take no server and is missing from that answer
        (C(placement_estimated) in the model's meta) - C(summary) models it full on every
        resource class (capacity equal to what its servers use), with no traits, so no plan
        sends a server to it; its utilisation reads 100%. No extra request is made.
      - C(auto) is C(full) up to 50 providers in scope and C(summary) above.
    type: str
    choices: [auto, full, summary]
    default: auto
  allocation_ratios:
    description:
      - Allocation ratios per resource class used when Placement is not in the catalog (neither
        its inventories nor its provider summaries read) and no aggregate metadata
        (C(cpu_allocation_ratio)...) gives one.
      - Defaults are Nova's initial ratios - C(VCPU=4.0), C(MEMORY_MB=1.0), C(DISK_GB=1.0).
    type: dict
  all_projects:
    description:
      - Read the servers of every project. When false only the authenticated project's.
    type: bool
    default: true
  page_size:
    description:
      - Items per request for paged lists (Nova caps it at its C(max_limit)).
    type: int
    default: 1000
  read_network:
    description:
      - Read Neutron SR-IOV ports and L2 agents.
    type: bool
    default: true
  read_images:
    description:
      - Read the Glance properties of the images servers boot from, and the Cinder
        C(volume_image_metadata) of boot volumes.
    type: bool
    default: true
  move_servers_without_image:
    description:
      - Let servers whose image was deleted from Glance move. Their image's required traits
        and CPU policy cannot be read any more (Nova keeps its own copy, which the API does
        not show), so a plan may pick a host that Nova refuses.
      - When false, such servers are C(migratable=no) and listed in C(model.meta.images_missing).
    type: bool
    default: false
  snapshot_path:
    description:
      - Also write the model to this file as gzip-compressed JSON (mode 0600), for
        C(vigil.openstack.optimize) runs later or a rehearsal on the twin.
      - The file records what was read, so it is written in check mode too.
    type: path
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.info_module
attributes:
  check_mode:
    support: full
    description: Reads only and runs the same in check mode; I(snapshot_path) is written in check mode too.
seealso:
  - module: vigil.openstack.storage_model_info
  - module: vigil.openstack.metrics_info
"""

EXAMPLES = r"""
- name: Read the compute model of a cloud from clouds.yaml
  vigil.openstack.compute_model_info:
    cloud: mycloud
  register: compute

- name: How many hosts and instances
  ansible.builtin.debug:
    msg: "{{ compute.model.nodes.data | length }} hosts, {{ compute.model.instances.data | length }} instances"

- name: One AZ, without the GPU hosts and the servers tagged by operations, kept in a snapshot
  vigil.openstack.compute_model_info:
    cloud: mycloud
    availability_zones: [az1]
    exclude:
      host_aggregates: [gpu]
      instance_tags: [do-not-move]
      instance_metadata:
        vigil: skip
    snapshot_path: /var/lib/vigil/az1.json.gz
  register: az1

- name: Exact Placement detail for a large cloud (three requests per host)
  vigil.openstack.compute_model_info:
    cloud: mycloud
    placement_detail: full
"""

RETURN = r"""
model:
  description:
    - The compute part of vigil's cluster model. Tables are in pandas C(split) orientation
      (C(columns) and C(data) rows); columns, dtypes and meanings are in docs/model.md.
  returned: always
  type: dict
  contains:
    nodes:
      description:
        - One row per compute host - hostname, hypervisor, resource provider, service status and
          state, az, aggregates, traits, total/reserved/allocation_ratio/used per VCPU, MEMORY_MB,
          DISK_GB and PCPU, instance_count, power linkage.
      type: dict
      sample: {"columns": ["hostname", "hypervisor_hostname"], "data": [["compute-1", "compute-1.example.org"]]}
    instances:
      description:
        - One row per server - uuid, name, project, host, status, flavor resources and extra
          specs, image, boot_from_volume, server groups, metadata, tags, required traits, pinned,
          pci, vgpu, block_migration, migratable and the reason.
      type: dict
      sample: {"columns": ["uuid", "name", "migratable", "migratable_reason"], "data": [["6f1c...", "web-1", "cold", "SHUTOFF: cold migration only"]]}
    server_groups:
      description: One row per server group (id, name, policy, members, max_server_per_host, project_id).
      type: dict
    meta:
      description:
        - C(digest) (sha256 of the tables), C(collected) (UTC time), C(cloud), C(skipped)
          (services not in the catalog, with what that costs), C(scope) (as normalised),
          C(placement_detail) (C(full), C(summary) or C(none)), C(placement_estimated)
          (hosts C(summary) found no memory free on and modelled full, never a destination;
          every other host was read exactly), C(migrations_in_progress)
          (instance ids).
      type: dict
      sample:
        digest: "sha256:3b1f..."
        collected: "2026-11-25T11:00:00Z"
        cloud: mycloud
        skipped: []
        scope: {}
        placement_detail: full
        placement_estimated: []
        migrations_in_progress: []
snapshot_path:
  description: Where the snapshot was written.
  returned: when I(snapshot_path) is given
  type: str
  sample: /var/lib/vigil/az1.json.gz
skipped:
  description: Services not read because they are not in the catalog.
  returned: always
  type: list
  elements: dict
  sample: [{"service": "network", "reason": "service network is not in the catalog", "consequence": "SR-IOV ports and L2 agents not read"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import compute_model_info
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import run_info_module

ARGUMENT_SPEC = dict(
    availability_zones=dict(type="list", elements="str"),
    host_aggregates=dict(type="list", elements="str"),
    compute_nodes=dict(type="list", elements="str"),
    projects=dict(type="list", elements="str"),
    domains=dict(type="list", elements="str"),
    exclude=dict(
        type="dict",
        options=dict(
            compute_nodes=dict(type="list", elements="str"),
            host_aggregates=dict(type="list", elements="str"),
            instances=dict(type="list", elements="str"),
            projects=dict(type="list", elements="str"),
            instance_metadata=dict(type="dict"),
            instance_tags=dict(type="list", elements="str"),
        ),
    ),
    placement_detail=dict(type="str", default="auto", choices=["auto", "full", "summary"]),
    allocation_ratios=dict(type="dict"),
    all_projects=dict(type="bool", default=True),
    page_size=dict(type="int", default=1000),
    read_network=dict(type="bool", default=True),
    read_images=dict(type="bool", default=True),
    move_servers_without_image=dict(type="bool", default=False),
    snapshot_path=dict(type="path"),
)


def main():
    run_info_module(AnsibleModule, ARGUMENT_SPEC, compute_model_info.run)


if __name__ == "__main__":
    main()
