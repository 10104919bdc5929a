"""collect.prometheus against a real Prometheus backfilled with hand-made histories.

The histories pin values the PromQL must return (Watcher's formulas), plus the traps:
substring host names, FQDN clashes, NaN, missing series, vcpus clamp.
"""

import pytest
from promseries import History

from ansible_collections.vigil.openstack.plugins.module_utils.collect import prometheus as prom

END = 1_700_000_000  # fixed: retention is 100y in the harness, so old samples stay
PERIOD = 3600
LEAD = 900  # history starts before the window: a rate over a half-covered window under-reads
I1, I2, I3, I4 = (
    "11111111-1111-4111-8111-111111111111",
    "22222222-2222-4222-8222-222222222222",
    "33333333-3333-4333-8333-333333333333",
    "44444444-4444-4444-8444-444444444444",
)


def _step(low, high):
    return lambda offset: low if offset < LEAD + PERIOD / 2 else high


@pytest.fixture(scope="module")
def server(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    h = History(END - PERIOD - LEAD, END, step=15)
    h.host("cmp1.example.com", 30, mem_total_mb=65536, mem_used_mb=16384)
    h.host("cmp2.example.com", _step(20, 80), mem_used_mb=_step(1000, 3000))
    h.host("cmp10.example.com", 50)  # "cmp1" must not pick this up (no substring match)
    h.host("xcmp3.example.com", 40)  # nor "cmp3" this one
    h.host("cmp4", 60)  # short label: exact match
    h.host("dup.a.example.com", 10)
    h.host("dup.b.example.com", 90)  # "dup" is ambiguous
    h.host("nanhost.example.com", 10)
    h.gauge("ipmi_temperature_celsius", {"fqdn": "cmp1.example.com", "id": "1", "name": "Inlet Temp"}, 22.0)
    h.gauge("ipmi_temperature_celsius", {"fqdn": "cmp1.example.com", "id": "2", "name": "Outlet Temp"}, 35.5)
    h.gauge("ipmi_temperature_celsius", {"fqdn": "nanhost.example.com", "id": "2", "name": "Outlet Temp"}, float("nan"))
    h.instance(I1, 25, vcpus=4, ram_mb=2048)
    h.instance(I2, 100, vcpus=4, ram_mb=1024)  # model says 2 vcpus: 200 % clamps to 100
    h.instance(I4, 50, vcpus=1, ram_mb=512)
    path = h.write(tmp_path_factory.mktemp("hist") / "history.om")
    with PrometheusServer(history=path) as srv:
        yield srv


HOSTS = ["cmp1", "cmp2", "cmp3", "cmp4", "dup", "nanhost"]
INSTANCES = {I1: 4, I2: 2, I3: 1, I4: None}


def _collect(server, **options):
    options.setdefault("period", PERIOD)
    options.setdefault("time", END)
    return prom.collect(prom.HTTPTransport(server.url), HOSTS, INSTANCES, options)


def _values(out, resource_type, metric, aggregate="mean"):
    return {r[1]: r[5] for r in out["rows"] if r[0] == resource_type and r[2] == metric and r[3] == aggregate}


def test_one_query_per_metric_and_watcher_values(server):
    out = _collect(server)
    assert out["requests"] == len(prom.SPECS) == len(out["queries"])
    cpu = _values(out, "node", "cpu_util_pct")
    assert set(cpu) == {"cmp1", "cmp2", "cmp4", "nanhost"}
    assert cpu["cmp1"] == pytest.approx(30, abs=0.01)
    assert cpu["cmp2"] == pytest.approx(50, abs=0.5)
    assert cpu["cmp4"] == pytest.approx(60, abs=0.01)
    ram = _values(out, "node", "ram_used_mb")
    assert ram["cmp1"] == pytest.approx(16384, abs=0.01)
    assert ram["cmp2"] == pytest.approx(2000, abs=10)
    icpu = _values(out, "instance", "cpu_util_pct")
    assert icpu[I1] == pytest.approx(25, abs=0.01)
    assert icpu[I2] == 100.0  # clamped like Watcher's clamp_max(..., 100)
    assert icpu[I4] == pytest.approx(50, abs=0.01)  # unknown vcpus counts as 1
    assert _values(out, "instance", "ram_used_mb") == {I1: 2048.0, I2: 1024.0, I4: 512.0}
    assert _values(out, "node", "outlet_temp_c") == {"cmp1": 35.5}
    assert _values(out, "node", "inlet_temp_c") == {"cmp1": 22.0}
    for row in out["rows"]:
        assert row[4] == PERIOD and row[3] == "mean"


def test_missing_nan_and_ambiguous_are_warnings_not_values(server):
    out = _collect(server)
    text = "\n".join(out["warnings"])
    assert out["missing"]["node"]["cpu_util_pct"] == ["cmp3", "dup"]
    assert out["missing"]["instance"]["cpu_util_pct"] == [I3]
    assert "dup matches several FQDN labels (dup.a.example.com, dup.b.example.com)" in text
    assert "node outlet_temp_c (mean over 3600s): NaN or infinite value, no metric for nanhost" in text
    assert "nanhost" not in _values(out, "node", "outlet_temp_c")
    assert "no series for 2 of 6 hosts: cmp3, dup" in text
    assert "vcpus unknown for %s" % I4 in text
    # no series exists at all for airflow: one warning naming the query, every host missing
    assert out["missing"]["node"]["airflow"] == sorted(HOSTS)
    assert "node airflow (mean over 3600s): no series at all for the 6 scoped hosts" in text
    assert not any(r[2] == "airflow" for r in out["rows"])


def test_max_min_are_peaks_over_time(server):
    out = _collect(server, aggregates=["max", "min"], metrics=["node.cpu_util_pct", "node.ram_used_mb"])
    assert out["requests"] == 4
    assert _values(out, "node", "cpu_util_pct", "max")["cmp2"] == pytest.approx(80, abs=0.5)
    assert _values(out, "node", "cpu_util_pct", "min")["cmp2"] == pytest.approx(20, abs=0.5)
    assert _values(out, "node", "ram_used_mb", "max")["cmp2"] == pytest.approx(3000, abs=0.01)
    assert _values(out, "node", "ram_used_mb", "min")["cmp2"] == pytest.approx(1000, abs=0.01)
    assert _values(out, "node", "cpu_util_pct", "max")["cmp1"] == pytest.approx(30, abs=0.01)


def test_unfiltered_query_maps_the_same(server):
    filtered = _collect(server, metrics=["cpu_util_pct"])
    unfiltered = _collect(server, metrics=["cpu_util_pct"], filter_in_query=False)
    assert sorted(filtered["rows"]) == sorted(unfiltered["rows"])
    assert "=~" in filtered["queries"][0]["query"] and "=~" not in unfiltered["queries"][0]["query"]


def test_metric_map_points_at_other_series_and_labels(server):
    out = _collect(
        server,
        metrics=["node.outlet_temp_c"],
        metric_map={"node_outlet_temp": "node_memory_MemTotal_bytes"},
    )
    assert _values(out, "node", "outlet_temp_c")["cmp1"] == 65536 * 1048576.0
    # a label nobody has: every host missing, nothing made up
    out = _collect(server, metrics=["node.cpu_util_pct"], host_label="hostname")
    assert out["rows"] == [] and out["missing"]["node"]["cpu_util_pct"] == sorted(HOSTS)


def test_metric_switched_off_is_not_queried(server):
    out = _collect(server, metric_map={k: "" for k in prom.DEFAULT_SERIES if k != "instance_memory_usage"})
    assert [q["metric"] for q in out["queries"]] == ["ram_used_mb"]


def test_no_data_in_window_is_missing(server):
    out = _collect(server, metrics=["node.cpu_util_pct"], time=END + 10 * PERIOD)
    assert out["rows"] == [] and out["missing"]["node"]["cpu_util_pct"] == sorted(HOSTS)


def test_bad_selector_is_a_clear_error(server):
    with pytest.raises(prom.MetricsError) as err:
        _collect(server, metrics=["node.outlet_temp_c"], metric_map={"node_outlet_temp": "bad{{"})
    assert err.value.kind == "bad_query"
    assert "HTTP 400, bad_data" in err.value.message and "bad{{" in err.value.message


def test_wrong_base_url_is_not_found(server):
    with pytest.raises(prom.MetricsError) as err:
        prom.collect(prom.HTTPTransport(server.url + "/nothing"), HOSTS, {}, {"metrics": ["cpu_util_pct"]})
    assert err.value.kind == "not_found" and "is it the Prometheus base URL" in err.value.message


def test_unreachable_is_a_clear_error(prometheus_binaries):
    from vigil_prometheus_harness import free_port

    url = "http://127.0.0.1:%d" % free_port()
    with pytest.raises(prom.MetricsError) as err:
        prom.collect(prom.HTTPTransport(url, timeout=5), HOSTS, {}, {})
    assert err.value.kind == "unreachable" and url in err.value.message


def test_bad_options_name_every_problem():
    with pytest.raises(prom.MetricsError) as err:
        prom.normalise_options(
            {
                "aggregates": ["mean", "p95"],
                "period": 0,
                "metric_map": {"nope": "x"},
                "metrics": ["gpu"],
                "host_label": "1x",
            }
        )
    msg = err.value.message
    for part in ("p95", "period must be", "metric_map key 'nope'", "unknown metrics gpu", "host_label"):
        assert part in msg
