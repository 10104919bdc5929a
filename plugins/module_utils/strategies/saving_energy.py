# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""saving_energy: keep a pool of free hosts powered on, power the other free ones off.

Goal saving_energy (Watcher's saving_energy). Free host: in scope, up, powered on, no
server. Target = max(min_free_hosts_num, ceil(hosts in use x free_used_percent / 100)).
Above target, the smallest free hosts with a power backend (Ironic or MAAS, from the model's
power_backend / power_node_id) are disabled then powered off; below it, powered-off hosts
are powered on, then enabled when vigil disabled them (an operator's disable is left alone).
docs/strategies/saving_energy.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import Placement, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.model.baremetal import backends_read
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import disable_reason, params_schema

NAME = "saving_energy"
GOAL = "saving_energy"
TABLES = ("nodes", "instances")
DESCRIPTION = "Power off free hosts beyond a reserve (Ironic/MAAS), power hosts on when the reserve is short."
PARAMS = params_schema(
    {
        "free_used_percent": {
            "type": "number",
            "minimum": 0,
            "maximum": 100,
            "default": 10.0,
            "description": "free hosts to keep, % of hosts in use",
        },
        "min_free_hosts_num": {
            "type": "integer",
            "minimum": 0,
            "default": 1,
            "description": "free hosts to keep at least",
        },
    },
    moves=False,
)


def run(ctx):
    p = ctx.params
    pl = Placement(ctx.frames, scope=ctx.scope)
    backend = str_col(pl.nodes, "power_backend")
    node_id = str_col(pl.nodes, "power_node_id")
    power = str_col(pl.nodes, "power_state")
    reason = str_col(pl.nodes, "disabled_reason")
    manageable = pl.host_in_scope & np.isin(backend, ("ironic", "maas")) & (node_id != "")
    bm = ctx.frames.get("baremetal")
    if bm is not None and len(bm):
        in_maint = set(str_col(bm, "id")[bm["maintenance"].fillna(False).astype(bool).to_numpy()])
        manageable &= ~np.isin(node_id, list(in_maint))
    counts = pl.host_counts()
    up = pl.host_in_scope & (str_col(pl.nodes, "state") == "up")
    in_use = int((pl.host_in_scope & (counts > 0)).sum())
    free_on = np.nonzero(up & (power != "off") & (counts == 0))[0]
    target = max(p["min_free_hosts_num"], int(math.ceil(in_use * p["free_used_percent"] / 100.0)))
    size = (pl.cap / np.where(pl.cap.max(axis=0) > 0, pl.cap.max(axis=0), 1)).sum(axis=1)
    acts = ActionList()
    off, on = [], []
    if len(free_on) > target:
        cand = [h for h in free_on if manageable[h]]
        # disabled ones first, then the smallest: keep the big enabled hosts ready
        cand.sort(key=lambda h: (pl.host_enabled[h], size[h]))
        for h in cand[: len(free_on) - target]:
            name = pl.hostnames[h]
            if pl.host_enabled[h]:
                acts.disable_after.append((name, disable_reason(NAME)))
            acts.power_off.append((name, backend[h], node_id[h]))
            off.append(name)
        if len(off) < len(free_on) - target:
            ctx.warn(
                None,
                "%d free hosts could be powered off but have no usable power backend (%s)"
                % (len(free_on) - target - len(off), backends_read(ctx.frames.get("meta"))),
            )
    elif len(free_on) < target:
        cand = list(np.nonzero(pl.host_in_scope & (power == "off") & manageable)[0])
        cand.sort(key=lambda h: -size[h])
        for h in cand[: target - len(free_on)]:
            name = pl.hostnames[h]
            acts.power_on.append((name, backend[h], node_id[h]))
            if not pl.host_enabled[h] and reason[h].startswith("vigil"):
                acts.enable.append(name)
            on.append(name)
        if len(on) < target - len(free_on):
            ctx.warn(
                None,
                "free host reserve short by %d: no powered-off host to power on" % (target - len(free_on) - len(on)),
            )
    return acts.build(), {
        "compute_nodes_count": int(pl.host_in_scope.sum()),
        "hosts_in_use": in_use,
        "free_hosts_target": target,
        "free_hosts_before": int(len(free_on)),
        "free_hosts_after": int(len(free_on) - len(off) + len(on)),
        "powered_off_nodes_count": len(off),
        "powered_on_nodes_count": len(on),
    }
