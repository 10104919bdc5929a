# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The plan format (docs/plan.md): JSON schema, validation and builders.

Validation is hand-rolled over a small JSON-schema subset (``validate_schema``) so the
collection has no runtime dependency on ``jsonschema``; the unit tests check that
``jsonschema`` agrees with it on the same schema. The same subset validates strategy
parameters (strategies/registry.py).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
import uuid

from ansible_collections.vigil.openstack.plugins.module_utils.action_types import ACTION_TYPES, INPUT_SCHEMAS, TABLE
from ansible_collections.vigil.openstack.plugins.module_utils.dag import find_cycle
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scopelib

__all__ = ["ACTION_TYPES", "ACTION_INPUT_SCHEMAS", "find_cycle"]  # re-exported for their users

SCHEMA_VERSION = 1

_STR = {"type": "string", "minLength": 1}
_NULLABLE_STR = {"type": ["string", "null"]}

ACTION_INPUT_SCHEMAS = INPUT_SCHEMAS  # the table's (action_types.py)

ACTION_SCHEMA = {
    "type": "object",
    "required": ["id", "type", "resource", "input", "parents"],
    "additionalProperties": False,
    "properties": {
        "id": _STR,
        "type": {"enum": list(ACTION_TYPES)},
        "resource": _STR,
        "input": {"type": "object"},
        "parents": {"type": "array", "items": _STR, "uniqueItems": True},
        "postcondition": {"type": "object"},
        "description": {"type": "string"},
    },
    # per-type input schemas, in the if/then form that draft-07 validators understand
    "allOf": [
        {"if": {"properties": {"type": {"const": t}}}, "then": {"properties": {"input": s}}}
        for t, s in ACTION_INPUT_SCHEMAS.items()
    ],
}

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


# --- a small JSON-schema (draft-07 subset) validator -------------------------------------------

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, (list, tuple)),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _same(a, b):
    # JSON equality: True is not 1
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def validate_schema(value, schema, path="$"):
    """Validate ``value`` against a draft-07 subset; return a list of "path: problem" strings.

    Keywords: type, enum, const, required, properties, additionalProperties, items, minItems,
    maxItems, uniqueItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
    pattern, allOf, anyOf, if/then, propertyNames-free objects.
    """
    errors = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return ["%s: expected %s, got %s" % (path, " or ".join(types), _json_type(value))]
    if "enum" in schema and not any(_same(value, e) for e in schema["enum"]):
        errors.append("%s: %r is not one of %s" % (path, value, ", ".join(repr(e) for e in schema["enum"])))
    if "const" in schema and not _same(value, schema["const"]):
        errors.append("%s: must be %r" % (path, schema["const"]))
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                errors.append("%s: missing required field '%s'" % (path, key))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, sub in value.items():
            if key in props:
                errors += validate_schema(sub, props[key], "%s.%s" % (path, key))
            elif extra is False:
                errors.append("%s: unknown field '%s' (known: %s)" % (path, key, ", ".join(sorted(props))))
            elif isinstance(extra, dict):
                errors += validate_schema(sub, extra, "%s.%s" % (path, key))
    if isinstance(value, (list, tuple)):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append("%s: needs at least %d items" % (path, schema["minItems"]))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append("%s: allows at most %d items" % (path, schema["maxItems"]))
        if schema.get("uniqueItems"):
            seen = []
            for v in value:
                if any(_same(v, s) for s in seen):
                    errors.append("%s: duplicate item %r" % (path, v))
                seen.append(v)
        if "items" in schema:
            for i, v in enumerate(value):
                errors += validate_schema(v, schema["items"], "%s[%d]" % (path, i))
    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r is below the minimum %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append("%s: %r is above the maximum %r" % (path, value, schema["maximum"]))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append("%s: %r must be greater than %r" % (path, value, schema["exclusiveMinimum"]))
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append("%s: %r must be less than %r" % (path, value, schema["exclusiveMaximum"]))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append("%s: must not be empty" % path if schema["minLength"] == 1 else "%s: too short" % path)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    for sub in schema.get("allOf", ()):
        errors += validate_schema(value, sub, path)
    if "anyOf" in schema:
        if all(validate_schema(value, sub, path) for sub in schema["anyOf"]):
            errors.append("%s: matches none of the allowed forms" % path)
    if "if" in schema and not validate_schema(value, schema["if"], path):
        errors += validate_schema(value, schema.get("then", {}), path)
    return errors


def _json_type(value):
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


# --- plan validation ----------------------------------------------------------------------------


def validate_plan(plan):
    """Return the list of problems of ``plan`` (empty list = valid).

    Schema first; then the semantic checks a schema cannot express: unique action ids,
    parents that exist, no cycles, no migration onto its own source.
    """
    if not isinstance(plan, dict):
        return ["$: a plan must be a mapping, got %s" % _json_type(plan)]
    actions = plan.get("actions")
    if isinstance(actions, list):
        # the generic validator is slow on 50 000 actions: check the plan without them,
        # then each action by the fast path, and the generic one only where that fails
        errors = validate_schema(dict(plan, actions=[]), PLAN_SCHEMA)
        for n, a in enumerate(actions):
            if not _action_ok(a):
                errors += validate_schema(a, ACTION_SCHEMA, "$.actions[%d]" % n)
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
        if a.get("type") == "volume_migrate" and inp.get("migration_type") == "migrate":
            if not inp.get("destination_pool"):
                errors.append("$.actions[%d].input: volume migrate needs destination_pool" % n)
            elif inp.get("destination_pool") == inp.get("source_pool"):
                errors.append("$.actions[%d]: volume migration onto its own pool %r" % (n, inp["source_pool"]))
        if (
            a.get("type") == "volume_migrate"
            and inp.get("migration_type") == "retype"
            and not inp.get("destination_type")
        ):
            errors.append("$.actions[%d].input: volume retype needs destination_type" % n)
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


_ACTION_KEYS = frozenset(ACTION_SCHEMA["properties"])


def _NONEMPTY(v):  # noqa: N802 - reads as a constant predicate
    return isinstance(v, str) and v != ""


def fast_check(schema):
    """A predicate equivalent to ``not validate_schema(value, schema)`` for the keywords action
    input schemas use (type, enum, required, properties, minLength, minimum); None when the
    schema uses another keyword (then the generic validator is the only judge)."""
    known = {"type", "enum", "required", "properties", "minLength", "minimum"}
    if set(schema) - known:
        return None
    subs = {k: fast_check(v) for k, v in schema.get("properties", {}).items()}
    if any(c is None for c in subs.values()):
        return None
    types = schema.get("type")
    types = [_TYPES[t] for t in (types if isinstance(types, list) else [types])] if types else None
    enum = schema.get("enum")
    required = tuple(schema.get("required", ()))
    min_len, minimum = schema.get("minLength"), schema.get("minimum")

    def check(v):
        if types is not None and not any(t(v) for t in types):
            return False
        if enum is not None and not any(_same(v, e) for e in enum):
            return False
        if isinstance(v, dict):
            if not all(k in v for k in required):
                return False
            if not all(sub(v[k]) for k, sub in subs.items() if k in v):
                return False
        if min_len is not None and isinstance(v, str) and len(v) < min_len:
            return False
        return minimum is None or not _TYPES["number"](v) or v >= minimum

    return check


_INPUT_OK = {t: fast_check(s) for t, s in INPUT_SCHEMAS.items()}


def _action_ok(a):
    """Fast check that an action of the common shapes is valid (False: ask the schema why)."""
    if not isinstance(a, dict) or not _ACTION_KEYS.issuperset(a) or not all(k in a for k in ACTION_SCHEMA["required"]):
        return False
    if not (_NONEMPTY(a["id"]) and _NONEMPTY(a["resource"]) and isinstance(a["input"], dict)):
        return False
    if "postcondition" in a and not isinstance(a["postcondition"], dict):
        return False
    if "description" in a and not isinstance(a["description"], str):
        return False
    parents = a["parents"]
    if not isinstance(parents, list) or not all(_NONEMPTY(p) for p in parents) or len(set(parents)) != len(parents):
        return False
    check = _INPUT_OK.get(a["type"]) if isinstance(a["type"], str) else None
    return check is not None and check(a["input"])


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
