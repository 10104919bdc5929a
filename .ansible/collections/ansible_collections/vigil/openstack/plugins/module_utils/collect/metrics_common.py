# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What every metrics datasource (Prometheus, Aetos, a static file) shares: the scope taken
from a model, exact host-name matching, and how values, NaN and gaps become rows and warnings.

Rows follow the ``metrics`` table of model/schema.py: resource_type, resource_id, metric,
aggregate, period_s, value. A gap is never filled: it is listed in ``missing`` and warned about.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.vigil.openstack.plugins.module_utils.model import schema

AGGREGATES = ("mean", "max", "min")
RESOURCE_TYPES = ("node", "instance")
WARN_LIST = 20  # names listed in one warning before "... and N more"


class MetricsError(Exception):
    """One-line failure. ``kind``: unreachable, auth, forbidden, missing_service, not_found,
    bad_query, server, bad_response, bad_input."""

    def __init__(self, kind, message):
        super(MetricsError, self).__init__(message)
        self.kind = kind
        self.message = message


def names(items):
    items = sorted(items)
    shown = ", ".join(items[:WARN_LIST])
    return shown + (" ... and %d more" % (len(items) - WARN_LIST) if len(items) > WARN_LIST else "")


def resolve_hosts(hostnames, label_values):
    """Map label values to hostnames exactly: equal, or the label's first DNS component equal.

    Returns ({label value: hostname}, warnings). An exact label wins over FQDN candidates;
    two FQDNs with the same first component for one short name are ambiguous and dropped.
    No substring matching: "cmp1" never takes "cmp10.example.com" or "xcmp1.example.com".
    """
    hosts = set(hostnames)
    exact = {}
    by_short = {}
    for value in label_values:
        if value in hosts:
            exact[value] = value
        elif "." in value:
            first = value.split(".", 1)[0]
            if first in hosts:
                by_short.setdefault(first, set()).add(value)
    mapping = dict(exact)
    warnings = []
    for host, values in sorted(by_short.items()):
        if host in exact:
            continue
        if len(values) > 1:
            warnings.append("host %s matches several FQDN labels (%s); none used" % (host, ", ".join(sorted(values))))
            continue
        mapping[values.pop()] = host
    return mapping, warnings


def scope_from_model(model):
    """(hostnames, {uuid: vcpus}) from a model dict whose tables are in split orientation."""
    hosts = []
    instances = {}
    nodes = (model or {}).get("nodes") or {}
    if nodes.get("data"):
        col = nodes["columns"].index("hostname")
        hosts = [row[col] for row in nodes["data"] if row[col]]
    inst = (model or {}).get("instances") or {}
    if inst.get("data"):
        cols = inst["columns"]
        ucol = cols.index("uuid")
        vcol = cols.index("vcpus") if "vcpus" in cols else None
        for row in inst["data"]:
            if row[ucol]:
                instances[row[ucol]] = row[vcol] if vcol is not None else None
    return hosts, instances


def normalise_scope(hostnames, instances):
    """(sorted unique hostnames, {uuid: vcpus}) from lists or dicts."""
    hosts = sorted(set(h for h in (hostnames or ()) if h))
    if instances is None:
        instances = {}
    elif not isinstance(instances, dict):
        instances = dict((u, None) for u in instances if u)
    return hosts, instances


def to_float(raw):
    """float or None for NaN/inf; raises ValueError for non-numbers."""
    value = float(raw)
    if math.isnan(value) or math.isinf(value):
        return None
    return value


class Results(object):
    """Accumulates rows, warnings and gaps for one collection run."""

    def __init__(self, hostnames, instances):
        self.hosts, self.instances = normalise_scope(hostnames, instances)
        self.ids = {"node": self.hosts, "instance": sorted(self.instances)}
        self.rows = []
        self.warnings = []
        self.missing = {"node": {}, "instance": {}}

    def add(self, resource_type, metric, aggregate, period, samples, where=None, transform=None, empty_hint=""):
        """samples: [(label value or resource id, raw value)]. Host labels are resolved to
        hostnames; transform(resource_id, value) -> value adjusts (e.g. per-vCPU). Returns the
        {resource_id: value} kept."""
        ids = self.ids[resource_type]
        where = where or "%s %s (%s over %ds)" % (resource_type, metric, aggregate, period)
        if resource_type == "node":
            mapping, ambiguous = resolve_hosts(self.hosts, set(s[0] for s in samples if s[0]))
            self.warnings.extend("%s: %s" % (where, w) for w in ambiguous)
        else:
            mapping = dict((s[0], s[0]) for s in samples if s[0] in self.instances)
        values, nan = {}, set()
        for label_value, raw in samples:
            rid = mapping.get(label_value)
            if rid is None:
                continue
            try:
                value = to_float(raw)
            except (TypeError, ValueError):
                raise MetricsError("bad_response", "%s: %r for %s is not a number" % (where, raw, rid)) from None
            if value is None:
                nan.add(rid)
                continue
            if transform is not None:
                value = transform(rid, value)
            if rid in values and values[rid] != value:
                self.warnings.append("%s: %s has several series; the first is used" % (where, rid))
                continue
            values[rid] = value
        nan -= set(values)
        if nan:
            self.warnings.append("%s: NaN or infinite value, no metric for %s" % (where, names(nan)))
        absent = [r for r in ids if r not in values and r not in nan]
        gaps = sorted(set(absent) | nan)
        if gaps:
            known = self.missing[resource_type].get(metric, [])
            self.missing[resource_type][metric] = sorted(set(known) | set(gaps))
        if absent:
            what = "hosts" if resource_type == "node" else "instances"
            if not samples:
                self.warnings.append(
                    "%s: no series at all for the %d scoped %s%s" % (where, len(ids), what, empty_hint)
                )
            else:
                self.warnings.append(
                    "%s: no series for %d of %d %s: %s" % (where, len(absent), len(ids), what, names(absent))
                )
        for rid in sorted(values):
            self.rows.append([resource_type, rid, metric, aggregate, int(period), values[rid]])
        return values

    def table(self):
        """The metrics table in split orientation, schema column order."""
        return {"columns": schema.columns("metrics"), "data": [list(r) for r in self.rows]}

    def as_dict(self, **extra):
        out = {"rows": self.rows, "warnings": self.warnings, "missing": self.missing}
        out.update(extra)
        return out
