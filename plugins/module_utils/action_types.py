# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The one table of plan action types: input schema, hosts touched, default concurrency.

Dependency-free on purpose: the plan schema (plan.py), the planner's waves, the limits
(limits.py) and the executors (actions/) all derive from this table; a new action type is
one new row here plus its executor in actions/.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

_STR = {"type": "string", "minLength": 1}
_NULLABLE_STR = {"type": ["string", "null"]}


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
                    "source_node": _STR,
                    "destination_node": _NULLABLE_STR,
                    "block_migration": {"enum": ["auto", True, False]},
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
                },
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
                    "hostname": _STR,
                    "backend": {"enum": ["ironic", "maas"]},
                    "node_id": _STR,
                    "state": {"enum": ["on", "off", "reboot"]},
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
