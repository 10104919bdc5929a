# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""vm_workload_consolidation: consolidate by measured load, then release emptied hosts.

Goal server_consolidation (Watcher's VM workload consolidation). Load per server is measured
(cpu_util_pct x vCPUs, ram_used_mb; allocations when a metric is missing, with a warning).
Phase 1 offloads overloaded hosts (load above ``cc`` x physical capacity) onto the least
loaded hosts; phase 2 packs each zone onto the fewest hosts whose load stays under ``cc`` x
capacity (and, as always, within Placement allocations), keeping the most loaded hosts
where that costs no host, then empties the least loaded hosts left; emptied hosts are
disabled. docs/strategies/vm_workload_consolidation.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import packing
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    disable_reason,
    host_load,
    host_usage_capacity,
    instance_usage,
    params_schema,
)

NAME = "vm_workload_consolidation"
GOAL = "server_consolidation"
TABLES = ("nodes", "instances")
DESCRIPTION = "Offload overloaded hosts, then pack by measured cpu/ram load; disable emptied hosts."
PARAMS = params_schema(
    {
        "cc": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cpu": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "ram": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
            },
            "default": {"cpu": 0.8, "ram": 0.8},
            "description": "fraction of physical capacity the measured load may reach on a host",
        },
        "disable_released": {"type": "boolean", "default": True},
        "max_migrations": {"type": ["integer", "null"], "minimum": 1, "default": None},
    }
)


def run(ctx):
    p = ctx.params
    pl = ctx.placement()
    use, _unused = instance_usage(ctx, pl)
    limit = host_usage_capacity(pl) * np.array([p["cc"].get("cpu", 0.8), p["cc"].get("ram", 0.8)])
    room = limit - host_load(pl, use)  # H x 2, negative = overloaded
    bounds = packing.zone_bounds(pl)  # of the cloud as it is, before any move
    budget = p["max_migrations"] or pl.N

    # phase 1: offload overloaded hosts, biggest cpu users first, onto the roomiest hosts
    moved = 0  # counted here: pl.moves() walks the whole log
    for h in np.nonzero(pl.host_in_scope & (room < 0).any(axis=1))[0]:
        for i in sorted(pl.instances_on(h), key=lambda i: -use[i, 0]):
            if (room[h] >= 0).all() or moved >= budget:
                break
            cand = np.nonzero(pl.candidates(i) & (room >= use[i]).all(axis=1))[0]
            if not len(cand):
                continue
            d = int(cand[np.argmax((room[cand] / limit[cand]).min(axis=1))])
            pl.move(i, d, check=False)
            moved += 1
            room[h] += use[i]
            room[d] -= use[i]
        if (room[h] < 0).any():
            ctx.warn(pl.hostnames[h], "stays overloaded: no allowed host has room for its servers")

    # phase 2: pack (packing.consolidate) with the measured load as extra capacity, keeping
    # the most loaded hosts where that costs no host; a host's load sets its drain order too
    frac = ((limit - room) / limit).max(axis=1)
    left = max(0, budget - moved) if p["max_migrations"] else None
    curve = packing.consolidate(pl, bounds, left, drain_key=frac, prefer=frac, extra=(room, use))
    released = packing.emptied_hosts(pl)

    acts = ActionList(pl)
    disabled = packing.disable_empty(pl, acts, disable_reason(NAME)) if p["disable_released"] else []
    eff = packing.consolidation_efficacy(pl, released, int(sum(bounds.values())), disabled)
    eff.update(curve)
    return acts.build(), eff
