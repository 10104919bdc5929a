"""The static metrics file datasource and the host-name matching every datasource shares."""

import json

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.collect import metrics_common, metrics_file
from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import MetricsError

U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"

CSV = f"""resource_type,resource_id,metric,aggregate,period_s,value
node,cmp1.example.com,cpu_util_pct,mean,3600,35.5
node,cmp10.example.com,cpu_util_pct,mean,3600,99
node,cmp2,cpu_util_pct,mean,3600,NaN
node,cmp1.example.com,cpu_util_pct,max,3600,70
instance,{U1},cpu_util_pct,mean,3600,12.5
instance,{U2},ram_used_mb,mean,3600,2048
instance,not-in-scope,ram_used_mb,mean,3600,1
"""


def _by(out):
    return {(r[0], r[1], r[2], r[3]): (r[4], r[5]) for r in out["rows"]}


def test_csv_rows_missing_and_nan():
    recs = metrics_file.parse(CSV, source="m.csv")
    out = metrics_file.collect(recs, ["cmp1", "cmp2", "cmp3"], {U1: 2, U2: 4})
    rows = _by(out)
    assert rows[("node", "cmp1", "cpu_util_pct", "mean")] == (3600, 35.5)
    assert rows[("node", "cmp1", "cpu_util_pct", "max")] == (3600, 70.0)
    assert rows[("instance", U1, "cpu_util_pct", "mean")] == (3600, 12.5)
    assert rows[("instance", U2, "ram_used_mb", "mean")] == (3600, 2048.0)
    assert len(rows) == 4  # cmp10 is not cmp1, not-in-scope is ignored, NaN is no value
    assert out["missing"]["node"]["cpu_util_pct"] == ["cmp2", "cmp3"]
    assert out["missing"]["instance"] == {"cpu_util_pct": [U2], "ram_used_mb": [U1]}
    text = "\n".join(out["warnings"])
    assert "NaN or infinite value, no metric for cmp2" in text
    assert "no series for 1 of 3 hosts: cmp3" in text


def test_aggregate_and_metric_selection_warn_for_absent_metric():
    recs = metrics_file.parse(CSV)
    out = metrics_file.collect(
        recs, ["cmp1"], {}, {"aggregates": ["max"], "metrics": ["node.cpu_util_pct", "outlet_temp_c"]}
    )
    assert [r[:4] for r in out["rows"]] == [["node", "cmp1", "cpu_util_pct", "max"]]
    assert out["missing"]["node"]["outlet_temp_c"] == ["cmp1"]
    assert any("outlet_temp_c" in w and "no series at all" in w for w in out["warnings"])


@pytest.mark.parametrize(
    "doc",
    [
        {"period_s": 600, "node": {"cmp1": {"cpu_util_pct": 40, "ram_used_mb": {"mean": 100, "max": 200}}}},
        [
            {"resource_type": "node", "resource_id": "cmp1", "metric": "cpu_util_pct", "value": 40, "period_s": 600},
            {"resource_type": "node", "resource_id": "cmp1", "metric": "ram_used_mb", "value": 100, "period_s": 600},
            {
                "resource_type": "node",
                "resource_id": "cmp1",
                "metric": "ram_used_mb",
                "aggregate": "max",
                "value": 200,
                "period_s": 600,
            },
        ],
        {
            "columns": ["resource_type", "resource_id", "metric", "aggregate", "period_s", "value"],
            "data": [
                ["node", "cmp1", "cpu_util_pct", "mean", 600, 40],
                ["node", "cmp1", "ram_used_mb", "mean", 600, 100],
                ["node", "cmp1", "ram_used_mb", "max", 600, 200],
            ],
        },
    ],
    ids=["nested", "records", "split"],
)
def test_json_forms_agree(tmp_path, doc):
    path = tmp_path / "m.json"
    path.write_text(json.dumps(doc))
    out = metrics_file.collect(metrics_file.load(str(path)), ["cmp1"], {})
    assert _by(out) == {
        ("node", "cmp1", "cpu_util_pct", "mean"): (600, 40.0),
        ("node", "cmp1", "ram_used_mb", "mean"): (600, 100.0),
        ("node", "cmp1", "ram_used_mb", "max"): (600, 200.0),
    }
    assert out["warnings"] == []


def test_bad_file_names_each_problem(tmp_path):
    bad = "resource_type,resource_id,metric,value\nvm,x,cpu_util_pct,1\nnode,y,gpu_pct,2\nnode,z,cpu_util_pct,abc\n"
    with pytest.raises(MetricsError) as err:
        metrics_file.parse(bad, source="bad.csv")
    msg = err.value.message
    assert "bad.csv line 2: resource_type 'vm'" in msg
    assert "bad.csv line 3: unknown metric 'gpu_pct'" in msg
    assert "bad.csv line 4: value 'abc' is not a number" in msg
    with pytest.raises(MetricsError, match="CSV header lacks value"):
        metrics_file.parse("resource_type,resource_id,metric\n")
    with pytest.raises(MetricsError, match="does not exist"):
        metrics_file.load(str(tmp_path / "nope.csv"))
    with pytest.raises(MetricsError, match="not valid JSON"):
        metrics_file.parse("{nope", fmt="json")


def test_host_matching_is_exact():
    mapping, warnings = metrics_common.resolve_hosts(
        ["cmp1", "cmp2", "dup", "exact.example.com"],
        [
            "cmp1.example.com",
            "cmp10.example.com",
            "xcmp2.example.com",
            "cmp2",
            "cmp2.example.com",
            "dup.a",
            "dup.b",
            "exact.example.com",
            "exact",
        ],
    )
    assert mapping == {"cmp1.example.com": "cmp1", "cmp2": "cmp2", "exact.example.com": "exact.example.com"}
    assert warnings == ["host dup matches several FQDN labels (dup.a, dup.b); none used"]


def test_scope_from_model():
    model = {
        "nodes": {"columns": ["hostname", "az"], "data": [["cmp1", "nova"], ["cmp2", "nova"]]},
        "instances": {"columns": ["uuid", "vcpus"], "data": [[U1, 2], [U2, 8]]},
    }
    assert metrics_common.scope_from_model(model) == (["cmp1", "cmp2"], {U1: 2, U2: 8})
