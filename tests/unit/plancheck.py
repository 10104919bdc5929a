# -*- coding: utf-8 -*-
"""Checks that a plan honours every constraint of the model (used by tests).

The independent part is oracle.py, which shares no code with the strategies; its findings
come first. The rest replays the plan through the constraint layer's own Placement (so it
cannot catch a wrong rule there) for what the oracle does not referee: Nova's aggregate
metadata filters, and every wave schedule the planner's DAG allows under concurrency limits.
"""

import numpy as np
import oracle

from ansible_collections.vigil.openstack.plugins.module_utils import constraints, planner
from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

OPTION_KEYS = ("allow_cross_az", "aggregate_policy", "soft_policies", "allow_cold_active")


def _ancestors(actions):
    by_id = {a["id"]: a for a in actions}
    memo = {}

    def anc(aid):
        if aid not in memo:
            out = set()
            for p in by_id[aid]["parents"]:
                out.add(p)
                out |= anc(p)
            memo[aid] = out
        return memo[aid]

    return anc


def plan_violations(model, plan, limits=None, referee=True):
    """Every finding; referee=False leaves out the oracle's (for callers that ran it themselves)."""
    errors = list(planlib.validate_plan(plan))
    if errors:
        return errors
    errors = ["oracle: " + e for e in oracle.violations(model, plan)] if referee else []
    opts = {k: plan["parameters"][k] for k in OPTION_KEYS if k in plan["parameters"]}
    if plan["parameters"].get("disable_live_migration"):  # host_maintenance: active servers go cold
        opts.update(allow_live=False, allow_cold_active=True)
    if plan["parameters"].get("disable_cold_migration"):
        opts["allow_cold"] = False
    actions = plan["actions"]
    enabled = [
        a["input"]["host"] for a in actions if a["type"] == "compute_service" and a["input"]["state"] == "enabled"
    ]
    migs = [a for a in actions if a["type"] == "migrate"]
    pl = constraints.Placement(model, scope=plan.get("scope"), **opts)
    # every migration type is the one the instance's state allows
    for a in migs:
        i = pl.inst_index[a["resource"]]
        if a["input"]["migration_type"] != pl.mig_type[i]:
            errors.append(
                "%s: %s migration of a server that allows %r" % (a["id"], a["input"]["migration_type"], pl.mig_type[i])
            )
    if any(a["input"]["destination_node"] is None for a in migs):
        return errors  # scheduler picks: only the above can be checked
    moves = [(a["resource"], a["input"]["source_node"], a["input"]["destination_node"]) for a in migs]
    errors += constraints.check_moves(model, moves, enabled_hosts=enabled, scope=plan.get("scope"), **opts)
    # any schedule that follows the DAG: simulate waves, sources freed only when a wave ends
    anc = _ancestors(actions)
    by_id = {a["id"]: a for a in actions}
    for lim in (limits, {"per_host": 1}, {"per_type": {"migrate": 1000}, "per_host": 1000}):
        p = constraints.Placement(model, scope=plan.get("scope"), **opts)
        free = p.free.copy()
        counts = [dict(c) for c in p.group_count]
        for wave in planner.plan_waves(plan, lim):
            ws = [by_id[x] for x in wave if by_id[x]["type"] == "migrate"]
            for a in ws:
                i, d = p.inst_index[a["resource"]], p.host_index[a["input"]["destination_node"]]
                free[d] -= p.demand[i]
                for g in p.inst_groups.get(i, ()):
                    counts[g][d] = counts[g].get(d, 0) + 1
                    if p.group_kind[g] == "anti" and counts[g][d] > p.group_max[g]:
                        errors.append(
                            "wave: anti-affinity group %s over its limit on %s" % (p.group_ids[g], p.hostnames[d])
                        )
            if (free < -constraints.EPS).any():
                bad = np.nonzero((free < -constraints.EPS).any(axis=1))[0]
                errors.append(
                    "wave %s: over capacity on %s with limits %s" % (wave[:3], [p.hostnames[b] for b in bad], lim)
                )
                break
            for a in ws:
                i, s = p.inst_index[a["resource"]], p.host_index[a["input"]["source_node"]]
                free[s] += p.demand[i]
                for g in p.inst_groups.get(i, ()):
                    counts[g][s] -= 1
    # per-host ordering
    for a in actions:
        if a["type"] == "node_power" and a["input"]["state"] == "off":
            h = a["input"]["hostname"]
            needed = {m["id"] for m in migs if m["input"]["source_node"] == h}
            if not needed <= anc(a["id"]):
                errors.append("%s: power off of %s before it is drained" % (a["id"], h))
            was_disabled = h in pl.host_index and not pl.host_enabled[pl.host_index[h]]
            if not was_disabled and not any(
                by_id[x]["type"] == "compute_service" and by_id[x]["input"]["host"] == h for x in anc(a["id"])
            ):
                errors.append("%s: power off of %s before it is disabled" % (a["id"], h))
            if any(m["input"]["destination_node"] == h for m in migs):
                errors.append("%s: power off of %s which receives servers" % (a["id"], h))
        if a["type"] == "compute_service" and a["input"]["state"] == "enabled":
            h = a["input"]["host"]
            for m in migs:
                if m["input"]["destination_node"] == h and a["id"] not in anc(m["id"]):
                    errors.append("%s: migration onto %s before it is enabled" % (m["id"], h))
        if a["type"] == "compute_service" and a["input"]["state"] == "disabled":
            h = a["input"]["host"]
            if any(m["input"]["destination_node"] == h for m in migs):
                errors.append("%s: disables %s which receives servers" % (a["id"], h))
    return errors
