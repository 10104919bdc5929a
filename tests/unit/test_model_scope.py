"""Audit scope: validation, host and instance masks, exact host names."""

import pytest

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
