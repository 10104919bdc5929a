#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: storage_model_info
short_description: Read Cinder pools, volumes, types and services into vigil's storage model
version_added: 0.1.0
description:
  - Reads the Block Storage service (Cinder v3) of an OpenStack cloud in bulk and returns the
    C(volumes) and C(pools) tables of vigil's cluster model, in C(split) orientation, with
    the volume types and the C(cinder-volume) services beside them.
  - Requests made for a cloud of V volumes are 3 plus one per 1000 volumes (I(page_size));
    volume attachments come with the volumes, the attachments API is read only when
    I(attachment_records=true).
  - The C(volumes) table's C(pool) column is the full C(host@backend#pool) and joins
    C(pools.name); C(host) is Cinder's C(os-vol-host-attr:host), the same string.
  - Needs an admin role (pool statistics, all projects' volumes and the hosts of volumes are
    admin-only in Cinder's default policy). A cloud without Cinder in its catalog gives empty
    tables and an entry in C(model.meta.skipped).
  - Changes nothing; supports check mode.
author:
  - vigil contributors (@vigil-openstack)
options:
  projects:
    description:
      - Only volumes of these projects (ids or names, matched exactly). With I(domains),
        the union of both selections.
      - Names are resolved through Keystone (one request for projects, one for domains).
    type: list
    elements: str
  domains:
    description:
      - Only volumes of projects in these domains (ids or names, matched exactly).
    type: list
    elements: str
  all_projects:
    description:
      - Read the volumes of every project (C(all_tenants)). When false, only the volumes of
        the authenticated project are read.
    type: bool
    default: true
  attachment_records:
    description:
      - Also read the attachments API (microversion 3.27) and return its records (status,
        attach mode, instance) in RV(attachments).
    type: bool
    default: false
  page_size:
    description:
      - Volumes (and attachments) per request.
    type: int
    default: 1000
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.info_module
seealso:
  - module: vigil.openstack.compute_model_info
  - module: vigil.openstack.identity_info
"""

EXAMPLES = r"""
- name: Read the storage model
  vigil.openstack.storage_model_info:
    cloud: mycloud
  register: storage

- name: Free GiB per pool (tables are column lists plus rows, see model.pools.columns)
  ansible.builtin.debug:
    msg: "{{ dict(storage.model.pools.data | map(attribute=0) | zip(storage.model.pools.data | map(attribute=3))) }}"

- name: Volumes of two projects, one given by name
  vigil.openstack.storage_model_info:
    cloud: mycloud
    projects: [demo, 4f1f7a2e9c6b4e0f8d7c6b5a4e3d2c1b]
  register: scoped

- name: Everything in a domain, with attachment records
  vigil.openstack.storage_model_info:
    cloud: mycloud
    domains: [Default]
    attachment_records: true
"""

RETURN = r"""
model:
  description:
    - The storage part of vigil's cluster model. Tables are in pandas C(split) orientation;
      the columns, dtypes and meanings are in docs/model.md.
  returned: always
  type: dict
  contains:
    volumes:
      description:
        - One row per volume (id, name, project_id, host, pool, size_gb, volume_type, status,
          migration_status, bootable, attachments, az).
      type: dict
      sample: {"columns": ["id", "name"], "data": [["0c5e...", "data-1"]]}
    pools:
      description:
        - One row per Cinder pool (name, backend, capacities in GiB, max_over_subscription_ratio,
          thin_provisioning, reserved_percentage, volume_types).
      type: dict
    meta:
      description: C(digest) of the tables, C(collected) time, C(cloud) name and C(skipped) services.
      type: dict
      sample: {"digest": "sha256:3b1f...", "collected": "2026-11-25T11:00:00Z", "cloud": "mycloud", "skipped": []}
volume_types:
  description: Every volume type with its extra specs.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "9a3...", "name": "ssd", "is_public": true, "extra_specs": {"volume_backend_name": "ssd"}}]
services:
  description: The C(cinder-volume) services (host@backend, zone, status enabled/disabled, state up/down, disabled_reason).
  returned: success
  type: list
  elements: dict
  sample: [{"binary": "cinder-volume", "host": "storage-1@ssd", "zone": "nova", "status": "enabled", "state": "up"}]
attachments:
  description: Attachment records of the attachments API.
  returned: when I(attachment_records=true)
  type: list
  elements: dict
skipped_services:
  description:
    - Services not read because they are not in the catalog, with the reason (the same
      list as C(model.meta.skipped); C(skipped) itself is a name Ansible reserves).
  returned: always
  type: list
  elements: dict
  sample: [{"service": "block-storage", "reason": "service block-storage is not in the catalog"}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import storage_model_info
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import run_info_module

ARGUMENT_SPEC = dict(
    projects=dict(type="list", elements="str"),
    domains=dict(type="list", elements="str"),
    all_projects=dict(type="bool", default=True),
    attachment_records=dict(type="bool", default=False),
    page_size=dict(type="int", default=1000),
)


def main():
    run_info_module(AnsibleModule, ARGUMENT_SPEC, storage_model_info.run)


if __name__ == "__main__":
    main()
