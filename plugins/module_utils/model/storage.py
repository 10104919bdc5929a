# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Builders of the ``volumes`` and ``pools`` tables from Cinder API payloads.

Vectorised: one list per column built in a single pass over the payload, then one
DataFrame with the schema's dtypes. ``volumes.pool`` is the full ``host@backend#pool``,
equal to ``pools.name`` (the join key strategies use); ``volumes.host`` is Cinder's
``os-vol-host-attr:host`` as is (the same string; the migrate action compares it). Capacities
Cinder reports as ``unknown`` are NaN, ``infinite`` is `INFINITE_GB`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import sys

from ansible_collections.vigil.openstack.plugins.module_utils.action_types import pool_host
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

# Cinder's default max_over_subscription_ratio when a driver reports "auto" with nothing
# provisioned yet (cinder.utils.calculate_max_over_subscription_ratio).
DEFAULT_OVER_SUBSCRIPTION = 20.0

_TRUE = ("true", "1", "yes", "on", "<is> true")

# Cinder's "infinite" capacity. JSON has no infinity (the model digest refuses it), so the
# largest float stands for it: every comparison treats it as unbounded, ratios go to 0.
INFINITE_GB = sys.float_info.max


def _bool(value):
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    return str(value).strip().lower() in _TRUE


def _capacity(value):
    """Cinder reports capacities as numbers or the strings ``infinite`` / ``unknown``."""
    if value is None:
        return math.nan
    if isinstance(value, (int, float)):
        return INFINITE_GB if math.isinf(value) else float(value)
    text = str(value).strip().lower()
    if text == "infinite":
        return INFINITE_GB
    try:
        return float(text)
    except ValueError:
        return math.nan


def _over_subscription(caps, total, free, allocated):
    ratio = caps.get("max_over_subscription_ratio")
    if ratio is None:
        # Thick pools never oversubscribe; thin pools without a value use Cinder's default.
        return DEFAULT_OVER_SUBSCRIPTION if _bool(caps.get("thin_provisioning_support")) else 1.0
    if str(ratio).strip().lower() == "auto":
        provisioned = _capacity(caps.get("provisioned_capacity_gb", allocated))
        if math.isnan(provisioned) or provisioned <= 0 or not total or math.isnan(total) or total >= INFINITE_GB:
            return DEFAULT_OVER_SUBSCRIPTION
        return 1.0 + provisioned / (total - free + 1.0)
    return _capacity(ratio)


def volumes(payload, project_ids=None):
    """The ``volumes`` table from ``GET /volumes/detail`` items.

    ``project_ids``: keep only volumes of these projects (None keeps all).
    """
    vols = payload or []
    host = [v.get("os-vol-host-attr:host") or "" for v in vols]
    columns = {
        "id": [v.get("id") for v in vols],
        "name": [v.get("name") or "" for v in vols],
        "project_id": [v.get("os-vol-tenant-attr:tenant_id") or "" for v in vols],
        "host": host,
        "pool": host,
        "size_gb": [int(v.get("size") or 0) for v in vols],
        "volume_type": [v.get("volume_type") or "" for v in vols],
        "status": [v.get("status") or "" for v in vols],
        # Admins get both keys; older views only the extension attribute.
        "migration_status": [v.get("migration_status") or v.get("os-vol-mig-status-attr:migstat") or "" for v in vols],
        "bootable": [_bool(v.get("bootable")) for v in vols],
        "attachments": [[a.get("server_id") for a in (v.get("attachments") or []) if a.get("server_id")] for v in vols],
        "az": [v.get("availability_zone") or "" for v in vols],
    }
    df = frame.from_columns("volumes", columns)
    if project_ids is not None:
        df = df[df["project_id"].isin(list(project_ids))].reset_index(drop=True)
    return df


# --- what Cinder's pool and type payloads mean ----------------------------------------------


def types_by_backend(volume_types):
    """``{backend_name: [type names]}`` plus ``None: [types without a backend]``."""
    served = {}
    for t in volume_types or []:
        backend = (t.get("extra_specs") or {}).get("volume_backend_name") or None
        served.setdefault(backend, []).append(t.get("name"))
    return served


def pool_backend(pool):
    """The backend name of a get_pools item: what a type's ``volume_backend_name`` must equal."""
    # drivers normally report volume_backend_name, fall back to the name.
    name = pool.get("name") or ""
    return (pool.get("capabilities") or {}).get("volume_backend_name") or pool_host(name).partition("@")[2]


def pinned_backend(volume_types, type_name):
    """The ``volume_backend_name`` the type ``type_name`` pins, or None (any pool may take it)."""
    for t in volume_types or []:
        if type_name in (t.get("name"), t.get("id")):
            return (t.get("extra_specs") or {}).get("volume_backend_name") or None
    return None


def pools(payload, volume_types=None):
    """The ``pools`` table from ``GET /scheduler-stats/get_pools?detail=True`` items.

    ``volume_types`` (``GET /types`` items) fill ``volume_types``: the types whose
    ``volume_backend_name`` is the pool's backend, plus types without one (the scheduler
    may place those on any pool).
    """
    items = payload or []
    served = types_by_backend(volume_types)
    anywhere = sorted(t for t in served.get(None, []) if t)
    names = [p.get("name") or "" for p in items]
    caps = [p.get("capabilities") or {} for p in items]
    backend = [pool_backend(p) for p in items]
    total = [_capacity(c.get("total_capacity_gb")) for c in caps]
    free = [_capacity(c.get("free_capacity_gb")) for c in caps]
    allocated = [_capacity(c.get("allocated_capacity_gb", c.get("provisioned_capacity_gb", 0))) for c in caps]
    columns = {
        "name": names,
        "backend": backend,
        "total_capacity_gb": total,
        "free_capacity_gb": free,
        "allocated_capacity_gb": allocated,
        "max_over_subscription_ratio": [
            _over_subscription(c, t, f, a) for c, t, f, a in zip(caps, total, free, allocated)
        ],
        "thin_provisioning": [_bool(c.get("thin_provisioning_support")) for c in caps],
        "reserved_percentage": [_capacity(c.get("reserved_percentage", 0)) for c in caps],
        "volume_types": [sorted(set(t for t in served.get(b, []) if t)) + anywhere for b in backend],
    }
    return frame.from_columns("pools", columns)
