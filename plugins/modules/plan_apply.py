#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: plan_apply
short_description: Execute a whole vigil plan, resumable, with a state file
version_added: "0.1.0"
description:
  - Validates a plan (docs/plan.md) against its schema, then runs its actions as a DAG - an
    action starts only when all its parents SUCCEEDED - with concurrency limits per action
    type and per host, through the same executors as the single-action modules
    (M(vigil.openstack.server_migrate), M(vigil.openstack.compute_service), ...).
  - Before each action its pre-condition is checked against the live cloud (server gone or
    moved elsewhere, destination host down or disabled, volume moved...). A stale action is
    skipped together with its dependents, or stops the plan, per I(on_stale).
  - Every transition (PENDING, ONGOING, SUCCEEDED, FAILED, SKIPPED, CANCELLED, with
    timestamps, attempts and errors) is appended to the state file's journal
    (C(<state_file>.journal)) and fsynced before anything is sent; the state file itself is a
    JSON snapshot rewritten atomically at the start and end of a run (mode 0600).
  - State, journal, lock and progress files are never opened through a symlink; a state file
    owned by another user or writable by others, or a directory writable by everyone without
    the sticky bit, is refused.
    Running the task again resumes the plan - a SUCCEEDED action is never executed again,
    an action left ONGOING by a crash is re-checked against the live cloud and waited for
    rather than sent again, FAILED, SKIPPED and CANCELLED actions are considered again.
  - A plan that is invalid, has an unknown action type, whose resources do not exist in this
    cloud, or whose state file belongs to another plan is refused before anything runs.
  - Never forces anything - no forced migration, no power off of a host that still has
    instances or an enabled compute service.
author:
  - vigil contributors (@vigil-openstack)
options:
  plan:
    description:
      - The plan, as returned by the P(vigil.openstack.optimize#filter) filter.
      - Exactly one of I(plan) and I(plan_file) is required.
    type: dict
  plan_file:
    description:
      - Path of a plan file (JSON or YAML).
    type: path
  state_file:
    description:
      - Path of the state file that records progress and makes re-runs resume.
      - Defaults to I(plan_file) with C(.state.json) appended, or to
        I(state_dir)C(/<plan id>.json) when the plan is given as a variable; the plan id must
        then be letters, digits, C(.), C(_) and C(-), not starting with C(.).
    type: path
  progress_file:
    description:
      - While the plan runs, a line per action start and end (UTC time, action id, what
        happened) is appended to this file, so C(tail -f) shows the progress of a long apply;
        the same lines go to the module log (syslog or the journal of the host running it).
      - Defaults to the state file with C(.log) appended. Created with mode 0600. Check mode
        writes nothing.
    type: path
  state_dir:
    description:
      - Directory of state files when neither I(state_file) nor I(plan_file) is given.
      - Also holds one lock per plan (C(plan-<digest>.lock)), so that a second run of the same
        plan on this controller is refused even when it was given another I(state_file).
    type: path
    default: ~/.vigil/state
  on_failure:
    description:
      - C(stop) - after a failed action no new action starts; actions not started are CANCELLED.
      - C(continue_independent) - the failed action's dependents (transitively) are CANCELLED,
        actions that do not depend on it go on.
    type: str
    choices: [stop, continue_independent]
    default: stop
  on_stale:
    description:
      - C(skip) - a stale action and its dependents are SKIPPED, the rest goes on.
      - C(stop) - a stale action stops the plan like a failure.
    type: str
    choices: [skip, stop]
    default: skip
  concurrency:
    description:
      - Limits on actions running at once - C(total), C(per_host) (actions touching one host
        or storage backend), C(per_type) (a mapping of action type - C(migrate),
        C(volume_migrate), C(node_power), C(compute_service), C(resize), C(stop), C(nop),
        C(sleep) - to its limit; action types are also accepted as top-level keys) and
        C(max_concurrent_live_migrations) (live migrations leaving one source host - set it to
        the computes' nova.conf option of that name).
      - Defaults - total 8, per_host 2, max_concurrent_live_migrations 1 (Nova's default),
        migrate 4, resize 2, volume_migrate 2, node_power 2, compute_service 4, stop 4; the
        same as the P(vigil.openstack.plan_waves#filter) filter's. C(null) means unlimited.
    type: dict
    default: {}
  only:
    description:
      - Run only these actions (ids), leaving the others as the state file has them - for
        playbooks that apply a plan wave by wave (the waves of
        P(vigil.openstack.plan_waves#filter)) or one action per task, so that each shows as its
        own task in AWX, all with one state file.
      - An action whose parents have not all SUCCEEDED (in the state file) is CANCELLED.
      - The result lists only these actions.
    type: list
    elements: str
  model_digest:
    description:
      - Digest of the current cluster model. When given, a plan computed from another model
        is refused.
    type: str
  retry_failed:
    description:
      - Run again the actions an earlier run left FAILED. Without it a FAILED action stays
        FAILED on a re-run and the task fails again (with I(on_failure=stop) nothing new
        starts; with C(continue_independent) its dependents are CANCELLED and the rest goes on),
        so a failure is never hidden by re-running the task. Look at what failed first (a
        server Nova left in ERROR needs an operator).
    type: bool
    default: false
  on_drift:
    description:
      - On a re-run, every action an earlier run recorded SUCCEEDED whose dependents are still
        to run is read again from the cloud first - a dependent (disable a host, power it off)
        must not act on the word of a parent that no longer holds, e.g. after the cloud was
        restored from a backup.
      - C(stop) - refuse the run before anything is sent, naming each such action and what
        the cloud shows now.
      - C(rerun) - run those actions again, then their dependents.
    type: str
    choices: [stop, rerun]
    default: stop
  timeout:
    description:
      - Seconds each action may take. Default per type - migrations scale with the server's
        memory (live 300 s + 30 s/GiB), power actions 300 s, service changes 60 s.
    type: int
    default: null
  poll_interval:
    description:
      - Seconds between the first polls of an action; later polls back off up to 5 s.
      - Also the pace of the one poller that watches every server the plan moves (one
        C(GET /servers/detail?changes-since=) per cycle for all of them, see docs/apply.md) -
        its cycles come at least this far apart, except the looks timed at the end a migration
        is expected to reach (from the migrations of servers of the same memory seen so far),
        which come at least a quarter of it apart.
    type: float
    default: 1.0
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.action_module
  - vigil.openstack.power_guard
  - vigil.openstack.maas
attributes:
  check_mode:
    support: full
    description:
      - Validates the plan and lists what would run, in which order (waves of the DAG), which
        actions are already done and which are stale (or refused, as a power-off within the power
        hysteresis). Reads only; not even the state file or the guard ledger is written.
  diff_mode:
    support: none
    description: The per-action summary carries each action's before and after instead.
notes:
  - The MAAS options are needed only when the plan has C(node_power) actions with C(backend=maas).
  - The task fails when an action FAILED; the per-action summary is returned either way.
  - SIGTERM, SIGINT (Ctrl-C) or SIGHUP cancel the run - no new action starts, running actions
    stop waiting and stay ONGOING in the state file (what they sent may still be under way in
    the cloud), the rest is CANCELLED, and the task fails within a few seconds. The next run
    re-checks the ONGOING actions against the cloud instead of sending them again.
  - An AWX or ansible-runner job cancel kills the playbook's process group with SIGKILL, which
    no process can catch - the state file is written before every call to the cloud, so the
    next run resumes the same way. See docs/apply.md.
"""

EXAMPLES = r"""
- name: Apply a reviewed plan; re-run the same task to resume after an interruption
  vigil.openstack.plan_apply:
    cloud: prod
    plan_file: /var/lib/vigil/plans/consolidation-2026-11-25.json
    concurrency:
      total: 10
      migrate: 6
      per_host: 2
  register: applied

- name: Show what would run, in which order
  vigil.openstack.plan_apply:
    cloud: prod
    plan: "{{ plan }}"
  check_mode: true

- name: Wave by wave, one task per wave, one state file
  vigil.openstack.plan_apply:
    cloud: prod
    plan: "{{ plan }}"
    state_file: /var/lib/vigil/state/{{ plan.id }}.json
    only: "{{ item }}"
  loop: "{{ plan | vigil.openstack.plan_waves(ids_only=true) }}"

- name: Keep going with independent actions when one fails
  vigil.openstack.plan_apply:
    cloud: prod
    plan: "{{ plan }}"
    state_file: /var/lib/vigil/state/{{ plan.id }}.json
    on_failure: continue_independent
"""

RETURN = r"""
plan_id:
  description: Id of the plan.
  returned: always
  type: str
state_file:
  description: Path of the state file (not written in check mode).
  returned: always
  type: str
progress_file:
  description: Path of the progress log (not written in check mode).
  returned: always
  type: str
  sample: /var/lib/vigil/state/plan-20261125.json.log
counts:
  description: Number of actions per state (per verdict in check mode).
  returned: always
  type: dict
  sample: {"SUCCEEDED": 10, "FAILED": 1, "SKIPPED": 0, "CANCELLED": 2, "PENDING": 0, "ONGOING": 0}
actions:
  description: Per-action summary, in plan order.
  returned: when not in check mode
  type: list
  elements: dict
  sample:
    - {"id": "a1", "type": "migrate", "resource": "5c2a...", "state": "SUCCEEDED", "changed": true,
       "attempts": 1, "started": "2026-11-25T10:00:00.000000Z", "finished": "2026-11-25T10:00:31.000000Z",
       "error": null, "msg": "done: live-migrate server 5c2a... from compute-03 to compute-12"}
order:
  description: In check mode, every action with its wave, and what would happen to it (run, done, skip, cancel, fail).
  returned: in check mode
  type: list
  elements: dict
failed_actions:
  description: Ids of the actions that FAILED.
  returned: always
  type: list
  elements: str
stopped:
  description: Why the plan stopped early, or null.
  returned: when not in check mode
  type: str
cancelled:
  description: The signal that cancelled the run, or null.
  returned: when not in check mode
  type: str
  sample: SIGTERM
drifted:
  description: Ids of actions recorded SUCCEEDED that no longer held and were run again (I(on_drift=rerun)).
  returned: when not in check mode
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.plan_apply_run import (
    argument_spec,
    build_executor,
    cancel_on_signals,
    default_state_file,
    exit_with,
    read_plan,
)
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutionError


def main():
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
        mutually_exclusive=[("plan", "plan_file")],
        required_one_of=[("plan", "plan_file")],
    )
    p = dict(module.params)
    p["wait"] = True  # a plan's dependents need their parents finished
    p["force"] = False  # plans never force
    try:
        plan = read_plan(p)
        state_file = default_state_file(p, plan)
        progress_file = p["progress_file"] or state_file + ".log"
        executor = build_executor(module, p, plan, state_file, progress_file)
        cancel_on_signals(executor)
        result = executor.run(check_mode=module.check_mode)
    except PlanExecutionError as exc:
        module.fail_json(msg=str(exc), changed=False)
    except Exception as exc:  # noqa: BLE001 - connection errors and the like, in one line
        module.fail_json(msg="%s: %s" % (type(exc).__name__, exc), changed=False)
    result["state_file"] = state_file
    result["progress_file"] = progress_file
    exit_with(module, result)


if __name__ == "__main__":
    main()
