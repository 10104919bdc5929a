# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Cinder pools and volumes as arrays, with the rules of a volume migration (rules.VOLUME).

``VolumePlacement`` is to volumes what ``Placement`` is to servers: ``candidates(v)`` is a
boolean mask over pools, ``allowed(v, pool)`` says why not, and ``move`` re-checks unless told
otherwise. The rules: rules/volume_state.py, volume_types.py, volume_capacity.py.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import rules
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import str_col
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np, pd


class VolumePlacement:
    """Mutable placement of volumes on pools: where each volume is, and what each pool holds."""

    def __init__(self, frames):
        self.pools = frames["pools"].reset_index(drop=True)
        vols = frames.get("volumes")
        self.volumes = (vols if vols is not None else pd.DataFrame(columns=schema.columns("volumes"))).reset_index(
            drop=True
        )
        self.names = str_col(self.pools, "name")
        self.index = {n: k for k, n in enumerate(self.names)}
        self.vol_ids = str_col(self.volumes, "id")
        self.vol_pool = np.array([self.index.get(p, -1) for p in str_col(self.volumes, "pool")], dtype=np.int64)
        self.vol_orig = self.vol_pool.copy()
        for rule in rules.VOLUME:
            rule.setup(self, {})
        self._rules = rules.RuleLoop(rules.VOLUME)

    def pct(self):
        return np.where(self.total > 0, self.used / np.where(self.total > 0, self.total, 1) * 100.0, 0.0)

    def candidates(self, v):
        """Pools that can take volume v now (its own excluded)."""
        m = np.ones(len(self.names), dtype=bool)
        return m if self._rules.narrow(self, v, self.vol_pool[v], m) else np.zeros(len(self.names), dtype=bool)

    def allowed(self, v, dst):
        """Scalar version of ``candidates(v)[dst]``, with the reason when refused (or '')."""
        return self._rules.refusal(self, v, self.vol_pool[v], dst)

    def move(self, v, dst, check=True):
        """Move volume v to pool dst; raises ValueError naming the broken rule."""
        if check:
            why = self.allowed(v, dst)
            if why:
                raise ValueError("cannot move volume %s to %s: %s" % (self.vol_ids[v], self.names[dst], why))
        self._rules.moved(self, v, int(self.vol_pool[v]), int(dst))
        self.vol_pool[v] = dst

    def moves(self):
        return [
            (v, int(self.vol_orig[v]), int(self.vol_pool[v])) for v in np.nonzero(self.vol_pool != self.vol_orig)[0]
        ]

    def room0(self, moves):
        """Room per pool before ``moves`` (what the planner orders volume moves against)."""
        room = self.room.copy()
        for v, s, d in moves:
            room[s] -= self.vol_size[v]
            room[d] += self.vol_size[v]
        return room
