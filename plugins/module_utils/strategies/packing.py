# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Shared engine of the consolidation strategies: empty hosts one by one, best fit.

Not a strategy itself. ``drain_hosts`` tries to empty each source host (in the order
given) onto hosts that stay in use; a host is emptied completely or not at all (savepoint
and rollback), so no move is wasted on a host that keeps a server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    import numpy as np
except ImportError:  # pragma: no cover - registry.run reports the missing library
    np = None

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import lower_bound_hosts


def norm(pl):
    """Per resource normaliser: the largest usable capacity (1 where none)."""
    return pl.norm


def best_fit(pl, i, mask, extra_free=None, extra_demand=None):
    """Host in ``mask`` left tightest (least normalised slack) after taking ``i``; -1 if none.

    extra_free (H x K) / extra_demand (K): more capacity dimensions (e.g. measured load).
    """
    cand = np.nonzero(mask)[0]
    if not len(cand):
        return -1
    slack = ((pl.free[cand] - pl.demand[i]) / norm(pl)).sum(axis=1)
    if extra_free is not None:
        ok = (extra_free[cand] >= extra_demand - 1e-9).all(axis=1)
        if not ok.any():
            return -1
        cand, slack = cand[ok], slack[ok]
    return int(cand[np.argmin(slack)])


def drain_hosts(pl, order, dest_ok, stop_at=None, item_key=None, extra_free=None, extra_demand=None, max_moves=None):
    """Empty the hosts in ``order`` onto active hosts. Returns the hosts emptied.

    dest_ok: bool mask of hosts that may receive (updated: emptied hosts stop receiving).
    stop_at: stop once the hosts in use are this few. item_key: per instance sort key
    (largest first). extra_free (H x K) / extra_demand (N x K): more capacity to respect.
    """
    released = []
    counts = pl.host_counts()
    in_use = int((counts[pl.host_in_scope] > 0).sum())
    dest = dest_ok & (counts > 0)
    key = item_key if item_key is not None else (pl.demand / norm(pl)).sum(axis=1)
    n_moves = 0
    for h in order:
        if stop_at is not None and in_use <= stop_at:
            break
        insts = pl.instances_on(h)
        if not len(insts) or not pl.movable[insts].all():
            continue
        if max_moves is not None and n_moves + len(insts) > max_moves:
            continue
        sp = pl.savepoint()
        ok = True
        dest[h] = False
        for i in insts[np.argsort(-key[insts], kind="stable")]:
            d = best_fit(pl, i, pl.candidates(i, dest), extra_free, None if extra_demand is None else extra_demand[i])
            if d < 0:
                ok = False
                break
            pl.move(i, d, check=False)  # candidates() already checked every constraint
            if extra_free is not None:
                extra_free[d] -= extra_demand[i]
                extra_free[h] += extra_demand[i]
        if ok:
            released.append(int(h))
            in_use -= 1
            n_moves += len(insts)
            dest_ok[h] = False
        else:
            if extra_free is not None:
                for i, s, d in pl.log[sp:]:
                    extra_free[d] += extra_demand[i]
                    extra_free[s] -= extra_demand[i]
            pl.rollback(sp)
            dest[h] = bool(dest_ok[h])
    return released


def disable_empty(pl, acts, reason, first=()):
    """Disable (after their drain) the enabled, up, in-scope hosts left without a server.

    Released hosts and hosts that were empty from the start; decided on the final
    placement so that a host that received a server is never disabled. Hosts in ``first``
    are disabled before their migrations instead. Returns the disabled host indexes.
    """
    empty = np.nonzero(pl.host_in_scope & pl.host_up & pl.host_enabled & (pl.host_counts() == 0))[0]
    for h in empty:
        target = acts.disable_first if int(h) in first else acts.disable_after
        target.append((pl.hostnames[h], reason))
    return [int(h) for h in empty]


def consolidation_bound(pl):
    """Lower bound on hosts in use (per zone, summed) and the hosts it is computed over."""
    counts = pl.host_counts()
    scope = pl.host_in_scope & (pl.host_ok | (counts > 0))
    forced = np.zeros(pl.H, dtype=bool)
    stuck = pl.inst_host[~pl.movable & (pl.inst_host >= 0)]
    forced[stuck] = True
    total = 0
    for z in np.unique(pl.zone[scope]):
        m = scope & (pl.zone == z)
        used = (pl.cap - pl.free)[m].sum(axis=0)
        total += lower_bound_hosts(pl.cap[m], used, forced[m])
    return total


def consolidation_efficacy(pl, released, bound, disabled):
    counts_after = pl.host_counts()
    in_use_after = int((counts_after[pl.host_in_scope] > 0).sum())
    moves = pl.moves()
    return {
        "compute_nodes_count": int(pl.host_in_scope.sum()),
        "released_compute_nodes_count": int(len(disabled)),
        "emptied_compute_nodes_count": int(len(released)),
        "instance_migrations_count": len(moves),
        "memory_moved_gb": pl.memory_moved_gb(moves),
        "hosts_in_use_before": int(
            (np.bincount(pl.orig_host[pl.orig_host >= 0], minlength=pl.H)[pl.host_in_scope] > 0).sum()
        ),
        "hosts_in_use_after": in_use_after,
        "lower_bound_hosts": int(bound),
        "optimality_gap": round((in_use_after - bound) / bound, 4) if bound else 0.0,
    }
