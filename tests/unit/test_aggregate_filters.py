# -*- coding: utf-8 -*-
"""aggregate_policy 'metadata': Nova's aggregate filters, alone and inside the constraint layer."""

import pytest
from modelgen import instances_frame, nodes_frame, with_usage

from ansible_collections.vigil.openstack.plugins.module_utils import constraints
from ansible_collections.vigil.openstack.plugins.module_utils.constraints import aggregate_filters as af
from ansible_collections.vigil.openstack.plugins.module_utils.model import compute
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


# the cases of nova/tests/unit/scheduler/test_utils... extra_specs_ops, by behaviour
@pytest.mark.parametrize(
    ("value", "req", "ok"),
    [
        ("1", "1", True),
        ("1", "2", False),
        ("123", "= 123", True),
        ("124", "= 123", True),  # '=' means at least
        ("122", "= 123", False),
        ("12311321", "<in> 11", True),
        ("12311321", "<in> 12311321 <in>", True),
        ("12310321", "<in> 11", False),
        ("12,311,321", "<all-in> 12 321", True),
        ("12,311,321", "<all-in> 12 4", False),
        ("12", "<or> 11 <or> 12", True),
        ("13", "<or> 11 <or> 12", False),
        ("12", "<or> 11 <or> 12 <or>", True),
        ("123", "s== 123", True),
        ("124", "s== 123", False),
        ("1000", "s>= 234", False),  # string order
        ("1000", ">= 234", True),
        ("abc", ">= 234", False),  # not a number: no match, no exception
        ("12", "!= 12", False),
        ("12", "<= 13", True),
        ("a", "s< b", True),
        (None, "s== a", False),
        ("x", "= ", False),
        ("ssd", "ssd", True),
    ],
)
def test_spec_matches_like_nova(value, req, ok):
    assert af.spec_matches(value, req) is ok


def test_requirements_are_unscoped_or_aggregate_scoped():
    specs = {
        "hw:cpu_policy": "dedicated",
        "aggregate_instance_extra_specs:ssd": "true",
        "aggregate_instance_extra_specs:a:b": "c",
        "gpu": "<or> v100 <or> a100",
        "resources:VGPU": "1",
    }
    assert af.extra_spec_requirements(specs) == [("a:b", "c"), ("ssd", "true"), ("gpu", "<or> v100 <or> a100")]


def test_refusal_per_filter():
    reqs = af.extra_spec_requirements({"aggregate_instance_extra_specs:ssd": "true"})
    assert af.refusal({}, ()) == ""
    assert "no aggregate of the host sets ssd" in af.refusal({}, reqs)
    assert "does not match" in af.refusal({"ssd": ["false"]}, reqs)
    assert af.refusal({"ssd": ["false", "true"]}, reqs) == ""
    iso = {"filter_tenant_id": ["p1"], "filter_tenant_id_2": ["p2"]}
    assert af.refusal(iso, (), project_id="p2") == ""
    assert "isolated to other projects" in af.refusal(iso, (), project_id="p3")
    assert af.refusal({"instance_type": ["m1.big"]}, (), flavor_name="m1.big") == ""
    assert "take only flavors" in af.refusal({"instance_type": ["m1.big"]}, (), flavor_name="m1.small")
    gpu = {"trait:CUSTOM_GPU": ["required"]}
    assert "isolated to servers requiring CUSTOM_GPU" in af.refusal(gpu, ())
    assert af.refusal(gpu, (), required_traits=["CUSTOM_GPU"]) == ""


def test_host_metadata_is_merged_and_split_like_nova():
    aggs = [
        {"name": "a", "hosts": ["h1", "h2"], "metadata": {"ssd": "true", "filter_tenant_id": "p1, p2"}},
        {"name": "b", "hosts": ["h2"], "metadata": {"ssd": "false", "availability_zone": "z1"}},
    ]
    meta = compute.host_aggregate_metadata(aggs)
    assert meta["h1"] == {"filter_tenant_id": ["p1", "p2"], "ssd": ["true"]}
    assert meta["h2"] == {"availability_zone": ["z1"], "filter_tenant_id": ["p1", "p2"], "ssd": ["false", "true"]}
    nodes = compute.build_nodes([{"id": 1, "hypervisor_hostname": "h1", "service": {"host": "h1"}}], aggregates=aggs)
    assert nodes["aggregate_metadata"].tolist() == [meta["h1"]]


def model(instances, metadata, aggregates=None):
    names = ["h%d" % k for k in range(len(metadata))]
    n = len(names)
    nodes = nodes_frame(
        names,
        [16] * n,
        [32768] * n,
        [200] * n,
        ratio=(1.0, 1.0, 1.0),
        aggregates=aggregates or [["agg-%s" % k] if m else [] for k, m in enumerate(metadata)],
        aggregate_metadata=metadata,
    )
    inst = instances_frame(instances)
    return {"nodes": with_usage(nodes, inst), "instances": inst}


def srv(uuid, host, **kw):
    return dict(uuid=uuid, host=host, vcpus=2, memory_mb=2048, disk_gb=10, **kw)


def test_metadata_policy_moves_across_aggregates_the_filters_allow():
    ssd = {"aggregate_instance_extra_specs:ssd": "true"}
    m = model(
        [srv("a", "h0", extra_specs=ssd), srv("b", "h0", project_id="p9"), srv("c", "h0")],
        [{"ssd": ["true"]}, {"ssd": ["true"], "rack": ["r2"]}, {"ssd": ["false"]}, {"filter_tenant_id": ["p9"]}],
    )
    same = constraints.Placement(m)  # every host in its own aggregate set: nothing moves
    assert not same.candidates(0).any() and not same.candidates(1).any()
    pl = constraints.Placement(m, aggregate_policy="metadata")
    assert pl.candidates(0).tolist() == [False, True, False, False]
    assert "ssd=true does not match" in pl.allowed(0, 2)
    assert pl.candidates(1).tolist() == [False, True, True, True]  # p9: no extra spec, its isolated host too
    assert pl.candidates(2).tolist() == [False, True, True, False]
    assert "isolated to other projects" in pl.allowed(2, 3)
    with pytest.raises(ValueError, match="does not match"):
        pl.move(0, 2)
    assert constraints.Placement(m, aggregate_policy="any").candidates(0).tolist() == [False, True, True, True]


def test_metadata_policy_needs_collected_metadata():
    m = model([srv("a", "h0")], [None, None], aggregates=[["x"], ["y"]])
    with pytest.raises(constraints.ModelError, match="aggregate_policy 'metadata' needs nodes.aggregate_metadata"):
        constraints.Placement(m, aggregate_policy="metadata")
    # hosts in no aggregate have nothing to know
    constraints.Placement(model([srv("a", "h0")], [None, None], aggregates=[[], []]), aggregate_policy="metadata")


def test_strategy_param_accepts_metadata_and_plans_within_the_filters():
    ssd = {"aggregate_instance_extra_specs:ssd": "true"}
    m = model(
        [srv("a", "h0", extra_specs=ssd), srv("b", "h1", extra_specs=ssd), srv("c", "h2")],
        [{"ssd": ["true"]}, {"ssd": ["true"]}, {}],
        aggregates=[["fast"], ["fast-2"], []],
    )
    plan = registry.run(m, goal="server_consolidation", strategy="node_resource_consolidation",
                        params={"aggregate_policy": "metadata"})  # fmt: skip
    moves = {a["resource"]: a["input"]["destination_node"] for a in plan["actions"] if a["type"] == "migrate"}
    assert moves, plan
    for uuid, dest in moves.items():
        if uuid in ("a", "b"):
            assert dest in ("h0", "h1")
    with pytest.raises(Exception, match="aggregate_policy"):
        registry.run(m, goal="server_consolidation", strategy="node_resource_consolidation",
                     params={"aggregate_policy": "filters"})  # fmt: skip
