# -*- coding: utf-8 -*-
"""The constraint layer (module_utils/constraints): Placement, each rule, and a property test over strategies."""

import numpy as np
import oracle
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelgen import add_metrics, instances_frame, nodes_frame, random_model, with_usage
from plancheck import plan_violations
from randomfit import random_fit

from ansible_collections.vigil.openstack.plugins.module_utils import constraints
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def small(instances, hosts=3, **kw):
    names = ["h%d" % k for k in range(hosts)]
    nodes = nodes_frame(names, [8] * hosts, [16384] * hosts, [100] * hosts, ratio=(1.0, 1.0, 1.0), **kw)
    inst = instances_frame(instances)
    return {"nodes": with_usage(nodes, inst), "instances": inst}


def srv(uuid, host, vcpus=2, ram=4096, disk=10, **kw):
    return dict(uuid=uuid, host=host, vcpus=vcpus, memory_mb=ram, disk_gb=disk, **kw)


def test_capacity_and_incremental_moves():
    m = small([srv("a", "h0", 4), srv("b", "h1", 6), srv("c", "h2", 2)])
    pl = constraints.Placement(m)
    assert pl.candidates(0).tolist() == [False, False, True]  # h1 has 2 vCPU left
    pl.move(0, 2)
    assert pl.free[2, 0] == 2 and pl.free[0, 0] == 8
    assert pl.candidates(1).tolist() == [True, False, False]
    with pytest.raises(ValueError, match="lacks VCPU"):
        pl.move(0, 1)
    sp = pl.savepoint()
    pl.move(1, 0)
    pl.rollback(sp)
    assert pl.inst_host.tolist() == [2, 1, 2] and pl.free[0, 0] == 8


def test_reserved_and_ratio():
    m = small([srv("a", "h0", 2)], hosts=2)
    m["nodes"]["vcpu_reserved"] = [0, 6]
    m["nodes"]["vcpu_allocation_ratio"] = [1.0, 1.0]
    pl = constraints.Placement(m)
    assert pl.cap[:, 0].tolist() == [8, 2]
    assert pl.candidates(0).tolist() == [False, True]
    m["nodes"]["vcpu_reserved"] = [0, 7]
    assert constraints.Placement(m).candidates(0).tolist() == [False, False]
    m["nodes"]["vcpu_allocation_ratio"] = [1.0, 2.0]
    assert constraints.Placement(m).candidates(0).tolist() == [False, True]


def test_host_whose_capacity_was_not_read_takes_nothing_more():
    # A snapshot collected before summary mode modelled such hosts full: h1 shows the default
    # ratio 4.0's room, but meta says its capacity was never read.
    m = small([srv("a", "h0", 2), srv("b", "h1", 4), srv("c", "h1", 2)], hosts=3)
    m["nodes"]["vcpu_allocation_ratio"] = [1.0, 4.0, 1.0]
    m["meta"] = {"placement_estimated": ["h1"]}
    pl = constraints.Placement(m)
    assert pl.free[1].tolist() == [0, 0, 0, 0]
    assert pl.candidates(0).tolist() == [False, False, True]
    assert "capacity not read from Placement" in pl.allowed(0, 1)
    pl.move(1, 2)  # what leaves h1 frees room that is really there
    assert pl.candidates(0)[1]
    m["meta"] = {}
    assert constraints.Placement(m).candidates(0)[1]


def test_destination_state_az_aggregates_traits():
    m = small(
        [srv("a", "h0", required_traits=["CUSTOM_X"])],
        hosts=5,
        status=["enabled", "disabled", "enabled", "enabled", "enabled"],
        state=["up", "up", "down", "up", "up"],
        az=["z1", "z1", "z1", "z2", "z1"],
        traits=[[], ["CUSTOM_X"], ["CUSTOM_X"], ["CUSTOM_X"], ["CUSTOM_X"]],
    )
    pl = constraints.Placement(m)
    assert pl.candidates(0).tolist() == [False, False, False, False, True]
    assert "lacks required traits" not in pl.allowed(0, 4)
    assert "availability zone" in pl.allowed(0, 3)
    assert "not an enabled" in pl.allowed(0, 1)
    assert constraints.Placement(m, allow_cross_az=True).candidates(0).tolist() == [False, False, False, True, True]
    m["nodes"]["traits"] = [[], ["CUSTOM_X"], ["CUSTOM_X"], ["CUSTOM_X"], []]
    assert not constraints.Placement(m, allow_cross_az=True).candidates(0)[4]
    m["nodes"]["aggregates"] = [["a"], ["a"], ["a"], ["a"], ["b"]]
    m["nodes"]["traits"] = [["CUSTOM_X"]] * 5
    assert constraints.Placement(m).candidates(0).tolist() == [False] * 5
    assert constraints.Placement(m, aggregate_policy="any").candidates(0).tolist() == [False, False, False, False, True]
    pl = constraints.Placement(m, aggregate_policy="any")
    pl.enable(1)
    assert pl.candidates(0)[1]


@pytest.mark.parametrize(
    "row, mig",
    [
        ({}, "live"),
        ({"status": "SHUTOFF"}, "cold"),
        ({"status": "PAUSED"}, ""),
        ({"status": "PAUSED", "migratable": "cold"}, ""),
        ({"locked": True}, ""),
        ({"task_state": "migrating"}, ""),
        ({"pinned": True}, ""),
        ({"pci": True}, ""),
        ({"vgpu": True, "status": "SHUTOFF"}, "cold"),
        ({"migratable": "cold"}, ""),
        ({"migratable": "no", "status": "SHUTOFF"}, ""),
    ],
)
def test_instance_state_rules(row, mig):
    m = small([srv("a", "h0", **row)], hosts=2)
    assert constraints.Placement(m).mig_type[0] == mig
    assert constraints.Placement(m).candidates(0).any() == bool(mig)


def test_cold_active_only_when_allowed():
    m = small([srv("a", "h0", pinned=True, migratable="cold")], hosts=2)
    assert constraints.Placement(m, allow_cold_active=True).mig_type[0] == "cold"


def test_pinned_uses_pcpu():
    m = small([srv("a", "h0", 4, pinned=True, migratable="cold", status="SHUTOFF")], hosts=2)
    m["nodes"]["pcpu_total"] = [4, 2]
    pl = constraints.Placement(m)
    assert pl.demand[0].tolist()[3] == 4 and pl.demand[0][0] == 0
    assert not pl.candidates(0)[1]


def _groups(rows):
    return frame.from_columns(
        "server_groups",
        {k: [r[k] for r in rows] for k in ("id", "name", "policy", "members", "max_server_per_host", "project_id")},
    )


def test_server_groups():
    m = small([srv("a", "h0"), srv("b", "h1"), srv("c", "h2"), srv("d", "h2")], hosts=4)
    m["server_groups"] = _groups(
        [
            {
                "id": "anti",
                "name": "x",
                "policy": "anti-affinity",
                "members": ["a", "b"],
                "max_server_per_host": 1,
                "project_id": "p",
            },
            {
                "id": "aff",
                "name": "y",
                "policy": "affinity",
                "members": ["c", "d"],
                "max_server_per_host": 0,
                "project_id": "p",
            },
        ]
    )
    pl = constraints.Placement(m)
    assert pl.candidates(0).tolist() == [False, False, True, True]
    assert "anti-affinity" in pl.allowed(0, 1)
    assert pl.candidates(2).tolist() == [False] * 4  # affinity: d stays on h2
    m["server_groups"]["max_server_per_host"] = [2, 0]
    assert constraints.Placement(m).candidates(0)[1]
    m["server_groups"]["policy"] = ["soft-anti-affinity", "soft-affinity"]
    m["server_groups"]["max_server_per_host"] = [1, 0]
    assert not constraints.Placement(m).candidates(0)[1]
    pl = constraints.Placement(m, soft_policies="ignore")
    assert pl.candidates(0)[1] and pl.candidates(2).tolist() == [True, True, False, True]


def test_scope():
    m = small([srv("a", "h0", project_id="p1"), srv("b", "h1", project_id="p2")], hosts=3, az=["z1", "z1", "z2"])
    pl = constraints.Placement(m, scope={"exclude": {"projects": ["p2"]}}, allow_cross_az=True)
    assert pl.movable.tolist() == [True, False] and pl.reason[1] == "out of scope"
    pl = constraints.Placement(m, scope={"availability_zones": ["z1"]}, allow_cross_az=True)
    assert pl.candidates(0)[1]
    pl = constraints.Placement(m, scope={"exclude": {"compute_nodes": ["h1"]}})
    assert not pl.movable[1] and not pl.candidates(0)[1]
    with pytest.raises(constraints.ScopeError, match="matches no compute node"):
        constraints.Placement(m, scope={"compute_nodes": ["nope"]})
    with pytest.raises(constraints.ScopeError, match="unknown scope keys: zones"):
        constraints.Placement(m, scope={"zones": ["z1"]})


def test_lower_bound_heterogeneous():
    cap = np.array([[10.0], [4.0], [4.0], [2.0]])
    assert constraints.lower_bound_hosts(cap, [13.0]) == 2
    assert constraints.lower_bound_hosts(cap, [14.5]) == 3
    assert constraints.lower_bound_hosts(cap, [1.0], forced=np.array([False, True, True, False])) == 2
    assert constraints.lower_bound_hosts(cap, [9.0], forced=np.array([False, True, True, False])) == 3


def test_order_moves_resolves_collapsed_chain():
    # found as a: h0 -> h2, c: h3 -> h0, a: h2 -> h1; collapsed, c must wait for a
    m = small([srv("a", "h0", 6), srv("c", "h3", 6)], hosts=4)
    pl = constraints.Placement(m)
    pl.move(0, 2)
    pl.move(1, 0)
    pl.move(0, 1)
    assert pl.moves() == [(1, 3, 0), (0, 0, 1)]
    ordered, stuck = constraints.order_moves(pl, pl.moves())
    assert stuck == [] and ordered == [(0, 0, 1), (1, 3, 0)]
    # a swap (a <-> b with room for only one) needs the hops
    m = small([srv("a", "h0", 6), srv("b", "h1", 6)], hosts=3)
    pl = constraints.Placement(m)
    pl.move(0, 2)
    pl.move(1, 0)
    pl.move(0, 1)
    ordered, stuck = constraints.order_moves(pl, [(0, 0, 1), (1, 1, 0)])
    assert ordered == [] and len(stuck) == 2
    assert constraints.final_moves(pl) == [(0, 0, 2), (1, 1, 0), (0, 2, 1)]


def _cases():
    out = [
        (
            "server_consolidation",
            "node_resource_consolidation",
            {"allow_cross_az": True, "aggregate_policy": "any", "soft_policies": "ignore", "allow_cold_active": True},
        )
    ]
    for goal, names in registry.available().items():
        for n in names:
            if n not in ("actuator", "dummy", "storage_capacity_balance"):
                out.append((goal, n, {}))
    return out


def _params(strategy, params, model, data):
    hosts = list(model["nodes"]["hostname"])
    if (
        "aggregate_policy" not in params
        and "aggregate_policy" in registry.strategy_info(strategy)["parameters"]["properties"]
    ):
        params = dict(params, aggregate_policy=data.draw(st.sampled_from(constraints.AGGREGATE_POLICIES)))
    if strategy == "host_maintenance":
        params = dict(
            params, maintenance_node=data.draw(st.sampled_from(hosts)), disable_live_migration=data.draw(st.booleans())
        )
        backup = data.draw(st.sampled_from(hosts + [None]))
        if backup != params["maintenance_node"]:
            params["backup_node"] = backup
    if strategy == "zone_migration":
        srcs = data.draw(st.lists(st.sampled_from(hosts), min_size=1, max_size=3, unique=True))
        dst = data.draw(st.sampled_from(hosts + [None]))
        params = dict(
            params,
            compute_nodes=[{"src_node": s, "dst_node": dst if dst not in srcs else None} for s in srcs],
            parallel_total=50,
            parallel_per_node=20,
        )
    if strategy == "workload_stabilization":
        params = dict(params, host_choice=data.draw(st.sampled_from(["cycle", "retry", "fullsearch"])))
    return params


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    hosts=st.integers(2, 25),
    per_host=st.integers(0, 12),
    azs=st.integers(1, 3),
    groups=st.integers(0, 8),
    fill=st.floats(0.1, 0.95),
    disabled=st.integers(0, 3),
    aggregates=st.integers(0, 2),
    metrics=st.sampled_from([0.0, 0.7, 1.0]),
    case=st.sampled_from(_cases()),
    data=st.data(),
)
def test_property_strategies_never_break_constraints(
    seed, hosts, per_host, azs, groups, fill, disabled, aggregates, metrics, case, data
):
    goal, strategy, params = case
    m = random_model(
        seed,
        hosts=hosts,
        instances=hosts * per_host,
        azs=azs,
        fill=fill,
        groups=groups,
        traits=seed % 2 == 0,
        disabled=disabled,
        aggregates=aggregates,
    )
    if metrics:
        add_metrics(m, seed, coverage=metrics)
    p = registry.run(m, goal, strategy, _params(strategy, params, m, data))
    refereed(m, p)


def refereed(m, p):
    """The plan passes the independent oracle, its claims match the oracle's replay, and no
    plan beats the lower bound; then plancheck's schedule and aggregate-metadata checks."""
    v = oracle.check(m, p)
    assert v.violations == []
    eff = p["efficacy"]
    if "hosts_in_use_after" in eff and not v.unplaced:
        assert eff["hosts_in_use_after"] == v.hosts_in_use_after
        assert v.hosts_in_use_after >= oracle.lower_bound(m, p["parameters"])["bound"]
    assert plan_violations(m, p, referee=False) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    hosts=st.integers(3, 40),
    per_host=st.integers(0, 30),
    azs=st.integers(1, 3),
    disabled=st.sampled_from([0.0, 0.05, 0.2]),
    odd=st.sampled_from([0.0, 0.02, 0.1]),
    groups=st.sampled_from([0.0, 0.1, 0.3]),
    traits=st.sampled_from([0.0, 0.3]),
    case=st.sampled_from(_cases()),
    data=st.data(),
)
def test_property_strategies_on_random_fit_clouds(
    seed, hosts, per_host, azs, disabled, odd, groups, traits, case, data
):
    """Clouds filled at random up to full hosts (randomfit.py), refereed by the oracle."""
    goal, strategy, params = case
    m = random_fit(
        seed, hosts, per_host, azs, disabled, shutoff=odd, locked=odd / 2, pinned=odd / 2, groups=groups, traits=traits
    )
    add_metrics(m, seed)
    refereed(m, registry.run(m, goal, strategy, _params(strategy, params, m, data)))


def test_network_agent_down_is_not_a_destination():
    m = small([srv("a", "h0")], hosts=3)
    m["nodes"]["network_agent_up"] = [True, False, True]
    assert constraints.Placement(m).candidates(0).tolist() == [False, False, True]
    # a split table without the column (older snapshot): agents count as up
    split = frame.to_split(m["nodes"].drop(columns=["network_agent_up"]))
    frames = constraints.as_frames({"nodes": split, "instances": frame.to_split(m["instances"])})
    assert frames["nodes"]["network_agent_up"].all()
    assert constraints.Placement(frames).candidates(0).tolist() == [False, True, True]
