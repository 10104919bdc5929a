# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Volume state: a volume may move when available or in-use, with no migration running, from
a pool of the model, and only to another pool. Sets ``vol_movable`` and ``vol_reason``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "volume_state"

MOVABLE_STATUSES = ("available", "in-use")
IDLE_MIGRATION = ("", "None", "none", "success", "error")  # no migration running


def setup(vp, opts):
    vols = vp.volumes
    status = str_col(vols, "status")
    idle = np.isin(str_col(vols, "migration_status"), IDLE_MIGRATION)
    movable_status = np.isin(status, MOVABLE_STATUSES)
    vp.vol_movable = movable_status & idle & (vp.vol_pool >= 0)
    why = np.full(len(vp.vol_ids), "", dtype=object)
    why[~movable_status] = ["status %s does not allow migration" % s for s in status[~movable_status]]
    why[~idle] = "migration in progress"
    why[vp.vol_pool < 0] = "pool not in the model"
    vp.vol_reason = np.where(vp.vol_movable, "", why)


def mask(vp, v, src, m):
    if not vp.vol_movable[v]:
        return False
    m[src] = False


def reason(vp, v, src, dst):
    if not vp.vol_movable[v]:
        return "volume %s: %s" % (vp.vol_ids[v], vp.vol_reason[v])
    if dst == src:
        return "destination is the current pool"
    return ""
