#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: node_power
short_description: Power a host on or off, or reboot it, through Ironic or MAAS
version_added: "0.1.0"
description:
  - Sets the power state of a bare-metal node through Ironic (openstacksdk) or of a machine
    through MAAS (python-libmaas) and waits for the node to report it.
  - Refuses, unless I(force=true), to power off or reboot a host that still runs instances
    (any project, any state) or whose C(nova-compute) service is enabled, and refuses when no
    I(hostname) is given to check that against.
  - Idempotent for C(on) and C(off) - a node already in that power state gives
    C(changed=false) without any mutating call. C(reboot) always acts.
author:
  - vigil contributors (@vigil-openstack)
options:
  node:
    description:
      - Ironic node uuid or name, or MAAS machine C(system_id).
      - When omitted, the Ironic node or MAAS machine linked to I(hostname) is looked up
        (exact name; Ironic C(extra.compute_hostname) or node name, MAAS hostname), in Ironic
        and, when I(maas_url) or C(MAAS_URL) is set, in MAAS; I(backend) then follows the
        record found.
    type: str
  backend:
    description:
      - Which service powers the host. Defaults to C(ironic) when I(node) is given, and to
        the backend of the linked record when it is looked up by I(hostname).
    type: str
    choices: [ironic, maas]
  state:
    description:
      - Desired power state. MAAS has no reboot, so C(reboot) there is power off, wait, power on.
    type: str
    choices: ["on", "off", reboot]
    required: true
  hostname:
    description:
      - Exact name of the compute host the node runs, checked for instances and an enabled
        C(nova-compute) service before powering it off.
    type: str
  force:
    description:
      - Power off or reboot even when the host runs instances, its compute service is
        enabled, or I(hostname) is not given.
    type: bool
    default: false
  stop_mode:
    description:
      - MAAS power-off mode.
    type: str
    choices: [hard, soft]
    default: hard
  timeout:
    description:
      - Seconds to wait for the node to reach the power state.
    type: int
    default: 300
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
  - vigil.openstack.power_guard
  - vigil.openstack.maas
attributes:
  check_mode:
    description:
      - Reads the node (and the host's instances and service) and reports what would be done;
        a power-off within the power hysteresis is refused as it would be. Nothing is written,
        not even the guard ledger or its decision log.
  diff_mode:
    description: Shows the power state before and after.
notes:
  - The OpenStack connection is needed for C(backend=maas) too, to check the compute host.
"""

EXAMPLES = r"""
- name: Power off an emptied and disabled host through Ironic
  vigil.openstack.node_power:
    cloud: prod
    node: 1be26c0b-03f2-4d2e-ae87-c02d7f33c123
    hostname: compute-03
    state: "off"

- name: Power a MAAS machine back on
  vigil.openstack.node_power:
    cloud: prod
    backend: maas
    maas_url: http://maas.example.com:5240/MAAS/
    maas_api_key: "{{ maas_api_key }}"
    node: 4y3h7n
    hostname: compute-03
    state: "on"

- name: Power off a host even if it was powered on in the last 30 minutes
  vigil.openstack.node_power:
    cloud: prod
    hostname: compute-03
    state: "off"
    power_hysteresis: 0

- name: Power on whatever powers compute-05 (Ironic or MAAS, looked up by exact host name)
  vigil.openstack.node_power:
    cloud: prod
    hostname: compute-05
    state: "on"
"""

RETURN = r"""
node:
  description: The node after the action.
  returned: success
  type: dict
  sample: {"id": "1be2...", "name": "compute-03", "power_state": "off", "target_power_state": null}
before:
  description: Power state before.
  returned: success
  type: dict
  sample: {"power_state": "on"}
after:
  description: Power state after (predicted in check mode).
  returned: success
  type: dict
  sample: {"power_state": "off"}
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
from ansible_collections.vigil.openstack.plugins.module_utils.collect import baremetal as sources
from ansible_collections.vigil.openstack.plugins.module_utils.connection import (
    connect_maas,
)
from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import (
    GuardError,
    power_guard,
    power_guard_options,
)


def main():
    module, conn = start_action_module(
        AnsibleModule,
        dict(
            node=dict(type="str"),
            backend=dict(type="str", choices=["ironic", "maas"]),
            state=dict(type="str", choices=["on", "off", "reboot"], required=True),
            hostname=dict(type="str"),
            force=dict(type="bool", default=False),
            stop_mode=dict(type="str", choices=["hard", "soft"], default="hard"),
            timeout=dict(type="int", default=300),
            **power_guard_options(),
        ),
        maas=True,
        required_one_of=[("node", "hostname")],
    )
    p = module.params
    try:
        power_guard(p)  # a bad value fails here, before the node is read
    except GuardError as exc:
        module.fail_json(msg=str(exc))
    if not p["node"]:
        try:
            p["node"], p["backend"] = sources.linked_node(p, p["hostname"], p["backend"])
        except ValueError as exc:
            module.fail_json(msg=str(exc))
    p["backend"] = p["backend"] or "ironic"
    try:
        maas = connect_maas(p) if p["backend"] == "maas" else None
    except Exception as exc:  # noqa: BLE001 - one line for the user
        module.fail_json(msg=str(exc))
    node_id = p["node"]
    if p["backend"] == "ironic":
        try:
            node_id = conn.baremetal.find_node(p["node"], ignore_missing=False).id
        except Exception as exc:  # noqa: BLE001 - one line for the user
            module.fail_json(msg="Ironic node %s: %s" % (p["node"], exc))
    action = {
        "id": "node_power",
        "type": "node_power",
        "resource": node_id,
        "input": {
            "hostname": p["hostname"],
            "backend": p["backend"],
            "node_id": node_id,
            "state": p["state"],
            "stop_mode": p["stop_mode"],
        },
        "parents": [],
        "postcondition": {"power_state": "on" if p["state"] == "reboot" else p["state"]},
    }
    ctx = make_ctx(p, conn, maas=maas)
    ctx["power_guard"] = p
    run_module_action(module, action, ctx, result_key="node")


if __name__ == "__main__":
    main()
