# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Shared engine of the consolidation strategies (node_resource_consolidation,
vm_workload_consolidation, basic): `consolidate`.

Not a strategy itself. `pack_zones` keeps, per zone, the fewest hosts every server fits on
and moves the others' servers there (a host only sends or only receives); `within_budget`
keeps the cheapest part of it for a migration budget; `drain_hosts` then empties whole
hosts one by one onto hosts that stay in use, completely or not at all (savepoint and
rollback), so no move is wasted on a host that keeps a server.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import EPS, lower_bound_hosts
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np


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


def drain_hosts(pl, order, dest_ok, stop_at=None, extra_free=None, extra_demand=None):
    """Empty the hosts in ``order`` onto active hosts. Returns the hosts emptied.

    dest_ok: bool mask of hosts that may receive (updated: emptied hosts stop receiving).
    stop_at: stop once the hosts in use are this few. Servers go largest first.
    extra_free (H x K) / extra_demand (N x K): more capacity to respect.
    """
    released = []
    counts = pl.host_counts()
    in_use = int((counts[pl.host_in_scope] > 0).sum())
    dest = dest_ok & (counts > 0)
    key = (pl.demand / norm(pl)).sum(axis=1)
    for h in order:
        if stop_at is not None and in_use <= stop_at:
            break
        insts = pl.instances_on(h)
        if not len(insts) or not pl.movable[insts].all():
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
            dest_ok[h] = False
        else:
            if extra_free is not None:
                for i, s, d in pl.log[sp:]:
                    extra_free[d] += extra_demand[i]
                    extra_free[s] -= extra_demand[i]
            pl.rollback(sp)
            dest[h] = bool(dest_ok[h])
    return released


# How far the keep-set search moves towards "keep the hosts with the most servers" once the
# fewest hosts is known: binary steps between capacity-first (1.0) and servers-first (0.0).
KEEP_WEIGHT_STEPS = 4


def _fill(pl, zone, keep, order_key, extra=None):
    """Move every server off the zone's hosts outside ``keep`` onto ``keep`` (largest first).

    True with the moves applied, or False with nothing changed (rolled back).
    """
    sp = pl.savepoint()
    movers = np.nonzero(np.isin(pl.inst_host, np.nonzero(zone & ~keep)[0]))[0]
    dest = keep & pl.host_ok
    kept = KeptRoom(pl, np.nonzero(dest)[0], extra)
    for i in movers[np.argsort(-order_key[movers], kind="stable")]:
        h = kept.fast_fit(i)
        if h < 0:
            h = kept.best(i, pl.candidates(i, dest))
        if h < 0:
            pl.rollback(sp)
            return False
        pl.move(i, h, check=False)  # allowed() or candidates() checked every constraint
        kept.took(i, h)
    return True


class KeptRoom:
    """The free room of the kept hosts as one compact array, scored without a full host mask.

    A server goes to the kept host whose free room best matches its shape: the dot product
    of the normalised demand and free vectors, so a host with room where this server is large
    is preferred and every host's residual room stays usable by the next servers (vector bin
    packing's dot-product heuristic). Scoring only the kept hosts with room (not all H) and
    asking ``allowed`` about the one chosen is much cheaper than a ``candidates`` mask on big
    clouds; a refused one sends the caller to `best` over the full mask. Only kept hosts
    receive, so ``took`` keeps it exact. Servers come largest first, so servers of one flavor
    come in runs: the scores of the last demand are kept and only the host that took a server
    is scored again. ``extra`` (room H x E, use N x E): more capacity a host must keep (the
    measured load of vm_workload_consolidation), checked, not scored.
    """

    def __init__(self, pl, hosts, extra=None):
        self.pl, self.hosts = pl, hosts
        self.free = np.ascontiguousarray(pl.free[hosts])
        self.at = {int(h): k for k, h in enumerate(hosts)}
        self.weight = 1.0 / (pl.norm * pl.norm)
        self.demand = self.score = None
        self.room, self.use = (None, None) if extra is None else (extra[0][hosts].copy(), extra[1])

    def _score(self, rows):
        fits = (self.free[rows] >= self.demand - EPS).all(axis=-1)
        return np.where(fits, self.free[rows] @ (self.demand * self.weight), -np.inf)

    def scores(self, i):
        """Score of each kept host for server ``i``; -inf where it does not fit."""
        d = self.pl.demand[i]
        if self.demand is None or not np.array_equal(d, self.demand):
            self.demand = d.copy()
            self.score = self._score(slice(None))
        if self.room is None:
            return self.score
        return np.where((self.room >= self.use[i] - EPS).all(axis=1), self.score, -np.inf)

    def fast_fit(self, i):
        score = self.scores(i)
        k = int(np.argmax(score))
        if not np.isfinite(score[k]):
            return -1
        h = int(self.hosts[k])
        return h if h != self.pl.inst_host[i] and not self.pl.allowed(i, h) else -1

    def best(self, i, mask):
        """Best kept host for ``i`` among those ``mask`` allows; -1 if none."""
        score = np.where(mask[self.hosts], self.scores(i), -np.inf)
        k = int(np.argmax(score))
        return int(self.hosts[k]) if np.isfinite(score[k]) else -1

    def took(self, i, h):
        k = self.at[h]
        self.free[k] -= self.pl.demand[i]
        if self.room is not None:
            self.room[k] -= self.use[i]
        if self.demand is not None:
            self.score[k] = self._score(k)


def pack_zones(pl, bounds, prefer=None, extra=None, stay=None):
    """Consolidate each zone onto the fewest hosts it can keep, then keep the preferred hosts.

    Per zone (availability zone and aggregate set: servers never leave theirs), hosts that
    must stay (an unmovable server, or in ``stay``) are kept; the others are ranked by a
    score mixing their capacity (big hosts hold the most) and ``prefer`` (per host, how much
    keeping it is worth; default the servers it holds, which then stay put). The fewest
    hosts ``k`` is searched upwards from the zone's lower bound with the capacity-first
    ranking: a trial moves every server off the hosts not kept, largest first, each to the
    kept host of best shape (`KeptRoom`), and is undone unless all fit. At that ``k`` the
    ranking is then moved towards ``prefer`` as far as the trial still fits, at no cost in
    hosts. A zone where even keeping every host fails is left as it is. ``extra``: see
    `KeptRoom`; the room is that before any move of this call.
    """
    counts, scope, forced = _consolidation_scope(pl)
    if stay is not None:
        forced = forced | (stay & (counts > 0))
    prefer = counts.astype(float) if prefer is None else np.asarray(prefer, dtype=float)
    size = (pl.demand / pl.norm).sum(axis=1)
    capacity = (pl.cap / pl.norm).sum(axis=1)
    for z in np.unique(pl.zone[scope]):
        zone = scope & (pl.zone == z)
        keepable = np.nonzero(zone & pl.host_ok & ~forced)[0]
        if not len(keepable):
            continue
        must = zone & forced
        cap_score = capacity[keepable] / capacity[keepable].max()
        span = prefer[keepable] - min(float(prefer[keepable].min()), 0.0)
        prefer_score = span / max(float(span.max()), 1e-12)

        def keep_set(k, weight, keepable=keepable, must=must, cap_score=cap_score, prefer_score=prefer_score):
            score = weight * cap_score + (1.0 - weight) * prefer_score
            keep = must.copy()
            keep[keepable[np.argsort(-score, kind="stable")][: max(0, k - int(must.sum()))]] = True
            return keep

        def fits(k, weight, zone=zone, keep_set=keep_set):
            sp = pl.savepoint()
            if _fill(pl, zone, keep_set(k, weight), size, extra):
                pl.rollback(sp)
                return True
            return False

        low, high = max(int(bounds.get(int(z), 0)), int(must.sum())), int(must.sum()) + len(keepable)
        if not fits(high, 1.0):
            continue
        step = 1  # the fewest hosts is usually a few above the bound: gallop up, then bisect
        while low + step - 1 < high and not fits(low + step - 1, 1.0):
            low, step = low + step, step * 2
        high = min(high, low + step - 1)
        while low < high:
            mid = (low + high) // 2
            if fits(mid, 1.0):
                high = mid
            else:
                low = mid + 1
        weight_ok, weight_bad = 1.0, None
        if fits(low, 0.0):
            weight_ok = 0.0
        else:
            weight_bad = 0.0
            for _unused in range(KEEP_WEIGHT_STEPS):
                mid = (weight_ok + weight_bad) / 2.0
                if fits(low, mid):
                    weight_ok = mid
                else:
                    weight_bad = mid
        _fill(pl, zone, keep_set(low, weight_ok), size, extra)


def consolidate(pl, bounds, max_migrations=None, drain_key=None, prefer=None, extra=None, stay=None):
    """The consolidation strategies' plan: `pack_zones`, then the budget or a finishing drain.

    Under ``max_migrations``, the cheapest hosts' moves of the packing that fit it
    (`within_budget`); otherwise whole hosts are emptied onto the hosts in use, lowest
    ``drain_key`` first (default: allocated load; ties: fewest servers), while the hosts in
    use are above the bound. ``prefer``, ``extra``, ``stay``: see `pack_zones`; ``extra``'s
    room is kept up to date. Returns efficacy keys: the migrations needed to release part
    of what the packing frees (`migration_curve`).
    """
    since = pl.savepoint()
    pack_zones(pl, bounds, prefer, extra, stay)
    curve = migration_curve(pl, since)
    if max_migrations is not None:
        within_budget(pl, since, max_migrations)
    counts = pl.host_counts()
    if extra is not None:
        room, use = extra
        for i, src, dst in pl.log[since:]:
            room[src] += use[i]
            room[dst] -= use[i]
    if max_migrations is not None:
        return curve
    if drain_key is None:
        drain_key = (pl.used / norm(pl)).sum(axis=1)
    movable = pl.host_in_scope & (counts > 0)
    # an if statement, not a conditional expression: ansible-test 2.17's pylint narrows only these
    if stay is not None:
        movable &= ~stay
    order = np.nonzero(movable)[0]
    order = order[np.lexsort((counts[order], drain_key[order]))]
    room, use = (None, None) if extra is None else extra
    drain_hosts(pl, order, pl.host_ok.copy(), stop_at=int(sum(bounds.values())), extra_free=room, extra_demand=use)
    return curve


def emptied_hosts(pl):
    """Hosts that held servers at the start and hold none now."""
    before = np.bincount(pl.orig_host[pl.orig_host >= 0], minlength=pl.H)
    return [int(h) for h in np.nonzero((before > 0) & (pl.host_counts() == 0))[0]]


def released_by_migrations(pl, since):
    """The keep-set moves after savepoint ``since``, by source host, cheapest hosts first.

    Each move of `pack_zones` takes a server off a host that sends only, onto a host that
    receives only; so the moves of any set of source hosts form a valid plan on their own.
    Returns ``[(host, moves)]`` ordered by number of moves (then host), each host's moves in
    the order they were made: its prefixes are the best release-for-migrations trade-offs
    this plan offers.
    """
    by_host = {}
    for move in pl.log[since:]:
        by_host.setdefault(int(move[1]), []).append(move)
    return sorted(by_host.items(), key=lambda item: (len(item[1]), item[0]))


def within_budget(pl, since, budget):
    """Keep only the keep-set moves of the cheapest source hosts that fit ``budget`` migrations.

    Monotone by construction: a larger budget keeps a longer prefix of the same order, so it
    never releases fewer hosts. Returns the number of moves kept.
    """
    chosen, spent = set(), 0
    for host, moves in released_by_migrations(pl, since):
        if spent + len(moves) > budget:
            break
        chosen.add(host)
        spent += len(moves)
    kept = [move for move in pl.log[since:] if move[1] in chosen]
    pl.rollback(since)
    for i, _src, dst in kept:
        pl.move(i, dst)  # re-checked: a subset of a valid send-or-receive plan
    return len(kept)


def migration_curve(pl, since, points=(0.25, 0.5, 0.75)):
    """Efficacy keys: migrations needed to release that share of the hosts the keep set empties."""
    hosts = released_by_migrations(pl, since)
    out = {}
    if not hosts:
        return out
    cumulative = np.cumsum([len(moves) for _host, moves in hosts])
    for share in points:
        n = max(1, int(round(share * len(hosts))))
        out["migrations_to_release_%d_pct" % int(share * 100)] = int(cumulative[n - 1])
    return out


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


def _consolidation_scope(pl):
    """``(servers per host, hosts consolidation considers, hosts an unmovable server pins)``.

    Considered: in scope, and either a destination or holding servers.
    """
    counts = pl.host_counts()
    scope = pl.host_in_scope & (pl.host_ok | (counts > 0))
    forced = np.zeros(pl.H, dtype=bool)
    forced[pl.inst_host[~pl.movable & (pl.inst_host >= 0)]] = True
    return counts, scope, forced


def hosts_in_use(pl):
    """In-scope hosts holding a server now."""
    return int((pl.host_counts()[pl.host_in_scope] > 0).sum())


def zone_bounds(pl):
    """Lower bound on hosts in use per zone: ``{zone: hosts}`` (see `lower_bound_hosts`)."""
    _counts, scope, forced = _consolidation_scope(pl)
    # A host that cannot receive (disabled, down, powered off) can only keep what it holds.
    usable = np.where(pl.host_ok[:, None], pl.cap, np.minimum(pl.cap, pl.used))
    out = {}
    for z in np.unique(pl.zone[scope]):
        m = scope & (pl.zone == z)
        used = (pl.cap - pl.free)[m].sum(axis=0)
        out[int(z)] = lower_bound_hosts(usable[m], used, forced[m])
    return out


def consolidation_bound(pl):
    """Lower bound on hosts in use, summed over zones."""
    return int(sum(zone_bounds(pl).values()))


def consolidation_efficacy(pl, released, bound, disabled):
    in_use_after = hosts_in_use(pl)
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
