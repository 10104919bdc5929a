# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The one table of plan action types: input schema, hosts touched, default concurrency.

Dependency-free on purpose (but for the schema validator): the plan schema (plan.py), the
planner's waves, the limits (limits.py) and the executors (actions/) all derive from this
table; a new action type is one new row here plus its executor in actions/. An action's
input schema is the one definition of its inputs: plans are validated with it, and every
executor validates its action with it before anything is read (`action_errors`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.json_schema import compile_check, validate_schema

_STR = {"type": "string", "minLength": 1}
_NULLABLE_STR = {"type": ["string", "null"]}
# Null where a single-action module has nothing to give (no source host to check, no
# compute host to check for instances before powering off); never an empty string.
_OPTIONAL_NAME = {"type": ["string", "null"], "minLength": 1}
_POOL = {"type": "string", "pattern": "^[^@#]+@[^@#]+#.", "description": "a pool name host@backend#pool"}


def _when(field, value, then):
    """``then`` applies to inputs whose `field` is `value` (draft-07 if/then)."""
    return {"if": {"required": [field], "properties": {field: {"const": value}}}, "then": then}


def pool_host(pool_name):
    """``host@backend`` of a pool name ``host@backend#pool``: the Cinder volume service that
    serves the pool, the unit a volume migration loads (a volume move's host key)."""
    return pool_name.split("#", 1)[0] if pool_name else pool_name


def _input(action):
    inp = action.get("input") if isinstance(action, dict) else None
    return inp if isinstance(inp, dict) else {}


def _present(*values):
    return [v for v in values if isinstance(v, str) and v]


def _volume_hosts(action):
    inp = _input(action)
    return sorted({pool_host(p) for p in _present(inp.get("source_pool"), inp.get("destination_pool"))})


class ActionType:
    """One row of the table.

    ``resource``: what the action's ``resource`` names (server, host, volume, node or None);
    ``host_keys``: input fields naming compute hosts (exact names); ``hosts(action)``: the
    hosts the action loads, for per-host limits (``host@backend`` for volumes; by default
    the ``host_keys``); ``concurrency``: default limit of actions of this type running at
    once (None: unlimited).
    """

    def __init__(self, name, schema, resource, concurrency, host_keys=(), hosts=None):
        self.name = name
        self.schema = schema
        self.resource = resource
        self.concurrency = concurrency
        self.host_keys = host_keys
        self.hosts = hosts or self._host_fields

    def _host_fields(self, action):
        inp = _input(action)
        return _present(*(inp.get(k) for k in self.host_keys))


TABLE = {
    t.name: t
    for t in (
        ActionType(
            "migrate",
            {
                "type": "object",
                "required": ["migration_type", "source_node", "destination_node"],
                "properties": {
                    "migration_type": {"enum": ["live", "cold"]},
                    "source_node": _OPTIONAL_NAME,
                    "destination_node": _NULLABLE_STR,
                    "block_migration": {"enum": ["auto", True, False]},
                    "confirm": {"type": "boolean"},
                },
            },
            "server",
            4,
            host_keys=("source_node", "destination_node"),
        ),
        ActionType("resize", {"type": "object", "required": ["flavor"], "properties": {"flavor": _STR}}, "server", 2),
        ActionType(
            "compute_service",
            {
                "type": "object",
                "required": ["host", "state"],
                "properties": {
                    "host": _STR,
                    "state": {"enum": ["enabled", "disabled"]},
                    "disabled_reason": _NULLABLE_STR,
                },
            },
            "host",
            4,
            host_keys=("host",),
        ),
        ActionType(
            "volume_migrate",
            {
                "type": "object",
                "required": ["migration_type"],
                "properties": {
                    "migration_type": {"enum": ["migrate", "retype"]},
                    "destination_pool": _NULLABLE_STR,
                    "destination_type": _NULLABLE_STR,
                    "source_pool": _NULLABLE_STR,
                    "force_host_copy": {"type": "boolean"},
                },
                "allOf": [
                    _when(
                        "migration_type",
                        "migrate",
                        {"required": ["destination_pool"], "properties": {"destination_pool": _POOL}},
                    ),
                    _when(
                        "migration_type",
                        "retype",
                        {"required": ["destination_type"], "properties": {"destination_type": _STR}},
                    ),
                ],
            },
            "volume",
            2,
            hosts=_volume_hosts,
        ),
        ActionType(
            "node_power",
            {
                "type": "object",
                "required": ["hostname", "backend", "node_id", "state"],
                "properties": {
                    "hostname": _OPTIONAL_NAME,
                    "backend": {"enum": ["ironic", "maas"]},
                    "node_id": _STR,
                    "state": {"enum": ["on", "off", "reboot"]},
                    "stop_mode": {"enum": ["hard", "soft"]},
                },
            },
            "node",
            2,
            host_keys=("hostname",),
        ),
        ActionType("stop", {"type": "object"}, "server", 4),
        ActionType("nop", {"type": "object", "properties": {"message": {"type": "string"}}}, None, None),
        ActionType(
            "sleep",
            {"type": "object", "required": ["duration"], "properties": {"duration": {"type": "number", "minimum": 0}}},
            None,
            None,
        ),
    )
}

ACTION_TYPES = tuple(TABLE)
INPUT_SCHEMAS = {name: t.schema for name, t in TABLE.items()}

# One plan action: the per-type input schemas in the if/then form that draft-07 validators understand.
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
    "allOf": [
        {"if": {"properties": {"type": {"const": t}}}, "then": {"properties": {"input": s}}}
        for t, s in INPUT_SCHEMAS.items()
    ],
}

_ACTION_KEYS = frozenset(ACTION_SCHEMA["properties"])
_INPUT_OK = {t: compile_check(s) for t, s in INPUT_SCHEMAS.items()}


def _nonempty(v):
    return isinstance(v, str) and v != ""


def action_ok(action):
    """Fast check that an action is valid (False: ask `action_errors` why); the generic
    validator is slow on 50 000 actions."""
    a = action
    if not isinstance(a, dict) or not _ACTION_KEYS.issuperset(a) or not all(k in a for k in ACTION_SCHEMA["required"]):
        return False
    if not (_nonempty(a["id"]) and _nonempty(a["resource"]) and isinstance(a["input"], dict)):
        return False
    if "postcondition" in a and not isinstance(a["postcondition"], dict):
        return False
    if "description" in a and not isinstance(a["description"], str):
        return False
    parents = a["parents"]
    if not isinstance(parents, list) or not all(_nonempty(p) for p in parents) or len(set(parents)) != len(parents):
        return False
    check = _INPUT_OK.get(a["type"]) if isinstance(a["type"], str) else None
    return check is not None and check(a["input"])


def action_errors(action, path="action"):
    """The problems of one action against the table's schemas, each naming its field."""
    return [] if action_ok(action) else validate_schema(action, ACTION_SCHEMA, path)


def hosts_of(action):
    """Hosts an action loads (per-host limits); [] for an unknown type."""
    row = TABLE.get(action.get("type")) if isinstance(action, dict) else None
    return row.hosts(action) if row is not None else []


def migration_source(action):
    """The source host of a server migration, else None."""
    if action.get("type") != "migrate":
        return None
    source = _input(action).get("source_node")
    return source if isinstance(source, str) and source else None


def live_source(action):
    """The source host of a live migration (Nova's per-host live-migration limit), else None."""
    if _input(action).get("migration_type", "live") != "live":
        return None
    return migration_source(action)
