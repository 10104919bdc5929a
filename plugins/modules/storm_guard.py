#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: storm_guard
short_description: Decide whether an event may start an audit, a plan or a power change
version_added: "0.1.0"
description:
  - Keeps a storm of events (Alertmanager alerts, Nova notifications, schedules) from becoming a
    storm of plans. One ledger per cloud, shared by every run on this controller, holds the plan
    lease, when each goal was last audited, when each host was last powered on and which alerts
    were seen.
  - C(alert) drops a repeat of the same alert fingerprint within O(dedup_window).
    C(audit) refuses an audit of a goal started less than O(min_audit_interval) after the last.
    C(acquire_plan) / C(release_plan) hold the one plan lease of the cloud (a lease older than
    O(lease_ttl) is taken over, since its run died). C(power_on) records a power-on;
    C(power_off) refuses a power-off within O(power_hysteresis) of it, as VMware DPM does.
  - Every decision, allowed or refused, is appended with its reason to
    C(<state_dir>/guard-<cloud>.log) (JSON lines). A refusal is not a failure; read RV(allowed).
  - Makes no API calls. Files are created with mode 0600 in a directory created with mode 0700.
author:
  - vigil contributors (@vigil-openstack)
options:
  cloud:
    description:
      - The cloud the ledger belongs to (a C(clouds.yaml) name); one ledger per cloud.
    type: str
    required: true
  decision:
    description:
      - Which guard to run on O(subject).
    type: str
    required: true
    choices: [alert, audit, acquire_plan, release_plan, power_on, power_off]
  subject:
    description:
      - What the decision is about - an alert fingerprint, a goal, a run id (plan lease
        holder) or a host name.
    type: str
    required: true
  state_dir:
    description:
      - Directory of the ledger and the decision log.
      - Defaults to the environment variable C(VIGIL_GUARD_DIR), else C(~/vigil/guard) - the
        same directory M(vigil.openstack.node_power) and M(vigil.openstack.plan_apply) record
        power-ons in (their I(guard_dir)).
    type: path
  min_audit_interval:
    description:
      - Seconds between the starts of two audits of the same goal.
    type: int
    default: 900
  dedup_window:
    description:
      - Seconds during which a repeat of an admitted alert fingerprint is dropped.
    type: int
    default: 300
  power_hysteresis:
    description:
      - Seconds after a power-on during which a power-off of that host is refused.
    type: int
    default: 1800
  lease_ttl:
    description:
      - Seconds after which a plan lease that was not released is considered abandoned.
    type: int
    default: 3600
attributes:
  check_mode:
    support: full
    description: In check mode the decision is made and returned but neither the ledger nor the log is written.
  diff_mode:
    support: full
    description: Returns the ledger before and after the decision.
"""

EXAMPLES = r"""
- name: Drop repeats of this alert
  vigil.openstack.storm_guard:
    cloud: mycloud
    decision: alert
    subject: "{{ ansible_eda.event.alert.fingerprint }}"
  register: vigil_alert_guard

- name: Stop here when it is a repeat
  ansible.builtin.meta: end_play
  when: not vigil_alert_guard.allowed

- name: Take the cloud's plan lease for this run
  vigil.openstack.storm_guard:
    cloud: mycloud
    decision: acquire_plan
    subject: "{{ vigil_run_id }}"
"""

RETURN = r"""
allowed:
  description: Whether the guard lets the event, audit, plan or power-off go ahead.
  returned: always
  type: bool
  sample: false
reason:
  description: Why, in words (also written to the decision log).
  returned: always
  type: str
  sample: an audit of goal workload_balancing started 42s ago (minimum interval 900s)
log:
  description: The path of the decision log.
  returned: always
  type: str
  sample: /home/ops/vigil/guard/guard-mycloud.log
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import (
    DECISIONS,
    GuardError,
    StormGuard,
    guard_dir,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            cloud=dict(type="str", required=True),
            decision=dict(type="str", required=True, choices=sorted(DECISIONS)),
            subject=dict(type="str", required=True),
            state_dir=dict(type="path"),
            min_audit_interval=dict(type="int", default=900),
            dedup_window=dict(type="int", default=300),
            power_hysteresis=dict(type="int", default=1800),
            lease_ttl=dict(type="int", default=3600),
        ),
        supports_check_mode=True,
    )
    p = module.params
    try:
        guard = StormGuard(
            guard_dir(p["state_dir"]),
            p["cloud"],
            min_audit_interval=p["min_audit_interval"],
            dedup_window=p["dedup_window"],
            power_hysteresis=p["power_hysteresis"],
            lease_ttl=p["lease_ttl"],
            dry_run=module.check_mode,
        )
        decision = guard.decide(p["decision"], p["subject"])
    except GuardError as exc:
        module.fail_json(msg=str(exc))
    result = dict(changed=guard.last_change is not None, allowed=decision.allowed, reason=decision.reason)
    result["log"] = guard.log_path
    if module._diff and guard.last_change:
        result["diff"] = {"before": guard.last_change[0], "after": guard.last_change[1]}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
