# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Volume types: a pool that lists volume types takes only volumes of those types.

Sets ``types`` (per pool, empty = any type) and ``vol_type``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import as_list, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "volume_types"


def setup(vp, opts):
    pools = vp.pools
    vp.types = (
        [set(as_list(t)) for t in pools["volume_types"]] if "volume_types" in pools.columns else [set()] * len(pools)
    )
    vp.vol_type = str_col(vp.volumes, "volume_type")
    vp._type_masks = {}


def _serves(vp, t):
    m = vp._type_masks.get(t)
    if m is None:
        m = vp._type_masks[t] = np.array([not ts or t in ts for ts in vp.types], dtype=bool)
    return m


def mask(vp, v, src, m):
    m &= _serves(vp, vp.vol_type[v])


def reason(vp, v, src, dst):
    if not _serves(vp, vp.vol_type[v])[dst]:
        return "pool %s does not serve volume type %s" % (vp.names[dst], vp.vol_type[v] or "(none)")
    return ""
