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

import multiprocessing
import time

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

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
    scope = _Scope(pl)
    pairs = _allowed_pairs(pl, scope)
    if not pairs:
        return [], int(scope.forced.sum()), True
    program = _Program(len(pairs), len(scope.hosts))
    _add_constraints(pl, scope, pairs, program)
    A = program.matrix()
    left = deadline - time.monotonic()
    if left <= 0:
        return None
    stay = np.array([h == scope.hpos[int(pl.inst_host[i])] for i, h in pairs])
    out = _within(left, _run_milp, pl, scope, pairs, program, A, stay, left * HIGHS_SHARE)
    if out is None or out[0] is None:
        return None
    solution, status, dual = out
    x = solution[: len(pairs)] > 0.5
    moves = [(int(i), int(scope.hosts[h])) for (i, h), sel, st in zip(pairs, x, stay) if sel and not st]
    # objective = hosts + a fraction < 1 for memory moved, so hosts >= floor(dual bound)
    bound = int(np.floor(dual + 1e-9)) if dual is not None and np.isfinite(dual) else None
    return moves, bound, status == 0


# HiGHS checks its time limit only now and then (1.4 s late on a 9.5 s limit, measured on a
# loaded machine): it gets this share of the time left, and a child process that runs it is
# stopped when all of it is gone, so that the limit holds for the whole call.
HIGHS_SHARE = 0.85


def _within(seconds, fn, *args):
    """``fn(*args)``'s (x, status, dual bound) from a forked child, or None after ``seconds``."""
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_send_result, args=(send, fn, args), daemon=True)
    child.start()
    send.close()
    try:
        return recv.recv() if recv.poll(max(0.0, seconds)) else None
    except EOFError:  # the child died without an answer
        return None
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        recv.close()


def _send_result(conn, fn, args):
    res = fn(*args)
    conn.send((res.x, res.status, getattr(res, "mip_dual_bound", None)))
    conn.close()


class _Scope:
    """The hosts in scope, the servers the program may move and what stays on each host."""

    def __init__(self, pl):
        self.hosts = np.nonzero(pl.host_in_scope)[0]
        H = len(self.hosts)
        self.hpos = {int(h): k for k, h in enumerate(self.hosts)}
        on = pl.inst_host
        inscope_inst = np.nonzero((on >= 0) & np.isin(on, self.hosts))[0]
        # members of an affinity group with others stay (moving one alone breaks the group)
        aff = set(
            i for i, gs in pl.inst_groups.items() for g in gs if pl.group_kind[g] == "aff" and pl.group_total[g] > 1
        )
        self.mov = [int(i) for i in inscope_inst if pl.movable[i] and i not in aff]
        # usage that stays: everything on the host minus the movable servers
        self.fixed = (pl.cap - pl.free)[self.hosts].copy()
        for i in self.mov:
            self.fixed[self.hpos[int(on[i])]] -= pl.demand[i]
        self.forced = np.zeros(H, dtype=bool)
        moving = set(self.mov)
        for i in inscope_inst:
            if int(i) not in moving:
                self.forced[self.hpos[int(on[i])]] = True
        self.forced |= (self.fixed > 1e-9).any(axis=1)  # other consumers keep the host in use


def _allowed_pairs(pl, scope):
    """(server, host position) pairs the static constraints allow, its own host included."""
    hosts, pairs = scope.hosts, []
    for i in scope.mov:
        src = int(pl.inst_host[i])
        ok = pl.host_ok[hosts] & (pl.zone[hosts] == pl.zone[src])
        req = pl.req_traits.get(i)
        if req is not None:
            ok &= pl.host_traits[hosts][:, req].all(axis=1)
        if pl.agg_filters:
            ok &= pl.aggregate_mask(i)[hosts]
        ok &= (pl.demand[i] <= pl.cap[hosts] + 1e-9).all(axis=1)
        ok[scope.hpos[src]] = True
        pairs += [(i, int(k)) for k in np.nonzero(ok)[0]]
    return pairs


class _Program:
    """Sparse rows of the program. Variables: x per pair, then y, send, recv per host."""

    def __init__(self, P, H):
        self.P, self.H = P, H
        self.Y, self.S, self.R = P, P + H, P + 2 * H
        self.nv = P + 3 * H
        self.rows, self.cols, self.vals, self.lo, self.hi = [], [], [], [], []

    def add(self, cs, vs, lb, ub):
        self.rows.extend([len(self.lo)] * len(cs))
        self.cols.extend(cs)
        self.vals.extend(vs)
        self.lo.append(lb)
        self.hi.append(ub)

    def matrix(self):
        return coo_matrix((self.vals, (self.rows, self.cols)), shape=(len(self.lo), self.nv)).tocsr()


def _add_constraints(pl, scope, pairs, prog):
    pi = np.array([p[0] for p in pairs])
    ph = np.array([p[1] for p in pairs])
    idx_of = {}
    for k, i in enumerate(pi):
        idx_of.setdefault(int(i), []).append(k)
    for _unused, ks in idx_of.items():  # each server on exactly one host
        prog.add(ks, [1.0] * len(ks), 1.0, 1.0)
    for k in range(prog.H):  # capacity: sum d x - cap' y <= 0 where cap' = cap - fixed
        ks = np.nonzero(ph == k)[0]
        for rc in range(pl.cap.shape[1]):
            dem = pl.demand[pi[ks], rc]
            room = pl.cap[scope.hosts[k], rc] - scope.fixed[k, rc]
            if not dem.any() and room >= 0:
                continue
            prog.add(list(ks) + [prog.Y + k], list(dem) + [-room], -np.inf, 0.0)
    for k, (i, h) in enumerate(pairs):  # send/recv flags: a host sends or receives
        if h == scope.hpos[int(pl.inst_host[i])]:
            prog.add([prog.S + h, k], [1.0, 1.0], 1.0, np.inf)  # not staying -> send
        else:
            prog.add([prog.R + h, k], [1.0, -1.0], 0.0, np.inf)
    for k in range(prog.H):
        prog.add([prog.S + k, prog.R + k], [1.0, 1.0], -np.inf, 1.0)
    _add_anti_affinity(pl, scope, pi, ph, prog)


def _add_anti_affinity(pl, scope, pi, ph, prog):
    """Hard anti-affinity: per group and host, members placed there within the group's limit."""
    pairs_of, moving = {}, {}  # group -> pair indexes; (group, host) -> its movable members
    for k, i in enumerate(pi):
        for g in pl.inst_groups.get(int(i), ()):
            pairs_of.setdefault(g, []).append(k)
    for i in scope.mov:
        for g in pl.inst_groups.get(i, ()):
            moving[g, int(pl.inst_host[i])] = moving.get((g, int(pl.inst_host[i])), 0) + 1
    for g in sorted(pairs_of):  # rows in a fixed order: the solver's choice among optima depends on it
        members = pairs_of[g]
        if pl.group_kind[g] != "anti":
            continue
        fixed_count = {
            scope.hpos[h]: c - moving.get((g, h), 0) for h, c in pl.group_count[g].items() if h in scope.hpos
        }
        by_host = {}
        for k in members:
            by_host.setdefault(int(ph[k]), []).append(k)
        for h in set(ph[members]):
            ks = by_host[int(h)]
            prog.add(ks, [1.0] * len(ks), -np.inf, pl.group_max[g] - fixed_count.get(int(h), 0))


def _run_milp(pl, scope, pairs, prog, A, stay, time_left):
    """Fewest hosts in use, then least memory moved, within ``time_left`` seconds."""
    pi = np.array([p[0] for p in pairs])
    mem = pl.demand[pi, 1]
    c = np.zeros(prog.nv)
    big = float(mem.sum()) + 1.0
    c[: prog.P] = np.where(stay, 0.0, mem) / big  # memory moved: a fraction of one host
    c[prog.Y : prog.Y + prog.H] = 1.0
    lb = np.zeros(prog.nv)
    ub = np.ones(prog.nv)
    lb[prog.Y : prog.Y + prog.H] = scope.forced.astype(float)
    return milp(
        c,
        constraints=LinearConstraint(A, prog.lo, prog.hi),
        integrality=np.ones(prog.nv),
        bounds=Bounds(lb, ub),
        options={"time_limit": float(time_left)},
    )
