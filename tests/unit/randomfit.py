# -*- coding: utf-8 -*-
"""Clouds filled the way real clouds fill: servers land at random on hosts that fit (seeded).

The referee's generator (issue 13, docs/strategies/benchmarks.md): hosts of three sizes,
a flavor mix from 1 vCPU / 2 GiB to 16 vCPU / 64 GiB, each server placed on a host drawn
uniformly among the enabled hosts that still fit it (no cap below full capacity), until
``per_host`` servers per host on average; a few % of hosts are disabled afterwards (still
holding their servers, as hosts under maintenance do), and the hosts are spread over AZs.
Optional: SHUTOFF, locked and pinned (cold-only) servers, server groups, required traits.

It imports no strategy code (only the table builders of modelgen.py), so the bench and the
tests can measure vigil on clouds vigil did not shape.
"""

import numpy as np
from modelgen import instances_frame, nodes_frame, with_usage

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

# vCPU, RAM MiB, local disk GiB; CPU ratio 4.0, RAM and disk 1.0
HOST_SHAPES = [(32, 256 * 1024, 2000), (48, 384 * 1024, 3000), (64, 512 * 1024, 4000)]
RATIOS = (4.0, 1.0, 1.0)
RESERVED_RAM_MB = 8192  # host OS and hypervisor
# name, vCPU, RAM MiB, root disk GiB, share of servers (small flavors dominate, as in practice)
FLAVORS = [
    ("g.1c2g", 1, 2048, 20, 0.20),
    ("g.2c4g", 2, 4096, 40, 0.20),
    ("g.2c8g", 2, 8192, 40, 0.12),
    ("g.4c8g", 4, 8192, 80, 0.14),
    ("g.4c16g", 4, 16384, 80, 0.12),
    ("g.8c16g", 8, 16384, 160, 0.08),
    ("g.8c32g", 8, 32768, 160, 0.07),
    ("g.16c32g", 16, 32768, 160, 0.04),
    ("g.16c64g", 16, 65536, 160, 0.03),
]
TRAIT = "HW_CPU_X86_AVX512F"
TRIES = 30  # random draws before falling back to listing the hosts that fit


def random_fit(
    seed=0,
    hosts=1000,
    per_host=20,
    azs=3,
    disabled=0.03,
    shutoff=0.05,
    locked=0.0,
    pinned=0.0,
    groups=0.0,
    traits=0.0,
):
    """A model {nodes, instances, server_groups, meta}; fractions are of hosts or servers.

    disabled: hosts disabled after the fill; shutoff / locked / pinned: servers in that
    state (pinned servers are ACTIVE and cold-only, so they cannot move by default);
    groups: servers put in server groups of 2-4 members; traits: hosts with TRAIT (a third
    of their servers require it). meta.dropped counts servers that fitted nowhere.
    """
    rng = np.random.default_rng(seed)
    shapes = np.array(HOST_SHAPES)[rng.integers(0, len(HOST_SHAPES), hosts)]
    cap = shapes * np.array(RATIOS)
    cap[:, 1] -= RESERVED_RAM_MB * RATIOS[1]
    free = cap.copy()
    wanted = hosts * per_host
    shares = np.array([f[4] for f in FLAVORS])
    kinds = rng.choice(len(FLAVORS), size=wanted, p=shares / shares.sum())
    demand = np.array([f[1:4] for f in FLAVORS], dtype=float)
    host_of = np.full(wanted, -1, dtype=np.int64)
    for k in range(wanted):
        d = demand[kinds[k]]
        h = -1
        for h_try in rng.integers(0, hosts, TRIES):  # uniform over hosts that fit, by rejection
            if (free[h_try] >= d).all():
                h = int(h_try)
                break
        else:
            fits = np.nonzero((free >= d).all(axis=1))[0]
            if len(fits):
                h = int(fits[rng.integers(0, len(fits))])
        if h >= 0:
            free[h] -= d
            host_of[k] = h
    placed = np.nonzero(host_of >= 0)[0]
    names = ["cmp%05d" % k for k in range(hosts)]
    az = ["az%d" % (k % azs) for k in range(hosts)]
    host_traits = [[TRAIT] if rng.random() < traits else [] for _unused in range(hosts)]
    state = rng.random(len(placed))
    rows = []
    for n, k in enumerate(placed):
        h, f = int(host_of[k]), FLAVORS[kinds[k]]
        row = {
            "uuid": "srv-%06d" % k,
            "host": names[h],
            "az": az[h],
            "vcpus": f[1],
            "memory_mb": f[2],
            "disk_gb": f[3],
            "flavor_name": f[0],
        }
        # one draw per server decides its state, so the fractions do not overlap
        if state[n] < pinned:
            row.update(pinned=True, migratable="cold", migratable_reason="pinned CPUs")
        elif state[n] < pinned + locked:
            row["locked"] = True
        elif state[n] < pinned + locked + shutoff:
            row["status"] = "SHUTOFF"
        if host_traits[h] and rng.random() < 1 / 3:
            row["required_traits"] = [TRAIT]
        rows.append(row)
    groups_table = _server_groups(rng, rows, groups)
    inst = instances_frame(rows)
    status = ["enabled"] * hosts
    for k in rng.permutation(hosts)[: int(round(disabled * hosts))]:
        status[k] = "disabled"
    nodes = nodes_frame(
        names, shapes[:, 0], shapes[:, 1], shapes[:, 2], az=az, status=status, traits=host_traits, ratio=RATIOS
    )
    nodes["memory_mb_reserved"] = RESERVED_RAM_MB
    nodes["disabled_reason"] = ["maintenance" if s == "disabled" else None for s in status]
    model = {
        "nodes": with_usage(nodes, inst),
        "instances": inst,
        "server_groups": groups_table,
        "meta": {"generator": "random_fit", "seed": seed, "dropped": int(wanted - len(placed))},
    }
    return model


def add_load(model, seed=0):
    """Measured load per server (the metrics table): cpu_util_pct ~ Beta(1.2, 5) (mean 19 %,
    a long tail of busy servers), ram_used_mb 50-95 % of the flavor's RAM. Replaces any
    metrics table. vm_workload_consolidation reads it; allocation-based strategies do not."""
    rng = np.random.default_rng([seed, 1])
    inst = model["instances"]
    n = len(inst)
    cpu = rng.beta(1.2, 5.0, n) * 100.0
    ram = inst["memory_mb"].to_numpy(float) * rng.uniform(0.5, 0.95, n)
    uuids = inst["uuid"].tolist()
    cols = {
        "resource_type": ["instance"] * (2 * n),
        "resource_id": uuids + uuids,
        "metric": ["cpu_util_pct"] * n + ["ram_used_mb"] * n,
        "aggregate": ["mean"] * (2 * n),
        "period_s": [3600] * (2 * n),
        "value": cpu.tolist() + ram.tolist(),
    }
    model["metrics"] = frame.from_columns("metrics", cols)
    return model


def _server_groups(rng, rows, fraction):
    """Groups that hold where the servers already are: affinity members share a host,
    anti-affinity members are on distinct hosts of one AZ. Hard and soft policies alternate.
    Sets each member row's server_groups."""
    out = {"id": [], "name": [], "policy": [], "members": [], "max_server_per_host": [], "project_id": []}
    budget = int(fraction * len(rows))
    by_host = {}
    for r in rows:
        by_host.setdefault(r["host"], []).append(r)
    taken = set()
    policies = ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]
    order = rng.permutation(len(rows))
    for start in order:
        if budget <= 0:
            break
        first = rows[start]
        if first["uuid"] in taken:
            continue
        policy = policies[len(out["id"]) % len(policies)]
        size = int(rng.integers(2, 5))
        if "anti" in policy:
            pool = [rows[k] for k in rng.permutation(len(rows))[: size * 20]]
            members, hosts = [first], {first["host"]}
            for r in pool:
                if len(members) == size:
                    break
                if r["uuid"] not in taken and r["az"] == first["az"] and r["host"] not in hosts:
                    members.append(r)
                    hosts.add(r["host"])
        else:
            members = [r for r in by_host[first["host"]] if r["uuid"] not in taken][:size]
        if len(members) < 2:
            continue
        taken.update(r["uuid"] for r in members)
        budget -= len(members)
        g = len(out["id"])
        out["id"].append("sg-%d" % g)
        out["name"].append("group-%d" % g)
        out["policy"].append(policy)
        out["members"].append([r["uuid"] for r in members])
        for r in members:  # Nova lists a server's groups on the server too
            r["server_groups"] = [out["id"][-1]]
        out["max_server_per_host"].append(1)
        out["project_id"].append("p1")
    return frame.from_columns("server_groups", out)
