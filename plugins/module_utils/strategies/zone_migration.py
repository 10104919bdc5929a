# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""zone_migration: drain listed compute nodes and storage pools (hardware maintenance).

Goal hardware_maintenance (Watcher's zone_migration). Servers on each ``src_node`` go to its
``dst_node`` when given (else to the least loaded allowed host outside the drained nodes);
volumes in each ``src_pool`` go to its ``dst_pool`` (else the least used pool that serves
their type) or are retyped to ``dst_type``. Order follows ``priority``; ``parallel_total``,
``parallel_per_node`` and ``parallel_per_pool`` cap how many migrations the plan holds (the
rest waits for the next run). docs/strategies/zone_migration.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import VolumePlacement, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import (
    StrategyError,
    host_index,
    params_schema,
)

NAME = "zone_migration"
GOAL = "hardware_maintenance"
TABLES = ("nodes", "instances")
DESCRIPTION = "Drain listed compute nodes and storage pools, by priority, within per-node/pool/total caps."
_names = {"type": "array", "items": {"type": "string"}}
PARAMS = params_schema(
    {
        "compute_nodes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["src_node"],
                "additionalProperties": False,
                "properties": {
                    "src_node": {"type": "string", "minLength": 1},
                    "dst_node": {"type": ["string", "null"]},
                },
            },
            "default": [],
        },
        "storage_pools": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["src_pool"],
                "additionalProperties": False,
                "properties": {
                    "src_pool": {"type": "string", "minLength": 1},
                    "dst_pool": {"type": ["string", "null"]},
                    "src_type": {"type": ["string", "null"]},
                    "dst_type": {"type": ["string", "null"]},
                },
            },
            "default": [],
        },
        "parallel_total": {"type": "integer", "minimum": 1, "default": 6},
        "parallel_per_node": {"type": "integer", "minimum": 1, "default": 2},
        "parallel_per_pool": {"type": "integer", "minimum": 1, "default": 2},
        "priority": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "project": _names,
                "compute_node": _names,
                "storage_pool": _names,
                "compute": {"type": "array", "items": {"enum": ["vcpu_num", "mem_size", "disk_size"]}},
                "storage": {"type": "array", "items": {"enum": ["size"]}},
            },
            "default": {},
        },
        "with_attached_volume": {
            "type": "boolean",
            "default": False,
            "description": "accepted for Watcher compatibility; volumes move only from listed pools",
        },
    }
)


def _rank(values, preferred):
    order = {v: k for k, v in enumerate(preferred or ())}
    return np.array([order.get(v, len(order)) for v in values])


def _drain_nodes(ctx, pl, srcs):
    """Servers off the listed nodes (to their dst_node, else the least loaded host); returns the count."""
    p = ctx.params
    prio, total = p["priority"], p["parallel_total"]
    drained = np.zeros(pl.H, dtype=bool)
    for s, _unused in srcs:
        drained[s] = True
    node_rank = _rank([pl.hostnames[s] for s, _unused in srcs], prio.get("compute_node"))
    n_moves = 0
    for k in np.argsort(node_rank, kind="stable"):
        s, d = srcs[k]
        insts = pl.instances_on(s)
        keys = [_rank(str_col(pl.instances, "project_id")[insts], prio.get("project"))]
        for key in prio.get("compute") or ():
            col = {"vcpu_num": 0, "mem_size": 1, "disk_size": 2}[key]
            keys.append(-pl.demand[insts, col])
        insts = insts[np.lexsort(keys[::-1])] if len(insts) else insts
        per_node = 0
        for i in insts:
            if n_moves >= total or per_node >= p["parallel_per_node"]:
                break
            if not pl.movable[i]:
                ctx.warn(pl.uuids[i], "stays on %s: %s" % (pl.hostnames[s], pl.reason[i]))
                continue
            cand = pl.candidates(i) & ~drained
            if d is not None:
                if not cand[d]:
                    ctx.warn(pl.uuids[i], "cannot go to %s: %s" % (pl.hostnames[d], pl.allowed(i, d) or "drained node"))
                    continue
                dest = d
            else:
                idx = np.nonzero(cand)[0]
                if not len(idx):
                    ctx.warn(pl.uuids[i], "stays on %s: no host can take it under the constraints" % pl.hostnames[s])
                    continue
                dest = int(idx[np.argmin((pl.used[idx] / np.where(pl.cap[idx] > 0, pl.cap[idx], 1)).max(axis=1))])
            pl.move(i, dest, check=False)
            n_moves += 1
            per_node += 1
    return n_moves


def _drain_pools(ctx, acts, n_moves):
    """Volumes off the listed pools (or retyped), within what the servers left of parallel_total;
    returns the count."""
    p = ctx.params
    prio, total = p["priority"], p["parallel_total"]
    vol_moves, retypes = 0, []
    if ctx.frames.get("pools") is None or ctx.frames.get("volumes") is None:
        raise StrategyError("params.storage_pools: the model has no pools/volumes tables")
    pools = VolumePlacement(ctx.frames)
    for sp in p["storage_pools"]:
        if sp["src_pool"] not in pools.index:
            raise StrategyError("params.storage_pools.src_pool: unknown pool %r" % sp["src_pool"])
        if sp.get("dst_pool") and sp["dst_pool"] not in pools.index:
            raise StrategyError("params.storage_pools.dst_pool: unknown pool %r" % sp["dst_pool"])
    for sp in sorted(p["storage_pools"], key=lambda x: _rank([x["src_pool"]], prio.get("storage_pool"))[0]):
        src = pools.index[sp["src_pool"]]
        vols = np.nonzero((pools.vol_pool == src) & pools.vol_movable)[0]
        if sp.get("src_type"):
            vols = vols[pools.vol_type[vols] == sp["src_type"]]
        if "size" in (prio.get("storage") or ()):
            vols = vols[np.argsort(-pools.vol_size[vols], kind="stable")]
        per_pool = 0
        for v in vols:
            if n_moves + vol_moves >= total or per_pool >= p["parallel_per_pool"]:
                break
            if sp.get("dst_type"):
                if pools.vol_type[v] != sp["dst_type"]:
                    retypes.append((pools.vol_ids[v], sp["src_pool"], sp["dst_type"]))
                    vol_moves += 1
                    per_pool += 1
                continue
            cand = pools.candidates(v)
            if sp.get("dst_pool"):
                dst = pools.index[sp["dst_pool"]]
                if not cand[dst]:
                    ctx.warn(pools.vol_ids[v], "pool %s cannot take it (type or room)" % sp["dst_pool"])
                    continue
            else:
                idx = np.nonzero(cand)[0]
                if not len(idx):
                    ctx.warn(pools.vol_ids[v], "no pool can take it")
                    continue
                dst = int(idx[np.argmin(pools.pct()[idx])])
            pools.move(v, dst)
            vol_moves += 1
            per_pool += 1
    moves = pools.moves()
    room0 = pools.room0(moves)
    acts.pool_free = {pools.names[k]: float(room0[k]) for k in range(len(pools.names))}
    acts.volume_moves = [(pools.vol_ids[v], pools.names[s], pools.names[d], pools.vol_size[v]) for v, s, d in moves]
    acts.volume_retypes = retypes
    return vol_moves


def run(ctx):
    p = ctx.params
    if not p["compute_nodes"] and not p["storage_pools"]:
        raise StrategyError("params: give compute_nodes and/or storage_pools to drain")
    pl = ctx.placement()
    acts = ActionList(pl)
    srcs = [
        (
            host_index(ctx, pl, c["src_node"], "compute_nodes.src_node"),
            host_index(ctx, pl, c["dst_node"], "compute_nodes.dst_node") if c.get("dst_node") else None,
        )
        for c in p["compute_nodes"]
    ]
    n_moves = _drain_nodes(ctx, pl, srcs)
    vol_moves = _drain_pools(ctx, acts, n_moves) if p["storage_pools"] else 0
    moves = pl.moves()
    left = int(sum(len(pl.instances_on(s)) for s, _unused in srcs))
    return acts.build(), {
        "live_instance_migrate_ratio": round(
            sum(1 for i, _unused, _unused in moves if pl.mig_type[i] == "live") / len(moves), 4
        )
        if moves
        else 0.0,
        "instance_migrations_count": len(moves),
        "volume_migrations_count": vol_moves,
        "memory_moved_gb": pl.memory_moved_gb(moves),
        "instances_left_on_source_nodes": left,
    }
