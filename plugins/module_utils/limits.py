# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The one set of concurrency limits, used to cut waves (planner) and to run a plan (plan_executor).

Format (docs/apply.md, "Concurrency limits")::

    {"total": 8, "per_host": 2, "per_type": {"migrate": 4, ...}, "max_concurrent_live_migrations": 1}

``per_host`` counts actions loading one host (source or destination; ``host@backend`` for
volumes), ``max_concurrent_live_migrations`` the live migrations leaving one source host at once:
Nova's option of that name (default 1) makes a compute queue any more, so starting more only
makes them wait inside Nova. ``null`` means unlimited. Action type names are also accepted at
the top level (``{"migrate": 4}``), the form plan_apply's ``concurrency`` always took.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.action_types import (
    ACTION_TYPES,
    TABLE,
    hosts_of,
    live_source,
)

LIVE_KEY = "max_concurrent_live_migrations"
# Watcher-like: a few actions at once, at most two touching one host, Nova's live-migration pace.
DEFAULT_LIMITS = {
    "total": 8,
    "per_host": 2,
    "per_type": {name: row.concurrency for name, row in TABLE.items()},
    LIVE_KEY: 1,
}
_SCALARS = ("total", "per_host", LIVE_KEY)


class LimitsError(ValueError):
    """Limits that cannot be used; the message names the key."""


def normalize(limits, name="limits"):
    """Defaults merged with ``limits`` in the nested format; LimitsError naming a bad key."""
    out = {key: DEFAULT_LIMITS[key] for key in _SCALARS}
    out["per_type"] = dict(DEFAULT_LIMITS["per_type"])
    if limits is None:
        return out
    if not isinstance(limits, dict):
        raise LimitsError("%s must be a mapping with total, per_host, per_type, %s" % (name, LIVE_KEY))
    for key, value in limits.items():
        if key in _SCALARS:
            out[key] = value
        elif key == "per_type":
            if not isinstance(value, dict):
                raise LimitsError("%s.per_type must be a mapping of action type to limit" % name)
            for atype, n in value.items():
                if atype not in TABLE:
                    raise LimitsError(
                        "%s.per_type: unknown action type %r (known: %s)" % (name, atype, ", ".join(ACTION_TYPES))
                    )
                out["per_type"][atype] = n
        elif key in TABLE:
            out["per_type"][key] = value
        else:
            raise LimitsError(
                "%s: unknown key %r (known: total, per_host, per_type, %s or an action type)" % (name, key, LIVE_KEY)
            )
    checks = [(k, out[k]) for k in _SCALARS] + [("per_type." + k, v) for k, v in out["per_type"].items()]
    for key, n in checks:
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
            raise LimitsError("%s.%s must be a positive integer or null, got %r" % (name, key, n))
    return out


class Usage:
    """Actions counted against normalized limits: ``fits`` before starting one, ``add``/``remove``."""

    def __init__(self, limits):
        self.limits = limits
        self.total = 0
        self.per_type = {}
        self.per_host = {}
        self.live_out = {}

    def fits(self, action, hosts=None):
        lim = self.limits
        if lim["total"] is not None and self.total >= lim["total"]:
            return False
        type_limit = lim["per_type"].get(action["type"])
        if type_limit is not None and self.per_type.get(action["type"], 0) >= type_limit:
            return False
        if lim["per_host"] is not None:
            for host in hosts_of(action) if hosts is None else hosts:
                if self.per_host.get(host, 0) >= lim["per_host"]:
                    return False
        source = live_source(action)
        return source is None or lim[LIVE_KEY] is None or self.live_out.get(source, 0) < lim[LIVE_KEY]

    def add(self, action, hosts=None, sign=1):
        self.total += sign
        self.per_type[action["type"]] = self.per_type.get(action["type"], 0) + sign
        for host in hosts_of(action) if hosts is None else hosts:
            self.per_host[host] = self.per_host.get(host, 0) + sign
        source = live_source(action)
        if source is not None:
            self.live_out[source] = self.live_out.get(source, 0) + sign

    def copy(self, per_type=True):
        """The same counts; ``per_type=False``: under the host limits only (no total, no per type)."""
        limits = self.limits if per_type else dict(self.limits, total=None, per_type={})
        out = Usage(limits)
        out.total, out.per_type = self.total, dict(self.per_type)
        out.per_host, out.live_out = dict(self.per_host), dict(self.live_out)
        return out

    def remove(self, action, hosts=None):
        self.add(action, hosts, sign=-1)
