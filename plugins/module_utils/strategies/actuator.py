# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""actuator: the plan is the list of actions given as a parameter (Watcher's actuator).

Each action is checked against docs/plan.md (type, input, parents); ids default to a1, a2,
...; parents may name earlier ids. Migrations onto a named host are checked against the
constraint layer when the model has the server and host (a plan that breaks a constraint is
refused, whoever wrote it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import StrategyError, params_schema

NAME = "actuator"
GOAL = "unclassified"
TABLES = ()
DESCRIPTION = "Run a given list of actions (validated, and migrations checked against the constraints)."
PARAMS = params_schema(
    {
        "actions": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["type", "input"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "type": {"enum": list(planlib.ACTION_TYPES)},
                    "resource": {"type": "string", "minLength": 1},
                    "input": {"type": "object"},
                    "parents": {"type": "array", "items": {"type": "string"}},
                    "postcondition": {"type": "object"},
                },
            },
            "description": "actions in plan format; id, resource, parents, postcondition optional",
        },
    },
    required=["actions"],
)


def run(ctx):
    actions = []
    for n, a in enumerate(ctx.params["actions"]):
        inp = dict(a["input"])
        resource = a.get("resource") or inp.get("host") or inp.get("hostname") or inp.get("node_id") or "plan"
        act = planlib.simple_action(
            a.get("id") or "a%d" % (n + 1), a["type"], resource, inp, a.get("parents") or [], a.get("postcondition")
        )
        if a["type"] == "migrate" and "postcondition" not in a:
            act["postcondition"] = {"host": inp.get("destination_node")}
        actions.append(act)
    errors = planlib.validate_plan(planlib.new_plan(GOAL, NAME, actions=actions))
    if errors:
        raise StrategyError(
            "params.actions: " + "; ".join(e.replace("$.actions", "params.actions") for e in errors[:10])
        )
    _check_migrations(ctx, actions)
    return actions, {"actions_count": len(actions)}


def _check_migrations(ctx, actions):
    if "nodes" not in ctx.frames or "instances" not in ctx.frames or not len(ctx.frames["nodes"]):
        return
    from ansible_collections.vigil.openstack.plugins.module_utils.constraints import check_moves

    moves = [
        (a["resource"], a["input"].get("source_node"), a["input"].get("destination_node"))
        for a in actions
        if a["type"] == "migrate" and a["input"].get("destination_node")
    ]
    if not moves:
        return
    enabled = [
        a["input"]["host"] for a in actions if a["type"] == "compute_service" and a["input"].get("state") == "enabled"
    ]
    opts = dict(
        (k, ctx.params[k]) for k in ("allow_cross_az", "aggregate_policy", "soft_policies", "allow_cold_active")
    )
    errors = check_moves(ctx.frames, moves, enabled_hosts=enabled, scope=ctx.scope, **opts)
    if errors:
        raise StrategyError("params.actions: migrations break constraints: " + "; ".join(errors[:10]))
