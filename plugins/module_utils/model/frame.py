# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Model tables <-> JSON: split orientation, schema dtypes, digest and snapshot files.

A model travels between Ansible tasks as ``{table: {"columns": [...], "data": [[...]]}, ...,
"meta": {...}}`` (DESIGN.md). Lists of dicts are too slow at 50 000 rows; split keeps one
list per row and the column names once.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gzip
import hashlib
import json
import math

from ansible_collections.vigil.openstack.plugins.module_utils.model import schema
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np, pd
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import replace_private

META = "meta"
SNAPSHOT_FORMAT = 1

# Fill values for missing cells where the dtype cannot hold a missing value.
_FILL = {"int64": 0, "bool": False}


def require_pandas():
    if pd is None:
        raise ImportError("the Python library pandas is required (pip install pandas)")


def _series_for(values, dtype, length):
    if values is None:
        values = [None] * length
    if dtype == "object":
        # Object columns hold lists/dicts; keep the values themselves (no copying into numpy).
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
        return pd.Series(arr, dtype=object)
    if dtype in _FILL:
        fill = _FILL[dtype]
        return pd.Series([fill if v is None or (isinstance(v, float) and math.isnan(v)) else v for v in values]).astype(
            dtype
        )
    if dtype == "float64":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=dtype)


def from_columns(table, columns):
    """A DataFrame of `table` from a dict column -> list of values (missing columns are
    filled: empty string columns with <NA>, ints with 0, bools with False, objects with None)."""
    require_pandas()
    if table not in schema.TABLES:
        raise KeyError("unknown model table %r" % table)
    lengths = set(len(v) for v in columns.values() if v is not None)
    if len(lengths) > 1:
        raise ValueError("columns of table %r differ in length: %s" % (table, sorted(lengths)))
    n = lengths.pop() if lengths else 0
    data = {}
    for col in schema.TABLES[table]:
        data[col.name] = _series_for(columns.get(col.name), col.dtype, n)
    extras = [c for c in columns if c not in data]
    for name in extras:
        data[name] = _series_for(columns[name], "object", n)
    return pd.DataFrame(data)


def empty(table):
    return from_columns(table, {})


def _py(value):
    """A JSON-safe Python value (numpy scalars, NA and NaN become plain values/None)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [_py(v) for v in value]
    if isinstance(value, dict):
        return dict((str(k), _py(v)) for k, v in value.items())
    if isinstance(value, np.ndarray):
        return [_py(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    return value


def _column_values(series):
    dtype = str(series.dtype)
    if dtype == "object":
        return [_py(v) for v in series.tolist()]
    if dtype in ("int64", "bool"):
        return series.tolist()
    if dtype == "float64":
        return [None if math.isnan(v) else v for v in series.tolist()]
    # string / nullable dtypes: NA -> None
    mask = series.isna().tolist()
    return [None if m else v for v, m in zip(series.astype(object).tolist(), mask)]


def to_split(df):
    """``{"columns": [...], "data": [[...], ...]}`` with JSON-safe values, no index."""
    require_pandas()
    cols = [str(c) for c in df.columns]
    values = [_column_values(df[c]) for c in df.columns]
    return {"columns": cols, "data": [list(row) for row in zip(*values)] if values else []}


def from_split(data, table):
    """DataFrame of `table` from its split form, with the schema's dtypes."""
    require_pandas()
    if isinstance(data, pd.DataFrame):
        return data
    if not isinstance(data, dict) or "columns" not in data or "data" not in data:
        raise ValueError("table %r is not in split orientation (need 'columns' and 'data')" % table)
    cols = list(data["columns"])
    rows = data["data"] or []
    for i, row in enumerate(rows):
        if len(row) != len(cols):
            raise ValueError("table %r row %d has %d values for %d columns" % (table, i, len(row), len(cols)))
    by_col = dict((c, [r[i] for r in rows]) for i, c in enumerate(cols))
    if not rows:
        by_col = dict((c, []) for c in cols)
    return from_columns(table, by_col)


def load_model(model):
    """``{table: DataFrame}`` for every known table in a model dict (split tables or frames)."""
    if not isinstance(model, dict):
        raise ValueError("a model is a dict of tables, got %s" % type(model).__name__)
    out = {}
    for name, value in model.items():
        if name == META:
            continue
        if name not in schema.TABLES:
            continue  # tables of newer/other versions pass through untouched by the loader
        out[name] = from_split(value, name)
    return out


def _tables_as_split(model):
    out = {}
    for name, value in model.items():
        if name == META:
            continue
        if pd is not None and isinstance(value, pd.DataFrame):
            value = to_split(value)
        out[name] = value
    return out


def model_digest(model):
    """``sha256:<hex>`` over the tables (not meta), stable across runs and key order."""
    tables = _tables_as_split(model)
    canon = json.dumps(tables, sort_keys=True, separators=(",", ":"), default=str, allow_nan=False)
    return "sha256:" + hashlib.sha256(canon.encode("utf-8")).hexdigest()


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def dump_model(tables, meta=None):
    """The JSON-able model: every table in split form plus meta with the digest."""
    out = _tables_as_split(tables)
    info = dict(meta or {})
    info.setdefault("collected", now_iso())
    info.setdefault("skipped", [])
    info["digest"] = model_digest(out)
    out[META] = info
    return out


def save_snapshot(path, model):
    """Write the model as gzip JSON, mode 0600 (it names hosts, projects and servers).

    Written to a temporary file in the same directory then renamed, so a reader never sees
    half a snapshot."""
    model = dump_model(model, (model.get(META) if isinstance(model, dict) else None))
    payload = {"vigil_snapshot": SNAPSHOT_FORMAT, "model": model}
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode("utf-8")
    replace_private(path, gzip.compress(text, mtime=0))
    return model[META]["digest"]


def load_snapshot(path, verify=True):
    """The model dict stored in a snapshot file; checks its digest unless ``verify=False``."""
    try:
        with gzip.open(path, "rb") as gz:
            payload = json.loads(gz.read().decode("utf-8"))
    except (OSError, EOFError, ValueError) as exc:
        raise ValueError("%s is not a vigil snapshot (gzip JSON): %s" % (path, exc)) from exc
    if not isinstance(payload, dict) or "model" not in payload:
        raise ValueError("%s is not a vigil snapshot: no 'model' key" % path)
    if payload.get("vigil_snapshot") != SNAPSHOT_FORMAT:
        raise ValueError(
            "%s has snapshot format %r, this vigil reads %d" % (path, payload.get("vigil_snapshot"), SNAPSHOT_FORMAT)
        )
    model = payload["model"]
    if verify:
        stored = (model.get(META) or {}).get("digest")
        actual = model_digest(model)
        if stored != actual:
            raise ValueError(
                "%s: digest mismatch (stored %s, computed %s): the file was modified" % (path, stored, actual)
            )
    return model
