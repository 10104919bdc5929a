"""host_maintenance (goal cluster_maintaining): empty one host, onto a backup host or anywhere."""

import pytest
from plancheck import plan_violations
from strategy_models import cluster, migrations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_backup_disabled_first_and_enabled():
    m = cluster(
        [("h0", 2, 2048), ("h0", 2, 2048, {"status": "SHUTOFF"}), ("h0", 2, 2048, {"locked": True}), ("h1", 2, 2048)],
        status=["enabled", "enabled", "enabled", "disabled"],
    )
    p = registry.run(m, "cluster_maintaining", params={"maintenance_node": "h0", "backup_node": "h3"})
    a = {x["id"]: x for x in p["actions"]}
    assert sorted(migrations(p)) == [("s0", "h0", "h3", "live"), ("s1", "h0", "h3", "cold")]
    dis = [x for x in p["actions"] if x["type"] == "compute_service" and x["input"]["state"] == "disabled"]
    en = [x for x in p["actions"] if x["type"] == "compute_service" and x["input"]["state"] == "enabled"]
    assert dis[0]["resource"] == "h0" and en[0]["resource"] == "h3"
    for x in a.values():
        if x["type"] == "migrate":
            assert set(x["parents"]) >= {dis[0]["id"], en[0]["id"]}
    assert p["efficacy"]["instances_left_count"] == 1 and p["efficacy"]["maintenance_node_emptied"] is False
    assert any(w["resource"] == "s2" for w in p["warnings"])
    assert plan_violations(m, p) == []


# An ACTIVE server (s0) and a SHUTOFF one (s1) on h0: the switches choose how each may move.
SWITCHES = [
    ({"disable_live_migration": True, "disable_cold_migration": False}, ["cold", "cold"]),
    ({"disable_cold_migration": True}, ["live"]),
]


@pytest.mark.parametrize("switches, types", SWITCHES)
def test_migration_type_switches(switches, types):
    m = cluster([("h0", 2, 2048), ("h0", 2, 2048, {"status": "SHUTOFF"})])
    p = registry.run(m, "cluster_maintaining", params=dict(switches, maintenance_node="h0"))
    assert sorted(t for *_unused, t in migrations(p)) == types
    assert plan_violations(m, p) == []


ERRORS = [
    ({"maintenance_node": "hx"}, "params.maintenance_node: unknown compute node 'hx'"),
    (None, "missing required field 'maintenance_node'"),
    ({"maintenance_node": "h0", "backup_node": "h0"}, "must differ"),
]


@pytest.mark.parametrize("params, message", ERRORS)
def test_bad_parameters_are_refused_naming_them(params, message):
    m = cluster([("h0", 2, 2048), ("h0", 2, 2048, {"status": "SHUTOFF"})])
    with pytest.raises(registry.StrategyError, match=message):
        registry.run(m, "cluster_maintaining", params=params)
