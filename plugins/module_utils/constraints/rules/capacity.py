# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Capacity per resource class: a host takes a server when every class of its demand fits.

Usable capacity is ``(total - reserved) * allocation_ratio`` (``cap``, H x R); ``free`` is
that minus the Placement usages, kept up to date as servers move. A host listed in
``meta.placement_estimated`` (capacity not read from Placement) takes nothing beyond its use.
A server's demand (``demand``, N x R) is Nova's resources_from_flavor: VCPU (PCPU for a pinned
server on a host with a PCPU inventory), MEMORY_MB, and DISK_GB unless it boots from volume
(+ ephemeral + swap).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import as_list, bool_col, num_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "capacity"

RCS = ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU")
EPS = 1e-9


def setup(p, opts):
    nodes = p.nodes
    p.cap = np.zeros((p.H, len(RCS)))
    used = np.zeros((p.H, len(RCS)))
    for r, rc in enumerate(RCS):
        low = rc.lower()
        total, reserved = num_col(nodes, low + "_total"), num_col(nodes, low + "_reserved")
        ratio = num_col(nodes, low + "_allocation_ratio", 1.0)
        ratio = np.where(ratio > 0, ratio, 1.0)
        p.cap[:, r] = np.maximum(total - reserved, 0) * ratio
        used[:, r] = num_col(nodes, low + "_used")
    # Hosts whose capacity the collector did not read are full: a model collected before
    # summary mode modelled them so may still carry guessed room (docs/model.md).
    estimated = set(as_list((p.frames.get("meta") or {}).get("placement_estimated")))
    p.host_estimated = np.array([h in estimated for h in p.hostnames], dtype=bool)
    p.cap[p.host_estimated] = np.minimum(p.cap, used)[p.host_estimated]
    p.free = np.asfortranarray(p.cap - used)  # columns contiguous: masks test one class at a time
    n = p.cap.max(axis=0) if p.H else np.ones(len(RCS))
    p.norm = np.where(n > 0, n, 1.0)
    p.demand = _demand(p)


def _demand(p):
    inst = p.instances
    if not p.N:
        return np.zeros((0, len(RCS)))
    vcpus = num_col(inst, "vcpus")
    host_has_pcpu = (p.cap[:, 3] > 0)[np.maximum(p.orig_host, 0)] if p.H else np.zeros(p.N, bool)
    use_pcpu = bool_col(inst, "pinned") & host_has_pcpu
    disk = (
        np.where(bool_col(inst, "boot_from_volume"), 0.0, num_col(inst, "disk_gb"))
        + num_col(inst, "ephemeral_gb")
        + np.ceil(num_col(inst, "swap_mb") / 1024.0)
    )
    return np.stack(
        [np.where(use_pcpu, 0, vcpus), num_col(inst, "memory_mb"), disk, np.where(use_pcpu, vcpus, 0)], axis=1
    )


def fresh(p):
    p.free = np.array(p.free, order="F")


def moved(p, i, src, dst):
    d = p.demand[i]
    p.free[src] += d
    p.free[dst] -= d


def mask(p, i, src, m):
    free = p.free
    # a Python loop over the (few) classes the server needs: cheaper than np.nonzero per call
    for r, d in enumerate(p.demand[i].tolist()):
        if d > 0:
            m &= free[:, r] >= d - EPS


def reason(p, i, src, h):
    # Python floats: the same IEEE arithmetic as numpy's, without its per-call cost on 4 values
    short = [r for r, (d, f) in enumerate(zip(p.demand[i].tolist(), p.free[h].tolist())) if d - f > EPS]
    if short:
        return "host %s lacks %s%s" % (
            p.hostnames[h],
            ", ".join(RCS[r] for r in short),
            " (capacity not read from Placement: taken as full)" if p.host_estimated[h] else "",
        )
    return ""
