"""metrics_info's own helpers: evaluation_time parsing and the scope from model / options."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import MetricsError
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import metrics_info

U1 = "11111111-1111-4111-8111-111111111111"
MODEL = {
    "nodes": {"columns": ["hostname"], "data": [["cmp1"], ["cmp2"]]},
    "instances": {"columns": ["uuid", "vcpus"], "data": [[U1, 4]]},
}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1700000000", 1700000000.0),
        ("1700000000.5", 1700000000.5),
        ("2023-11-14T22:13:20Z", 1700000000.0),
        ("2023-11-14T23:13:20+01:00", 1700000000.0),
        ("2023-11-14T22:13:20", 1700000000.0),  # naive is UTC
        (None, None),
    ],
)
def test_parse_time(text, expected):
    assert metrics_info.parse_time(text) == expected


def test_parse_time_rejects_garbage():
    with pytest.raises(MetricsError, match="neither unix seconds nor ISO 8601"):
        metrics_info.parse_time("yesterday")


def _params(**kw):
    base = {"model": None, "hostnames": None, "instances": None}
    base.update(kw)
    return base


def test_scope_from_model_and_overrides():
    assert metrics_info.scope(_params(model=MODEL)) == (["cmp1", "cmp2"], {U1: 4})
    hosts, inst = metrics_info.scope(
        _params(model=MODEL, hostnames=["cmp9"], instances=[U1, {"uuid": "u2", "vcpus": 2}])
    )
    assert hosts == ["cmp9"] and inst == {U1: 4, "u2": 2}  # vcpus from the model when not given


def test_scope_errors():
    with pytest.raises(MetricsError, match="nothing to read"):
        metrics_info.scope(_params())
    with pytest.raises(MetricsError, match="has no uuid"):
        metrics_info.scope(_params(instances=[{"vcpus": 2}]))
    with pytest.raises(MetricsError, match="malformed"):
        metrics_info.scope(_params(model={"nodes": {"columns": ["name"], "data": [["x"]]}}))
