#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: compute_service
short_description: Enable or disable the nova-compute service of a host
version_added: "0.1.0"
description:
  - Enables or disables the C(nova-compute) service of one host (exact hostname), with a
    C(disabled_reason) when disabling, and verifies the result from the live API.
  - Idempotent on both status and reason. When the service already is in the requested state
    (and, when disabling with a reason, has that reason) the module reports C(changed=false)
    and makes no mutating call. Disabling an already disabled service with another reason
    updates the reason.
author:
  - vigil contributors (@vigil-openstack)
options:
  host:
    description:
      - Exact hostname of the compute host (as in C(openstack compute service list)).
    type: str
    required: true
  state:
    description:
      - Desired status of the service.
    type: str
    choices: [enabled, disabled]
    required: true
  disabled_reason:
    description:
      - Reason recorded with a disabled service. Ignored when I(state=enabled).
      - When omitted while disabling, any existing reason is accepted as is.
    type: str
  timeout:
    description:
      - Seconds to wait for the service to report the new status.
    type: int
    default: 60
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
attributes:
  check_mode:
    description: Reads the service and reports what would change; nothing is changed.
  diff_mode:
    description: Shows status and disabled reason before and after.
"""

EXAMPLES = r"""
- name: Take a host out of scheduling before maintenance
  vigil.openstack.compute_service:
    cloud: prod
    host: compute-03
    state: disabled
    disabled_reason: "vigil: maintenance CHG-1234"

- name: Put it back
  vigil.openstack.compute_service:
    cloud: prod
    host: compute-03
    state: enabled
"""

RETURN = r"""
service:
  description: The nova-compute service after the action.
  returned: success
  type: dict
  sample: {"id": "9d3c...", "host": "compute-03", "status": "disabled", "state": "up", "disabled_reason": "maintenance"}
before:
  description: Status and disabled reason before.
  returned: success
  type: dict
after:
  description: Status and disabled reason after (predicted in check mode).
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
            host=dict(type="str", required=True),
            state=dict(type="str", choices=["enabled", "disabled"], required=True),
            disabled_reason=dict(type="str"),
            timeout=dict(type="int", default=60),
        ),
    )
    p = module.params
    action = {
        "id": "compute_service",
        "type": "compute_service",
        "resource": p["host"],
        "input": {
            "host": p["host"],
            "state": p["state"],
            "disabled_reason": p["disabled_reason"] if p["state"] == "disabled" else None,
        },
        "parents": [],
        "postcondition": {"status": p["state"]},
    }
    run_module_action(module, action, make_ctx(p, conn), result_key="service")


if __name__ == "__main__":
    main()
