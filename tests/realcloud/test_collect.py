"""Collect from the real services: compute_model_info, storage_model_info and
baremetal_model_info through ansible-playbook, each model checked against what the real APIs
answer at the same time (counts, capacities, usages, allocations, links). Real Neutron (filter
validation on, as by default): device-backed ports mark their server, and a host whose L2 agent
is dead is never a plan's destination."""

from __future__ import annotations

import time
from collections import Counter

import pytest
from ansible_run import run_playbook, tasks_play
from stack import CLOUD_ADMIN, COMPUTES

from ansible_collections.vigil.openstack.plugins.filter.optimize import optimize


def rows(table: dict) -> list[dict]:
    return [dict(zip(table["columns"], row)) for row in table["data"]]


@pytest.fixture
def collect(tmp_path, realcloud):
    def _collect(module: str, **args):
        args.setdefault("cloud", CLOUD_ADMIN)
        task = {"name": "go", f"vigil.openstack.{module}": args}
        result = run_playbook(tmp_path, tasks_play(task), clouds_yaml=realcloud.clouds_yaml)
        assert result.rc == 0, result.stdout + result.stderr
        return result.task("go")

    return _collect


def test_compute_model_matches_nova_and_placement(collect, real_conn):
    res = collect("compute_model_info")
    assert res["changed"] is False
    model = res["model"]
    nodes = {n["hostname"]: n for n in rows(model["nodes"])}
    assert set(nodes) == set(COMPUTES)

    servers = list(real_conn.compute.servers(all_projects=True))
    per_host = Counter(s.compute_host for s in servers)
    for hyp in real_conn.compute.hypervisors(details=True):
        node = nodes[hyp.service_details["host"]]
        rp = next(iter(real_conn.placement.resource_providers(name=hyp.name)))
        assert node["rp_uuid"] == rp.id and node["hypervisor_id"] == hyp.id
        assert node["state"] == hyp.state == "up" and node["status"] == hyp.status
        invs = {i.resource_class: i for i in real_conn.placement.resource_provider_inventories(rp)}
        usages = real_conn.placement.fetch_resource_provider_usages(rp).usages
        for rc, col in (("VCPU", "vcpu"), ("MEMORY_MB", "memory_mb"), ("DISK_GB", "disk_gb")):
            assert node[f"{col}_total"] == invs[rc].total
            assert node[f"{col}_reserved"] == invs[rc].reserved
            assert node[f"{col}_allocation_ratio"] == invs[rc].allocation_ratio
            assert node[f"{col}_used"] == usages.get(rc, 0)
        assert node["instance_count"] == per_host[hyp.service_details["host"]]
        assert "OWNER_NOVA" in node["traits"]
        assert "CUSTOM_VIGIL_TEST" in node["traits"]
    assert all(n["aggregates"] == ["agg-a"] for n in nodes.values())
    # merged and comma-split as Nova's aggregate filters read it
    assert all(n["aggregate_metadata"] == {"ssd": ["nvme", "true"]} for n in nodes.values())

    instances = {i["uuid"]: i for i in rows(model["instances"])}
    assert set(instances) == {s.id for s in servers}
    for s in servers:
        inst = instances[s.id]
        assert inst["host"] == s.compute_host and inst["status"] == s.status
        assert (inst["vcpus"], inst["memory_mb"], inst["disk_gb"]) == (s.flavor.vcpus, s.flavor.ram, s.flavor.disk)
        assert inst["flavor_name"] == s.flavor.original_name and inst["project_id"] == s.project_id
    # the usages Placement reports are the sum of the servers' flavors on each host
    for host, node in nodes.items():
        on_host = [i for i in instances.values() if i["host"] == host]
        assert node["memory_mb_used"] == sum(i["memory_mb"] for i in on_host)
        assert node["vcpu_used"] == sum(i["vcpus"] for i in on_host)
    groups = {g["id"]: g for g in rows(model["server_groups"])}
    web = next(g for g in real_conn.compute.server_groups(all_projects=True) if g.name == "web")
    assert groups[web.id]["policy"] == "anti-affinity"
    for member in web.member_ids:
        assert web.id in instances[member]["server_groups"]
    medium = next(i for i in instances.values() if i["flavor_name"] == "m1.medium")
    assert medium["extra_specs"] == {"hw:cpu_policy": "shared", "vigil:tier": "gold"}
    assert "CUSTOM_VIGIL_TEST" in medium["required_traits"]  # from the image's trait: property
    assert medium["migratable"] == "live"


def test_compute_model_summary_capacity_is_placements(collect, real_conn):
    """placement_detail summary (one GET /allocation_candidates) against real Nova and Placement:
    every host's capacity per class, usage and traits are what Placement holds."""
    res = collect("compute_model_info", placement_detail="summary")
    assert res["model"]["meta"]["placement_detail"] == "summary"
    assert res["model"]["meta"]["placement_estimated"] == []
    nodes = {n["hostname"]: n for n in rows(res["model"]["nodes"])}
    assert set(nodes) == set(COMPUTES)
    for hyp in real_conn.compute.hypervisors(details=True):
        node = nodes[hyp.service_details["host"]]
        rp = next(iter(real_conn.placement.resource_providers(name=hyp.name)))
        invs = {i.resource_class: i for i in real_conn.placement.resource_provider_inventories(rp)}
        usages = real_conn.placement.fetch_resource_provider_usages(rp).usages
        for rc, col in (("VCPU", "vcpu"), ("MEMORY_MB", "memory_mb"), ("DISK_GB", "disk_gb")):
            capacity = (node[f"{col}_total"] - node[f"{col}_reserved"]) * node[f"{col}_allocation_ratio"]
            expected = int((invs[rc].total - invs[rc].reserved) * invs[rc].allocation_ratio)
            assert abs(capacity - expected) < 1e-6, (node["hostname"], rc, capacity, expected)
            assert node[f"{col}_used"] == usages.get(rc, 0)
        traits = real_conn.placement.get(f"/resource_providers/{rp.id}/traits", microversion="1.6").json()["traits"]
        assert node["traits"] == sorted(traits)


def test_storage_model_matches_cinder(collect, real_conn):
    res = collect("storage_model_info")
    model = res["model"]
    api_volumes = {v.id: v for v in real_conn.block_storage.volumes(details=True, all_projects=True)}
    volumes = {v["id"]: v for v in rows(model["volumes"])}
    assert set(volumes) == set(api_volumes)
    for vid, vol in volumes.items():
        real = api_volumes[vid]
        assert vol["host"] == real.host and vol["size_gb"] == real.size and vol["status"] == real.status
        assert vol["pool"] == real.host
        assert vol["attachments"] == [a["server_id"] for a in real.attachments]
    assert len({v["project_id"] for v in volumes.values()}) == 2
    attached = next(v for v in volumes.values() if v["name"] == "vol-attached")
    assert attached["status"] == "in-use" and len(attached["attachments"]) == 1

    api_pools = {p.name: p.capabilities for p in real_conn.block_storage.backend_pools()}
    pools = {p["name"]: p for p in rows(model["pools"])}
    assert set(pools) == set(api_pools) and len(pools) == 4
    for name, pool in pools.items():
        caps = api_pools[name]
        assert pool["backend"] == caps["volume_backend_name"] == name.split("@")[1].split("#")[0]
        assert pool["total_capacity_gb"] == caps["total_capacity_gb"] == 1000
        assert pool["free_capacity_gb"] == caps["free_capacity_gb"]
        assert pool["allocated_capacity_gb"] == caps["allocated_capacity_gb"]
        assert pool["thin_provisioning"] is True and pool["max_over_subscription_ratio"] == 20.0
        assert f"{pool['backend']}" in pool["volume_types"]
    assert {t["name"] for t in res["volume_types"]} >= {"fake1", "fake2"}
    assert {s["host"] for s in res["services"] if s.get("binary", "cinder-volume") == "cinder-volume"} >= {
        "cinder-host@fake1",
        "cinder-host@fake2",
    }
    assert res["skipped_services"] == []


def test_baremetal_model_links_ironic_nodes(collect, real_system_conn):
    res = collect("baremetal_model_info", backends=["ironic"])
    nodes = {n["name"]: n for n in rows(res["model"]["baremetal"])}
    api = {n.name: n for n in real_system_conn.baremetal.nodes(details=True)}
    assert set(nodes) == set(api) == {f"bm-{h}" for h in COMPUTES}
    for name, node in nodes.items():
        assert node["id"] == api[name].id and node["backend"] == "ironic"
        assert node["hostname"] == api[name].extra["compute_hostname"]
        assert node["power_state"] == {"power on": "on", "power off": "off"}[api[name].power_state]
        assert node["provision_state"] == api[name].provision_state == "available"
        assert node["maintenance"] is False
    assert res["unlinked"] == [] or not any(u for u in res["unlinked"] if str(u).startswith("bm-"))


def _wait(fn, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not fn():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(1)


def test_device_backed_port_marks_its_server(collect, real_conn):
    """A vnic_type direct port of a server, read from real Neutron (which refuses that attribute
    as a filter): the server is pci and only cold-migratable; the seeded servers' ports are normal."""
    image = next(iter(real_conn.image.images(name="tiny-raw")))
    flavor = real_conn.compute.find_flavor("m1.tiny")
    server = real_conn.compute.create_server(name="vf-probe", image_id=image.id, flavor_id=flavor.id, networks="none")
    port = None
    try:
        real_conn.compute.wait_for_server(server, wait=120)
        net = real_conn.network.find_network("shared-net")
        # no SR-IOV mechanism driver here: the port stays unbound, its vnic type is what counts
        port = real_conn.network.create_port(
            network_id=net.id, binding_vnic_type="direct", device_id=server.id, device_owner="compute:nova"
        )
        instances = {i["uuid"]: i for i in rows(collect("compute_model_info")["model"]["instances"])}
        assert instances[server.id]["pci"] is True and instances[server.id]["migratable"] == "cold"
        seeded = [i for uuid, i in instances.items() if uuid != server.id]
        assert seeded and not any(i["pci"] for i in seeded)
    finally:
        if port is not None:
            real_conn.network.delete_port(port)
        real_conn.compute.delete_server(server)
        real_conn.compute.wait_for_delete(server, wait=120)


def test_boot_volume_image_metadata_gives_its_server_required_traits(collect, real_conn):
    """A boot-from-volume server's image properties are its boot volume's volume_image_metadata
    (set here through Cinder's own volume action): compute_model_info reads its required trait
    there, as Nova does when it schedules the server."""
    bs = real_conn.block_storage
    volume = bs.create_volume(name="bfv-probe-root", size=1)
    server = None
    try:
        bs.wait_for_status(volume, "available", wait=120)
        meta = {"os-set_image_metadata": {"metadata": {"trait:CUSTOM_VIGIL_TEST": "required", "hw_disk_bus": "virtio"}}}
        for action in (meta, {"os-set_bootable": {"bootable": True}}):
            resp = bs.post(f"/volumes/{volume.id}/action", json=action)
            assert resp.status_code == 200, resp.text
        shown = bs.get(f"/volumes/{volume.id}").json()["volume"]
        assert shown["volume_image_metadata"]["trait:CUSTOM_VIGIL_TEST"] == "required"
        bdm = [{"boot_index": 0, "uuid": volume.id, "source_type": "volume", "destination_type": "volume"}]
        server = real_conn.compute.create_server(
            name="bfv-probe", flavor_id=real_conn.compute.find_flavor("m1.tiny").id, networks="none",
            block_device_mapping=bdm,
        )  # fmt: skip
        real_conn.compute.wait_for_server(server, wait=180)
        instances = {i["uuid"]: i for i in rows(collect("compute_model_info")["model"]["instances"])}
        row = instances[server.id]
        assert row["boot_from_volume"] is True and row["required_traits"] == ["CUSTOM_VIGIL_TEST"]
    finally:
        if server is not None:
            real_conn.compute.delete_server(server)
            real_conn.compute.wait_for_delete(server, wait=120)
        bs.wait_for_status(volume, "available", wait=120)
        bs.delete_volume(volume)


def _agent_alive(conn, host: str) -> bool:
    return all(a.is_alive for a in conn.network.agents(host=host, agent_type="Open vSwitch agent"))


def _destinations(model) -> Counter:
    plan = optimize(model, goal="server_consolidation")
    return Counter(a["input"]["destination_node"] for a in plan["actions"] if a["type"] == "migrate")


def test_host_with_dead_l2_agent_is_not_a_destination(collect, realcloud, real_conn):
    model = collect("compute_model_info")["model"]
    assert all(n["network_agent_up"] for n in rows(model["nodes"]))
    before = _destinations(model)
    assert before, "the seeded cloud has something to consolidate"
    target = before.most_common(1)[0][0]  # the host the plan fills most while its agent lives

    realcloud.stop_agent(target)
    try:
        _wait(lambda: not _agent_alive(real_conn, target), f"Neutron to report {target}'s agent dead", 90)
        model = collect("compute_model_info")["model"]
        up = {n["hostname"]: n["network_agent_up"] for n in rows(model["nodes"])}
        assert up == {h: h != target for h in COMPUTES}
        after = _destinations(model)
        assert target not in after, after
    finally:
        realcloud.start_agent(target)
        _wait(lambda: _agent_alive(real_conn, target), f"{target}'s agent alive again", 90)
