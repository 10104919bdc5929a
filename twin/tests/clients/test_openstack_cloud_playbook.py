"""openstack.cloud modules (the collection the `ansible` package bundles) against the twin: what they
read matches the twin's state, and a flavor, a server boot (scheduled through Placement) and its
delete go through as on a real cloud."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from vigil_twin.testing import write_clouds_yaml
from vigil_twin.topology import stable_uuid

HERE = Path(__file__).parent


def test_openstack_cloud_playbook(twin_factory, tmp_path):
    twin = twin_factory(speed=100.0)
    out = tmp_path / "out.json"
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(write_clouds_yaml(twin, tmp_path / "clouds.yaml")))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE / "sdk_shim"), env.get("PYTHONPATH")]))
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    flavors_before = {f["name"] for f in twin.cloud.stores["compute"].flavors.values()}
    playbook = shutil.which("ansible-playbook", path=str(Path(sys.executable).parent))
    admin_project = twin.cloud.stores["identity"].project_by_name["admin"]
    group = stable_uuid("security_group", admin_project)
    proc = subprocess.run(  # noqa: S603
        [playbook, str(HERE / "openstack_cloud.yml"), "-e", f"out={out}", "-e", f"default_group={group}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    got = json.loads(out.read_text())
    stores = twin.cloud.stores
    compute, network = stores["compute"], stores["network"]

    servers = {s["id"]: s for s in got["servers"]["servers"]}
    assert set(servers) == set(compute.servers)
    for sid, s in servers.items():
        assert s["compute_host"] == compute.servers[sid]["host"]
        ips = [network.ports[p]["fixed_ips"][0]["ip_address"] for p in network.by_device[sid]]
        assert [a["addr"] for addrs in s["addresses"].values() for a in addrs] == ips
    assert sorted(x["host"] for x in got["services"]["compute_services"]) == sorted(compute.nodes)
    assert {f["name"] for f in got["flavors"]["flavors"]} == flavors_before
    assert {v["id"] for v in got["volumes"]["volumes"]} == set(stores["volume"].volumes)
    assert {n["id"] for n in got["nodes"]["baremetal_nodes"]} == set(stores["baremetal"].nodes)
    assert len(got["bm_ports"]["baremetal_ports"]) == len(stores["baremetal"].nodes)
    subnet = got["subnets"]["subnets"][0]
    assert (subnet["gateway_ip"], subnet["allocation_pools"]) == (
        "10.0.0.1",
        [{"start": "10.0.0.2", "end": "10.0.255.254"}],
    )
    addresses = [ip["ip_address"] for p in got["ports"]["ports"] for ip in p["fixed_ips"]]
    assert len(addresses) == len(set(addresses))

    assert got["flavor_made"]["changed"] and got["flavor_made"]["flavor"]["ram"] == 512
    made = got["server_made"]["server"]
    assert got["server_made"]["changed"] and made["status"] == "ACTIVE" and made["compute_host"] in compute.nodes
    assert [a["addr"] for addrs in made["addresses"].values() for a in addrs]
    assert got["server_again"]["changed"] is False
    assert got["server_gone"]["changed"] and "pb-1" not in compute.server_by_name
    assert stores["placement"].allocations.get(made["id"]) is None
    assert twin.violations()["count"] == 0
