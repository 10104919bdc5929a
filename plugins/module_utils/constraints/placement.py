# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The placement state every strategy moves servers through.

``Placement`` holds the cluster as numpy arrays (built by the rules, rules/*.py) and answers
"which hosts can take server i now" (``candidates``: a boolean mask over hosts) and "why not
host h" (``allowed``) by looping over the rules of ``rules.COMPUTE``. ``move`` applies a move
incrementally and re-checks it; ``savepoint``/``rollback`` undo a tentative batch; ``fresh``
starts over on the same model. A move the rules refuse breaks a constraint; strategies only
ever move through ``move``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import rules
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules import aggregates, destinations, zones
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import (
    ModelError,
    ScopeError,
    as_frames,
    require_table,
    str_col,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scopelib
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np, pd


class Placement:
    """Mutable placement state over the model's nodes and instances.

    Options: scope (model/scope.py), allow_cross_az, aggregate_policy ('same' | 'metadata' |
    'any'), soft_policies ('hard' | 'ignore'), allow_live, allow_cold, allow_cold_active
    (cold-migrate ACTIVE servers that cannot go live: a reboot for the user). The rules read
    them in their setup (rules/*.py).
    """

    def __init__(
        self,
        model,
        scope=None,
        allow_cross_az=False,
        aggregate_policy="same",
        soft_policies="hard",
        allow_live=True,
        allow_cold=True,
        allow_cold_active=False,
    ):
        self._load(model)
        self._locate(scope)
        opts = {
            "scope": scope,
            "allow_cross_az": allow_cross_az,
            "aggregate_policy": aggregate_policy,
            "soft_policies": soft_policies,
            "allow_live": allow_live,
            "allow_cold": allow_cold,
            "allow_cold_active": allow_cold_active,
        }
        for rule in rules.COMPUTE:
            rule.setup(self, opts)
        # the loops run only the rules that can refuse something in this model
        active = [r for r in rules.COMPUTE if not hasattr(r, "active") or r.active(self)]
        self._rules = rules.RuleLoop(active)
        self._every_host = np.ones(self.H, dtype=bool)
        self.log = []  # (instance, from, to)
        self.enabled_by_plan = set()

    def _load(self, model):
        """The tables, and names <-> indexes of hosts and instances."""
        frames = (
            model
            if isinstance(model, dict) and all(isinstance(v, pd.DataFrame) for k, v in model.items() if k != "meta")
            else as_frames(model)
        )
        self.frames = frames
        nodes = require_table(frames, "nodes").reset_index(drop=True)
        inst = frames.get("instances")
        if inst is None:
            inst = pd.DataFrame(columns=schema.columns("instances"))
        self.nodes, self.instances = nodes, inst.reset_index(drop=True)
        self.H, self.N = len(nodes), len(self.instances)
        self.hostnames = str_col(nodes, "hostname")
        if len(set(self.hostnames)) != self.H:
            raise ModelError("table 'nodes' has duplicate hostnames")
        self.host_index = {h: k for k, h in enumerate(self.hostnames)}
        self.uuids = str_col(self.instances, "uuid")
        self.inst_index = {u: k for k, u in enumerate(self.uuids)}

    def _locate(self, scope):
        """Where instances are, and what the scope covers (model/scope.py): facts the rules read."""
        hosts = str_col(self.instances, "host")
        self.orig_host = np.array([self.host_index.get(h, -1) for h in hosts], dtype=np.int64)
        self.inst_host = self.orig_host.copy()
        self.host_in_scope = scopelib.host_mask(self.nodes, scope)
        if scope and self.H and not self.host_in_scope.any():
            raise ScopeError("the scope matches no compute node")
        # instances follow their host's scope (by index: faster than matching names)
        on_scope_host = (self.orig_host >= 0) & self.host_in_scope[np.maximum(self.orig_host, 0)]
        self.inst_in_scope = (
            scopelib.instance_mask(self.instances, scope) if scope else np.ones(self.N, dtype=bool)
        ) & on_scope_host

    # --- queries -------------------------------------------------------------------------------

    def zone_mask(self, z):
        return zones.zone_mask(self, z)

    def aggregate_mask(self, i):
        """Hosts whose aggregate metadata lets instance i in (aggregate_policy metadata)."""
        return aggregates.aggregate_mask(self, i)

    def candidates(self, i, hosts=None):
        """Boolean mask over hosts that can take instance ``i`` now (source excluded)."""
        m = self._every_host.copy() if hosts is None else np.array(hosts, dtype=bool)
        return m if self._rules.narrow(self, i, self.inst_host[i], m) else np.zeros(self.H, dtype=bool)

    def allowed(self, i, h):
        """Scalar version of ``candidates(i)[h]``, with the reason when refused (or '')."""
        return self._rules.refusal(self, i, self.inst_host[i], h)

    def instances_on(self, h):
        return np.nonzero(self.inst_host == h)[0]

    def host_counts(self):
        """Instances per host (any state) now."""
        hh = self.inst_host[self.inst_host >= 0]
        return np.bincount(hh, minlength=self.H)

    @property
    def used(self):
        return self.cap - self.free

    # --- changes -------------------------------------------------------------------------------

    def move(self, i, h, check=True):
        """Move instance i to host h; raises ValueError naming the broken constraint."""
        if check:
            why = self.allowed(i, h)
            if why:
                raise ValueError("cannot move %s to %s: %s" % (self.uuids[i], self.hostnames[h], why))
        src = int(self.inst_host[i])
        self._apply(i, src, int(h))
        self.log.append((int(i), src, int(h)))

    def _apply(self, i, src, dst):
        self.inst_host[i] = dst
        self._rules.moved(self, i, src, dst)

    def enable(self, h):
        """The plan enables host h first (compute_service enable); it becomes a destination."""
        destinations.enable(self, h)

    def savepoint(self):
        return len(self.log)

    def rollback(self, sp):
        while len(self.log) > sp:
            i, src, dst = self.log.pop()
            self._apply(i, dst, src)  # pylint: disable=arguments-out-of-order  # undo: back from dst to src

    def moves(self):
        """Net moves [(instance, original host, final host)] in order of last move (chains collapsed)."""
        last = {}
        for n, (i, _unused, _unused) in enumerate(self.log):
            last[i] = n
        out = []
        for i, _unused in sorted(last.items(), key=lambda kv: kv[1]):
            if self.inst_host[i] != self.orig_host[i]:
                out.append((i, int(self.orig_host[i]), int(self.inst_host[i])))
        return out

    def fresh(self):
        """A new Placement over the same model and options, nothing moved (for replays)."""
        p = object.__new__(Placement)
        p.__dict__.update(self.__dict__)
        for rule in rules.COMPUTE:
            if hasattr(rule, "fresh"):
                rule.fresh(p)  # its own copy of the rule's mutable state; the moves are undone below
        for i, src, dst in reversed(self.log):
            p._rules.moved(p, i, dst, src)  # pylint: disable=arguments-out-of-order  # undo: back from dst to src
        p.inst_host = self.orig_host.copy()
        p.log = []
        p.enabled_by_plan = set()
        return p

    # --- helpers for strategies ----------------------------------------------------------------

    def migration_type(self, i):
        return self.mig_type[i]

    def memory_moved_gb(self, moves=None):
        moves = self.moves() if moves is None else moves
        return round(float(sum(self.demand[i, 1] for i, _unused, _unused in moves)) / 1024.0, 3)
