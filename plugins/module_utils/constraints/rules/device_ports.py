# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Device-backed ports: a host takes a server with SR-IOV, vDPA, smart-NIC or accelerator ports
only when it offers the device each port needs, as Nova's scheduler requires.

Per vnic type (instances ``device_vnic_types``, from Neutron):

- SR-IOV class (``direct``, ``direct-physical``, ``macvtap``, ``virtio-forwarder``, ``vdpa``,
  ``remote-managed``): the host has SR-IOV devices - trait ``HW_NIC_SRIOV``, or a physical
  network with VFs (nodes ``device_physnets``, its NIC Switch agent's device_mappings, or a
  Placement trait ``CUSTOM_PHYSNET_<NAME>``). When the host reports its physical networks,
  every physnet of the server's ports (instances ``device_physnets``) must be among them.
  ``remote-managed`` also needs ``COMPUTE_REMOTE_MANAGED_PORTS`` (Nova's request filter).
- accelerator (``accelerator-direct``, ``accelerator-direct-physical``): the host handles
  Cyborg accelerators, trait ``COMPUTE_ACCELERATORS`` (Nova's request filter).

Sets ``device_ok`` (server row -> hosts that offer its devices) and ``device_lacks(p, i, h)``,
the one function that decides, which both ``mask`` and ``reason`` read.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import as_list
from ansible_collections.vigil.openstack.plugins.module_utils.model.compute import ACCELERATOR_VNIC_TYPES
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "device_ports"
SRIOV_TRAIT = "HW_NIC_SRIOV"
REMOTE_MANAGED_TRAIT = "COMPUTE_REMOTE_MANAGED_PORTS"
ACCELERATOR_TRAIT = "COMPUTE_ACCELERATORS"
PHYSNET_TRAIT = "CUSTOM_PHYSNET_"


def physnet_key(name):
    """A physnet as Neutron spells it in a Placement trait (CUSTOM_PHYSNET_<upper, [A-Z0-9_]>)."""
    return re.sub("[^A-Z0-9_]", "_", str(name).upper())


def setup(p, opts):
    nodes, inst = p.nodes, p.instances
    p.device_host_traits = [set(as_list(t)) for t in nodes["traits"]] if "traits" in nodes.columns else [set()] * p.H
    reported = nodes["device_physnets"] if "device_physnets" in nodes.columns else [None] * p.H
    p.device_host_nets = [
        set(physnet_key(n) for n in as_list(d))
        | set(t[len(PHYSNET_TRAIT) :] for t in traits if t.startswith(PHYSNET_TRAIT))
        for d, traits in zip(reported, p.device_host_traits)
    ]
    p.device_req = {}
    p.device_ok = {}
    if "device_vnic_types" not in inst.columns:
        return
    nets = inst["device_physnets"] if "device_physnets" in inst.columns else [None] * len(inst)
    for k, (vnics, physnets) in enumerate(zip(inst["device_vnic_types"], nets)):
        vnics = as_list(vnics)
        if vnics:
            p.device_req[k] = (vnics, [physnet_key(n) for n in as_list(physnets)])
            p.device_ok[k] = np.array([not device_lacks(p, k, h) for h in range(p.H)], dtype=bool)


def device_lacks(p, i, h):
    """What host h lacks for server i's device ports, or ''."""
    vnics, physnets = p.device_req[i]
    traits, nets = p.device_host_traits[h], p.device_host_nets[h]
    for vnic in vnics:
        if vnic in ACCELERATOR_VNIC_TYPES:
            if ACCELERATOR_TRAIT not in traits:
                return "no accelerator support (%s) for a %s port" % (ACCELERATOR_TRAIT, vnic)
            continue
        if vnic == "remote-managed" and REMOTE_MANAGED_TRAIT not in traits:
            return "no remote-managed device (%s) for a remote-managed port" % REMOTE_MANAGED_TRAIT
        if SRIOV_TRAIT not in traits and not nets:
            return "no SR-IOV device (%s or a physical network with VFs) for a %s port" % (SRIOV_TRAIT, vnic)
    missing = [n for n in physnets if nets and n not in nets]
    if missing:
        return "no VFs on physical network %s" % ", ".join(sorted(set(missing)))
    return ""


def active(p):
    return bool(p.device_ok)


def mask(p, i, src, m):
    ok = p.device_ok.get(i)
    if ok is not None:
        m &= ok


def reason(p, i, src, h):
    if i in p.device_req:
        lacks = device_lacks(p, i, h)
        if lacks:
            return "host %s has %s" % (p.hostnames[h], lacks)
    return ""
