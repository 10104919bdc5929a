# -*- coding: utf-8 -*-
"""Random-but-valid cluster models for strategy tests and the plan benchmark (seeded).

Hosts are heterogeneous; servers are placed within capacity; placement usages are the sums
of the allocations, so every generated model satisfies every constraint before any plan.
"""

import numpy as np

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

FLAVORS = [  # name, vcpus, ram MiB, disk GiB
    ("m1.tiny", 1, 512, 1),
    ("m1.small", 1, 2048, 20),
    ("m1.medium", 2, 4096, 40),
    ("m1.large", 4, 8192, 80),
    ("m1.xlarge", 8, 16384, 160),
]
HOST_SHAPES = [(32, 131072, 1000), (48, 196608, 2000), (64, 262144, 2000), (16, 65536, 500)]


def nodes_frame(
    hostnames,
    vcpus,
    ram,
    disk,
    az=None,
    status=None,
    state=None,
    aggregates=None,
    aggregate_metadata=None,
    traits=None,
    ratio=(4.0, 1.0, 1.0),
    used=None,
    power_backend=None,
    power_state=None,
):
    n = len(hostnames)
    used = np.zeros((n, 4), dtype=np.int64) if used is None else used
    cols = {
        "hostname": list(hostnames),
        "hypervisor_id": ["hv-%d" % k for k in range(n)],
        "rp_uuid": ["rp-%d" % k for k in range(n)],
        "service_id": ["svc-%d" % k for k in range(n)],
        "status": list(status) if status is not None else ["enabled"] * n,
        "state": list(state) if state is not None else ["up"] * n,
        "disabled_reason": [None] * n,
        "forced_down": [False] * n,
        "network_agent_up": [True] * n,
        "az": list(az) if az is not None else ["nova"] * n,
        "aggregates": list(aggregates) if aggregates is not None else [[] for _unused in range(n)],
        "aggregate_metadata": list(aggregate_metadata)
        if aggregate_metadata is not None
        else [{} for _unused in range(n)],
        "traits": list(traits) if traits is not None else [[] for _unused in range(n)],
        "vcpu_total": list(vcpus),
        "vcpu_reserved": [0] * n,
        "vcpu_allocation_ratio": [ratio[0]] * n,
        "vcpu_used": used[:, 0].tolist(),
        "memory_mb_total": list(ram),
        "memory_mb_reserved": [0] * n,
        "memory_mb_allocation_ratio": [ratio[1]] * n,
        "memory_mb_used": used[:, 1].tolist(),
        "disk_gb_total": list(disk),
        "disk_gb_reserved": [0] * n,
        "disk_gb_allocation_ratio": [ratio[2]] * n,
        "disk_gb_used": used[:, 2].tolist(),
        "pcpu_total": [0] * n,
        "pcpu_reserved": [0] * n,
        "pcpu_allocation_ratio": [1.0] * n,
        "pcpu_used": used[:, 3].tolist(),
        "instance_count": [0] * n,
        "power_backend": list(power_backend) if power_backend is not None else ["ironic"] * n,
        "power_node_id": ["node-%d" % k for k in range(n)],
        "power_state": list(power_state) if power_state is not None else ["on"] * n,
    }
    return frame.from_columns("nodes", cols)


def instances_frame(rows):
    """rows: list of dicts with at least uuid, host, vcpus, memory_mb, disk_gb."""
    defaults = {
        "name": None,
        "project_id": "p1",
        "user_id": "u1",
        "az": "nova",
        "status": "ACTIVE",
        "task_state": None,
        "locked": False,
        "flavor_name": "custom",
        "ephemeral_gb": 0,
        "swap_mb": 0,
        "extra_specs": {},
        "image_id": "img",
        "boot_from_volume": False,
        "server_groups": [],
        "metadata": {},
        "tags": [],
        "required_traits": [],
        "pinned": False,
        "pci": False,
        "vgpu": False,
        "migratable": "live",
        "migratable_reason": None,
    }
    cols = {}
    keys = list(defaults) + ["uuid", "host", "vcpus", "memory_mb", "disk_gb"]
    for k in keys:
        d = defaults.get(k)
        cols[k] = [r[k] if k in r else (type(d)() if isinstance(d, (list, dict)) else d) for r in rows]
    cols["name"] = [r.get("name") or r["uuid"] for r in rows]
    return frame.from_columns("instances", cols)


def with_usage(nodes, instances):
    """Set nodes' *_used and instance_count from the instances' allocations."""
    nodes = nodes.copy()
    host_idx = {h: k for k, h in enumerate(nodes["hostname"])}
    idx = np.array([host_idx.get(h, -1) for h in instances["host"]], dtype=np.int64)
    ok = idx >= 0
    disk = (
        np.where(instances["boot_from_volume"].to_numpy(bool), 0, instances["disk_gb"].to_numpy())
        + instances["ephemeral_gb"].to_numpy()
        + np.ceil(instances["swap_mb"].to_numpy() / 1024.0)
    )
    # pinned servers consume PCPU only where the host has a PCPU inventory (else VCPU)
    pinned = instances["pinned"].to_numpy(bool) & (nodes["pcpu_total"].to_numpy()[np.maximum(idx, 0)] > 0)
    vc = instances["vcpus"].to_numpy()
    for col, vals in (
        ("vcpu_used", np.where(pinned, 0, vc)),
        ("memory_mb_used", instances["memory_mb"].to_numpy()),
        ("disk_gb_used", disk),
        ("pcpu_used", np.where(pinned, vc, 0)),
    ):
        nodes[col] = np.bincount(idx[ok], weights=vals[ok], minlength=len(nodes)).astype(np.int64)
    nodes["instance_count"] = np.bincount(idx[ok], minlength=len(nodes)).astype(np.int64)
    return nodes


def add_metrics(model, seed=0, coverage=1.0):
    """Node (outlet/inlet temperature, airflow, power) and instance (cpu, ram, l3) metrics."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in model["nodes"]["hostname"]:
        if rng.random() < coverage:
            for met, lo, hi in (
                ("outlet_temp_c", 25, 45),
                ("airflow", 200, 600),
                ("inlet_temp_c", 18, 30),
                ("power_w", 200, 400),
            ):
                rows.append(("node", h, met, "mean", 3600, float(rng.uniform(lo, hi))))
    inst = model["instances"]
    for u, mem in zip(inst["uuid"], inst["memory_mb"]):
        if rng.random() < coverage:
            rows.append(("instance", u, "cpu_util_pct", "mean", 3600, float(rng.uniform(0, 100))))
            rows.append(("instance", u, "ram_used_mb", "mean", 3600, float(mem * rng.uniform(0.1, 1.0))))
            rows.append(("instance", u, "l3_cache_mb", "mean", 3600, float(rng.uniform(0, 80))))
    cols = ("resource_type", "resource_id", "metric", "aggregate", "period_s", "value")
    model["metrics"] = frame.from_columns("metrics", {c: [r[k] for r in rows] for k, c in enumerate(cols)})
    model["instances"] = inst.copy()
    model["instances"]["metadata"] = [{"priority": int(rng.integers(0, 3))} for _unused in range(len(inst))]
    return model


def add_storage(model, seed=0, pools=4, volumes=40):
    """Cinder pools (two types) and volumes within capacity."""
    rng = np.random.default_rng(seed)
    names = ["cinder@lvm%d#pool" % k for k in range(pools)]
    total = rng.choice([1000.0, 2000.0, 4000.0], pools)
    used = np.zeros(pools)
    vrows = []
    for k in range(volumes):
        size = int(rng.choice([10, 50, 100, 200]))
        p = int(rng.integers(0, pools))
        if used[p] + size > total[p] * 0.95:
            continue
        used[p] += size
        status = str(rng.choice(["available", "in-use", "error"], p=[0.5, 0.45, 0.05]))
        vrows.append(
            {
                "id": "vol-%04d" % k,
                "pool": names[p],
                "size_gb": size,
                "volume_type": "ssd" if p % 2 else "hdd",
                "status": status,
            }
        )
    vcols = {c: [r.get(c) for r in vrows] for c in ("id", "pool", "size_gb", "volume_type", "status")}
    vcols["host"] = vcols["pool"]
    vcols["name"] = vcols["id"]
    vcols["migration_status"] = [None] * len(vrows)
    vcols["attachments"] = [[] for _unused in vrows]
    model["volumes"] = frame.from_columns("volumes", vcols)
    model["pools"] = frame.from_columns(
        "pools",
        {
            "name": names,
            "backend": ["lvm%d" % k for k in range(pools)],
            "total_capacity_gb": total.tolist(),
            "free_capacity_gb": (total - used).tolist(),
            "allocated_capacity_gb": used.tolist(),
            "max_over_subscription_ratio": [1.0] * pools,
            "thin_provisioning": [False] * pools,
            "reserved_percentage": [0.0] * pools,
            "volume_types": [["ssd"] if k % 2 else ["hdd"] for k in range(pools)],
        },
    )
    return model


def random_model(
    seed=0, hosts=20, instances=150, azs=1, fill=0.6, groups=0, traits=False, odd_states=True, disabled=0, aggregates=0
):
    """A valid random model: dict of DataFrames (nodes, instances, server_groups)."""
    rng = np.random.default_rng(seed)
    shapes = np.array(HOST_SHAPES)[rng.integers(0, len(HOST_SHAPES), hosts)]
    names = ["cmp%04d" % k for k in range(hosts)]
    az = ["az%d" % (k % azs) for k in range(hosts)]
    aggs = [["agg%d" % (k % aggregates)] if aggregates else [] for k in range(hosts)]
    host_traits = [["HW_CPU_X86_AVX2"] if (traits and k % 2 == 0) else [] for k in range(hosts)]
    cap = np.stack([shapes[:, 0] * 4.0, shapes[:, 1] * 1.0, shapes[:, 2] * 1.0], axis=1)
    free = cap * fill
    fl = np.array([f[1:] for f in FLAVORS], dtype=float)
    rows = []
    host_of = rng.integers(0, hosts, instances)
    kinds = rng.integers(0, len(FLAVORS), instances)
    for k in range(instances):
        d = fl[kinds[k]]
        h = host_of[k]
        if not (free[h] >= d).all():
            fits = np.nonzero((free >= d).all(axis=1))[0]
            if not len(fits):
                continue
            h = fits[rng.integers(0, len(fits))]
        free[h] -= d
        row = {
            "uuid": "srv-%05d" % k,
            "host": names[h],
            "az": az[h],
            "vcpus": int(d[0]),
            "memory_mb": int(d[1]),
            "disk_gb": int(d[2]),
            "flavor_name": FLAVORS[kinds[k]][0],
        }
        if odd_states:
            r = rng.random()
            if r < 0.05:
                row["status"] = "SHUTOFF"
            elif r < 0.07:
                row["status"] = "PAUSED"
            elif r < 0.09:
                row["locked"] = True
            elif r < 0.11:
                row["pinned"] = True
                row["migratable"] = "cold"
            elif r < 0.12:
                row["task_state"] = "migrating"
        if traits and rng.random() < 0.2 and "HW_CPU_X86_AVX2" in host_traits[h]:
            row["required_traits"] = ["HW_CPU_X86_AVX2"]
        if aggregates:  # servers that already pass Nova's aggregate filters where they are
            if h % aggregates % 2 == 0 and rng.random() < 0.3:
                row["extra_specs"] = {"aggregate_instance_extra_specs:ssd": "true"}
            row["project_id"] = "p2" if rng.random() < 0.2 else "p1"
        rows.append(row)
    inst = instances_frame(rows)
    sg_rows = {"id": [], "name": [], "policy": [], "members": [], "max_server_per_host": [], "project_id": []}
    if groups and len(rows):
        policies = ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]
        taken = set()
        for g in range(groups):
            policy = policies[g % len(policies)]
            size = int(rng.integers(2, 5))
            cand = [r for r in rng.permutation(len(rows))[: size * 3] if r not in taken]
            members = []
            used_hosts = {}
            for r in cand:
                host = rows[r]["host"]
                if "anti" in policy:
                    if used_hosts.get(host, 0) >= 1:
                        continue
                elif members and host != rows[members[0]]["host"]:
                    continue
                members.append(r)
                used_hosts[host] = used_hosts.get(host, 0) + 1
                if len(members) == size:
                    break
            taken.update(members)
            sg_rows["id"].append("sg-%d" % g)
            sg_rows["name"].append("group-%d" % g)
            sg_rows["policy"].append(policy)
            sg_rows["members"].append([rows[r]["uuid"] for r in members])
            sg_rows["max_server_per_host"].append(1)
            sg_rows["project_id"].append("p1")
    status = ["enabled"] * hosts
    for k in rng.permutation(hosts)[:disabled]:
        status[k] = "disabled"
    # aggregate k: ssd=true when k is even, ssd=false otherwise; aggregate 1 isolated to p1 and p2
    meta = [
        dict({"ssd": ["true" if k % aggregates % 2 == 0 else "false"]}, **({"filter_tenant_id": ["p1", "p2"]} if k % aggregates == 1 else {}))
        if aggregates
        else {}
        for k in range(hosts)
    ]  # fmt: skip
    nodes = nodes_frame(
        names,
        shapes[:, 0],
        shapes[:, 1],
        shapes[:, 2],
        az=az,
        status=status,
        aggregates=aggs,
        aggregate_metadata=meta,
        traits=host_traits,
    )
    nodes = with_usage(nodes, inst)
    return {"nodes": nodes, "instances": inst, "server_groups": frame.from_columns("server_groups", sg_rows)}
