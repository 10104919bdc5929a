"""model/compute.py: boot-from-volume servers take their image constraints from the boot volume's
volume_image_metadata; a server whose image is gone stays put unless the operator opts in."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.model import compute

FLAVOR = {"vcpus": 2, "ram": 2048, "disk": 20, "extra_specs": {}}


def _server(sid, image=None, root="/dev/vda"):
    srv = {"id": sid, "name": sid, "status": "ACTIVE", "OS-EXT-SRV-ATTR:host": "c1", "flavor": dict(FLAVOR)}
    srv["image"] = {"id": image} if image else ""
    if root:
        srv["OS-EXT-SRV-ATTR:root_device_name"] = root
    return srv


def _volume(vid, server, device, meta):
    return {
        "id": vid,
        "bootable": "true",
        "attachments": [{"server_id": server, "device": device}],
        "volume_image_metadata": meta,
    }


AVX2 = {"trait:HW_CPU_X86_AVX2": "required", "image_name": "focal"}


def test_boot_volume_images_take_the_volume_at_the_root_device():
    servers = [_server("bfv-1"), _server("bfv-2", root="/dev/sda"), _server("img-1", image="i1"), _server("bfv-3")]
    volumes = [
        _volume("root-1", "bfv-1", "/dev/vda", AVX2),
        _volume("data-1", "bfv-1", "/dev/vdb", {"trait:CUSTOM_DATA": "required"}),  # a data volume: not the boot one
        _volume("root-2", "bfv-2", "/dev/sda", {"hw_cpu_policy": "dedicated"}),
        _volume("other", "img-1", "/dev/vda", AVX2),  # img-1 boots from its image
    ]
    assert compute.boot_volume_images(servers, volumes) == {
        "bfv-1": AVX2,
        "bfv-2": {"hw_cpu_policy": "dedicated"},
    }


@pytest.mark.parametrize(
    ("meta", "traits", "migratable"),
    [
        (AVX2, ["HW_CPU_X86_AVX2"], "live"),
        ({"hw_cpu_policy": "dedicated"}, [], "cold"),
        ({"image_name": "focal"}, [], "live"),
    ],
)
def test_boot_volume_image_properties_make_the_constraints(meta, traits, migratable):
    servers = [_server("bfv-1")]
    boot = compute.boot_volume_images(servers, [_volume("root-1", "bfv-1", "/dev/vda", meta)])
    row = compute.build_instances(servers, images={}, boot_images=boot).iloc[0]
    assert row["boot_from_volume"] and list(row["required_traits"]) == traits
    assert row["migratable"] == migratable


@pytest.mark.parametrize(
    ("images", "move", "migratable"),
    [
        ({}, False, "no"),  # Glance read, the image is not there: it stays
        ({}, True, "live"),  # the operator lets it move
        (None, False, "live"),  # Glance not read: nothing is known to be gone
        ({"i1": {"id": "i1", "trait:HW_CPU_X86_AVX2": "required"}}, False, "live"),
    ],
)
def test_a_server_whose_image_is_gone_stays_unless_allowed(images, move, migratable):
    row = compute.build_instances([_server("img-1", image="i1")], images=images, move_without_image=move).iloc[0]
    assert row["migratable"] == migratable
    if migratable == "no":
        assert row["migratable_reason"] == compute.IMAGE_GONE_REASON
