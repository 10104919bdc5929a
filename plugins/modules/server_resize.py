#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: server_resize
short_description: Resize a server to a flavor and confirm it
version_added: "0.1.0"
description:
  - Resizes a Nova server to I(flavor), waits for VERIFY_RESIZE, checks the server carries the
    new flavor and confirms the resize; when the flavor is not the expected one the resize is
    reverted and the task fails.
  - Idempotent. A server that already has the flavor gives C(changed=false) without any
    mutating call; a resize found in progress (or waiting for confirmation) is finished, not
    started again.
author:
  - vigil contributors (@vigil-openstack)
options:
  server:
    description:
      - Name or id of the server (any project). Names must be unique.
    type: str
    required: true
  flavor:
    description:
      - Name of the target flavor (compared with the server's C(flavor.original_name)).
    type: str
    required: true
  timeout:
    description:
      - Seconds to wait for the resize and its confirmation when I(wait=true).
      - Default 600 s + 30 s per GiB of RAM of the server.
    type: int
    default: null
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
attributes:
  check_mode:
    description: Reads the server and reports what would be done; nothing is changed.
  diff_mode:
    description: Shows flavor, status and host before and after.
"""

EXAMPLES = r"""
- name: Shrink an idle server
  vigil.openstack.server_resize:
    cloud: prod
    server: batch-07
    flavor: m1.small
"""

RETURN = r"""
server:
  description: The server after the action (or as read, in check mode or when nothing changed).
  returned: success
  type: dict
before:
  description: Flavor, status and host before.
  returned: success
  type: dict
  sample: {"flavor": "m1.large", "status": "ACTIVE", "host": "compute-03"}
after:
  description: Flavor, status and host after (predicted in check mode).
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

from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import resolve_server
from ansible_collections.vigil.openstack.plugins.module_utils.actions.runner import (
    make_ctx,
    run_module_action,
    start_action_module,
)


def main():
    module, conn = start_action_module(
        AnsibleModule,
        dict(server=dict(type="str", required=True), flavor=dict(type="str", required=True), timeout=dict(type="int")),
    )
    p = module.params
    try:
        server_id = resolve_server(conn, p["server"])
    except Exception as exc:  # noqa: BLE001 - one line for the user
        module.fail_json(msg=str(exc))
    action = {
        "id": "server_resize",
        "type": "resize",
        "resource": server_id,
        "input": {"flavor": p["flavor"]},
        "parents": [],
        "postcondition": {"flavor": p["flavor"]},
    }
    run_module_action(module, action, make_ctx(p, conn), result_key="server")


if __name__ == "__main__":
    main()
