"""The workload the real-cloud tier tests against, created through the public APIs.

Two projects (admin, demo) with servers spread over the three computes, each with a port on a
shared VLAN network (bound by Neutron to its host's Open vSwitch agent), one anti-affinity server
group, an aggregate, flavors with extra specs, an image with properties; volumes of typed
(fake1/fake2) and untyped kinds in both projects, one attached; three Ironic nodes linked to the
computes (``extra.compute_hostname``), owned by the admin project, powered on.
"""

from __future__ import annotations

import time
from typing import Any

# name -> (compute host, flavor, in the anti-affinity group)
ADMIN_SERVERS = {
    "srv-1": ("compute1", "m1.tiny", False),
    "srv-2": ("compute1", "m1.small", False),
    "srv-3": ("compute1", "m1.tiny", True),
    "srv-4": ("compute2", "m1.small", False),
    "srv-5": ("compute2", "m1.tiny", True),
    "srv-6": ("compute3", "m1.medium", False),
    "srv-7": ("compute3", "m1.tiny", False),
}
MEMBER_SERVERS = ("demo-1", "demo-2", "demo-3")
SHARED_NETWORK = "shared-net"
FLAVORS = {"m1.tiny": (1, 512, 1), "m1.small": (1, 1024, 2), "m1.medium": (2, 2048, 5)}
# name -> (size GB, volume type or None, attach to)
ADMIN_VOLUMES = {
    "vol-fake1": (1, "fake1", None),
    "vol-fake2": (2, "fake2", None),
    "vol-free-1": (1, None, None),
    "vol-free-2": (3, None, None),
    "vol-attached": (1, None, "srv-1"),
}
MEMBER_VOLUMES = {"demo-vol": (1, None, None)}


def _wait(fn, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.5)
    raise RuntimeError(f"seed: timed out waiting for {what}")


def seed_cloud(stack) -> None:
    from stack import CLOUD_ADMIN, CLOUD_MEMBER, CLOUD_SYSTEM, COMPUTES  # noqa: PLC0415

    admin, member, system = stack.connect(CLOUD_ADMIN), stack.connect(CLOUD_MEMBER), stack.connect(CLOUD_SYSTEM)

    flavors = {}
    for name, (vcpus, ram, disk) in FLAVORS.items():
        flavors[name] = admin.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk, is_public=True)
    admin.compute.create_flavor_extra_specs(flavors["m1.medium"], {"hw:cpu_policy": "shared", "vigil:tier": "gold"})
    image = admin.image.create_image(
        name="tiny-raw", data=b"\0" * 1024, disk_format="raw", container_format="bare", visibility="public",
        hw_disk_bus="virtio", hw_machine_type="q35",
    )  # fmt: skip
    # a property openstacksdk does not model lands in Image.properties (hw_disk_bus becomes a field)
    patch = [{"op": "add", "path": "/trait:CUSTOM_VIGIL_TEST", "value": "required"}]
    resp = admin.image.patch(f"/images/{image.id}", json=patch,
                             headers={"Content-Type": "application/openstack-images-v2.1-json-patch"})  # fmt: skip
    assert resp.status_code == 200, resp.text
    agg = admin.compute.create_aggregate(name="agg-a")
    for host in COMPUTES:
        admin.compute.add_host_to_aggregate(agg, host)
    # metadata Nova's aggregate filters would read (a comma list, as operators write them)
    admin.compute.set_aggregate_metadata(agg, {"ssd": "true, nvme"})
    # every host offers the trait the image requires (nova-compute keeps operators' CUSTOM_ traits)
    assert admin.placement.put("/traits/CUSTOM_VIGIL_TEST", microversion="1.6").status_code in (201, 204)
    for rp in admin.placement.resource_providers():
        path = f"/resource_providers/{rp.id}/traits"
        current = admin.placement.get(path, microversion="1.6").json()
        body = {"traits": sorted(set(current["traits"]) | {"CUSTOM_VIGIL_TEST"}),
                "resource_provider_generation": current["resource_provider_generation"]}  # fmt: skip
        resp = admin.placement.put(path, json=body, microversion="1.6")
        assert resp.status_code == 200, resp.text
    group = admin.compute.create_server_group(name="web", policy="anti-affinity")
    # shared, so the demo project's servers get ports on it too; a VLAN segment from ml2_conf.ini's range
    net = admin.network.create_network(name=SHARED_NETWORK, is_shared=True)
    admin.network.create_subnet(network_id=net.id, name=f"{SHARED_NETWORK}-v4", ip_version=4, cidr="10.10.0.0/24")
    networks = [{"uuid": net.id}]

    servers = {}
    for name, (host, flavor, grouped) in ADMIN_SERVERS.items():
        kwargs = {"scheduler_hints": {"group": group.id}} if grouped else {}
        servers[name] = admin.compute.create_server(
            name=name, image_id=image.id, flavor_id=flavors[flavor].id, networks=networks,
            availability_zone=f"nova:{host}", **kwargs,
        )  # fmt: skip
    for name in MEMBER_SERVERS:
        servers[name] = member.compute.create_server(
            name=name, image_id=image.id, flavor_id=flavors["m1.tiny"].id, networks=networks
        )

    def all_active() -> bool:
        states = {s.name: s.status for s in admin.compute.servers(all_projects=True)}
        if any(v == "ERROR" for v in states.values()):
            raise RuntimeError(f"seed: a server went to ERROR: {states}")
        return len(states) == len(servers) and all(v == "ACTIVE" for v in states.values())

    _wait(all_active, "servers ACTIVE")

    for name in ("fake1", "fake2"):
        admin.block_storage.create_type(name=name, extra_specs={"volume_backend_name": name})
    volumes = {}
    for conn, specs in ((admin, ADMIN_VOLUMES), (member, MEMBER_VOLUMES)):
        for name, (size, vtype, _unused) in specs.items():
            kwargs = {"volume_type": vtype} if vtype else {}
            volumes[name] = conn.block_storage.create_volume(name=name, size=size, **kwargs)

    def all_available() -> bool:
        vols = list(admin.block_storage.volumes(details=True, all_projects=True))
        if any(v.status == "error" for v in vols):
            raise RuntimeError(f"seed: a volume went to error: {[(v.name, v.status) for v in vols]}")
        return len(vols) == len(volumes) and all(v.status == "available" for v in vols)

    _wait(all_available, "volumes available")
    for name, (_unused, _unused, server) in ADMIN_VOLUMES.items():
        if server:
            admin.compute.create_volume_attachment(servers[server], volume_id=volumes[name].id)
            _wait(lambda v=volumes[name]: admin.block_storage.get_volume(v.id).status == "in-use", f"{name} in-use")

    project_id = admin.current_project_id
    for host in COMPUTES:
        node = system.baremetal.create_node(
            name=f"bm-{host}", driver="fake-hardware", resource_class="baremetal", owner=project_id,
            extra={"compute_hostname": host}, properties={"cpus": 8, "memory_mb": 16384, "local_gb": 100},
        )  # fmt: skip
        system.baremetal.set_node_provision_state(node, "manage", wait=True, timeout=60)
        system.baremetal.set_node_provision_state(node, "provide", wait=True, timeout=60)
        system.baremetal.set_node_power_state(node, "power on", wait=True, timeout=60)
    for conn in (admin, member, system):
        conn.close()
