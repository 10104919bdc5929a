# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Pool capacity: a pool takes a volume when it has room for its size.

Room is free capacity minus the reserved percentage (thick), or total x
max_over_subscription_ratio minus what is provisioned (thin). Cinder does not move
``allocated_capacity_gb`` on a driver-assisted migration (until cinder-volume restarts), so
a pool never counts as holding less than its volumes. Sets ``vol_size``, ``total``,
``room`` and ``used`` (kept up to date as volumes move).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import bool_col, num_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "volume_capacity"


def setup(vp, opts):
    pools = vp.pools
    vp.vol_size = num_col(vp.volumes, "size_gb")
    total = num_col(pools, "total_capacity_gb")
    free = num_col(pools, "free_capacity_gb")
    reserved = total * num_col(pools, "reserved_percentage") / 100.0
    thin = bool_col(pools, "thin_provisioning")
    ratio = num_col(pools, "max_over_subscription_ratio", 1.0)
    on_pool = vp.vol_pool >= 0
    held = np.bincount(vp.vol_pool[on_pool], weights=vp.vol_size[on_pool], minlength=len(vp.names))
    alloc = np.maximum(num_col(pools, "allocated_capacity_gb"), held)
    vp.total = total
    vp.room = np.where(thin, total * np.maximum(ratio, 1.0) - alloc - reserved, free - reserved)
    vp.used = np.maximum(total - free, 0)


def moved(vp, v, src, dst):
    s = vp.vol_size[v]
    vp.room[src] += s
    vp.used[src] -= s
    vp.room[dst] -= s
    vp.used[dst] += s


def mask(vp, v, src, m):
    m &= vp.room >= vp.vol_size[v]


def reason(vp, v, src, dst):
    if not vp.room[dst] >= vp.vol_size[v]:
        return "pool %s has room for %.1f GB, the volume needs %.1f GB" % (vp.names[dst], vp.room[dst], vp.vol_size[v])
    return ""
