"""storage_capacity_balance: move volumes off pools over a threshold, within pool room and types."""

from modelgen import add_storage, random_model
from strategy_models import pool_violations

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_full_pools_drain_onto_pools_that_serve_the_type():
    m = add_storage(random_model(2, hosts=3, instances=5), 2, pools=4, volumes=80)
    m["pools"]["free_capacity_gb"] = m["pools"]["total_capacity_gb"] * 0.1
    m["pools"].loc[2:, "free_capacity_gb"] = m["pools"]["total_capacity_gb"][2:] * 0.9
    p = registry.run(m, "workload_balancing", "storage_capacity_balance", {"volume_threshold": 80.0})
    e = p["efficacy"]
    assert e["pools_over_threshold_before"] == 2 and e["volume_migrations_count"] > 0
    assert e["standard_deviation_after"] < e["standard_deviation_before"]
    assert planlib.validate_plan(p) == [] and pool_violations(m, p) == []
    types = dict(zip(m["volumes"]["id"], m["volumes"]["volume_type"]))
    served = dict(zip(m["pools"]["name"], m["pools"]["volume_types"]))
    assert all(types[a["resource"]] in served[a["input"]["destination_pool"]] for a in p["actions"])


def test_thin_pool_room_counts_volumes_cinder_has_not_booked():
    """Real Cinder 29 leaves allocated_capacity_gb unchanged after a driver-assisted migration
    (docs/twin-fidelity.md #4): a pool's room must still count the volumes it holds."""
    m = add_storage({"nodes": None}, seed=3, pools=2, volumes=12)
    m["pools"]["thin_provisioning"] = [True, True]
    m["pools"]["max_over_subscription_ratio"] = [1.0, 1.0]
    held = m["volumes"].groupby("pool")["size_gb"].sum()
    exact = VolumePlacement(m).room.copy()
    m["pools"]["allocated_capacity_gb"] = [0.0, 0.0]  # stale: the volumes arrived by migration
    stale = VolumePlacement(m).room
    assert stale.tolist() == exact.tolist()
    assert exact.tolist() == [
        float(t - held.get(n, 0)) for n, t in zip(m["pools"]["name"], m["pools"]["total_capacity_gb"])
    ]
    m["pools"]["allocated_capacity_gb"] = [5000.0, 0.0]  # booked beyond the volumes (snapshots...): kept
    assert VolumePlacement(m).room[0] == m["pools"]["total_capacity_gb"][0] - 5000.0
