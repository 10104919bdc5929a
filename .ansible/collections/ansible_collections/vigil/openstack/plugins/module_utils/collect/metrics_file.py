# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""A static metrics file as a datasource, for air-gapped and what-if runs.

Accepted formats (docs/metrics.md has examples):

- CSV with a header row; columns ``resource_type,resource_id,metric,value`` and optionally
  ``aggregate`` (default ``mean``) and ``period_s`` (default: the ``period`` option).
- JSON: the ``metrics`` table in split orientation (``{"columns": [...], "data": [...]}``),
  a list of records with the same keys as the CSV columns, or a nested mapping::

      {"period_s": 3600,
       "node":     {"cmp1": {"cpu_util_pct": 35.0, "ram_used_mb": {"mean": 20480, "max": 30000}}},
       "instance": {"<uuid>": {"cpu_util_pct": 12.5}}}

Host names match exactly or by the first DNS component of an FQDN, as with Prometheus.
Rows for resources outside the scope are ignored; scoped resources without a value are
reported in ``missing`` and warned about; NaN is a warning, not a value.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io
import json
import os

from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import (
    AGGREGATES,
    RESOURCE_TYPES,
    MetricsError,
    Results,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema

REQUIRED = ("resource_type", "resource_id", "metric", "value")


def _records_from_nested(doc, default_period):
    period = doc.get("period_s", default_period)
    default_agg = doc.get("aggregate", "mean")
    records = []
    for rtype in RESOURCE_TYPES:
        for rid, metrics in (doc.get(rtype) or {}).items():
            if not isinstance(metrics, dict):
                raise MetricsError("bad_input", "%s %s: expected a mapping of metric -> value" % (rtype, rid))
            for metric, value in metrics.items():
                per_agg = value if isinstance(value, dict) else {default_agg: value}
                for agg, v in per_agg.items():
                    records.append(
                        {
                            "resource_type": rtype,
                            "resource_id": rid,
                            "metric": metric,
                            "aggregate": agg,
                            "period_s": period,
                            "value": v,
                        }
                    )
    return records


def parse(text, fmt=None, default_period=300, source="metrics file"):
    """Records (dicts with the metrics table's columns) from CSV or JSON text. fmt: csv/json/None (sniff)."""
    fmt = fmt or ("json" if text.lstrip()[:1] in ("{", "[") else "csv")
    if fmt == "json":
        try:
            doc = json.loads(text)
        except ValueError as exc:
            raise MetricsError("bad_input", "%s is not valid JSON: %s" % (source, exc)) from None
        if isinstance(doc, dict) and "columns" in doc and "data" in doc:
            records = [dict(zip(doc["columns"], row)) for row in doc["data"]]
        elif isinstance(doc, list):
            records = doc
        elif isinstance(doc, dict) and any(k in doc for k in RESOURCE_TYPES):
            records = _records_from_nested(doc, default_period)
        else:
            raise MetricsError(
                "bad_input",
                "%s: expected a split table, a list of records or a {node: ..., instance: ...} mapping" % source,
            )
        lines = None
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise MetricsError(
                "bad_input", "%s: CSV header lacks %s (has: %s)" % (source, ", ".join(missing), ", ".join(header))
            )
        reader.fieldnames = header
        records = list(reader)
        lines = [r + 2 for r in range(len(records))]  # header is line 1
    else:
        raise MetricsError("bad_input", "unknown metrics file format %r (csv or json)" % fmt)
    return _validate(records, default_period, source, lines)


def _validate(records, default_period, source, lines):
    problems = []
    out = []
    for i, rec in enumerate(records):
        where = "%s line %d" % (source, lines[i]) if lines else "%s record %d" % (source, i + 1)
        if not isinstance(rec, dict):
            problems.append("%s: not a record" % where)
            continue
        rec = dict((k, (v.strip() if isinstance(v, str) else v)) for k, v in rec.items() if k is not None)
        lacking = [c for c in REQUIRED if rec.get(c) in (None, "")]
        if lacking:
            problems.append("%s: no %s" % (where, ", ".join(lacking)))
            continue
        rec["aggregate"] = rec.get("aggregate") or "mean"
        if rec["resource_type"] not in RESOURCE_TYPES:
            problems.append("%s: resource_type %r is not node or instance" % (where, rec["resource_type"]))
        if rec["metric"] not in schema.METRIC_NAMES:
            problems.append(
                "%s: unknown metric %r (known: %s)" % (where, rec["metric"], ", ".join(schema.METRIC_NAMES))
            )
        if rec["aggregate"] not in AGGREGATES:
            problems.append("%s: aggregate %r is not one of %s" % (where, rec["aggregate"], "/".join(AGGREGATES)))
        try:
            rec["period_s"] = int(float(rec.get("period_s") or default_period))
            if rec["period_s"] <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("%s: period_s %r is not a positive number of seconds" % (where, rec.get("period_s")))
        try:
            float(rec["value"])  # NaN parses; it becomes a warning later, not an error
        except (TypeError, ValueError):
            problems.append("%s: value %r is not a number" % (where, rec["value"]))
        rec["resource_id"] = str(rec["resource_id"])
        out.append(rec)
        if len(problems) >= 20:
            problems.append("... (stopped after 20 problems)")
            break
    if problems:
        raise MetricsError("bad_input", "; ".join(problems))
    return out


def load(path, fmt=None, default_period=300):
    if not os.path.isfile(path):
        raise MetricsError("bad_input", "metrics file %s does not exist" % path)
    if fmt is None:
        ext = os.path.splitext(path)[1].lower()
        fmt = {".csv": "csv", ".json": "json"}.get(ext)
    with open(path, encoding="utf-8") as fh:
        return parse(fh.read(), fmt, default_period, source=path)


def collect(records, hostnames=(), instances=None, options=None):
    """Rows for the scoped resources from parsed records; same result shape as collect.prometheus.collect.

    options: aggregates (default all in the file), metrics ('cpu_util_pct' or 'node.cpu_util_pct';
    default: those the file has; a requested metric the file lacks is warned about).
    """
    options = options or {}
    aggs = options.get("aggregates")
    if isinstance(aggs, str):
        aggs = [a.strip() for a in aggs.split(",") if a.strip()]
    wanted = options.get("metrics")
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    res = Results(hostnames, instances)
    groups = {}
    for rec in records:
        key = (rec["resource_type"], rec["metric"], rec["aggregate"], rec["period_s"])
        groups.setdefault(key, []).append((rec["resource_id"], rec["value"]))
    if wanted is not None:  # requested but absent from the file: still a gap per resource
        for rtype in RESOURCE_TYPES:
            for metric in schema.METRIC_NAMES:
                if metric in wanted or "%s.%s" % (rtype, metric) in wanted:
                    for agg in aggs or ["mean"]:
                        if not any(k[:3] == (rtype, metric, agg) for k in groups):
                            groups[(rtype, metric, agg, int(options.get("period") or 300))] = []
    for (rtype, metric, agg, period), samples in sorted(groups.items()):
        if not res.ids[rtype]:
            continue
        if aggs and agg not in aggs:
            continue
        if wanted is not None and metric not in wanted and "%s.%s" % (rtype, metric) not in wanted:
            continue
        res.add(rtype, metric, agg, period, samples, empty_hint=" in the metrics file")
    return res.as_dict(queries=[], requests=0)
