# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""metrics_info: the scope (model, hostnames, instances), the datasource (Prometheus, Aetos
through Keystone, a file), and the metrics table, merged into the model when one is given."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import metrics_file, prometheus
from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import (
    MetricsError,
    scope_from_model,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema


def parse_time(value):
    """Unix seconds from a number or an ISO 8601 string (Z or offset; naive means UTC)."""
    if value in (None, ""):
        return None
    try:
        return float(value)
    except ValueError:
        pass
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        stamp = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise MetricsError("bad_input", "evaluation_time %r is neither unix seconds nor ISO 8601" % value) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return calendar.timegm(stamp.timetuple()) + stamp.microsecond / 1e6


def scope(params):
    """(hostnames, {uuid: vcpus}) from the model, overridden by hostnames/instances."""
    if params["model"] is not None and not isinstance(params["model"].get("nodes", {}), dict):
        raise MetricsError("bad_input", "model.nodes must be a table in split orientation")
    try:
        hosts, vcpus = scope_from_model(params["model"])
    except (AttributeError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise MetricsError("bad_input", "the model's nodes/instances tables are malformed (%s)" % exc) from None
    if params["hostnames"] is not None:
        hosts = params["hostnames"]
    if params["instances"] is not None:
        chosen = {}
        for item in params["instances"]:
            if isinstance(item, dict):
                if not item.get("uuid"):
                    raise MetricsError("bad_input", "an instances item has no uuid: %r" % (item,))
                chosen[str(item["uuid"])] = item.get("vcpus") or vcpus.get(str(item["uuid"]))
            elif isinstance(item, str) and item:
                chosen[item] = vcpus.get(item)
            else:
                raise MetricsError("bad_input", "instances items are uuids or {uuid, vcpus} dicts, got %r" % (item,))
        vcpus = chosen
    if params["model"] is None and params["hostnames"] is None and params["instances"] is None:
        raise MetricsError("bad_input", "nothing to read: give model, hostnames or instances")
    return hosts, vcpus


def transport_for(params):
    timeout = params["api_timeout"] or 60
    if params["datasource"] == "aetos":
        conn = connection.connect(params)
        return prometheus.KeystoneTransport(
            conn.session,
            service_type=params["aetos_service_type"],
            interface=params["interface"],
            region_name=params["region_name"],
            endpoint_override=params["aetos_endpoint"],
            timeout=timeout,
        )
    if not params["prometheus_url"]:
        raise MetricsError("bad_input", "prometheus_url is required with datasource=prometheus")
    if params["prometheus_token"] and params["prometheus_username"]:
        raise MetricsError("bad_input", "give prometheus_token or prometheus_username/password, not both")
    return prometheus.HTTPTransport(
        params["prometheus_url"],
        validate_certs=params["validate_certs"] is not False,
        ca_cert=params["ca_cert"],
        client_cert=params["client_cert"],
        client_key=params["client_key"],
        username=params["prometheus_username"],
        password=params["prometheus_password"],
        token=params["prometheus_token"],
        timeout=timeout,
    )


def run(params):
    hosts, vcpus = scope(params)
    options = dict(
        host_label=params["host_label"],
        instance_label=params["instance_label"],
        period=params["period"],
        aggregates=params["aggregate"],
        metrics=params["metrics"],
        metric_map=params["metric_map"],
        time=parse_time(params["evaluation_time"]),
        rate_window=params["rate_window"],
        resolution=params["resolution"],
        filter_in_query=params["filter_in_query"],
    )
    if params["datasource"] == "file":
        if not params["metrics_file"]:
            raise MetricsError("bad_input", "metrics_file is required with datasource=file")
        records = metrics_file.load(params["metrics_file"], params["metrics_file_format"], params["period"])
        out = metrics_file.collect(records, hosts, vcpus, options)
        where = params["metrics_file"]
    else:
        prometheus.normalise_options(options)  # bad options fail before any connection
        transport = transport_for(params)
        out = prometheus.collect(transport, hosts, vcpus, options)
        where = transport.where
    table = {"columns": schema.columns("metrics"), "data": out["rows"]}
    result = dict(
        metrics=table,
        missing=out["missing"],
        metric_warnings=out["warnings"],
        queries=out["queries"],
        requests=out["requests"],
    )
    if params["model"] is not None:
        result["model"] = with_metrics(params["model"], table, params, where)
    return result, list(out["warnings"])


def with_metrics(model, table, params, where):
    from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

    new = dict(model)
    new["metrics"] = table
    meta = dict(model.get(frame.META) or {})
    new.pop(frame.META, None)
    meta["metrics"] = {
        "datasource": params["datasource"],
        "source": where,
        "period_s": params["period"],
        "aggregates": params["aggregate"],
        "collected": frame.now_iso(),
    }
    meta["digest"] = frame.model_digest(new)
    new[frame.META] = meta
    return new
