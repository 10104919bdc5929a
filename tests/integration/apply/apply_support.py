"""Helpers of the apply integration tests: the topology, twin state readers, the request log."""

from __future__ import annotations

import json
import urllib.request

MUTATING = ("POST", "PUT", "PATCH", "DELETE")

APPLY_TOPOLOGY = {
    "identity": {},
    "nodes": [{"hostname": "cmp%d" % i, "vcpus": 16, "memory_mb": 32768, "disk_gb": 500} for i in range(1, 5)],
    "servers": [
        {"name": "vm1", "flavor": "m1.medium", "host": "cmp1"},
        {"name": "vm2", "flavor": "m1.small", "host": "cmp1"},
        {"name": "vm3", "flavor": "m1.small", "host": "cmp2", "status": "SHUTOFF"},
        {"name": "vm4", "flavor": "m1.small", "host": "cmp3"},
        {"name": "vm5", "flavor": "m1.small", "host": "cmp3"},
        {"name": "vm6", "flavor": "m1.small", "host": "cmp2"},
    ],
    "pools": [
        {"name": "cinder1@lvm#pool-a", "total_capacity_gb": 1000},
        {"name": "cinder2@lvm#pool-b", "total_capacity_gb": 1000},
        {"name": "cinder3@ceph#rbd", "total_capacity_gb": 1000},
    ],
    "volumes": [
        {"name": "vol1", "size_gb": 10, "pool": "cinder1@lvm#pool-a", "attached_to": "vm1"},
        {"name": "vol2", "size_gb": 5, "pool": "cinder3@ceph#rbd", "volume_type": "ceph"},
    ],
    "baremetal": [{"name": "bm-cmp%d" % i, "compute_hostname": "cmp%d" % i} for i in range(1, 5)],
    "maas": {"machines": [{"hostname": "cmp%d" % i, "compute_hostname": "cmp%d" % i} for i in range(1, 5)]},
}


def admin(twin, path: str):
    with urllib.request.urlopen(twin.url + "/admin" + path, timeout=10) as resp:  # noqa: S310 - loopback twin
        body = resp.read()
    return json.loads(body) if body else None


def reset_requests(twin) -> None:
    req = urllib.request.Request(twin.url + "/admin/requests", method="DELETE")
    urllib.request.urlopen(req, timeout=10).close()  # noqa: S310 - loopback twin


def request_log(twin) -> list[dict]:
    return admin(twin, "/requests?log=1")["log"]


def mutating(twin, ok_only: bool = False) -> list[dict]:
    """Mutating requests to cloud services (token requests and the twin's admin API excluded)."""
    return [
        e
        for e in request_log(twin)
        if e["method"] in MUTATING and e["service"] not in ("identity", "admin") and (not ok_only or e["status"] < 400)
    ]


def _compute(twin):
    return twin.cloud.stores["compute"]


def server(twin, name: str) -> dict:
    with twin.cloud.lock:
        return dict(next(s for s in _compute(twin).servers.values() if s["name"] == name))


def server_id(twin, name: str) -> str:
    return server(twin, name)["id"]


def service(twin, host: str) -> dict:
    with twin.cloud.lock:
        return dict(_compute(twin).nodes[host])


def volume_id(twin, name: str) -> str:
    return next(v["id"] for v in twin.cloud.stores["volume"].volumes.values() if v["name"] == name)


def node_id(twin, name: str) -> str:
    return next(n["uuid"] for n in twin.cloud.stores["baremetal"].nodes.values() if n["name"] == name)


def task(module: str, check: bool = False, diff: bool = False, **args) -> dict:
    """A task named "go" running vigil.openstack.<module> against the twin's admin cloud."""
    args.setdefault("cloud", "vigil-twin")
    if module != "plan_apply":
        args.setdefault("poll_interval", 0.05)
    t = {"name": "go", "vigil.openstack." + module: args, "register": "out", "ignore_errors": True}
    if check:
        t["check_mode"] = True
    if diff:
        t["diff"] = True
    return t


def failed(run, name: str = "go") -> bool:
    """The task failed (its error was ignored so the play goes on)."""
    return run.status(name) == "failed"
