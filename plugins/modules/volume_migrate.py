#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: volume_migrate
short_description: Migrate a Cinder volume to a pool or retype it
version_added: "0.1.0"
description:
  - Migrates a volume to a pool (C(host@backend#pool), C(os-migrate_volume)) or retypes it
    with C(migration_policy=on-demand) (C(os-retype)), waits (bounded by I(timeout)) for its
    C(migration_status) to settle, then verifies the final pool or type and that the
    volume is still attached to the same servers.
  - Idempotent. A volume already on I(destination_pool) (or of I(destination_type)) gives
    C(changed=false) without any mutating call; a migration found in progress is waited for.
  - A migration to a pool of another backend is refused before any call when the volume's type
    pins C(volume_backend_name) (Cinder would accept it and its scheduler fail it); the message
    points at a retype (I(migration_type=retype)) instead.
author:
  - vigil contributors (@vigil-openstack)
options:
  volume:
    description:
      - Id of the volume.
    type: str
    required: true
  migration_type:
    description:
      - C(migrate) moves the volume to I(destination_pool); C(retype) changes its type to
        I(destination_type), migrating when the backend requires it.
    type: str
    choices: [migrate, retype]
    default: migrate
  destination_pool:
    description:
      - Destination pool as C(host@backend#pool). Required with I(migration_type=migrate).
    type: str
  destination_type:
    description:
      - Name of the destination volume type. Required with I(migration_type=retype).
    type: str
  source_pool:
    description:
      - Pool the volume is expected on. When given and the volume is elsewhere, the task
        fails without migrating (the plan is stale).
    type: str
  force_host_copy:
    description:
      - Make Cinder copy the data through the volume host instead of a backend-assisted move.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the migration when I(wait=true). Default 600 s + 6 s per GiB.
    type: int
    default: null
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
attributes:
  check_mode:
    description: Reads the volume and reports what would be done; nothing is changed.
  diff_mode:
    description: Shows pool, type and status before and after.
"""

EXAMPLES = r"""
- name: Move a volume to another pool
  vigil.openstack.volume_migrate:
    cloud: prod
    volume: 0b6f0a5e-4b0e-4f65-9a3e-2d6f8f7c1a20
    destination_pool: cinder-2@lvm#pool-b

- name: Retype to SSD
  vigil.openstack.volume_migrate:
    cloud: prod
    volume: 0b6f0a5e-4b0e-4f65-9a3e-2d6f8f7c1a20
    migration_type: retype
    destination_type: ssd
"""

RETURN = r"""
volume:
  description: The volume after the action.
  returned: success
  type: dict
  sample: {"id": "0b6f...", "host": "cinder-2@lvm#pool-b", "status": "in-use", "migration_status": "success", "volume_type": "lvm", "attached_to": ["5c2a..."]}
before:
  description: Pool, type and status before.
  returned: success
  type: dict
after:
  description: Pool, type and status after (predicted in check mode).
  returned: success
  type: dict
msg:
  description: What was done, in words.
  returned: always
  type: str
action:
  description: The action as run, in the plan's action format.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.actions.runner import (
    make_ctx,
    run_module_action,
    start_action_module,
)


def main():
    module, conn = start_action_module(
        AnsibleModule,
        dict(
            volume=dict(type="str", required=True),
            migration_type=dict(type="str", choices=["migrate", "retype"], default="migrate"),
            destination_pool=dict(type="str"),
            destination_type=dict(type="str"),
            source_pool=dict(type="str"),
            force_host_copy=dict(type="bool", default=False),
            timeout=dict(type="int"),
        ),
        required_if=[
            ("migration_type", "migrate", ["destination_pool"]),
            ("migration_type", "retype", ["destination_type"]),
        ],
    )
    p = module.params
    post = (
        {"volume_type": p["destination_type"]} if p["migration_type"] == "retype" else {"host": p["destination_pool"]}
    )
    action = {
        "id": "volume_migrate",
        "type": "volume_migrate",
        "resource": p["volume"],
        "input": {
            "migration_type": p["migration_type"],
            "destination_pool": p["destination_pool"],
            "destination_type": p["destination_type"],
            "source_pool": p["source_pool"],
            "force_host_copy": p["force_host_copy"],
        },
        "parents": [],
        "postcondition": post,
    }
    run_module_action(module, action, make_ctx(p, conn), result_key="volume")


if __name__ == "__main__":
    main()
