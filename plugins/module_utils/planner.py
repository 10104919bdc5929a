# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Strategy decisions -> plan actions with a dependency DAG, and the DAG -> waves.

Dependencies are per host, not Watcher's per-type barriers:

- power on -> enable -> migrations onto that host;
- disable-first hosts (maintenance): disable -> migrations off that host;
- a migration onto host h waits for the earlier migrations off h when, without them, h
  could run out of room (cumulative inbound demand over h's initial free capacity) or when
  it involves a server group; so any schedule that follows the DAG stays within capacity;
- drain -> disable (consolidation), and power off only once the host is drained and disabled;
- volume migrations onto a pool wait for earlier ones off it on the same rule.

``plan_waves`` layers the DAG into waves under concurrency limits per action type and per
host; each wave finishes before the next starts.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import limits as limitslib
from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.action_types import hosts_of
from ansible_collections.vigil.openstack.plugins.module_utils.constraints import EPS, final_moves
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np


class ActionList:
    """Collects a strategy's decisions, then ``build()`` orders them and wires the DAG."""

    def __init__(self, placement=None):
        self.placement = placement
        self.power_on, self.power_off = [], []  # (hostname, backend, node_id)
        self.enable = []  # hostnames
        self.disable_first, self.disable_after = [], []  # (hostname, reason)
        self.volume_moves = []  # (volume id, source pool, dest pool, size_gb)
        self.volume_retypes = []  # (volume id, source pool, dest type)
        self.pool_free = {}
        self.extra = []  # (type, resource, input, postcondition)

    def build(self):
        self._actions, self._ids = [], {}
        self._host_actions()
        out_moves = self._server_moves()
        self._volume_actions()
        self._drain_actions(out_moves)
        for atype, resource, inp, post, parents in self.extra:
            self._add(
                ("x", len(self._actions)),
                lambda a, p, t=atype, r=resource, i=inp, c=post: planlib.simple_action(a, t, r, i, p, c),
                parents,
            )
        return self._actions

    def _add(self, key, build, parents=()):
        aid = "a%d" % (len(self._actions) + 1)
        self._actions.append(build(aid, sorted(set(parents), key=_id_key)))
        self._ids[key] = aid
        return aid

    def _known(self, *keys):
        return [self._ids[k] for k in keys if k in self._ids]

    def _host_actions(self):
        """Power on, then enable; disable-first hosts (maintenance) before anything moves."""
        for host, backend, node in self.power_on:
            self._add(
                ("on", host), lambda a, p, h=host, b=backend, n=node: planlib.node_power_action(a, h, b, n, "on", p)
            )
        for host in self.enable:
            self._add(
                ("enable", host),
                lambda a, p, h=host: planlib.compute_service_action(a, h, "enabled", None, p),
                self._known(("on", host)),
            )
        for host, reason in self.disable_first:
            self._add(
                ("disable", host), lambda a, p, h=host, r=reason: planlib.compute_service_action(a, h, "disabled", r, p)
            )

    def _server_moves(self):
        """Server moves, each after what it needs; returns hostname -> ids of the moves off it."""
        out_moves = {}
        if self.placement is None:
            return out_moves
        pl = self.placement
        free0 = pl.fresh().free
        cum_in = np.zeros_like(free0)
        last_hop = {}  # instance -> its previous move (hops when chains could not collapse)
        for i, src, dst in final_moves(pl):
            sname, dname = pl.hostnames[src], pl.hostnames[dst]
            parents = self._known(("on", dname), ("enable", dname), ("disable", sname))
            parents += [last_hop[i]] if i in last_hop else []
            cum_in[dst] += pl.demand[i]
            if (cum_in[dst] > free0[dst] + EPS).any() or i in pl.inst_groups:
                parents += out_moves.get(dname, [])
            status = str(pl.status[i]) if pl.N else "ACTIVE"
            aid = self._add(
                ("move", i, len(self._actions)),
                lambda a, p, u=pl.uuids[i], s=sname, d=dname, t=pl.mig_type[i], st=status: planlib.migrate_action(
                    a, u, s, d, t, st, p
                ),
                parents,
            )
            out_moves.setdefault(sname, []).append(aid)
            last_hop[i] = aid
        return out_moves

    def _volume_actions(self):
        pool_cum, out_pool = {}, {}
        for vol, src, dst, size in self.volume_moves:
            parents = []
            pool_cum[dst] = pool_cum.get(dst, 0.0) + float(size)
            if pool_cum[dst] > self.pool_free.get(dst, float("inf")) + EPS:
                parents += out_pool.get(dst, [])
            aid = self._add(
                ("vol", vol),
                lambda a, p, v=vol, s=src, d=dst: planlib.volume_migrate_action(a, v, s, destination_pool=d, parents=p),
                parents,
            )
            out_pool.setdefault(src, []).append(aid)
        for vol, src, vtype in self.volume_retypes:
            self._add(
                ("retype", vol),
                lambda a, p, v=vol, s=src, t=vtype: planlib.volume_migrate_action(
                    a, v, s, destination_type=t, parents=p
                ),
            )

    def _drain_actions(self, out_moves):
        """Disable drained hosts, then power off once drained and disabled."""
        for host, reason in self.disable_after:
            if ("disable", host) in self._ids:
                continue
            self._add(
                ("disable", host),
                lambda a, p, h=host, r=reason: planlib.compute_service_action(a, h, "disabled", r, p),
                out_moves.get(host, []),
            )
        for host, backend, node in self.power_off:
            parents = list(out_moves.get(host, [])) + self._known(("disable", host))
            self._add(
                ("off", host),
                lambda a, p, h=host, b=backend, n=node: planlib.node_power_action(a, h, b, n, "off", p),
                parents,
            )


def _id_key(aid):
    try:
        return (0, int(aid[1:]))
    except (TypeError, ValueError):
        return (1, str(aid))


def plan_waves(plan, limits=None):
    """Layer the plan's DAG into waves (lists of action ids) under concurrency limits.

    An action joins a wave when all its parents are in earlier waves and the wave has room:
    at most ``per_type[type]`` actions of its type, ``per_host`` actions touching any one
    host (source or destination, pool for volumes) and ``total`` actions. Order within the
    plan is kept, so earlier actions go first.
    """
    actions = plan["actions"] if isinstance(plan, dict) else plan
    errors = planlib.validate_plan(plan) if isinstance(plan, dict) else []
    if errors:
        raise planlib.PlanError("invalid plan: " + "; ".join(errors[:5]))
    if not isinstance(plan, dict):
        cycle = planlib.find_cycle(actions)
        if cycle:
            raise planlib.PlanError("dependency cycle " + " -> ".join(cycle))
    lim = limitslib.normalize(limits)
    done = set()
    pending = list(actions)
    waves = []
    while pending:
        wave, usage, rest = [], limitslib.Usage(lim), []
        for a in pending:
            if all(p in done for p in a.get("parents") or ()) and usage.fits(a):
                wave.append(a["id"])
                usage.add(a)
            else:
                rest.append(a)
        if not wave:  # cannot happen with a valid DAG and limits >= 1
            raise planlib.PlanError(
                "no action can start; unresolved parents: %s" % ", ".join(a["id"] for a in rest[:5])
            )
        waves.append(wave)
        done.update(wave)
        pending = rest
    return waves


def plan_summary(plan):
    """Counts by action type / migration type, hosts touched, efficacy, warnings: for reports."""
    by_type, by_mig = {}, {}
    hosts = set()
    for a in plan.get("actions", []):
        by_type[a["type"]] = by_type.get(a["type"], 0) + 1
        if a["type"] == "migrate":
            m = a["input"].get("migration_type")
            by_mig[m] = by_mig.get(m, 0) + 1
        hosts.update(h for h in hosts_of(a) if a["type"] != "volume_migrate")
    waves = plan_waves(plan) if plan.get("actions") else []
    return {
        "id": plan.get("id"),
        "goal": plan.get("goal"),
        "strategy": plan.get("strategy"),
        "actions": len(plan.get("actions", [])),
        "actions_by_type": by_type,
        "migrations_by_type": by_mig,
        "hosts_touched": sorted(hosts),
        "waves": len(waves),
        "efficacy": dict(plan.get("efficacy") or {}),
        "warnings": len(plan.get("warnings") or []),
    }
