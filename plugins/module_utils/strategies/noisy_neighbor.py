# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""noisy_neighbor: move the L3-cache hog away from a starved high-priority server.

Goal noisy_neighbor (Watcher's noisy_neighbor). Instance metric ``l3_cache_mb``; priority
from instance metadata ``watcher-priority`` or ``priority`` (integer, higher matters more,
default 0). On a host where a server of the highest priority present gets less than
``cache_threshold`` MB of L3 cache, the lower-priority server using the most cache moves to
the allowed host with the least cache in use. Without the metric the plan is empty, with a
warning. docs/strategies/noisy_neighbor.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    metric_values,
    migration_plan,
    params_schema,
)

NAME = "noisy_neighbor"
GOAL = "noisy_neighbor"
TABLES = ("nodes", "instances")
DESCRIPTION = "Move the cache-hungry low-priority server away from a starved high-priority one."
PARAMS = params_schema(
    {
        "cache_threshold": {
            "type": "number",
            "minimum": 0,
            "default": 35.0,
            "description": "L3 cache (MB) below which a priority server is starved",
        }
    }
)


def _priority(md):
    if not isinstance(md, dict):
        return 0
    for k in ("watcher-priority", "priority"):
        try:
            return int(md[k])
        except (KeyError, TypeError, ValueError):
            continue
    return 0


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    cache = metric_values(ctx.frames, "instance", "l3_cache_mb", pl.uuids)
    eff = {}
    if np.isnan(cache).all():
        ctx.warn(None, "no l3_cache_mb metric for any instance: nothing to do")
    else:
        prio = (
            np.array([_priority(m) for m in pl.instances["metadata"]])
            if "metadata" in pl.instances.columns
            else np.zeros(pl.N)
        )
        c = np.nan_to_num(cache, nan=0.0)
        on = pl.inst_host >= 0
        host_cache = np.bincount(pl.inst_host[on], weights=c[on], minlength=pl.H)
        starved = ~np.isnan(cache) & (cache < p["cache_threshold"]) & on
        victims = 0
        for h in np.unique(pl.inst_host[starved]):
            insts = pl.instances_on(h)
            top = prio[insts].max()
            if not (starved[insts] & (prio[insts] == top)).any():
                continue
            victims += 1
            noisy = insts[(prio[insts] < top) & pl.movable[insts]]
            if not len(noisy):
                ctx.warn(pl.hostnames[h], "priority server starved but no lower-priority server can move")
                continue
            moved = False
            for i in noisy[np.argsort(-c[noisy], kind="stable")]:
                idx = np.nonzero(pl.candidates(i))[0]
                if len(idx):
                    d = int(idx[np.argmin(host_cache[idx])])
                    pl.move(i, d, check=False)
                    host_cache[h] -= c[i]
                    host_cache[d] += c[i]
                    moved = True
                    break
            if not moved:
                ctx.warn(pl.hostnames[h], "no allowed host for its noisy servers")
        eff["starved_hosts_count"] = victims
    return migration_plan(pl, eff)
