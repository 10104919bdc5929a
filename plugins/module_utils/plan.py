# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The plan format (docs/plan.md): JSON schema, validation and builders.

Validation runs on the small JSON-schema validator of json_schema.py; an action's schema
(and its fast check) is the action-type table's (action_types.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import uuid

from ansible_collections.vigil.openstack.plugins.module_utils.action_types import (
    ACTION_SCHEMA,
    ACTION_TYPES,
    INPUT_SCHEMAS,
    TABLE,
    action_errors,
    action_ok,
)
from ansible_collections.vigil.openstack.plugins.module_utils.dag import find_cycle
from ansible_collections.vigil.openstack.plugins.module_utils.json_schema import json_type, validate_schema
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scopelib

# re-exported for their users
__all__ = ["ACTION_SCHEMA", "ACTION_TYPES", "ACTION_INPUT_SCHEMAS", "find_cycle", "validate_schema"]

SCHEMA_VERSION = 1

_STR = {"type": "string", "minLength": 1}
_NULLABLE_STR = {"type": ["string", "null"]}

ACTION_INPUT_SCHEMAS = INPUT_SCHEMAS  # the table's (action_types.py)

PLAN_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "vigil.openstack optimization plan",
    "type": "object",
    "required": ["schema_version", "id", "created", "goal", "strategy", "parameters", "efficacy", "actions"],
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "id": _STR,
        "created": {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"},
        "goal": _STR,
        "strategy": _STR,
        "parameters": {"type": "object"},
        "scope": {"type": ["object", "null"]},
        "model_digest": _NULLABLE_STR,
        "efficacy": {"type": "object", "additionalProperties": {"type": ["number", "string", "null", "boolean"]}},
        "warnings": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message"],
                "properties": {"resource": _NULLABLE_STR, "message": {"type": "string"}},
            },
        },
        "actions": {"type": "array", "items": ACTION_SCHEMA},
    },
}


# --- plan validation ----------------------------------------------------------------------------


def validate_plan(plan):
    """Return the list of problems of ``plan`` (empty list = valid).

    Schema first; then the semantic checks a schema cannot express: unique action ids,
    parents that exist, no cycles, no migration onto its own source.
    """
    if not isinstance(plan, dict):
        return ["$: a plan must be a mapping, got %s" % json_type(plan)]
    actions = plan.get("actions")
    if isinstance(actions, list):
        # the generic validator is slow on 50 000 actions: check the plan without them,
        # then each action by the fast path, and the generic one only where that fails
        errors = validate_schema(dict(plan, actions=[]), PLAN_SCHEMA)
        for n, a in enumerate(actions):
            if not action_ok(a):  # the fast check first: the path is formatted only for failures
                errors += action_errors(a, "$.actions[%d]" % n)
    else:
        errors = validate_schema(plan, PLAN_SCHEMA)
    if not isinstance(actions, list):
        return errors
    actions = [a for a in actions if isinstance(a, dict)]
    # The schema errors above already name ids/parents of the wrong type; the graph checks
    # below look only at string ids (a hand-edited list or mapping must not crash them).
    ids = [a.get("id") for a in actions if isinstance(a.get("id"), str)]
    seen = set()
    for i in ids:
        if i in seen:
            errors.append("$.actions: duplicate action id %r" % (i,))
        seen.add(i)
    for n, a in enumerate(actions):
        for p in _str_items(a.get("parents")):
            if p not in seen:
                errors.append("$.actions[%d].parents: unknown action id %r" % (n, p))
            elif p == a.get("id"):
                errors.append("$.actions[%d].parents: action %r depends on itself" % (n, p))
        inp = a.get("input") if isinstance(a.get("input"), dict) else {}
        if (
            a.get("type") == "migrate"
            and inp.get("source_node")
            and inp.get("source_node") == inp.get("destination_node")
        ):
            errors.append(
                "$.actions[%d]: migration of %r onto its own source %r" % (n, a.get("resource"), inp["source_node"])
            )
        if (
            a.get("type") == "volume_migrate"
            and inp.get("migration_type") == "migrate"
            and inp.get("destination_pool")
            and inp.get("destination_pool") == inp.get("source_pool")
        ):
            errors.append("$.actions[%d]: volume migration onto its own pool %r" % (n, inp["source_pool"]))
    cycle = find_cycle(actions)
    if cycle:
        errors.append("$.actions: dependency cycle %s" % " -> ".join(str(c) for c in cycle))
    errors += _scope_errors(plan.get("scope"), actions)
    return errors


def _scope_errors(scope, actions):
    """Actions touching hosts or instances that the plan's own scope leaves out.

    Strategies never produce these; a plan edited by hand can. Only what the plan itself
    names is checked (host names, instance ids): AZ and aggregate scopes need the cloud.
    """
    if not isinstance(scope, dict) or not scope:
        return []
    try:
        scope = scopelib.normalize(scope)
    except scopelib.ScopeError as exc:
        return ["$.scope: %s" % exc]
    hosts = set(scope.get("compute_nodes") or ())
    exclude = scope.get("exclude") or {}
    banned_hosts = set(exclude.get("compute_nodes") or ())
    banned_instances = set(exclude.get("instances") or ())
    errors = []
    for n, a in enumerate(actions):
        inp = a.get("input") if isinstance(a.get("input"), dict) else {}
        row = TABLE.get(a.get("type")) if isinstance(a.get("type"), str) else None
        for key in row.host_keys if row else ():
            host = inp.get(key)
            if isinstance(host, str) and host and ((hosts and host not in hosts) or host in banned_hosts):
                errors.append("$.actions[%d].input.%s: host %r is outside the plan's scope" % (n, key, host))
        if (
            row
            and row.resource == "server"
            and isinstance(a.get("resource"), str)
            and a["resource"] in banned_instances
        ):
            errors.append("$.actions[%d]: instance %r is excluded by the plan's scope" % (n, a.get("resource")))
    return errors


def _str_items(value):
    """The string items of a list (anything else: none)."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


class PlanError(ValueError):
    """A plan or its request is invalid; the message names the problem."""


def utcnow_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_plan(
    goal, strategy, parameters=None, scope=None, model_digest=None, actions=None, efficacy=None, warnings=None
):
    """Build a plan dict (docs/plan.md) with a fresh uuid and creation time."""
    return {
        "schema_version": SCHEMA_VERSION,
        "id": str(uuid.uuid4()),
        "created": utcnow_iso(),
        "goal": goal,
        "strategy": strategy,
        "parameters": dict(parameters or {}),
        "scope": scope,
        "model_digest": model_digest,
        "efficacy": dict(efficacy or {}),
        "warnings": list(warnings or []),
        "actions": list(actions or []),
    }


# --- action builders (one place for the input/postcondition shapes of docs/plan.md) -------------


def migrate_action(action_id, server, source, destination, migration_type, status, parents=()):
    return {
        "id": action_id,
        "type": "migrate",
        "resource": server,
        "input": {
            "migration_type": migration_type,
            "source_node": source,
            "destination_node": destination,
            "block_migration": "auto",
        },
        "parents": list(parents),
        "postcondition": {"host": destination, "status": status},
    }


def compute_service_action(action_id, host, state, reason=None, parents=()):
    return {
        "id": action_id,
        "type": "compute_service",
        "resource": host,
        "input": {"host": host, "state": state, "disabled_reason": reason if state == "disabled" else None},
        "parents": list(parents),
        "postcondition": {"status": state},
    }


def node_power_action(action_id, hostname, backend, node_id, state, parents=()):
    return {
        "id": action_id,
        "type": "node_power",
        "resource": node_id,
        "input": {"hostname": hostname, "backend": backend, "node_id": node_id, "state": state},
        "parents": list(parents),
        "postcondition": {"power_state": state} if state in ("on", "off") else {"power_state": "on"},
    }


def volume_migrate_action(action_id, volume, source_pool, destination_pool=None, destination_type=None, parents=()):
    if destination_type:
        inp = {"migration_type": "retype", "destination_type": destination_type, "source_pool": source_pool}
        post = {"volume_type": destination_type}
    else:
        inp = {"migration_type": "migrate", "destination_pool": destination_pool, "source_pool": source_pool}
        post = {"host": destination_pool}
    return {
        "id": action_id,
        "type": "volume_migrate",
        "resource": volume,
        "input": inp,
        "parents": list(parents),
        "postcondition": post,
    }


def simple_action(action_id, action_type, resource, input=None, parents=(), postcondition=None):  # noqa: A002
    return {
        "id": action_id,
        "type": action_type,
        "resource": resource,
        "input": dict(input or {}),
        "parents": list(parents),
        "postcondition": dict(postcondition or {}),
    }
