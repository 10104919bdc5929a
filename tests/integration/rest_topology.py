"""The twin topology of the collect-rest integration tests (Cinder, Ironic, MAAS, Keystone).

Also what tests/unit/fixtures/record_collect_rest.py records the unit fixtures from.
"""

POOLS = ["storage-1@lvm#lvm-1", "storage-1@ceph#rbd", "storage-2@lvm#lvm-2"]
VOLUME_PROJECTS = ["demo", "web", "admin"]
N_VOLUMES = 25

TOPOLOGY = {
    "identity": {
        "domains": [{"name": "Default"}, {"name": "ops"}],
        "projects": [{"name": "admin"}, {"name": "service"}, {"name": "demo"}, {"name": "web", "domain": "ops"}],
        "users": [
            {"name": "admin", "password": "vigil-admin", "project": "admin", "roles": ["admin", "member", "reader"]},
            {"name": "demo", "password": "vigil-demo", "project": "demo", "roles": ["member", "reader"]},
            {"name": "alice", "password": "alice-pw", "project": "web", "domain": "ops"},
        ],
    },
    # compute-1 and compute-10: a substring match would confuse them
    "nodes": [
        {"hostname": "compute-%d" % i, "vcpus": 32, "memory_mb": 131072, "disk_gb": 1000} for i in (1, 2, 3, 10, 11)
    ],
    "servers": [
        {"name": "web-1", "flavor": "m1.small", "host": "compute-1", "project": "web"},
        {"name": "db-1", "flavor": "m1.large", "host": "compute-2", "project": "demo"},
    ],
    "pools": [
        {"name": POOLS[0], "total_capacity_gb": 1000, "reserved_percentage": 5},
        {"name": POOLS[1], "total_capacity_gb": 5000, "thin_provisioning": True, "max_over_subscription_ratio": 4.0},
        {"name": POOLS[2], "total_capacity_gb": 800, "state": "down"},
    ],
    "volume_types": [
        {"name": "standard", "volume_backend_name": "lvm"},
        {"name": "fast", "volume_backend_name": "ceph"},
    ],
    "volumes": [
        {
            "name": "vol-%d" % i,
            "size_gb": 10 + i,
            "pool": POOLS[i % 3],
            "volume_type": ["standard", "fast", "standard"][i % 3],
            "project": VOLUME_PROJECTS[i % 3],
        }
        for i in range(N_VOLUMES)
    ]
    + [
        {
            "name": "web-data",
            "size_gb": 50,
            "pool": POOLS[1],
            "volume_type": "fast",
            "project": "web",
            "attached_to": "web-1",
        },
        {
            "name": "db-data",
            "size_gb": 100,
            "pool": POOLS[0],
            "volume_type": "standard",
            "project": "demo",
            "attached_to": "db-1",
        },
    ],
    "baremetal": [
        {"name": "bm-compute-1", "compute_hostname": "compute-1"},
        {
            "name": "bm-compute-10",
            "compute_hostname": "compute-10",
            "power_state": "power off",
            "maintenance": True,
            "maintenance_reason": "fan",
        },
        {"name": "bm-spare", "provision_state": "available", "power_state": "power off"},
    ],
    "maas": {
        "zones": [{"name": "default"}, {"name": "zone-b"}],
        "pools": [{"name": "default"}, {"name": "compute"}],
        "machines": [
            {"hostname": "compute-2", "pool": "compute", "tags": ["ssd"]},
            {
                "hostname": "rack9-u12",
                "compute_hostname": "compute-3",
                "zone": "zone-b",
                "power_state": "off",
                "status": "Ready",
            },
            {"hostname": "compute-11x", "status": "Broken", "power_state": "unknown"},
        ],
    },
}
