#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: metrics_info
short_description: Fill the metrics table of vigil's cluster model from Prometheus, Aetos or a file
version_added: "0.1.0"
description:
  - Reads host and instance utilisation (CPU %, RAM used, outlet and inlet temperature,
    airflow, power, L3 cache) aggregated over a period and returns the C(metrics) table of
    vigil's cluster model in C(split) orientation, alone and inside the model it was given.
  - With I(datasource=prometheus) it queries the Prometheus HTTP API with the same PromQL
    semantics as OpenStack Watcher's Prometheus datasource, with one query per metric and
    aggregate for all scoped hosts and instances at once (never one per host or instance).
    See docs/metrics.md for the queries.
  - With I(datasource=aetos) the same queries go to Aetos, Watcher's Keystone-authenticated
    Prometheus proxy, through a Keystone session; its endpoint comes from the catalog
    (service type I(aetos_service_type)) unless I(aetos_endpoint) is given.
  - With I(datasource=file) values come from a static CSV or JSON file (air-gapped and
    what-if runs); the format is in docs/metrics.md.
  - Host names match the host label exactly, or the label's first DNS component (a short
    Nova host name C(cmp1) matches C(cmp1.example.com)); there is no substring matching.
  - A host or instance without a series, or with a NaN value, gets no row; it is listed in
    C(missing) and reported as a warning. No value is ever made up.
  - Changes nothing; supports check mode.
author:
  - vigil contributors (@vigil-openstack)
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.info_module
options:
  model:
    description:
      - The cluster model, as returned by M(vigil.openstack.compute_model_info) (tables in
        C(split) orientation). The scope is its C(nodes.hostname) and C(instances.uuid);
        instance vCPUs come from C(instances.vcpus).
      - The model is returned with its C(metrics) table replaced and C(meta.digest) updated.
    type: dict
  hostnames:
    description:
      - Compute host names to read, instead of the model's nodes.
    type: list
    elements: str
  instances:
    description:
      - Server uuids to read, instead of the model's instances. Items are uuids or dicts
        with C(uuid) and C(vcpus); vCPUs default to the model's, else 1 (with a warning).
    type: list
    elements: raw
  datasource:
    description:
      - Where values come from.
    type: str
    choices: [prometheus, aetos, file]
    default: prometheus
  prometheus_url:
    description:
      - Base URL of Prometheus (without C(/api/v1)), for example C(https://prometheus.example.com:9090).
      - Required with I(datasource=prometheus).
      - I(validate_certs), I(ca_cert), I(client_cert) and I(client_key) apply to it too;
        I(validate_certs) defaults to C(true) for Prometheus. I(api_timeout) is the request
        timeout (default 60 seconds).
    type: str
  prometheus_username:
    description:
      - User for HTTP basic authentication to Prometheus.
    type: str
  prometheus_password:
    description:
      - Password for HTTP basic authentication to Prometheus.
    type: str
  prometheus_token:
    description:
      - Bearer token sent to Prometheus in the C(Authorization) header. Not with I(prometheus_username).
    type: str
  aetos_service_type:
    description:
      - Keystone catalog service type of Aetos; Watcher uses C(metric-storage). I(interface)
        and I(region_name) select the endpoint.
    type: str
    default: metric-storage
  aetos_endpoint:
    description:
      - Aetos URL to use instead of the catalog's; the Keystone token is still sent.
    type: str
  metrics_file:
    description:
      - CSV or JSON file with the values, for I(datasource=file).
    type: path
  metrics_file_format:
    description:
      - Format of I(metrics_file); by default from its extension, else sniffed.
    type: str
    choices: [csv, json]
  host_label:
    description:
      - Prometheus label carrying the compute host's name (Watcher's C(fqdn_label)).
    type: str
    default: fqdn
  instance_label:
    description:
      - Prometheus label carrying the server uuid (Watcher's C(instance_uuid_label)).
    type: str
    default: resource
  period:
    description:
      - Window in seconds the values are aggregated over, ending at I(evaluation_time).
    type: int
    default: 300
  aggregate:
    description:
      - Aggregates over the window; one query per metric and aggregate.
      - For host CPU and RAM C(max) is the busiest moment (Watcher inverts max and min on
        idle CPU and available memory the same way).
    type: list
    elements: str
    choices: [mean, max, min]
    default: [mean]
  metrics:
    description:
      - Only these metrics, by name (both resource types) or as C(node.<name>) /
        C(instance.<name>). Names are C(cpu_util_pct), C(ram_used_mb), C(outlet_temp_c),
        C(inlet_temp_c), C(airflow), C(power_w), C(l3_cache_mb). Default all.
    type: list
    elements: str
  metric_map:
    description:
      - Series the metrics are computed from, by role; each value is a metric name or a
        selector with fixed labels, for example C(ipmi_temperature_celsius{sensor="outlet"}).
        An empty value switches the metrics that need it off (no query, no warning).
      - Roles and defaults are C(node_cpu_seconds=node_cpu_seconds_total),
        C(node_memory_total=node_memory_MemTotal_bytes),
        C(node_memory_available=node_memory_MemAvailable_bytes),
        C(node_outlet_temp=ipmi_temperature_celsius{name="Outlet Temp"}),
        C(node_inlet_temp=ipmi_temperature_celsius{name="Inlet Temp"}),
        C(node_airflow=ipmi_airflow_cfm), C(node_power=ipmi_dcmi_power_consumption_watts),
        C(instance_cpu_time=ceilometer_cpu), C(instance_memory_usage=ceilometer_memory_usage),
        C(instance_l3_cache=ceilometer_cpu_l3_cache).
    type: dict
  evaluation_time:
    description:
      - End of the window, as unix seconds or ISO 8601 (C(2026-11-25T10:00:00Z)); default now.
    type: str
  rate_window:
    description:
      - Seconds of the C(rate()) window inside the C(max)/C(min) sub-queries (capped at I(period)).
    type: int
    default: 300
  resolution:
    description:
      - Step in seconds of the C(max)/C(min) sub-queries.
    type: int
    default: 60
  filter_in_query:
    description:
      - Put the scoped hosts and instances in the query as one regex label matcher. With
        C(false) every series of the metric is fetched and filtered here (for Prometheus
        servers that reject long queries).
    type: bool
    default: true
requirements:
  - requests (with I(datasource=prometheus))
  - openstacksdk (with I(datasource=aetos))
notes:
  - Strategies document what they do for a resource without a metric; none of them treat a
    missing value as zero.
"""

EXAMPLES = r"""
- name: Collect the compute model
  vigil.openstack.compute_model_info:
    cloud: prod
  register: cluster

- name: Add the last hour's mean and peak utilisation from Prometheus
  vigil.openstack.metrics_info:
    model: "{{ cluster.model }}"
    prometheus_url: https://prometheus.example.com:9090
    prometheus_token: "{{ lookup('ansible.builtin.env', 'PROMETHEUS_TOKEN') }}"
    ca_cert: /etc/pki/tls/certs/prometheus-ca.pem
    period: 3600
    aggregate: [mean, max]
  register: measured

- name: The same through Aetos, with the cloud's Keystone credentials
  vigil.openstack.metrics_info:
    cloud: prod
    datasource: aetos
    model: "{{ cluster.model }}"

- name: A few hosts, host names in a custom label, only CPU and RAM
  vigil.openstack.metrics_info:
    hostnames: [cmp001, cmp002]
    prometheus_url: http://prometheus.internal:9090
    host_label: hostname
    metrics: [node.cpu_util_pct, node.ram_used_mb]

- name: Thermal series from Ceilometer's IPMI meters, sensors named differently, no airflow
  vigil.openstack.metrics_info:
    model: "{{ cluster.model }}"
    prometheus_url: http://prometheus.internal:9090
    metric_map:
      node_outlet_temp: ceilometer_hardware_ipmi_node_outlet_temperature
      node_inlet_temp: 'ipmi_temperature_celsius{name="Ambient Temp"}'
      node_power: ceilometer_hardware_ipmi_node_power
      node_airflow: ""

- name: What-if run from a file, no network
  vigil.openstack.metrics_info:
    model: "{{ lookup('ansible.builtin.file', 'snapshot.json') | from_json }}"
    datasource: file
    metrics_file: what-if-metrics.csv
"""

RETURN = r"""
model:
  description:
    - The input model with its C(metrics) table replaced and C(meta.digest) recomputed;
      C(meta.metrics) says where and over which window the values were read.
  returned: when I(model) was given
  type: dict
metrics:
  description: The C(metrics) table in C(split) orientation.
  returned: always
  type: dict
  sample:
    columns: [resource_type, resource_id, metric, aggregate, period_s, value]
    data:
      - [node, cmp001, cpu_util_pct, mean, 3600, 37.5]
      - [instance, 6f1c0e9e-1d7b-4c5e-9a51-0d1c7a1e2f11, ram_used_mb, mean, 3600, 2048.0]
missing:
  description: Per resource type and metric, the scoped hosts or instances without a value.
  returned: always
  type: dict
  sample: {node: {outlet_temp_c: [cmp002]}, instance: {}}
metric_warnings:
  description: The warnings about missing series, NaN values and ambiguous host labels (also emitted as warnings).
  returned: always
  type: list
  elements: str
queries:
  description: The PromQL queries run, with the number of series each returned and its duration.
  returned: always
  type: list
  elements: dict
  sample:
    - resource_type: node
      metric: cpu_util_pct
      aggregate: mean
      query: 100 - (avg by (fqdn)(rate(node_cpu_seconds_total{mode="idle",fqdn=~"(?:cmp001|cmp002)(?:\\..+)?"}[3600s])) * 100)
      series: 2
      seconds: 0.012
requests:
  description: HTTP requests made to Prometheus or Aetos.
  returned: always
  type: int
  sample: 9
"""


from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import metrics_info
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import run_info_module

ARGUMENT_SPEC = dict(
    model=dict(type="dict"),
    hostnames=dict(type="list", elements="str"),
    instances=dict(type="list", elements="raw"),
    datasource=dict(type="str", choices=["prometheus", "aetos", "file"], default="prometheus"),
    prometheus_url=dict(type="str"),
    prometheus_username=dict(type="str"),
    prometheus_password=dict(type="str", no_log=True),
    prometheus_token=dict(type="str", no_log=True),
    aetos_service_type=dict(type="str", default="metric-storage"),
    aetos_endpoint=dict(type="str"),
    metrics_file=dict(type="path"),
    metrics_file_format=dict(type="str", choices=["csv", "json"]),
    host_label=dict(type="str", default="fqdn"),
    instance_label=dict(type="str", default="resource"),
    period=dict(type="int", default=300),
    aggregate=dict(type="list", elements="str", choices=["mean", "max", "min"], default=["mean"]),
    metrics=dict(type="list", elements="str"),
    metric_map=dict(type="dict"),
    evaluation_time=dict(type="str"),
    rate_window=dict(type="int", default=300),
    resolution=dict(type="int", default=60),
    filter_in_query=dict(type="bool", default=True),
)


def main():
    run_info_module(
        AnsibleModule,
        ARGUMENT_SPEC,
        metrics_info.run,
        mutually_exclusive=[("prometheus_token", "prometheus_username")],
        required_if=[("datasource", "file", ("metrics_file",)), ("datasource", "prometheus", ("prometheus_url",))],
    )


if __name__ == "__main__":
    main()
