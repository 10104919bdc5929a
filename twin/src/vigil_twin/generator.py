"""Reproducible generated clouds: ``generate(nodes, servers, volumes=0, seed=1) -> topology``.

The same arguments always give the same topology (one `random.Random(seed)` drives every
choice). What it makes, so strategies have something to chew on:

- 2 AZs (3 from 60 nodes), aggregates ``ssd`` and ``sriov``, a few hosts with dedicated CPUs
  (PCPU inventory) and SR-IOV NICs, about 3% of hosts disabled with a reason;
- a realistic flavor mix (mostly small/medium), a few pinned (``hw:cpu_policy=dedicated``) and
  SR-IOV-looking (``pci_passthrough:alias``) flavors placed only where they can run;
- skewed load: host popularity follows a Zipf-like law, so some hosts are busy and some
  nearly empty, utilisation profiles follow; every host stays within its Placement capacity;
- anti-affinity groups (members on distinct hosts) and a few affinity pairs;
- some SHUTOFF, PAUSED and locked servers;
- with ``volumes > 0``: Cinder ``pools`` (LVM pools on storage hosts plus a thin Ceph pool)
  and ``volumes`` (about half attached to servers), the shapes twin/README.md documents.
"""

from __future__ import annotations

import bisect
import itertools
import random
from datetime import timedelta
from typing import Any

from vigil_twin.topology import BASE_TIME, flavor_resources, iso, node_capacity

FLAVORS: list[tuple[dict[str, Any], float]] = [
    ({"name": "m1.tiny", "vcpus": 1, "ram": 512, "disk": 1}, 5),
    ({"name": "m1.small", "vcpus": 1, "ram": 2048, "disk": 20}, 25),
    ({"name": "m1.medium", "vcpus": 2, "ram": 4096, "disk": 40}, 30),
    ({"name": "m1.large", "vcpus": 4, "ram": 8192, "disk": 80}, 18),
    ({"name": "m1.xlarge", "vcpus": 8, "ram": 16384, "disk": 160}, 8),
    ({"name": "m1.2xlarge", "vcpus": 16, "ram": 32768, "disk": 160}, 2),
    ({"name": "r1.large", "vcpus": 4, "ram": 32768, "disk": 80}, 4),
    ({"name": "c1.large", "vcpus": 8, "ram": 8192, "disk": 40, "swap": 1024}, 3),
    ({"name": "e1.medium", "vcpus": 2, "ram": 4096, "disk": 20, "ephemeral": 40}, 2),
    ({"name": "p1.pinned", "vcpus": 4, "ram": 8192, "disk": 40, "extra_specs": {"hw:cpu_policy": "dedicated", "hw:mem_page_size": "large"}}, 2),
    ({"name": "s1.sriov", "vcpus": 4, "ram": 8192, "disk": 40, "extra_specs": {"pci_passthrough:alias": "nic-vf:1", "trait:HW_NIC_SRIOV": "required"}}, 1),
]  # fmt: skip
NODE_SHAPES = [  # (vcpus, memory_mb, disk_gb, weight)
    (48, 262144, 1800, 50),
    (64, 393216, 3600, 35),
    (96, 524288, 7200, 15),
]
DISABLED_REASONS = [
    "maintenance: firmware upgrade",
    "maintenance: DIMM replacement",
    "decommissioning",
    "noisy neighbour investigation",
]
VOLUME_SIZES = [10, 20, 40, 50, 100, 200, 500]


def _weighted(rng: random.Random, items: list[Any], weights: list[float]) -> Any:
    return rng.choices(items, weights=weights, k=1)[0]


def _nodes(rng: random.Random, n: int) -> list[dict[str, Any]]:
    azs = ["az1", "az2"] if n < 60 else ["az1", "az2", "az3"]
    out = []
    n_disabled = max(1, round(n * 0.03)) if n >= 5 else 0
    disabled = set(rng.sample(range(n), n_disabled)) if n_disabled else set()
    n_pinned = max(1, n // 12) if n >= 3 else 0
    pinned_hosts = set(rng.sample(sorted(set(range(n)) - disabled), min(n_pinned, n - len(disabled))))
    for i in range(n):
        vcpus, mem, disk, _ = _weighted(rng, NODE_SHAPES, [s[3] for s in NODE_SHAPES])
        node: dict[str, Any] = {
            "hostname": f"compute-{i + 1}",
            "vcpus": vcpus,
            "memory_mb": mem,
            "disk_gb": disk,
            "az": azs[i * len(azs) // n],
            "reserved": {"memory_mb": 4096, "disk_gb": 20},
            "allocation_ratio": {
                "vcpus": rng.choice([4.0, 4.0, 4.0, 2.0, 8.0]),
                "memory_mb": rng.choice([1.0, 1.0, 1.0, 1.5]),
            },
            "traits": ["HW_CPU_X86_AVX2"],
            "aggregates": [],
        }
        if i in pinned_hosts:
            node["pcpus"] = vcpus // 2
            node["vcpus"] = vcpus - node["pcpus"]
            node["traits"].append("HW_CPU_HYPERTHREADING")
        if i in pinned_hosts or rng.random() < 0.15:
            node["traits"].append("HW_NIC_SRIOV")
            node["aggregates"].append("sriov")
        if rng.random() < 0.4:
            node["traits"].append("STORAGE_DISK_SSD")
            node["aggregates"].append("ssd")
        if i in disabled:
            node["status"] = "disabled"
            node["disabled_reason"] = rng.choice(DISABLED_REASONS)
        out.append(node)
    return out


def _identity(rng: random.Random, servers: int) -> tuple[dict[str, Any], list[str]]:
    n_projects = min(20, max(2, servers // 500))
    tenants = [f"project-{k + 1}" for k in range(n_projects)]
    projects = [{"name": "admin"}, {"name": "service"}, {"name": "demo"}] + [{"name": t} for t in tenants]
    users = [
        {"name": "admin", "password": "vigil-admin", "project": "admin", "roles": ["admin", "member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
        {"name": "demo", "password": "vigil-demo", "project": "demo", "roles": ["member", "reader"]},  # nosec B105 # the twin's documented demo credentials (twin/README.md), not a secret
    ] + [{"name": f"user-{t}", "password": f"vigil-{t}", "project": t, "roles": ["member"]} for t in tenants]
    return {"region": "RegionOne", "projects": projects, "users": users}, ["demo"] + tenants


def generate(nodes: int, servers: int, volumes: int = 0, seed: int = 1) -> dict[str, Any]:
    """A reproducible topology (plain dict, valid for `validate_topology`)."""
    if nodes < 1:
        raise ValueError("nodes must be >= 1")
    if servers < 0 or volumes < 0:
        raise ValueError("servers and volumes must be >= 0")
    rng = random.Random(seed)  # nosec B311 # a seeded generator must give the same cloud for the same seed
    node_list = _nodes(rng, nodes)
    identity, tenants = _identity(rng, servers)
    flavors = [dict(f) for f, _ in FLAVORS]
    weights = [w for _, w in FLAVORS]
    by_name = {f["name"]: f for f in flavors}

    # capacity left per host, per resource class, as Placement computes it
    free: list[dict[str, float]] = []
    for n in node_list:
        full = dict(n, pcpus=n.get("pcpus", 0), reserved={"vcpus": 0, "pcpus": 0, **n["reserved"]})
        full["allocation_ratio"] = {
            "vcpus": n["allocation_ratio"]["vcpus"],
            "memory_mb": n["allocation_ratio"]["memory_mb"],
            "disk_gb": 1.0,
            "pcpus": 1.0,
        }
        free.append(node_capacity(full))
    # Zipf-like host popularity in a shuffled order: skewed, reproducible load; disabled hosts are unpopular
    order = list(range(nodes))
    rng.shuffle(order)
    popularity = [0.0] * nodes
    for rank, idx in enumerate(order):
        popularity[idx] = 1.0 / (rank + 1) ** 0.7
        if node_list[idx].get("status") == "disabled":
            popularity[idx] *= 0.2
    cumulative = list(itertools.accumulate(popularity))
    total_pop = cumulative[-1]
    sriov_hosts = [i for i, n in enumerate(node_list) if "HW_NIC_SRIOV" in n["traits"]]
    pinned_hosts = [i for i, n in enumerate(node_list) if n.get("pcpus")]
    busy = {i: popularity[i] / max(popularity) for i in range(nodes)}

    def fits(i: int, res: dict[str, int]) -> bool:
        room = free[i]
        return all(room.get(rc, 0) >= amount for rc, amount in res.items())

    def take(i: int, res: dict[str, int]) -> None:
        for rc, amount in res.items():
            free[i][rc] -= amount

    # anti-affinity groups of 2-4 members, affinity pairs
    groups: list[dict[str, Any]] = []
    n_anti = servers // 60
    n_aff = servers // 300
    for g in range(n_anti):
        groups.append(
            {
                "name": f"anti-{g + 1}",
                "policy": "anti-affinity",
                "project": tenants[g % len(tenants)],
                "_size": rng.randint(2, 4),
            }
        )
    for g in range(n_aff):
        groups.append({"name": f"aff-{g + 1}", "policy": "affinity", "project": tenants[g % len(tenants)], "_size": 2})
    group_slots = [g for g in groups for _ in range(g["_size"])]
    group_hosts: dict[str, list[int]] = {g["name"]: [] for g in groups}

    server_list: list[dict[str, Any]] = []
    for k in range(servers):
        group = group_slots[k] if k < len(group_slots) else None
        flavor = by_name["m1.small"] if group else _weighted(rng, flavors, weights)
        res = flavor_resources(flavor)
        specs = flavor.get("extra_specs") or {}
        if specs.get("hw:cpu_policy") == "dedicated":
            pool = pinned_hosts
        elif "pci_passthrough:alias" in specs:
            pool = sriov_hosts
        else:
            pool = None
        if group and group["policy"] == "affinity" and group_hosts[group["name"]]:
            host = group_hosts[group["name"]][0] if fits(group_hosts[group["name"]][0], res) else None
            if host is None:
                group = None
        else:
            host = None
        if host is None:
            banned = set(group_hosts[group["name"]]) if group and group["policy"] == "anti-affinity" else set()
            for _ in range(12):
                if pool is not None:
                    cand = rng.choice(pool) if pool else None
                else:
                    cand = bisect.bisect_left(cumulative, rng.random() * total_pop)
                    cand = min(cand, nodes - 1)
                if cand is not None and cand not in banned and fits(cand, res):
                    host = cand
                    break
            if host is None:  # crowded: the roomiest allowed host
                allowed = [i for i in (pool if pool is not None else range(nodes)) if i not in banned and fits(i, res)]
                if not allowed:  # special hosts full or group impossible: an ordinary small server
                    group = None
                    flavor = by_name["m1.small"]
                    res = flavor_resources(flavor)
                    allowed = [i for i in range(nodes) if fits(i, res)]
                    if not allowed:
                        raise ValueError(
                            f"cannot place {servers} servers on {nodes} nodes: the cloud is full at server {k}"
                        )
                host = max(allowed, key=lambda i: (free[i].get("MEMORY_MB", 0), -i))
        take(host, res)
        if group:
            group_hosts[group["name"]].append(host)
        load = busy[host]
        roll = rng.random()
        status = "ACTIVE" if roll < 0.92 else "SHUTOFF" if roll < 0.97 else "PAUSED"
        server: dict[str, Any] = {
            "name": f"vm-{k + 1:06d}",
            "flavor": flavor["name"],
            "host": node_list[host]["hostname"],
            "project": group["project"] if group else tenants[rng.randrange(len(tenants))],
            "created": iso(BASE_TIME + timedelta(seconds=37 * k)),
        }
        if status != "ACTIVE":
            server["status"] = status
        if group:
            server["server_groups"] = [group["name"]]
        if rng.random() < 0.02:
            server["locked"] = True
        if rng.random() < 0.05:
            server["boot_from_volume"] = True
        cpu = 0.0 if status == "SHUTOFF" else min(100.0, max(1.0, rng.gauss(15 + 65 * load, 12)))
        ram = 0.0 if status == "SHUTOFF" else min(100.0, max(5.0, rng.gauss(35 + 45 * load, 10)))
        server["cpu_util_pct"] = round(cpu, 1)
        server["ram_util_pct"] = round(ram, 1)
        server_list.append(server)

    used_groups = {g for s in server_list for g in s.get("server_groups", [])}
    topology: dict[str, Any] = {
        "seed": seed,
        "identity": identity,
        "flavors": flavors,
        "aggregates": [
            {"name": "ssd", "metadata": {"storage": "ssd"}},
            {"name": "sriov", "metadata": {"nic": "sriov"}},
        ],
        "nodes": node_list,
        "server_groups": [
            {k: v for k, v in g.items() if not k.startswith("_")} for g in groups if g["name"] in used_groups
        ],
        "servers": server_list,
    }
    if volumes:
        topology.update(_storage(rng, volumes, server_list, tenants))
    return topology


def _storage(rng: random.Random, volumes: int, servers: list[dict[str, Any]], tenants: list[str]) -> dict[str, Any]:
    n_lvm = max(2, volumes // 500)
    avg = sum(VOLUME_SIZES) / len(VOLUME_SIZES)
    lvm_size = int(avg * volumes * 0.7 / n_lvm / 0.6) + 1000  # LVM pools end up ~60% full
    pools = [{"name": f"storage-{k + 1}@lvm#lvm", "total_capacity_gb": lvm_size} for k in range(n_lvm)]
    pools.append(
        {
            "name": "ceph-1@ceph#volumes",
            "total_capacity_gb": int(avg * volumes * 0.3 * 2) + 1000,
            "thin_provisioning": True,
        }
    )
    room = {p["name"]: float(p["total_capacity_gb"]) for p in pools}
    lvm_names = [p["name"] for p in pools[:-1]]
    # skewed pools too: the first LVM pools take more
    lvm_weights = [1.0 / (k + 1) ** 0.5 for k in range(n_lvm)]
    out = []
    for k in range(volumes):
        size = rng.choice(VOLUME_SIZES)
        ceph = rng.random() < 0.3
        pool = "ceph-1@ceph#volumes" if ceph else _weighted(rng, lvm_names, lvm_weights)
        if room[pool] < size:
            pool = max(room, key=room.__getitem__)
            if room[pool] < size:
                raise ValueError("volume pools are full")
        room[pool] -= size
        attached = rng.choice(servers)["name"] if servers and rng.random() < 0.5 else None
        out.append(
            {
                "name": f"vol-{k + 1:06d}",
                "size_gb": size,
                "pool": pool,
                "project": tenants[rng.randrange(len(tenants))],
                "volume_type": "ceph" if pool.startswith("ceph") else "lvm",
                "attached_to": attached,
            }
        )
    types = [{"name": "lvm", "volume_backend_name": "lvm"}, {"name": "ceph", "volume_backend_name": "ceph"}]
    return {"volume_types": types, "pools": pools, "volumes": out}
