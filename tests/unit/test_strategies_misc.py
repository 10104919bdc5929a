# -*- coding: utf-8 -*-
"""Every strategy other than node_resource_consolidation on hand-made or generated models."""

import numpy as np
import pytest
from modelgen import add_metrics, add_storage, instances_frame, nodes_frame, random_model, with_usage
from plancheck import plan_violations

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def cluster(placements, hosts=4, vcpus=16, ram=32768, **kw):
    names = ["h%d" % k for k in range(hosts)]
    nodes = nodes_frame(names, [vcpus] * hosts, [ram] * hosts, [1000] * hosts, ratio=(1.0, 1.0, 1.0), **kw)
    rows = [
        dict(uuid="s%d" % k, host=h, vcpus=v, memory_mb=r, disk_gb=10, **extra)
        for k, (h, v, r, *rest) in enumerate(placements)
        for extra in [rest[0] if rest else {}]
    ]
    inst = instances_frame(rows)
    return {"nodes": with_usage(nodes, inst), "instances": inst}


def metrics(rows):
    cols = ("resource_type", "resource_id", "metric", "aggregate", "period_s", "value")
    return frame.from_columns(
        "metrics",
        {
            c: [r[k] if k < 3 else ("mean" if k == 3 else 600 if k == 4 else r[3]) for r in rows]
            for k, c in enumerate(cols)
        },
    )


def migrations(plan):
    return [
        (a["resource"], a["input"]["source_node"], a["input"]["destination_node"], a["input"]["migration_type"])
        for a in plan["actions"]
        if a["type"] == "migrate"
    ]


def test_host_maintenance_backup_disabled_first_and_enabled():
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


def test_host_maintenance_switches_and_errors():
    m = cluster([("h0", 2, 2048), ("h0", 2, 2048, {"status": "SHUTOFF"})])
    p = registry.run(
        m,
        "cluster_maintaining",
        params={"maintenance_node": "h0", "disable_live_migration": True, "disable_cold_migration": False},
    )
    assert sorted(t for *_unused, t in migrations(p)) == ["cold", "cold"]
    p = registry.run(m, "cluster_maintaining", params={"maintenance_node": "h0", "disable_cold_migration": True})
    assert [t for *_unused, t in migrations(p)] == ["live"]
    assert plan_violations(m, p) == []
    with pytest.raises(registry.StrategyError, match="params.maintenance_node: unknown compute node 'hx'"):
        registry.run(m, "cluster_maintaining", params={"maintenance_node": "hx"})
    with pytest.raises(registry.StrategyError, match="missing required field 'maintenance_node'"):
        registry.run(m, "cluster_maintaining")
    with pytest.raises(registry.StrategyError, match="must differ"):
        registry.run(m, "cluster_maintaining", params={"maintenance_node": "h0", "backup_node": "h0"})


def test_workload_stabilization_lowers_std_with_metrics():
    m = cluster([("h0", 2, 4096)] * 6 + [("h1", 2, 4096)] * 2, hosts=3)
    m["metrics"] = metrics(
        [("instance", "s%d" % k, "cpu_util_pct", 100.0) for k in range(8)]
        + [("instance", "s%d" % k, "ram_used_mb", 2048.0) for k in range(8)]
    )
    p = registry.run(m, "workload_balancing", params={"thresholds": {"cpu": 0.01, "ram": 0.01}})
    e = p["efficacy"]
    assert e["standard_deviation_after"] < e["standard_deviation_before"]
    assert p["warnings"] == []
    # 6/2/0 servers of equal load: the optimum is 3/3/2 (sorted), reached in 3 moves
    hosts = list(m["instances"]["host"])
    for srv, _unused, dst, _unused in migrations(p):
        hosts[int(srv[1:])] = dst
    assert sorted(np.bincount([int(h[1]) for h in hosts], minlength=3)) == [2, 3, 3]
    assert e["instance_migrations_count"] == 3
    assert plan_violations(m, p) == []


def test_workload_stabilization_without_metrics_warns():
    m = cluster([("h0", 2, 4096)] * 4, hosts=2)
    p = registry.run(m, "workload_balancing", "workload_stabilization")
    assert any("cpu_util_pct" in w["message"] for w in p["warnings"])
    assert p["efficacy"]["instance_migrations_count"] >= 1


def test_vm_workload_consolidation_uses_measured_load():
    # allocations fill 2 hosts, but measured load is low: everything fits on one host
    m = cluster([("h%d" % (k % 4), 8, 8192) for k in range(4)], hosts=4)
    m["metrics"] = metrics(
        [("instance", "s%d" % k, "cpu_util_pct", 10.0) for k in range(4)]
        + [("instance", "s%d" % k, "ram_used_mb", 1024.0) for k in range(4)]
    )
    m["nodes"]["vcpu_allocation_ratio"] = 4.0
    p = registry.run(m, "server_consolidation", "vm_workload_consolidation")
    assert p["efficacy"]["hosts_in_use_after"] == 1 and p["warnings"] == []
    assert plan_violations(m, p) == []
    # measured load too high for cc: cannot pack onto one host
    m["metrics"] = metrics(
        [("instance", "s%d" % k, "cpu_util_pct", 100.0) for k in range(4)]
        + [("instance", "s%d" % k, "ram_used_mb", 1024.0) for k in range(4)]
    )
    p = registry.run(m, "server_consolidation", "vm_workload_consolidation", {"cc": {"cpu": 0.6, "ram": 1.0}})
    assert p["efficacy"]["hosts_in_use_after"] == 4


def test_basic_and_workload_balance_on_generated():
    m = add_metrics(random_model(11, hosts=15, instances=150), 11)
    for goal, s in (("server_consolidation", "basic"), ("workload_balancing", "workload_balance")):
        p = registry.run(m, goal, s)
        assert plan_violations(m, p) == []
        assert p["efficacy"]["instance_migrations_count"] > 0


def test_workload_balance_threshold():
    m = cluster([("h0", 4, 4096)] * 3 + [("h1", 1, 1024)], hosts=3)
    m["metrics"] = metrics(
        [("instance", "s%d" % k, "cpu_util_pct", 100.0) for k in range(4)]
        + [("instance", "s%d" % k, "ram_used_mb", 512.0) for k in range(4)]
    )
    p = registry.run(m, "workload_balancing", "workload_balance", {"threshold": 60.0})
    # h0 at 75% -> one 4-vCPU server leaves to the idle h2
    assert migrations(p) == [("s0", "h0", "h2", "live")]
    assert p["efficacy"]["hosts_over_threshold_after"] == 0


def test_thermal_airflow_noisy():
    m = cluster([("h0", 2, 2048), ("h0", 4, 4096), ("h1", 2, 2048)], hosts=3)

    def node(met, vals):
        return [("node", "h%d" % k, met, v) for k, v in enumerate(vals)]

    m["metrics"] = metrics(
        node("outlet_temp_c", [40, 30, 20])
        + node("airflow", [500, 300, 100])
        + node("inlet_temp_c", [20, 20, 30])
        + node("power_w", [100, 100, 100])
    )
    p = registry.run(m, "thermal_optimization")
    assert migrations(p) == [("s1", "h0", "h2", "live")]  # largest server, coolest host
    p = registry.run(m, "airflow_optimization")
    assert migrations(p) == [("s1", "h0", "h1", "live")]  # h2's inlet is too hot
    m["metrics"] = metrics(
        [
            ("instance", "s0", "l3_cache_mb", 5.0),
            ("instance", "s1", "l3_cache_mb", 60.0),
            ("instance", "s2", "l3_cache_mb", 10.0),
        ]
    )
    m["instances"]["metadata"] = [{"watcher-priority": "9"}, {"priority": 1}, {}]
    p = registry.run(m, "noisy_neighbor")
    assert migrations(p) == [("s1", "h0", "h2", "live")]
    m2 = cluster([("h0", 2, 2048)], hosts=2)
    p = registry.run(m2, "thermal_optimization")
    assert p["actions"] == [] and "no outlet_temp_c metric" in p["warnings"][0]["message"]


def test_saving_energy_power_off_and_on():
    m = cluster([("h0", 2, 2048), ("h1", 2, 2048)], hosts=6)
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 1, "free_used_percent": 0})
    offs = [a for a in p["actions"] if a["type"] == "node_power"]
    assert len(offs) == 3 and all(a["input"]["state"] == "off" and a["input"]["backend"] == "ironic" for a in offs)
    assert p["efficacy"]["free_hosts_after"] == 1
    assert plan_violations(m, p) == []
    m["nodes"]["power_state"] = ["on", "on", "off", "off", "off", "off"]
    m["nodes"]["status"] = ["enabled", "enabled", "disabled", "disabled", "disabled", "disabled"]
    m["nodes"]["disabled_reason"] = [None, None, "vigil: saving_energy", "operator", None, None]
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 2})
    ons = [a for a in p["actions"] if a["type"] == "node_power"]
    assert len(ons) == 2 and all(a["input"]["state"] == "on" for a in ons)
    enables = [a for a in p["actions"] if a["type"] == "compute_service"]
    assert [a["resource"] for a in enables] == ["h2"] and enables[0]["parents"] == [ons[0]["id"]]
    m["nodes"]["power_backend"] = "none"
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 2})
    assert p["actions"] == [] and "short by 2" in p["warnings"][0]["message"]


def pool_violations(model, plan):
    """Replay volume migrations: pool room and types, like the planner's rule."""
    from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement

    pools = VolumePlacement(model)
    vidx = {v: k for k, v in enumerate(pools.vol_ids)}
    errs = []
    for a in plan["actions"]:
        if a["type"] == "volume_migrate" and a["input"]["migration_type"] == "migrate":
            v, d = vidx[a["resource"]], pools.index[a["input"]["destination_pool"]]
            if not pools.candidates(v)[d]:
                errs.append(a["id"])
            pools.move(v, d)
    return errs


def test_storage_capacity_balance():
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


def test_zone_migration_nodes_pools_and_caps():
    m = add_storage(random_model(4, hosts=6, instances=60, odd_states=False), 4, pools=4, volumes=40)
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
    with pytest.raises(registry.StrategyError, match="give compute_nodes and/or storage_pools"):
        registry.run(m, "hardware_maintenance")
    with pytest.raises(registry.StrategyError, match="unknown pool 'nope'"):
        registry.run(m, "hardware_maintenance", params={"storage_pools": [{"src_pool": "nope"}]})


def test_dummy_and_actuator():
    p = registry.run({}, "dummy", params={"para1": 1.5})
    assert [a["type"] for a in p["actions"]] == ["nop", "nop", "sleep"] and p["actions"][2]["input"]["duration"] == 1.5
    with pytest.raises(registry.StrategyError, match="params.para1: 11 is above the maximum 10"):
        registry.run({}, "dummy", params={"para1": 11})
    acts = [
        {"type": "compute_service", "input": {"host": "h1", "state": "disabled", "disabled_reason": "x"}},
        {"type": "sleep", "input": {"duration": 2}, "parents": ["a1"]},
    ]
    p = registry.run({}, "unclassified", params={"actions": acts})
    assert [a["id"] for a in p["actions"]] == ["a1", "a2"] and p["actions"][0]["resource"] == "h1"
    with pytest.raises(registry.StrategyError, match=r"params.actions\[1\].parents: unknown action id 'a9'"):
        registry.run({}, "unclassified", params={"actions": [acts[0], dict(acts[1], parents=["a9"])]})
    m = cluster([("h0", 12, 2048), ("h1", 12, 2048)], hosts=2)
    bad = [
        {
            "type": "migrate",
            "resource": "s0",
            "input": {"migration_type": "live", "source_node": "h0", "destination_node": "h1"},
        }
    ]
    with pytest.raises(registry.StrategyError, match="host h1 lacks VCPU"):
        registry.run(m, "unclassified", params={"actions": bad})


def test_vm_workload_consolidation_offload_onto_empty_host_keeps_it_enabled():
    m = cluster([("h0", 8, 4096), ("h0", 8, 4096)], hosts=2)
    m["metrics"] = metrics(
        [("instance", "s%d" % k, "cpu_util_pct", 100.0) for k in range(2)]
        + [("instance", "s%d" % k, "ram_used_mb", 1024.0) for k in range(2)]
    )
    p = registry.run(m, "server_consolidation", "vm_workload_consolidation")
    assert migrations(p) == [("s0", "h0", "h1", "live")]
    assert [a for a in p["actions"] if a["type"] == "compute_service"] == []
    assert plan_violations(m, p) == []


def test_thin_pool_room_counts_volumes_cinder_has_not_booked():
    """Real Cinder 29 leaves allocated_capacity_gb unchanged after a driver-assisted migration
    (docs/twin-fidelity.md #4): a pool's room must still count the volumes it holds."""
    from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement

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
