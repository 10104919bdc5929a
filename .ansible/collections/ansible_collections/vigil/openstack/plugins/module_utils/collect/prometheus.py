# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Utilisation metrics from Prometheus (or Aetos) into the model's ``metrics`` table.

One PromQL instant query per (metric, aggregate) covers every scoped host or instance at
once: the scope goes into one regex label matcher, the answer is mapped back to hostnames
and server uuids exactly. So 1 000 hosts and 20 000 instances cost 9 queries, not 21 000.

PromQL follows OpenStack Watcher's Prometheus datasource (watcher/decision_engine/
datasources/prometheus_base.py):

- host cpu %:  100 - avg by (fqdn)(rate(node_cpu_seconds_total{mode="idle"}[P])) * 100
- host ram:    node_memory_MemTotal_bytes - <agg>_over_time(node_memory_MemAvailable_bytes[P])
               (max used = total - min available, as Watcher inverts max/min)
- instance cpu %: rate(ceilometer_cpu[P]) / 1e9 * 100 / vcpus, clamped to 100
               (vcpus differ per instance, so the division happens here, not in PromQL)
- instance ram: <agg>_over_time(ceilometer_memory_usage[P])   (MB)
- thermal, airflow, power (ipmi_exporter series), L3 cache (Ceilometer):
  <agg>_over_time(<series>[P]) where series exist.

``mean`` over a period is Watcher's query exactly. For ``max``/``min`` of a rate Watcher
aggregates across CPUs; vigil takes the max/min over time of the host's (or instance's)
rate with a sub-query, which is what a strategy's "peak" means. Missing series and NaN
are reported per resource as warnings and never turned into numbers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re
import time
from collections import namedtuple

from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import (
    AGGREGATES,
    MetricsError,
    Results,
    names,
)

try:
    import requests

    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - requests comes with openstacksdk
    requests = None
    HAS_REQUESTS = False

_AGG = {"mean": "avg", "max": "max", "min": "min"}
# Queries are reads: a Prometheus restarting or a proxy hiccup (502/503/504) is retried with
# backoff before the module fails; other errors are answers and fail at once.
RETRY_STATUSES = (502, 503, 504)
RETRY_DELAYS = (0.5, 1.0, 2.0)
_INVERSE = {"mean": "mean", "max": "min", "min": "max"}
MB = 1048576

# Series each vigil metric is computed from. Operators remap any of them with ``metric_map``
# (a metric name, or a selector with fixed labels: 'ipmi_temperature_celsius{sensor="outlet"}');
# an empty value switches the metric off.
DEFAULT_SERIES = {
    "node_cpu_seconds": "node_cpu_seconds_total",
    "node_memory_total": "node_memory_MemTotal_bytes",
    "node_memory_available": "node_memory_MemAvailable_bytes",
    # thermal/power: prometheus ipmi_exporter names (Watcher's Prometheus datasource has none)
    "node_outlet_temp": 'ipmi_temperature_celsius{name="Outlet Temp"}',
    "node_inlet_temp": 'ipmi_temperature_celsius{name="Inlet Temp"}',
    "node_airflow": "ipmi_airflow_cfm",
    "node_power": "ipmi_dcmi_power_consumption_watts",
    "instance_cpu_time": "ceilometer_cpu",
    "instance_memory_usage": "ceilometer_memory_usage",
    "instance_l3_cache": "ceilometer_cpu_l3_cache",
}

# kind: how the query is built; series: DEFAULT_SERIES keys; divisor: series unit -> metric unit
MetricSpec = namedtuple("MetricSpec", "resource_type metric kind series divisor")
SPECS = (
    MetricSpec("node", "cpu_util_pct", "node_cpu", ("node_cpu_seconds",), 1),
    MetricSpec("node", "ram_used_mb", "node_ram", ("node_memory_total", "node_memory_available"), MB),
    MetricSpec("node", "outlet_temp_c", "gauge", ("node_outlet_temp",), 1),
    MetricSpec("node", "inlet_temp_c", "gauge", ("node_inlet_temp",), 1),
    MetricSpec("node", "airflow", "gauge", ("node_airflow",), 1),
    MetricSpec("node", "power_w", "gauge", ("node_power",), 1),
    MetricSpec("instance", "cpu_util_pct", "instance_cpu", ("instance_cpu_time",), 1000000000),
    MetricSpec("instance", "ram_used_mb", "gauge", ("instance_memory_usage",), 1),
    MetricSpec("instance", "l3_cache_mb", "gauge", ("instance_l3_cache",), MB),
)

DEFAULTS = {
    "host_label": "fqdn",
    "instance_label": "resource",
    "period": 300,
    "aggregates": ["mean"],
    "metrics": None,  # None: every metric in SPECS; else names, 'node.cpu_util_pct' or 'cpu_util_pct' (both types)
    "metric_map": None,
    "rate_window": 300,  # rate() window inside max/min sub-queries, capped at the period
    "resolution": 60,  # sub-query step for max/min
    "time": None,  # evaluation time (unix seconds); None: Prometheus' now
    "filter_in_query": True,  # False: fetch every series of the metric and filter here
}
# -- PromQL text ---------------------------------------------------------------------------------


def promql_string(value):
    """A double-quoted PromQL string literal (Go escaping)."""
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


_RE2_SPECIAL = set("\\.+*?()|[]{}^$")


def regex_escape(value):
    return "".join("\\" + c if c in _RE2_SPECIAL else c for c in value)


def selector(series, matchers):
    """Add label matchers to a series selector: 'a' or 'a{x="y"}' -> 'a{x="y",m}'."""
    series = series.strip()
    extra = ",".join(m for m in matchers if m)
    if series.endswith("}") and "{" in series:
        head, inner = series[:-1].split("{", 1)
        inner = inner.strip().rstrip(",")
        return "%s{%s}" % (head, ",".join(p for p in (inner, extra) if p))
    return "%s{%s}" % (series, extra) if extra else series


def scope_matcher(label, values, short_names):
    """label=~"(?:a|b)" for exact ids; hosts also match any FQDN whose first component is the name."""
    if not values:
        return None
    alternation = "|".join(regex_escape(v) for v in sorted(values))
    pattern = "(?:%s)" % alternation
    if short_names:
        pattern += "(?:\\..+)?"  # mapped back exactly (first DNS component) in resolve_hosts
    return "%s=~%s" % (label, promql_string(pattern))


def build_query(spec, series, label, matcher, aggregate, period, rate_window, resolution):
    """The PromQL text for one metric and aggregate over every scoped resource."""
    agg = _AGG[aggregate]
    sel = [selector(series[key], [matcher]) for key in spec.series]
    window = "[%ds]" % period
    if spec.kind == "node_cpu":
        idle = selector(series["node_cpu_seconds"], ['mode="idle"', matcher])
        if aggregate == "mean":
            return "100 - (avg by (%s)(rate(%s%s)) * 100)" % (label, idle, window)
        inner = "100 - (avg by (%s)(rate(%s[%ds])) * 100)" % (label, idle, min(rate_window, period))
        return "%s_over_time((%s)[%ds:%ds])" % (agg, inner, period, resolution)
    if spec.kind == "node_ram":
        avail = _AGG[_INVERSE[aggregate]]  # max used = total - min available
        return "(max by (%s)(max_over_time(%s%s)) - %s by (%s)(%s_over_time(%s%s))) / %d" % (
            label,
            sel[0],
            window,
            avail,
            label,
            avail,
            sel[1],
            window,
            spec.divisor,
        )
    if spec.kind == "instance_cpu":  # cpu seconds per second; / vcpus * 100 in collect()
        if aggregate == "mean":
            return "avg by (%s)(rate(%s%s)) / %d" % (label, sel[0], window, spec.divisor)
        inner = "avg by (%s)(rate(%s[%ds]))" % (label, sel[0], min(rate_window, period))
        return "%s_over_time((%s)[%ds:%ds]) / %d" % (agg, inner, period, resolution, spec.divisor)
    # gauge
    query = "%s by (%s)(%s_over_time(%s%s))" % (agg, label, agg, sel[0], window)
    return query if spec.divisor == 1 else "%s / %d" % (query, spec.divisor)


# -- transport -----------------------------------------------------------------------------------


class HTTPTransport(object):
    """POST /api/v1/query with requests: TLS, basic auth or bearer token."""

    def __init__(
        self,
        url,
        validate_certs=True,
        ca_cert=None,
        client_cert=None,
        client_key=None,
        username=None,
        password=None,
        token=None,
        timeout=60,
        headers=None,
    ):
        if not HAS_REQUESTS:
            raise MetricsError("bad_input", "the python 'requests' library is required for the Prometheus datasource")
        self.base = url.rstrip("/")
        self.where = self.base
        self.session = requests.Session()
        # per request, not Session.verify: requests lets REQUESTS_CA_BUNDLE override the latter
        self.verify = (ca_cert or True) if validate_certs else False
        if client_cert:
            self.session.cert = (client_cert, client_key) if client_key else client_cert
        if username:
            self.session.auth = (username, password or "")
        if token:
            self.session.headers["Authorization"] = "Bearer %s" % token
        self.session.headers.update(headers or {})
        self.timeout = timeout

    def post(self, path, data):
        try:
            resp = self.session.post(self.base + "/api/v1/" + path, data=data, timeout=self.timeout, verify=self.verify)
        except requests.exceptions.RequestException as exc:
            raise MetricsError(
                "unreachable", "cannot reach Prometheus at %s: %s" % (self.base, _reason(exc, self.timeout))
            ) from None
        return resp.status_code, resp.text


class KeystoneTransport(object):
    """Aetos: the same API behind Keystone; endpoint from the catalog, token from the session.

    Watcher's Aetos datasource looks the endpoint up with service_type 'metric-storage'.
    ``session`` is a keystoneauth1 Session (openstacksdk's ``conn.session``).
    """

    def __init__(
        self,
        session,
        service_type="metric-storage",
        interface="public",
        region_name=None,
        endpoint_override=None,
        timeout=60,
    ):
        self.session = session
        self.timeout = timeout
        self.filter = {"service_type": service_type, "interface": interface}
        if region_name:
            self.filter["region_name"] = region_name
        try:
            self.base = (endpoint_override or session.get_endpoint(**self.filter) or "").rstrip("/")
        except Exception as exc:  # keystoneauth raises many catalog/connection classes  # noqa: BLE001
            raise MetricsError(
                "unreachable" if "Connect" in type(exc).__name__ else "missing_service",
                "cannot find the %s endpoint in the catalog: %s" % (service_type, _first_line(exc)),
            ) from None
        if not self.base:
            raise MetricsError("missing_service", "no %s endpoint (%s) in the catalog" % (service_type, interface))
        self.where = "Aetos at %s" % self.base

    def post(self, path, data):
        try:
            resp = self.session.post(self.base + "/api/v1/" + path, data=data, raise_exc=False, timeout=self.timeout)
        except Exception as exc:  # noqa: BLE001
            kind = "auth" if "Auth" in type(exc).__name__ or "Unauthorized" in type(exc).__name__ else "unreachable"
            raise MetricsError(kind, "cannot reach %s: %s" % (self.where, _first_line(exc))) from None
        return resp.status_code, resp.text


def _reason(exc, timeout):
    """The useful part of a requests error ('connection refused', 'timed out after 5s', TLS ...)."""
    if isinstance(exc, requests.exceptions.SSLError):
        match = re.search(r"\[SSL[^\]]*\][^'\")]*", str(exc))
        return "TLS error: %s" % (match.group(0) if match else _first_line(exc))
    if isinstance(exc, requests.exceptions.Timeout):
        return "timed out after %ss" % timeout
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", str(exc))
    return match.group(1).lower() if match else _first_line(exc)


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _short(query, limit=300):
    return query if len(query) <= limit else query[:limit] + "...(%d chars)" % len(query)


def run_query(transport, query, at=None):
    """One instant query; returns (vector result, prometheus warnings). Raises MetricsError."""
    data = {"query": query}
    if at is not None:
        data["time"] = repr(float(at))
    status, text = transport.post("query", data)
    for delay in RETRY_DELAYS:
        if status not in RETRY_STATUSES:
            break
        time.sleep(delay)
        status, text = transport.post("query", data)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if status >= 400 or not isinstance(body, dict) or body.get("status") != "success":
        detail = ""
        if isinstance(body, dict) and body.get("error"):
            detail = "%s: %s" % (body.get("errorType", "error"), body["error"])
        elif text:
            detail = " ".join(text.split())[:200]
        if status in (401, 403):
            raise MetricsError(
                "auth" if status == 401 else "forbidden",
                "%s refused the query (HTTP %d%s)" % (transport.where, status, ": " + detail if detail else ""),
            )
        if status == 404:
            raise MetricsError(
                "not_found", "%s has no /api/v1/query (HTTP 404): is it the Prometheus base URL?" % transport.where
            )
        if status >= 500:
            kind = "server"
        elif status >= 400:
            kind = "bad_query"
        else:
            kind = "bad_response"
        reason = "HTTP %d" % status if status >= 400 else "not a Prometheus API answer"
        raise MetricsError(
            kind,
            "%s failed the query (%s%s): %s"
            % (transport.where, reason, ", " + detail if detail else "", _short(query)),
        )
    result = body.get("data") or {}
    if result.get("resultType") != "vector":
        raise MetricsError(
            "bad_response", "expected a vector from %s, got %r" % (transport.where, result.get("resultType"))
        )
    return result.get("result") or [], list(body.get("warnings") or [])


# -- options -------------------------------------------------------------------------------------


def normalise_options(options):
    """Defaults applied, values checked. Raises MetricsError('bad_input') naming every problem."""
    opts = dict(DEFAULTS)
    opts.update(dict((k, v) for k, v in (options or {}).items() if v is not None))
    problems = []
    aggs = opts["aggregates"]
    if isinstance(aggs, str):
        aggs = [a.strip() for a in aggs.split(",") if a.strip()]
    bad = [a for a in aggs if a not in AGGREGATES]
    if bad or not aggs:
        problems.append(
            "aggregate must be among %s, got %s" % ("/".join(AGGREGATES), ", ".join(map(str, bad)) or "nothing")
        )
    opts["aggregates"] = list(dict.fromkeys(aggs))
    for key in ("period", "rate_window", "resolution"):
        try:
            opts[key] = int(opts[key])
            if opts[key] <= 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("%s must be a positive number of seconds, got %r" % (key, opts[key]))
    series = dict(DEFAULT_SERIES)
    for key, value in (opts["metric_map"] or {}).items():
        if key not in DEFAULT_SERIES:
            problems.append("metric_map key %r is unknown (known: %s)" % (key, ", ".join(sorted(DEFAULT_SERIES))))
        elif value is not None and not isinstance(value, str):
            problems.append("metric_map[%s] must be a series name or selector string" % key)
        else:
            series[key] = (value or "").strip()
    opts["series"] = series
    known = set(s.metric for s in SPECS) | set("%s.%s" % (s.resource_type, s.metric) for s in SPECS)
    wanted = opts["metrics"]
    if isinstance(wanted, str):
        wanted = [w.strip() for w in wanted.split(",") if w.strip()]
    if wanted is not None:
        unknown = [w for w in wanted if w not in known]
        if unknown:
            problems.append("unknown metrics %s (known: %s)" % (", ".join(unknown), ", ".join(sorted(known))))
    opts["metrics"] = wanted
    for key in ("host_label", "instance_label"):
        if not isinstance(opts[key], str) or not opts[key].replace("_", "a").isalnum() or opts[key][0].isdigit():
            problems.append("%s must be a Prometheus label name, got %r" % (key, opts[key]))
    if opts["time"] is not None:
        try:
            opts["time"] = float(opts["time"])
        except (TypeError, ValueError):
            problems.append("time must be unix seconds, got %r" % (opts["time"],))
    if problems:
        raise MetricsError("bad_input", "; ".join(problems))
    return opts


def selected_specs(opts):
    wanted = opts["metrics"]
    out = []
    for spec in SPECS:
        if wanted is None or spec.metric in wanted or "%s.%s" % (spec.resource_type, spec.metric) in wanted:
            out.append(spec)
    return out


# -- the collection ------------------------------------------------------------------------------


def collect(transport, hostnames=(), instances=None, options=None, clock=time.monotonic):
    """Fill metrics for the scoped hosts and instances.

    instances: {uuid: vcpus or None} (or a list of uuids). Returns a dict: rows (metrics
    table rows in schema column order), warnings, missing {resource_type: {metric: [ids]}},
    queries [{resource_type, metric, aggregate, query, series, seconds}], requests (HTTP
    requests made).
    """
    opts = normalise_options(options)
    res = Results(hostnames, instances)
    labels = {"node": opts["host_label"], "instance": opts["instance_label"]}
    queries = []
    novcpu = set()

    def per_vcpu(rid, value):
        vcpus = res.instances.get(rid)
        if not vcpus:
            novcpu.add(rid)
            vcpus = 1  # as Watcher: unknown vcpus counts as one
        return min(value * 100.0 / vcpus, 100.0)

    for spec in selected_specs(opts):
        ids = res.ids[spec.resource_type]
        if not ids or not all(opts["series"][k] for k in spec.series):
            continue  # nothing scoped, or switched off in metric_map (not asked for: no warning)
        label = labels[spec.resource_type]
        matcher = scope_matcher(label, ids, spec.resource_type == "node") if opts["filter_in_query"] else None
        for aggregate in opts["aggregates"]:
            query = build_query(
                spec, opts["series"], label, matcher, aggregate, opts["period"], opts["rate_window"], opts["resolution"]
            )
            started = clock()
            result, prom_warnings = run_query(transport, query, opts["time"])
            queries.append(
                {
                    "resource_type": spec.resource_type,
                    "metric": spec.metric,
                    "aggregate": aggregate,
                    "query": query,
                    "series": len(result),
                    "seconds": round(clock() - started, 4),
                }
            )
            where = "%s %s (%s over %ds)" % (spec.resource_type, spec.metric, aggregate, opts["period"])
            res.warnings.extend("%s: Prometheus warns: %s" % (where, w) for w in prom_warnings)
            try:
                samples = [((s.get("metric") or {}).get(label), s["value"][1]) for s in result]
            except (AttributeError, KeyError, IndexError, TypeError):
                raise MetricsError("bad_response", "%s: malformed answer from %s" % (where, transport.where)) from None
            try:
                res.add(
                    spec.resource_type,
                    spec.metric,
                    aggregate,
                    opts["period"],
                    samples,
                    where=where,
                    transform=per_vcpu if spec.kind == "instance_cpu" else None,
                    empty_hint=" (query: %s)" % _short(query, 200),
                )
            except MetricsError as exc:
                raise MetricsError(exc.kind, "%s (answer from %s)" % (exc.message, transport.where)) from None
    if novcpu:
        res.warnings.append("instance cpu_util_pct: vcpus unknown for %s, counted as 1 vCPU" % names(novcpu))
    return res.as_dict(queries=queries, requests=len(queries))
