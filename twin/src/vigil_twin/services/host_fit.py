"""What a server needs from a destination host beyond capacity, checked as Nova's scheduler would.

- Required traits: ``trait:X=required`` in the flavor's extra specs and in the image's
  properties (Glance); for a server booted from a volume, the properties Cinder copied into
  the boot volume's ``volume_image_metadata`` (what Nova reads for such a server).
- Device-backed ports (Nova's VNIC_TYPES_SRIOV and VNIC_TYPES_ACCELERATOR): an SR-IOV-class
  port needs a VF on the port's physical network (the host's ``sriov_physnets``, which its
  NIC Switch agent reports as device_mappings); a ``remote-managed`` port also needs the
  ``COMPUTE_REMOTE_MANAGED_PORTS`` trait; an accelerator port needs ``COMPUTE_ACCELERATORS``.

``unmet(cloud, needs(cloud, server), host)`` returns why ``host`` cannot take the server ('' when
it can);
the compute service answers it as 400 "No valid host was found." This is the twin's own
reading of Nova, written apart from vigil's constraint rules so that it can referee them.
"""

from __future__ import annotations

from typing import Any

SRIOV_VNICS = frozenset(("direct", "macvtap", "direct-physical", "virtio-forwarder", "vdpa", "remote-managed"))
ACCELERATOR_VNICS = frozenset(("accelerator-direct", "accelerator-direct-physical"))
ROOT_DEVICE = "/dev/vda"


def _required(props: dict[str, Any]) -> set[str]:
    return {k.split(":", 1)[1] for k, v in props.items() if k.startswith("trait") and ":" in k and str(v) == "required"}


def image_properties(cloud: Any, server: dict[str, Any]) -> dict[str, Any]:
    """The image properties Nova holds for the server: Glance's, or its boot volume's copy."""
    if server.get("image"):
        image = getattr(cloud.stores.get("image"), "images", {}).get(server["image"]) or {}
        return {k: v for k, v in image.items() if isinstance(k, str)}
    volumes = getattr(cloud.stores.get("volume"), "volumes", {})
    for vol in volumes.values():
        if any(a["server_id"] == server["id"] and a["device"] == ROOT_DEVICE for a in vol["attachments"]):
            return dict(vol.get("image_metadata") or {})
    return {}


def required_traits(cloud: Any, server: dict[str, Any]) -> set[str]:
    specs = (server.get("flavor") or {}).get("extra_specs") or {}
    return _required(specs) | _required(image_properties(cloud, server))


def _port_need(port: dict[str, Any], traits: set[str], physnets: list[str]) -> str:
    vnic = port["binding:vnic_type"]
    if vnic in ACCELERATOR_VNICS:
        return "" if "COMPUTE_ACCELERATORS" in traits else f"no accelerator for {vnic} port {port['id']}"
    if vnic not in SRIOV_VNICS:
        return ""
    if vnic == "remote-managed" and "COMPUTE_REMOTE_MANAGED_PORTS" not in traits:
        return f"no remote-managed device for port {port['id']}"
    physnet = (port.get("_profile") or {}).get("physical_network")
    if physnet not in physnets:
        return f"no {vnic} VF on physical network {physnet} for port {port['id']}"
    return ""


def needs(cloud: Any, server: dict[str, Any]) -> tuple[set[str], list[dict[str, Any]]]:
    """(required traits, device-backed ports) of a server: read once per scheduling request."""
    ports = getattr(cloud.stores.get("network"), "ports", {}).values()
    devices = [
        p for p in ports if p["device_id"] == server["id"] and p["binding:vnic_type"] in SRIOV_VNICS | ACCELERATOR_VNICS
    ]
    return required_traits(cloud, server), devices


def unmet(cloud: Any, need: tuple[set[str], list[dict[str, Any]]], host: str) -> str:
    node = cloud.stores["compute"].nodes[host]
    traits = set(cloud.stores["placement"].providers[node["uuid"]]["traits"])
    missing = sorted(need[0] - traits)
    if missing:
        return f"Host {host} lacks the required traits {', '.join(missing)}."
    for port in need[1]:
        why = _port_need(port, traits, node.get("sriov_physnets", []))
        if why:
            return f"Host {host} has {why}."
    return ""
