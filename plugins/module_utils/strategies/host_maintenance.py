# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""host_maintenance: evacuate one compute node for maintenance.

Goal cluster_maintaining. The node is disabled first (so the scheduler stops placing
servers on it), then every movable server leaves: to the backup node when one is given and
it has room (the backup is enabled first if it is disabled), else to the least-loaded host
that satisfies every constraint. Active servers go live (cold when live migration is
disabled), stopped ones cold (they stay when cold migration is disabled).
docs/strategies/host_maintenance.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import str_col
from ansible_collections.vigil.openstack.plugins.module_utils.model.baremetal import backends_read
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import packing
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    StrategyError,
    disable_reason,
    host_index,
    params_schema,
)

NAME = "host_maintenance"
GOAL = "cluster_maintaining"
TABLES = ("nodes", "instances")
DESCRIPTION = "Evacuate one compute node (optionally onto a backup node) and leave it disabled."
PARAMS = params_schema(
    {
        "maintenance_node": {"type": "string", "minLength": 1, "description": "compute node to evacuate"},
        "backup_node": {"type": ["string", "null"], "default": None, "description": "preferred destination"},
        "disable_live_migration": {
            "type": "boolean",
            "default": False,
            "description": "cold-migrate active servers instead",
        },
        "disable_cold_migration": {
            "type": "boolean",
            "default": False,
            "description": "leave stopped servers in place",
        },
        "disabled_reason": {
            "type": ["string", "null"],
            "default": None,
            "description": "reason recorded on the disabled compute service (default: vigil: host_maintenance)",
        },
        "power_off": {
            "type": "boolean",
            "default": False,
            "description": "power the host off through Ironic or MAAS once it is empty and disabled",
        },
    },
    required=["maintenance_node"],
)


def run(ctx):
    p = ctx.params
    no_live = p["disable_live_migration"]
    pl = ctx.placement(
        allow_live=not no_live,
        allow_cold=not p["disable_cold_migration"],
        allow_cold_active=no_live or p["allow_cold_active"],
    )
    m = host_index(ctx, pl, p["maintenance_node"], "maintenance_node")
    if not pl.host_in_scope[m]:
        raise StrategyError("params.maintenance_node: %s is outside the scope" % p["maintenance_node"])
    acts = ActionList(pl)
    if pl.host_enabled[m]:
        acts.disable_first.append((pl.hostnames[m], p["disabled_reason"] or disable_reason(NAME)))
    pl.host_ok[m] = False
    backup = None
    if p["backup_node"]:
        backup = host_index(ctx, pl, p["backup_node"], "backup_node")
        if backup == m:
            raise StrategyError("params.backup_node: must differ from maintenance_node")
        if not pl.host_ok[backup]:
            try:
                pl.enable(backup)
            except ValueError as e:
                raise StrategyError("params.backup_node: %s" % e) from e
            acts.enable.append(pl.hostnames[backup])
    insts = pl.instances_on(m)
    size = (pl.demand / packing.norm(pl)).sum(axis=1)
    left = []
    for i in insts[np.argsort(-size[insts], kind="stable")]:
        if not pl.movable[i]:
            left.append(i)
            ctx.warn(pl.uuids[i], "stays on %s: %s" % (pl.hostnames[m], pl.reason[i]))
            continue
        cand = pl.candidates(i)
        if backup is not None and cand[backup]:
            pl.move(i, backup, check=False)
            continue
        idx = np.nonzero(cand)[0]
        if not len(idx):
            left.append(i)
            ctx.warn(pl.uuids[i], "stays on %s: no host can take it under the constraints" % pl.hostnames[m])
            continue
        # least loaded first: spread the evacuated servers
        load = (pl.used[idx] / np.where(pl.cap[idx] > 0, pl.cap[idx], 1.0)).max(axis=1)
        pl.move(i, int(idx[np.argmin(load)]), check=False)
    if backup is not None and backup not in [d for _unused, _unused, d in pl.moves()]:
        acts.enable = []  # nothing goes there: do not touch it
        pl.host_ok[backup] = pl.host_enabled[backup]
        pl.enabled_by_plan.discard(backup)
    if p["power_off"]:
        backend = str_col(pl.nodes, "power_backend")[m]
        node_id = str_col(pl.nodes, "power_node_id")[m]
        if left:
            ctx.warn(pl.hostnames[m], "not powered off: %d servers stay on it" % len(left))
        elif backend not in ("ironic", "maas") or not node_id:
            ctx.warn(
                pl.hostnames[m],
                "not powered off: no Ironic node or MAAS machine is linked to it (%s)"
                % backends_read(ctx.frames.get("meta")),
            )
        elif str_col(pl.nodes, "power_state")[m] != "off":
            acts.power_off.append((pl.hostnames[m], backend, node_id))
    moves = pl.moves()
    actions = acts.build()
    return actions, {
        "instance_migrations_count": len(moves),
        "live_migrations_count": int(sum(1 for i, _unused, _unused in moves if pl.mig_type[i] == "live")),
        "cold_migrations_count": int(sum(1 for i, _unused, _unused in moves if pl.mig_type[i] == "cold")),
        "memory_moved_gb": pl.memory_moved_gb(moves),
        "instances_left_count": len(left),
        "maintenance_node_emptied": not left,
    }
