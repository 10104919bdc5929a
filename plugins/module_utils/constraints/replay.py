# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Replays of a plan's moves: in an order that works, and checked against every rule."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.placement import Placement
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules.capacity import EPS
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np


def order_moves(placement, moves):
    """Order net moves so that each is allowed when it runs (sequential replay).

    Chained moves were collapsed to one, so the order in which the strategy found them may
    not work (a host may rely on space that a collapsed chain frees later). Greedy: apply
    every currently allowed move, repeat. Returns (ordered moves, unplaceable moves); the
    latter happen only for cyclic swaps, which callers resolve by keeping the hops.
    """
    p = placement.fresh()
    for h in placement.enabled_by_plan:
        p.enable(h)
    pending = list(moves)
    done = []
    while pending:
        rest = []
        for mv in pending:
            i, _unused, dst = mv
            if p.allowed(i, dst):
                rest.append(mv)
            else:
                p.move(i, dst, check=False)
                done.append(mv)
        if len(rest) == len(pending):
            return done, rest
        pending = rest
    return done, []


def final_moves(placement):
    """Net moves in a replayable order: collapsed chains when they replay, else every hop."""
    ordered, stuck = order_moves(placement, placement.moves())
    if not stuck:
        return ordered
    return list(placement.log)


def check_moves(model, moves, enabled_hosts=(), **options):
    """Replay (instance uuid, source, destination) moves in order; return the violations.

    Used by tests and by the planner's self-check: a plan that breaks a constraint is a bug.
    """
    p = Placement(model, **options)
    errors = []
    for h in enabled_hosts:
        if h in p.host_index:
            p.enable(p.host_index[h])
    for n, (uuid, src, dst) in enumerate(moves):
        i = p.inst_index.get(uuid)
        if i is None:
            errors.append("move %d: unknown instance %s" % (n, uuid))
            continue
        if p.hostnames[p.inst_host[i]] != src:
            errors.append("move %d: %s is on %s, not %s" % (n, uuid, p.hostnames[p.inst_host[i]], src))
        h = p.host_index.get(dst)
        if h is None:
            errors.append("move %d: unknown destination %s" % (n, dst))
            continue
        why = p.allowed(i, h)
        if why:
            errors.append("move %d: %s -> %s: %s" % (n, uuid, dst, why))
        p.move(i, h, check=False)
    if (p.free < -EPS).any():
        bad = np.nonzero((p.free < -EPS).any(axis=1))[0]
        errors.append("over capacity at the end: %s" % ", ".join(p.hostnames[b] for b in bad[:10]))
    return errors
