"""Small hand-made clusters and plan readers shared by the strategy tests."""

from modelgen import instances_frame, nodes_frame, with_usage

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame


def cluster(placements, hosts=4, vcpus=16, ram=32768, **kw):
    """Hosts h0..h<hosts-1>; ``placements``: (host, vcpus, ram[, extra columns]) per server s0, s1, ..."""
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
    """The metrics table from (resource_type, resource_id, metric, mean value) rows, 600 s period."""
    cols = ("resource_type", "resource_id", "metric", "aggregate", "period_s", "value")
    return frame.from_columns(
        "metrics",
        {
            c: [r[k] if k < 3 else ("mean" if k == 3 else 600 if k == 4 else r[3]) for r in rows]
            for k, c in enumerate(cols)
        },
    )


def server_load(count, cpu_pct, ram_mb):
    """cpu_util_pct and ram_used_mb rows for servers s0..s<count-1>."""
    return [("instance", "s%d" % k, "cpu_util_pct", cpu_pct) for k in range(count)] + [
        ("instance", "s%d" % k, "ram_used_mb", ram_mb) for k in range(count)
    ]


def migrations(plan):
    """(server, source, destination, migration type) of each migrate action, in plan order."""
    return [
        (a["resource"], a["input"]["source_node"], a["input"]["destination_node"], a["input"]["migration_type"])
        for a in plan["actions"]
        if a["type"] == "migrate"
    ]


def pool_violations(model, plan):
    """Replay volume migrations: pool room and types, like the planner's rule."""
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


def hot_cluster():
    """s0 (2 vCPU) and s1 (4 vCPU) on h0, s2 on h1; h0 hottest outlet and airflow, h2 hot inlet."""
    m = cluster([("h0", 2, 2048), ("h0", 4, 4096), ("h1", 2, 2048)], hosts=3)

    def node(met, vals):
        return [("node", "h%d" % k, met, v) for k, v in enumerate(vals)]

    m["metrics"] = metrics(
        node("outlet_temp_c", [40, 30, 20])
        + node("airflow", [500, 300, 100])
        + node("inlet_temp_c", [20, 20, 30])
        + node("power_w", [100, 100, 100])
    )
    return m
