"""zone_migration (goal hardware_maintenance): empty given hosts and pools under parallel caps."""

import pytest
from modelgen import add_storage, random_model
from plancheck import plan_violations
from strategy_models import migrations, pool_violations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def _model():
    return add_storage(random_model(4, hosts=6, instances=60, odd_states=False), 4, pools=4, volumes=40)


def test_nodes_pools_and_caps():
    m = _model()
    params = {
        "compute_nodes": [{"src_node": "cmp0000", "dst_node": None}, {"src_node": "cmp0001"}],
        "storage_pools": [
            {"src_pool": "cinder@lvm0#pool", "dst_pool": "cinder@lvm2#pool"},
            {"src_pool": "cinder@lvm1#pool", "dst_type": "hdd"},
        ],
        "parallel_total": 7,
        "parallel_per_node": 2,
        "parallel_per_pool": 2,
    }
    p = registry.run(m, "hardware_maintenance", params=params)
    migs = migrations(p)
    vols = [a for a in p["actions"] if a["type"] == "volume_migrate"]
    assert len(migs) == 4 and len(vols) == 3  # caps: 2 per node, 2 per pool, 7 in total
    assert all(d not in ("cmp0000", "cmp0001") for _unused, _unused, d, _unused in migs)
    assert {a["input"]["migration_type"] for a in vols} == {"migrate", "retype"}
    assert plan_violations(m, p) == [] and pool_violations(m, p) == []


ERRORS = [
    (None, "give compute_nodes and/or storage_pools"),
    ({"storage_pools": [{"src_pool": "nope"}]}, "unknown pool 'nope'"),
]


@pytest.mark.parametrize("params, message", ERRORS)
def test_bad_parameters_are_refused_naming_them(params, message):
    with pytest.raises(registry.StrategyError, match=message):
        registry.run(_model(), "hardware_maintenance", params=params)
