"""Audit scope: validation, host and instance masks, exact host names."""

import pytest
from ansible.errors import AnsibleFilterError
from modelgen import random_model

from ansible_collections.vigil.openstack.plugins.filter.optimize import optimize
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as sc


@pytest.fixture
def tables():
    nodes = frame.from_columns(
        "nodes",
        {
            "hostname": ["compute-1", "compute-10", "compute-2", "compute-3"],
            "az": ["az1", "az1", "az2", "az2"],
            "aggregates": [["ssd"], ["ssd", "gpu"], [], ["ssd"]],
        },
    )
    instances = frame.from_columns(
        "instances",
        {
            "uuid": ["i1", "i10", "i2", "i3", "i4"],
            "name": ["a", "b", "c", "d", "e"],
            "host": ["compute-1", "compute-10", "compute-2", "compute-3", None],
            "project_id": ["p1", "p2", "p1", "p2", "p1"],
            "metadata": [{"vigil": "skip"}, {}, {"vigil": "no"}, {}, {}],
            "tags": [[], ["keep"], [], [], []],
        },
    )
    return {"nodes": nodes, "instances": instances, "server_groups": frame.empty("server_groups")}


def test_normalize_validates_and_accepts_watcher_forms():
    assert sc.normalize(None) == {}
    assert sc.normalize({"availability_zones": [{"name": "az1"}], "exclude": {"instances": [{"uuid": "x"}]}}) == {
        "availability_zones": ["az1"],
        "exclude": {"instances": ["x"]},
    }
    assert sc.normalize({"compute_nodes": "compute-1"}) == {"compute_nodes": ["compute-1"]}
    with pytest.raises(sc.ScopeError, match="unknown scope keys: zones"):
        sc.normalize({"zones": ["az1"]})
    with pytest.raises(sc.ScopeError, match="unknown scope.exclude keys: hosts"):
        sc.normalize({"exclude": {"hosts": ["x"]}})
    with pytest.raises(sc.ScopeError, match="scope.exclude.instance_metadata must be a mapping"):
        sc.normalize({"exclude": {"instance_metadata": ["a"]}})
    with pytest.raises(sc.ScopeError, match="scope must be a mapping"):
        sc.normalize(["az1"])


def test_compute_nodes_match_exactly(tables):
    mask = sc.host_mask(tables["nodes"], {"compute_nodes": ["compute-1"]})
    assert list(mask) == [True, False, False, False]
    with pytest.raises(sc.ScopeError, match="matches no compute node"):
        sc.resolve(tables["nodes"], tables["instances"], {"compute_nodes": ["compute-"]})


def test_inclusions_intersect_and_exclusions_subtract(tables):
    nodes = tables["nodes"]
    assert list(sc.host_mask(nodes, {"availability_zones": ["az1"], "host_aggregates": ["gpu"]})) == [
        False,
        True,
        False,
        False,
    ]
    assert list(sc.host_mask(nodes, {"host_aggregates": ["ssd"], "exclude": {"host_aggregates": ["gpu"]}})) == [
        True,
        False,
        False,
        True,
    ]
    assert list(sc.host_mask(nodes, {"exclude": {"compute_nodes": ["compute-1"]}})) == [False, True, True, True]


def test_instance_mask(tables):
    inst = tables["instances"]
    scope = {"projects": ["p1"], "exclude": {"instance_metadata": {"vigil": "skip"}}}
    assert list(sc.instance_mask(inst, scope)) == [False, False, True, False, True]
    assert list(sc.instance_mask(inst, {"exclude": {"instance_tags": ["keep"], "instances": ["d"]}})) == [
        True,
        False,
        True,
        False,
        True,
    ]
    hosts, movable = sc.resolve(tables["nodes"], inst, {"availability_zones": ["az2"]})
    assert list(hosts) == [False, False, True, True] and list(movable) == [False, False, True, True, False]


def test_apply_keeps_excluded_instances_and_drops_other_hosts(tables):
    out, movable = sc.apply(
        tables, {"compute_nodes": ["compute-1", "compute-10"], "exclude": {"instance_tags": ["keep"]}}
    )
    assert list(out["nodes"]["hostname"]) == ["compute-1", "compute-10"]
    assert list(out["instances"]["uuid"]) == ["i1", "i10"]
    assert list(movable) == [True, False]
    same, everything = sc.apply(tables, {})
    assert len(same["instances"]) == 5 and everything.all()


def test_from_module_params_drops_empty_options():
    params = {"availability_zones": None, "host_aggregates": [], "compute_nodes": ["c1"], "projects": None,
              "exclude": {"instances": None, "instance_tags": ["t"], "instance_metadata": None}}  # fmt: skip
    assert sc.from_module_params(params) == {"compute_nodes": ["c1"], "exclude": {"instance_tags": ["t"]}}


def test_jmespath_queries_compile_when_normalized_and_bad_ones_name_the_expression():
    scope = {
        "instances_query": "metadata.vigil == 'skip'",
        "exclude": {"compute_nodes_query": "contains(aggregates, 'gpu')"},
    }
    assert sc.normalize(scope) == scope
    with pytest.raises(
        sc.ScopeError, match=r"scope.instances_query: bad JMESPath expression \"metadata.vigil == 'skip\""
    ):
        sc.normalize({"instances_query": "metadata.vigil == 'skip"})
    with pytest.raises(sc.ScopeError, match=r"scope.exclude.compute_nodes_query: bad JMESPath expression 'az =='"):
        sc.normalize({"exclude": {"compute_nodes_query": "az =="}})
    with pytest.raises(sc.ScopeError, match="scope.instances_query must be a JMESPath expression .* got list"):
        sc.normalize({"instances_query": ["a"]})


def test_jmespath_queries_select_hosts_and_instances_by_any_column(tables):
    nodes, inst = tables["nodes"], tables["instances"]
    assert list(sc.host_mask(nodes, {"compute_nodes_query": "contains(aggregates, 'ssd')"})) == [
        True,
        True,
        False,
        True,
    ]
    assert list(sc.host_mask(nodes, {"exclude": {"compute_nodes_query": "az == 'az2'"}})) == [True, True, False, False]
    # metadata (a mapping column), project, tags (a list column): null and [] are false
    assert list(sc.instance_mask(inst, {"exclude": {"instances_query": "metadata.vigil"}})) == [
        False,
        True,
        False,
        True,
        True,
    ]
    assert list(sc.instance_mask(inst, {"instances_query": "project_id == 'p2' || tags[0] == 'keep'"})) == [
        False, True, False, True, False]  # fmt: skip
    assert list(sc.instance_mask(inst, {"instances_query": "tags"})) == [False, True, False, False, False]
    assert list(sc.instance_mask(inst, {"instances_query": "@.project_id == 'p2'"})) == [
        False,
        True,
        False,
        True,
        False,
    ]
    # names, queries and hosts all apply together
    hosts, movable = sc.resolve(
        nodes, inst, {"compute_nodes_query": "az == 'az2'", "instances_query": "project_id == 'p1'"}
    )
    assert list(hosts) == [False, False, True, True] and list(movable) == [False, False, True, False, False]


def test_a_query_that_fails_on_a_row_names_the_expression_and_the_row(tables):
    with pytest.raises(
        sc.ScopeError,
        match=r"scope.instances_query: JMESPath expression \"contains\(metadata.vigil, 'k'\)\" fails on uuid i10",
    ):
        sc.instance_mask(tables["instances"], {"instances_query": "contains(metadata.vigil, 'k')"})


def _moved(plan):
    return {a["resource"] for a in plan["actions"] if a["type"] == "migrate"}


def _hosts_touched(plan):
    keys = ("source_node", "destination_node", "host")
    return {a["input"][k] for a in plan["actions"] for k in keys if a["input"].get(k)}


def test_jmespath_scope_on_real_plans():
    """Generated clouds, real plans: excluded servers and hosts never appear in an action,
    while the same plan without the queries does touch them (so the check can fail)."""
    tables = random_model(seed=5, hosts=14, instances=120, fill=0.35, aggregates=2)
    model = frame.dump_model(tables, {})
    free = optimize(model, goal="server_consolidation")
    flavor = dict(zip(tables["instances"]["uuid"], tables["instances"]["flavor_name"]))
    assert "m1.xlarge" in {flavor[u] for u in _moved(free)}
    plan = optimize(
        model, goal="server_consolidation", scope={"exclude": {"instances_query": "flavor_name == 'm1.xlarge'"}}
    )
    assert _moved(plan) and "m1.xlarge" not in {flavor[u] for u in _moved(plan)}
    assert plan["scope"] == {"exclude": {"instances_query": "flavor_name == 'm1.xlarge'"}}
    busiest = max(
        _hosts_touched(free), key=lambda h: sum(a["input"].get("destination_node") == h for a in free["actions"])
    )
    away = optimize(
        model, goal="server_consolidation", scope={"exclude": {"compute_nodes_query": "hostname == '%s'" % busiest}}
    )
    assert _moved(away) and busiest not in _hosts_touched(away)
    project = dict(zip(tables["instances"]["uuid"], tables["instances"]["project_id"]))
    assert {project[u] for u in _moved(free)} == {"p1", "p2"}
    only_p1 = optimize(model, goal="server_consolidation", scope={"instances_query": "project_id == 'p1'"})
    assert _moved(only_p1) and {project[u] for u in _moved(only_p1)} == {"p1"}
    with pytest.raises(
        AnsibleFilterError, match=r"bad scope: scope.instances_query: bad JMESPath expression 'flavor_name = 1'"
    ):
        optimize(model, goal="server_consolidation", scope={"instances_query": "flavor_name = 1"})
