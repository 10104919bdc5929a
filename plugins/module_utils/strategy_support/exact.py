# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Exact consolidation for small clusters: a mixed-integer program solved by scipy (HiGHS).

Not a strategy; node_resource_consolidation calls it with ``exact: true``. Variables
x[i, h] (movable server i ends on host h, only where the static constraints allow it:
enabled and up destination, same zone, traits, or its own host) and y[h] (host in use).
Constraints: each server on one host; per host and resource class, what stays fixed
(unmovable servers, other consumers) plus what is placed fits ``y[h]`` x capacity; hard
anti-affinity counts; hosts holding an unmovable server are in use; a host either sends
or receives, never both, so every order of the moves stays within capacity. Affinity
members stay where they are. Objective: fewest hosts in use, then least memory moved.
scipy is optional: without it the caller falls back to the heuristic with a warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

try:
    import numpy as np
except ImportError:  # pragma: no cover
    np = None

try:
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    HAS_SCIPY = True
except ImportError:
    HAS_SCIPY = False


def solve(pl, time_limit=30.0):
    """Return (moves [(i, dst)], bound, optimal?) or None when no solution was found in time.

    ``time_limit`` bounds the whole call, building the program included: the solver gets
    what is left, and nothing (None) when building used it all.
    ``bound`` is the solver's bound on hosts in use *for plans of this form* (hosts send or
    receive, affinity members stay); it is not a bound for every plan, so callers keep
    the relaxation bound as ``lower_bound_hosts``.
    """
    deadline = time.monotonic() + float(time_limit)
    hosts = np.nonzero(pl.host_in_scope)[0]
    H = len(hosts)
    hpos = {int(h): k for k, h in enumerate(hosts)}
    on = pl.inst_host
    inscope_inst = np.nonzero((on >= 0) & np.isin(on, hosts))[0]
    # members of an affinity group with others stay (moving one alone breaks the group)
    aff = set(i for i, gs in pl.inst_groups.items() for g in gs if pl.group_kind[g] == "aff" and pl.group_total[g] > 1)
    mov = [int(i) for i in inscope_inst if pl.movable[i] and i not in aff]
    # usage that stays: everything on the host minus the movable servers
    fixed = (pl.cap - pl.free)[hosts].copy()
    for i in mov:
        fixed[hpos[int(on[i])]] -= pl.demand[i]
    forced = np.zeros(H, dtype=bool)
    for i in inscope_inst:
        if int(i) not in mov:
            forced[hpos[int(on[i])]] = True
    forced |= (fixed > 1e-9).any(axis=1)  # other consumers keep the host in use

    # variables: x[i, h] for allowed pairs, then y[h], then send[h], recv[h]
    pairs = []
    for i in mov:
        src = int(on[i])
        ok = pl.host_ok[hosts] & (pl.zone[hosts] == pl.zone[src])
        req = pl.req_traits.get(i)
        if req is not None:
            ok &= pl.host_traits[hosts][:, req].all(axis=1)
        if pl.agg_filters:
            ok &= pl.aggregate_mask(i)[hosts]
        ok &= (pl.demand[i] <= pl.cap[hosts] + 1e-9).all(axis=1)
        ok[hpos[src]] = True
        pairs += [(i, int(k)) for k in np.nonzero(ok)[0]]
    P = len(pairs)
    if P == 0:
        return [], int(forced.sum()), True
    nv = P + 3 * H
    Y, S, R = P, P + H, P + 2 * H
    pi = np.array([p[0] for p in pairs])
    ph = np.array([p[1] for p in pairs])
    rows, cols, vals, lo, hi = [], [], [], [], []
    r = 0

    def add(cs, vs, lb, ub):
        nonlocal r
        rows.extend([r] * len(cs))
        cols.extend(cs)
        vals.extend(vs)
        lo.append(lb)
        hi.append(ub)
        r += 1

    idx_of = {}
    for k, i in enumerate(pi):
        idx_of.setdefault(int(i), []).append(k)
    for _unused, ks in idx_of.items():  # each server on exactly one host
        add(ks, [1.0] * len(ks), 1.0, 1.0)
    for k in range(H):  # capacity: sum d x - cap' y <= 0 where cap' = cap - fixed
        ks = np.nonzero(ph == k)[0]
        for rc in range(pl.cap.shape[1]):
            dem = pl.demand[pi[ks], rc]
            room = pl.cap[hosts[k], rc] - fixed[k, rc]
            if not dem.any() and room >= 0:
                continue
            add(list(ks) + [Y + k], list(dem) + [-room], -np.inf, 0.0)
    for k, (i, h) in enumerate(pairs):  # send/recv flags: a host sends or receives
        if h == hpos[int(on[i])]:
            add([S + h, k], [1.0, 1.0], 1.0, np.inf)  # not staying -> send
        else:
            add([R + h, k], [1.0, -1.0], 0.0, np.inf)
    for k in range(H):
        add([S + k, R + k], [1.0, 1.0], -np.inf, 1.0)
    for g, kind in enumerate(pl.group_kind):  # hard anti-affinity limits
        if kind != "anti":
            continue
        members = [k for k, i in enumerate(pi) if g in pl.inst_groups.get(int(i), ())]
        if not members:
            continue
        fixed_count = {}
        for h, c in pl.group_count[g].items():
            if h in hpos:
                moving = sum(1 for i in mov if g in pl.inst_groups.get(i, ()) and int(on[i]) == h)
                fixed_count[hpos[h]] = c - moving
        for h in set(ph[members]):
            ks = [k for k in members if ph[k] == h]
            add(ks, [1.0] * len(ks), -np.inf, pl.group_max[g] - fixed_count.get(int(h), 0))
    A = coo_matrix((vals, (rows, cols)), shape=(r, nv)).tocsr()
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    mem = pl.demand[pi, 1]
    stay = np.array([h == hpos[int(on[i])] for i, h in pairs])
    c = np.zeros(nv)
    big = float(mem.sum()) + 1.0
    c[:P] = np.where(stay, 0.0, mem) / big  # memory moved: a fraction of one host
    c[Y : Y + H] = 1.0
    lb = np.zeros(nv)
    ub = np.ones(nv)
    lb[Y : Y + H] = forced.astype(float)
    res = milp(
        c,
        constraints=LinearConstraint(A, lo, hi),
        integrality=np.ones(nv),
        bounds=Bounds(lb, ub),
        options={"time_limit": float(left)},
    )
    if res.x is None:
        return None
    x = res.x[:P] > 0.5
    moves = [(int(i), int(hosts[h])) for (i, h), sel, st in zip(pairs, x, stay) if sel and not st]
    dual = getattr(res, "mip_dual_bound", None)
    # objective = hosts + a fraction < 1 for memory moved, so hosts >= floor(dual bound)
    bound = int(np.floor(dual + 1e-9)) if dual is not None and np.isfinite(dual) else None
    return moves, bound, res.status == 0
