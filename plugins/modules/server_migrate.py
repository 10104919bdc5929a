#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: server_migrate
short_description: Live or cold migrate a server and verify where it landed
version_added: "0.1.0"
description:
  - Live migrates (C(os-migrateLive)) or cold migrates (C(migrate), then C(confirmResize)) a
    Nova server, then verifies from the live API that the server is settled in the status it
    had before (ACTIVE, PAUSED or SHUTOFF), on the expected host (exact hostname comparison),
    with its Placement allocations on that host only.
  - Idempotent. When the server already is on I(destination) the module reports
    C(changed=false) and makes no mutating call. A migration found in progress (for example
    after an interrupted run) is waited for, not started again.
  - A live migration that does not finish within I(timeout) is aborted through Nova's
    server migration abort (C(DELETE /servers/{id}/migrations/{migration_id})) and the task fails.
  - A cold migration that lands on another host than I(destination) is reverted
    (C(revertResize)) and the task fails.
author:
  - vigil contributors (@vigil-openstack)
options:
  server:
    description:
      - Name or id of the server (any project). Names must be unique.
    type: str
    required: true
  migration_type:
    description:
      - C(live) keeps the server running; C(cold) moves it through a resize to the same flavor.
    type: str
    choices: [live, cold]
    default: live
  destination:
    description:
      - Exact hostname of the destination compute host. When omitted, the scheduler picks one.
      - Without I(destination) the module is idempotent only when I(source) is given (the
        server is then considered migrated once it is off I(source)).
    type: str
  source:
    description:
      - Exact hostname the server is expected on. When given and the server is on neither
        I(source) nor I(destination), the task fails without migrating (the plan is stale).
    type: str
  block_migration:
    description:
      - Block migration for a live migration. C(auto) lets Nova decide from the storage.
    type: str
    choices: [auto, "true", "false"]
    default: auto
  force:
    description:
      - Bypass the scheduler's checks of I(destination) (Nova's C(force) flag) and allow a
        disabled destination. Only when you are sure.
    type: bool
    default: false
  confirm:
    description:
      - For a cold migration, confirm the resize once the server is verified on its
        destination. With C(false) the server is left in VERIFY_RESIZE.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for the migration (and confirmation) when I(wait=true).
      - Default scales with the server - live 300 s + 30 s per GiB of RAM; cold 600 s + 30 s
        per GiB of RAM + 10 s per GiB of root disk.
    type: int
    default: null
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
attributes:
  check_mode:
    description: Reads the server and reports what would be done; nothing is changed.
  diff_mode:
    description: Shows host and status before and after.
"""

EXAMPLES = r"""
- name: Live migrate a server to a given host
  vigil.openstack.server_migrate:
    cloud: prod
    server: web-01
    destination: compute-12

- name: Cold migrate a stopped server anywhere off compute-03
  vigil.openstack.server_migrate:
    cloud: prod
    server: 5c2a4b1e-8f3d-4d6a-9a53-0c1f2e3d4b5a
    migration_type: cold
    source: compute-03

- name: Start a live migration without waiting
  vigil.openstack.server_migrate:
    server: db-02
    destination: compute-07
    wait: false
"""

RETURN = r"""
server:
  description: The server after the action (or as read, in check mode or when nothing changed).
  returned: success
  type: dict
  sample: {"id": "5c2a...", "name": "web-01", "host": "compute-12", "status": "ACTIVE", "task_state": null}
before:
  description: Host and status before.
  returned: success
  type: dict
  sample: {"host": "compute-03", "status": "ACTIVE"}
after:
  description: Host and status after (predicted in check mode).
  returned: success
  type: dict
  sample: {"host": "compute-12", "status": "ACTIVE"}
msg:
  description: What was done, in words.
  returned: always
  type: str
action:
  description: The action as run, in the plan's action format (docs/plan.md).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import resolve_server
from ansible_collections.vigil.openstack.plugins.module_utils.actions.runner import (
    make_ctx,
    run_module_action,
    start_action_module,
)


def main():
    module, conn = start_action_module(
        AnsibleModule,
        dict(
            server=dict(type="str", required=True),
            migration_type=dict(type="str", choices=["live", "cold"], default="live"),
            destination=dict(type="str"),
            source=dict(type="str"),
            block_migration=dict(type="str", choices=["auto", "true", "false"], default="auto"),
            force=dict(type="bool", default=False),
            confirm=dict(type="bool", default=True),
            timeout=dict(type="int"),  # None: scaled with the server's memory and disk
        ),
    )
    p = module.params
    try:
        server_id = resolve_server(conn, p["server"])
    except Exception as exc:  # noqa: BLE001 - one line for the user
        module.fail_json(msg=str(exc))
    block = {"auto": "auto", "true": True, "false": False}[p["block_migration"]]
    action = {
        "id": "server_migrate",
        "type": "migrate",
        "resource": server_id,
        "input": {
            "migration_type": p["migration_type"],
            "source_node": p["source"],
            "destination_node": p["destination"],
            "block_migration": block,
            "confirm": p["confirm"],
        },
        "parents": [],
        "postcondition": {"host": p["destination"]} if p["destination"] else {},
    }
    run_module_action(module, action, make_ctx(p, conn), result_key="server")


if __name__ == "__main__":
    main()
