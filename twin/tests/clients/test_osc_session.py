"""An operator's python-openstackclient session against the twin (osc-placement and
python-ironicclient plugins included): about 140 commands over hypervisors, services, servers,
migrations, aggregates, resource providers, volumes, bare metal, networks and identity, each
output checked against the twin's own state, then a maintenance workflow (live and cold
migration, service disable, power off, volume migration, boot and delete)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vigil_twin.testing import write_clouds_yaml

RUNNER = Path(__file__).with_name("osc_runner.py")


class Session:
    """Command lines with a check each; run in one process, then every check applied."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, Callable[[Any], None] | None]] = []

    def add(self, cmd: str, check: Callable[[Any], None] | None = None) -> None:
        self.steps.append((cmd, check))

    def sleep(self, seconds: float) -> None:
        self.steps.append((f"@sleep {seconds}", None))

    def run(self, env: dict[str, str]) -> list[str]:
        lines = [cmd for cmd, _ in self.steps]
        proc = subprocess.run(  # noqa: S603
            [sys.executable, str(RUNNER)],
            input=json.dumps(lines),
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=True,
        )
        self.results = json.loads(proc.stdout)
        results = iter(self.results)
        problems = []
        for cmd, check in self.steps:
            if cmd.startswith("@sleep"):
                continue
            r = next(results)
            if r["rc"] != 0:
                problems.append(f"{cmd}: exit {r['rc']}: {r['err'].strip()[-300:]}")
                continue
            if check is None:
                continue
            data = json.loads(r["out"]) if " -f json" in cmd else r["out"]
            try:
                check(data)
            except (AssertionError, KeyError, TypeError, StopIteration) as exc:
                shape = sorted(data[0]) if isinstance(data, list) and data and isinstance(data[0], dict) else ""
                problems.append(f"{cmd}: wrong data: {exc!r} {shape}")
        return problems


def eq(expected: Any) -> Callable[[Any], None]:
    def check(actual: Any) -> None:
        assert actual == expected, f"{actual!r} != {expected!r}"

    return check


def fields(**expected: Any) -> Callable[[dict[str, Any]], None]:
    def check(actual: dict[str, Any]) -> None:
        got = {k: actual.get(k) for k in expected}
        assert got == expected, f"{got} != {expected}"

    return check


def column(name: str, expected: Any, key: Callable[[list], Any] = sorted) -> Callable[[list], None]:
    def check(rows: list[dict[str, Any]]) -> None:
        got = key([r[name] for r in rows])
        assert got == expected, f"{name}: {got} != {expected}"

    return check


@pytest.fixture
def osc_env(twin_factory, tmp_path):
    twin = twin_factory(speed=100.0)
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(write_clouds_yaml(twin, tmp_path / "clouds.yaml")))
    env["OS_CLOUD"] = "vigil-twin"
    return twin, env


def _reads(s: Session, twin: Any) -> None:
    stores = twin.cloud.stores
    compute, volume = stores["compute"], stores["volume"]
    network, baremetal, identity = stores["network"], stores["baremetal"], stores["identity"]
    nodes = compute.nodes

    # hypervisors and compute services
    s.add("hypervisor list -f json", column("Hypervisor Hostname", sorted(nodes)))
    for host, node in nodes.items():
        want = {"hypervisor_hostname": host, "state": compute.node_state(node), "status": node["status"]}
        s.add(f"hypervisor show {host} -f json", fields(**want, host_ip=node["host_ip"], id=node["uuid"]))
    services = [v for v in compute.services.values()]
    s.add("compute service list -f json", column("Host", sorted(v["host"] for v in services)))
    s.add(
        "compute service list --service nova-compute -f json",
        column("Status", sorted(n["status"] for n in nodes.values())),
    )
    zones = sorted({n["az"] for n in nodes.values()} | {"internal"})  # admins see the services' zone too
    s.add("availability zone list --compute -f json", column("Zone Name", zones))

    # servers: every one by id, its host, flavor, status and address from its Neutron port
    servers = compute.servers
    s.add("server list --all-projects -f json", column("ID", sorted(servers)))
    hosts = {sid: server["host"] for sid, server in servers.items()}  # before the workflow moves some
    s.add("server list --all-projects --long -f json", lambda rows: eq(hosts)({r["ID"]: r["Host"] for r in rows}))
    for sid, server in servers.items():
        ips = [network.ports[p]["fixed_ips"][0]["ip_address"] for p in network.by_device.get(sid, [])]
        want = (server["host"], server["flavor"]["original_name"], server["status"], sorted(ips))

        def check(v: dict[str, Any], want=want) -> None:
            addresses = sorted(a for addrs in v["addresses"].values() for a in addrs)
            got = (v["OS-EXT-SRV-ATTR:host"], v["flavor"]["name"], v["status"], addresses)
            assert got == want, f"{got} != {want}"

        s.add(f"server show {sid} -f json", check)
    s.add("server migration list -f json", eq([]))
    s.add("server event list {} -f json".format(next(iter(servers))), column("Action", ["create"]))

    # flavors, aggregates, server groups
    flavors = compute.flavors
    s.add("flavor list -f json", column("Name", sorted(f["name"] for f in flavors.values())))
    for f in flavors.values():
        s.add(f"flavor show {f['id']} -f json", fields(name=f["name"], ram=f["ram"], vcpus=f["vcpus"], disk=f["disk"]))
    s.add("aggregate list -f json", column("Name", sorted(a["name"] for a in compute.aggregates.values())))
    for a in compute.aggregates.values():
        s.add(f"aggregate show {a['name']} -f json", fields(hosts=list(a["hosts"]), name=a["name"]))
    groups = compute.groups
    s.add("server group list --all-projects -f json", column("Name", sorted(g["name"] for g in groups.values())))
    for g in groups.values():
        s.add(f"server group show {g['id']} -f json", fields(members=list(g["members"]), policy=g["policy"]))

    # Placement (osc-placement): providers, inventories, usages, traits, classes, candidates
    s.add("resource provider list -f json", column("uuid", sorted(n["uuid"] for n in nodes.values())))
    for host, node in nodes.items():
        rp = node["uuid"]
        # what the topology gives the host, and what its servers take (independent of Placement's books)
        totals = {"VCPU": node["vcpus"], "MEMORY_MB": node["memory_mb"], "DISK_GB": node["disk_gb"]}
        if node["pcpus"]:
            totals["PCPU"] = node["pcpus"]
        used = dict.fromkeys(totals, 0)
        for sid in compute.by_host[host]:
            for rc, n in compute.resources_for(compute.servers[sid]).items():
                used[rc] += n
        s.add(f"resource provider show {rp} -f json", fields(name=host, uuid=rp))
        s.add(
            f"resource provider inventory list {rp} -f json",
            lambda rows, totals=totals: eq(totals)({r["resource_class"]: r["total"] for r in rows}),
        )
        s.add(
            f"resource provider usage show {rp} -f json",
            lambda rows, used=used: eq(used)({r["resource_class"]: r["usage"] for r in rows}),
        )
    s.add("trait list -f json", lambda rows: eq(True)("COMPUTE_STATUS_DISABLED" in {r["name"] for r in rows}))
    s.add("resource class list -f json", lambda rows: eq(True)({"VCPU", "MEMORY_MB"} <= {r["name"] for r in rows}))
    s.add(
        "allocation candidate list --resource VCPU=1 --resource MEMORY_MB=1024 -f json",
        lambda rows: eq(True)(len(rows) > 0),
    )

    # Cinder
    vols = volume.volumes
    s.add("volume list --all-projects -f json", column("ID", sorted(vols)))
    for vid, v in vols.items():
        s.add(f"volume show {vid} -f json", fields(name=v["name"], size=v["size"], status=v["status"]))
    s.add("volume type list -f json", column("Name", sorted(t["name"] for t in volume.types.values())))
    s.add("volume service list -f json", column("Host", sorted(x["host"] for x in volume.services.values())))
    s.add("volume backend pool list -f json", column("Name", sorted(volume.pools)))

    # Ironic
    bm = baremetal.nodes
    s.add("baremetal node list -f json", column("uuid", sorted(bm)))
    for nid, n in bm.items():
        s.add(f"baremetal node show {nid} -f json", fields(name=n["name"], power_state=n["power_state"]))
    s.add("baremetal driver list -f json", column("name", sorted({"ipmi", *(n["driver"] for n in bm.values())})))
    s.add("baremetal port list -f json", lambda rows: eq(len(bm))(len(rows)))

    # Neutron
    s.add("network list -f json", column("Name", sorted(n["name"] for n in network.networks.values())))
    for sn in network.subnets.values():
        s.add(
            f"subnet show {sn['id']} -f json",
            fields(cidr=sn["cidr"], gateway_ip=sn["gateway_ip"], allocation_pools=sn["allocation_pools"]),
        )
    s.add("port list -f json", column("ID", sorted(network.ports)))
    port = next(p for p in network.ports.values() if p["fixed_ips"])
    ip = port["fixed_ips"][0]["ip_address"]
    s.add(f"port list --fixed-ip ip-address={ip} -f json", column("ID", [port["id"]]))
    s.add("network agent list -f json", lambda rows: eq(True)({r["Host"] for r in rows} >= set(nodes)))

    # Keystone, limits, quotas, usage
    s.add("project list -f json", column("Name", sorted(p["name"] for p in identity.projects.values())))
    s.add("user list -f json", column("Name", sorted(u["name"] for u in identity.users.values())))
    s.add("role list -f json", column("Name", sorted(r["name"] for r in identity.roles.values())))
    s.add("role assignment list --names -f json", lambda rows: eq(True)(all("@Default" in r["User"] for r in rows)))
    s.add("service list -f json", column("Type", sorted(x["type"] for x in identity.catalog())))
    s.add("endpoint list -f json", lambda rows: eq(3 * len(identity.catalog()))(len(rows)))
    s.add("catalog list -f json", lambda rows: eq(len(identity.catalog()))(len(rows)))
    s.add("token issue -f json", lambda v: eq(identity.project_by_name["admin"])(v["project_id"]))
    s.add(
        "limits show --absolute -f json",
        lambda rows: eq(-1)(next(r["Value"] for r in rows if r["Name"] == "max_total_instances")),
    )
    s.add("quota show -f json", lambda rows: eq(10)(next(r["Limit"] for r in rows if r["Resource"] == "volumes")))
    s.add("usage list -f json", lambda rows: eq(True)(len(rows) >= 1))
    s.add("keypair list -f json", eq([]))


def _workflow(s: Session, twin: Any) -> None:
    """A maintenance window: empty compute-1 live, cold-migrate one server, disable and enable the
    service, power a spare bare-metal node off, migrate a volume, add and remove load."""
    compute, volume = twin.cloud.stores["compute"], twin.cloud.stores["volume"]
    live = next(sid for sid in sorted(compute.by_host["compute-1"]) if compute.servers[sid]["status"] == "ACTIVE")
    s.add(f"server migrate --live-migration --wait {live}")
    s.add(f"server show {live} -f json", lambda v: eq(True)(v["OS-EXT-SRV-ATTR:host"] != "compute-1"))
    s.add(
        f"server migration list --server {live} -f json",
        lambda rows: eq(["completed"])([r["Status"] for r in rows]),
    )
    cold = next(sid for sid in sorted(compute.by_host["compute-2"]) if compute.servers[sid]["status"] == "ACTIVE")
    s.add(f"server migrate --wait {cold}")
    s.add(f"server show {cold} -f json", fields(status="VERIFY_RESIZE"))
    s.add(f"server resize confirm {cold}")
    s.sleep(0.3)
    s.add(
        f"server show {cold} -f json",
        lambda v: eq(("ACTIVE", True))((v["status"], v["OS-EXT-SRV-ATTR:host"] != "compute-2")),
    )
    s.add("compute service set --disable --disable-reason maintenance compute-3 nova-compute")
    s.add("compute service list --host compute-3 --service nova-compute -f json", column("Status", ["disabled"]))
    s.add("compute service set --enable compute-3 nova-compute")
    s.add("compute service list --host compute-3 --service nova-compute -f json", column("Status", ["enabled"]))
    spare = next(n for n in twin.cloud.stores["baremetal"].nodes.values() if not n["extra"].get("compute_hostname"))
    s.add(f"baremetal node power off {spare['uuid']}")
    s.sleep(0.3)
    s.add(f"baremetal node show {spare['uuid']} -f json", fields(power_state="power off"))
    vol = next(v for v in volume.volumes.values() if not v["attachments"] and v["status"] == "available")
    dest = next(p for p in sorted(volume.pools) if p != vol["pool"])
    s.add(f"volume migrate --host {dest} {vol['id']}")
    s.sleep(2)
    s.add(
        f"volume show {vol['id']} -f json",
        lambda v: eq((dest, "success"))((v["os-vol-host-attr:host"], v["os-vol-mig-status-attr:migstat"])),
    )
    s.add("flavor create --ram 512 --vcpus 1 --disk 1 churn.tiny -f json", fields(name="churn.tiny", ram=512))
    s.add(
        "server create --flavor churn.tiny --image cirros --network private --wait churn-1 -f json",
        fields(status="ACTIVE"),
    )
    s.add("server list --name churn-1 -f json", lambda rows: eq(1)(len(rows)))
    s.add("server delete --wait churn-1")
    s.add("server list --name churn-1 -f json", eq([]))


def test_operator_session(osc_env):
    twin, env = osc_env
    session = Session()
    _reads(session, twin)
    _workflow(session, twin)
    problems = session.run(env)
    commands = sum(1 for cmd, _ in session.steps if not cmd.startswith("@"))
    assert commands >= 130
    slowest = sorted(session.results, key=lambda r: -r["seconds"])[:5]
    assert problems == [], "\n".join(problems + [f"slowest: {r['cmd']} {r['seconds']}s" for r in slowest])
    assert twin.violations()["count"] == 0
