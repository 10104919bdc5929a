# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Cinder pools and volumes as arrays, with the constraints of a volume migration.

A volume may move when its status is available or in-use and no migration is running; a
pool takes it when it serves the volume's type (when the pool lists types) and has room:
free capacity minus the reserved percentage (thick), or total x max_over_subscription_ratio
minus provisioned (thin).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import numpy as np
except ImportError:  # pragma: no cover - registry.run reports the missing library
    np = None

from ansible_collections.vigil.openstack.plugins.module_utils.strategies.constraints import (
    as_list,
    bool_col,
    num_col,
    str_col,
)


class Pools:
    def __init__(self, frames):
        pools, vols = frames["pools"].reset_index(drop=True), frames.get("volumes")
        self.names = str_col(pools, "name")
        self.index = {n: k for k, n in enumerate(self.names)}
        total = num_col(pools, "total_capacity_gb")
        free = num_col(pools, "free_capacity_gb")
        reserved = total * num_col(pools, "reserved_percentage") / 100.0
        thin = bool_col(pools, "thin_provisioning")
        ratio = num_col(pools, "max_over_subscription_ratio", 1.0)
        vols = vols.reset_index(drop=True) if vols is not None else None
        self.vol_ids = str_col(vols, "id") if vols is not None else np.array([], dtype=object)
        self.vol_pool = (
            np.array([self.index.get(p, -1) for p in str_col(vols, "pool")], dtype=np.int64)
            if vols is not None
            else np.zeros(0, np.int64)
        )
        self.vol_size = num_col(vols, "size_gb") if vols is not None else np.zeros(0)
        # Cinder does not move allocated_capacity_gb on a driver-assisted migration (until
        # cinder-volume restarts): never count a pool as holding less than its volumes.
        on_pool = self.vol_pool >= 0
        held = np.bincount(self.vol_pool[on_pool], weights=self.vol_size[on_pool], minlength=len(self.names))
        alloc = np.maximum(num_col(pools, "allocated_capacity_gb"), held)
        self.total = total
        self.room = np.where(thin, total * np.maximum(ratio, 1.0) - alloc - reserved, free - reserved)
        self.used = np.maximum(total - free, 0)
        self.types = (
            [set(as_list(t)) for t in pools["volume_types"]]
            if "volume_types" in pools.columns
            else [set()] * len(pools)
        )
        self.vol_type = str_col(vols, "volume_type") if vols is not None else np.array([], dtype=object)
        status = str_col(vols, "status") if vols is not None else np.array([], dtype=object)
        mig = str_col(vols, "migration_status") if vols is not None else np.array([], dtype=object)
        idle = np.isin(mig, ("", "None", "none", "success", "error"))
        self.vol_movable = np.isin(status, ("available", "in-use")) & idle & (self.vol_pool >= 0)
        self.vol_orig = self.vol_pool.copy()

    def pct(self):
        return np.where(self.total > 0, self.used / np.where(self.total > 0, self.total, 1) * 100.0, 0.0)

    def candidates(self, v):
        """Pools that can take volume v now (its own excluded)."""
        if not self.vol_movable[v]:
            return np.zeros(len(self.names), dtype=bool)
        t = self.vol_type[v]
        typed = np.array([not ts or t in ts for ts in self.types], dtype=bool)
        m = typed & (self.room >= self.vol_size[v])
        m[self.vol_pool[v]] = False
        return m

    def move(self, v, dst):
        src, s = self.vol_pool[v], self.vol_size[v]
        self.room[src] += s
        self.used[src] -= s
        self.room[dst] -= s
        self.used[dst] += s
        self.vol_pool[v] = dst

    def moves(self):
        return [
            (v, int(self.vol_orig[v]), int(self.vol_pool[v])) for v in np.nonzero(self.vol_pool != self.vol_orig)[0]
        ]

    def room0(self, moves):
        room = self.room.copy()
        for v, s, d in moves:
            room[s] -= self.vol_size[v]
            room[d] += self.vol_size[v]
        return room
