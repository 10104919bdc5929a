# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Model access for the constraint layer: tables as DataFrames, columns as numpy arrays.

``as_frames`` turns a model (DataFrames or pandas ``split`` tables) into DataFrames and
``require_table`` names what is missing; the ``*_col`` readers give every rule the same
treatment of absent columns and missing values. Scope resolution is model/scope.py's.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scopelib
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np, pd


class ModelError(ValueError):
    """The model is empty or malformed; the message names the table/column."""


# Columns without which a table means nothing (others get the schema's fill values).
ESSENTIAL = {
    "nodes": ("hostname", "status", "state", "vcpu_total", "memory_mb_total", "disk_gb_total"),
    "instances": ("uuid", "host", "status", "vcpus", "memory_mb"),
    "server_groups": ("id", "policy", "members"),
    "volumes": ("id", "pool", "size_gb", "status"),
    "pools": ("name", "total_capacity_gb", "free_capacity_gb"),
    "metrics": ("resource_type", "resource_id", "metric", "value"),
}


# Boolean columns newer than some snapshots, whose schema fill (False) would mean "bad".
OPTIMISTIC_DEFAULTS = {"nodes": {"network_agent_up": True}}


def _from_split(d, table):
    if isinstance(d, pd.DataFrame):
        return d
    if table not in schema.TABLES:
        if isinstance(d, dict) and "columns" in d and "data" in d:
            return pd.DataFrame(d["data"], columns=d["columns"])
        raise ModelError("table '%s' must be a DataFrame or a split mapping {columns, data}" % table)
    if isinstance(d, dict) and d.get("data"):
        missing = [c for c in ESSENTIAL.get(table, ()) if c not in (d.get("columns") or ())]
        if missing:
            raise ModelError("table '%s' lacks columns: %s" % (table, ", ".join(missing)))
    try:
        df = frame.from_split(d, table)
    except (TypeError, ValueError) as e:
        raise ModelError("table '%s': %s" % (table, e)) from e
    # columns added to the schema later: absent means "not known to be bad"
    for col, value in OPTIMISTIC_DEFAULTS.get(table, {}).items():
        if col not in (d.get("columns") or ()):
            df[col] = value
    return df


def as_frames(model):
    """Model (dict of DataFrames or of split tables + meta) -> dict of DataFrames (+ 'meta')."""
    if not isinstance(model, dict):
        raise ModelError("the model must be a mapping of tables, got %s" % type(model).__name__)
    out = {}
    for name, table in model.items():
        if name == "meta":
            out["meta"] = table if isinstance(table, dict) else {}
            continue
        out[name] = _from_split(table, name)
    out.setdefault("meta", {})
    return out


def require_table(frames, table, min_rows=1):
    df = frames.get(table)
    if df is None:
        raise ModelError("the model has no '%s' table" % table)
    cols = schema.columns(table) if table in schema.TABLES else []
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ModelError("table '%s' lacks columns: %s" % (table, ", ".join(missing)))
    if len(df) < min_rows:
        raise ModelError("table '%s' is empty" % table)
    return df


def as_list(v):
    if v is None:
        return []
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return list(v)
    if isinstance(v, float) and math.isnan(v):
        return []
    if isinstance(v, str):
        return [v] if v else []
    return list(v) if hasattr(v, "__iter__") else [v]


def str_col(df, col):
    if col not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[col].astype(object).where(df[col].notna(), "").astype(str).to_numpy(dtype=object)


def num_col(df, col, default=0.0):
    if col not in df.columns:
        return np.full(len(df), default, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").fillna(default).to_numpy(dtype=float)


def bool_col(df, col, default=False):
    if col not in df.columns:
        return np.full(len(df), default, dtype=bool)
    return df[col].fillna(False).astype(bool).to_numpy()


# --- scope (model/scope.py, shared with the collectors) ----------------------------------------

ScopeError = scopelib.ScopeError


def resolve_scope(nodes, instances, scope):
    """(host_mask, instance_mask) of model/scope.py; ScopeError when it matches no host."""
    return scopelib.resolve(nodes, instances, scope)
