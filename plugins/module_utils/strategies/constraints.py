# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The constraint layer every strategy goes through.

``Placement`` holds the cluster state as numpy arrays (free capacity per host and resource
class, where each instance is, server-group counts) and answers "which hosts can take
instance i now" as a boolean mask over hosts; ``move`` applies a move incrementally,
``savepoint``/``rollback`` undo a tentative batch. A move the mask refuses breaks a
constraint; strategies only ever move through ``move`` (which re-checks).

Constraints: capacity per resource class ``(total - reserved) * allocation_ratio - used`` (none
beyond what is used on hosts listed in ``meta.placement_estimated``);
destination up, enabled, not forced down, powered on, in scope (or enabled by the plan);
same availability zone unless allowed; aggregates by ``aggregate_policy``: the same aggregate
set (default), Nova's aggregate-metadata filters (``metadata``) or none (``any``); server groups
(anti-affinity with max_server_per_host, affinity; soft policies as hard unless told);
required traits; instance state and lock (live only ACTIVE, cold only ACTIVE-with-permission
or SHUTOFF, nothing with a task in flight); pinned/PCI/vGPU never live; scope exclusions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

try:
    import numpy as np
    import pandas as pd
except ImportError:  # pragma: no cover - registry.run reports the missing library
    np = pd = None

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scopelib
from ansible_collections.vigil.openstack.plugins.module_utils.strategies import aggregate_filters

RCS = ("VCPU", "MEMORY_MB", "DISK_GB", "PCPU")
EPS = 1e-9

# same: only between hosts of the same aggregates; metadata: Nova's aggregate filters
# (aggregate_filters.py); any: aggregates ignored.
AGGREGATE_POLICIES = ("same", "metadata", "any")

SERVER_GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


class ModelError(ValueError):
    """The model is empty or malformed; the message names the table/column."""


# --- model access -------------------------------------------------------------------------------


# Columns without which a table means nothing (others get the schema's fill values).
ESSENTIAL = {
    "nodes": ("hostname", "status", "state", "vcpu_total", "memory_mb_total", "disk_gb_total"),
    "instances": ("uuid", "host", "status", "vcpus", "memory_mb"),
    "server_groups": ("id", "policy", "members"),
    "volumes": ("id", "pool", "size_gb", "status"),
    "pools": ("name", "total_capacity_gb", "free_capacity_gb"),
    "metrics": ("resource_type", "resource_id", "metric", "value"),
}


# Boolean columns newer than some snapshots, whose schema fill (False) would mean "bad".
OPTIMISTIC_DEFAULTS = {"nodes": {"network_agent_up": True}}


def _from_split(d, table):
    if isinstance(d, pd.DataFrame):
        return d
    if table not in schema.TABLES:
        if isinstance(d, dict) and "columns" in d and "data" in d:
            return pd.DataFrame(d["data"], columns=d["columns"])
        raise ModelError("table '%s' must be a DataFrame or a split mapping {columns, data}" % table)
    if isinstance(d, dict) and d.get("data"):
        missing = [c for c in ESSENTIAL.get(table, ()) if c not in (d.get("columns") or ())]
        if missing:
            raise ModelError("table '%s' lacks columns: %s" % (table, ", ".join(missing)))
    try:
        df = frame.from_split(d, table)
    except (TypeError, ValueError) as e:
        raise ModelError("table '%s': %s" % (table, e)) from e
    # columns added to the schema later: absent means "not known to be bad"
    for col, value in OPTIMISTIC_DEFAULTS.get(table, {}).items():
        if col not in (d.get("columns") or ()):
            df[col] = value
    return df


def as_frames(model):
    """Model (dict of DataFrames or of split tables + meta) -> dict of DataFrames (+ 'meta')."""
    if not isinstance(model, dict):
        raise ModelError("the model must be a mapping of tables, got %s" % type(model).__name__)
    out = {}
    for name, table in model.items():
        if name == "meta":
            out["meta"] = table if isinstance(table, dict) else {}
            continue
        out[name] = _from_split(table, name)
    out.setdefault("meta", {})
    return out


def require_table(frames, table, min_rows=1):
    df = frames.get(table)
    if df is None:
        raise ModelError("the model has no '%s' table" % table)
    cols = schema.columns(table) if table in schema.TABLES else []
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ModelError("table '%s' lacks columns: %s" % (table, ", ".join(missing)))
    if len(df) < min_rows:
        raise ModelError("table '%s' is empty" % table)
    return df


def as_list(v):
    if v is None:
        return []
    if isinstance(v, (list, tuple, set, np.ndarray)):
        return list(v)
    if isinstance(v, float) and math.isnan(v):
        return []
    if isinstance(v, str):
        return [v] if v else []
    return list(v) if hasattr(v, "__iter__") else [v]


def str_col(df, col):
    if col not in df.columns:
        return np.full(len(df), "", dtype=object)
    return df[col].astype(object).where(df[col].notna(), "").astype(str).to_numpy(dtype=object)


def num_col(df, col, default=0.0):
    if col not in df.columns:
        return np.full(len(df), default, dtype=float)
    return pd.to_numeric(df[col], errors="coerce").fillna(default).to_numpy(dtype=float)


def bool_col(df, col, default=False):
    if col not in df.columns:
        return np.full(len(df), default, dtype=bool)
    return df[col].fillna(False).astype(bool).to_numpy()


# --- scope (model/scope.py, shared with the collectors) ----------------------------------------

ScopeError = scopelib.ScopeError


def resolve_scope(nodes, instances, scope):
    """(host_mask, instance_mask) of model/scope.py; ScopeError when it matches no host."""
    return scopelib.resolve(nodes, instances, scope)


# --- the placement state ------------------------------------------------------------------------


class Placement:
    """Mutable placement state over the model's nodes and instances.

    Options: allow_cross_az, aggregate_policy ('same' | 'metadata' | 'any'), soft_policies ('hard' |
    'ignore'), allow_live, allow_cold, allow_cold_active (cold-migrate ACTIVE servers that
    cannot go live: a reboot for the user), destinations (hostnames restricting targets).
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
        inst = inst.reset_index(drop=True)
        self.nodes, self.instances = nodes, inst
        self.H, self.N = len(nodes), len(inst)
        self.hostnames = str_col(nodes, "hostname")
        if len(set(self.hostnames)) != self.H:
            raise ModelError("table 'nodes' has duplicate hostnames")
        self.host_index = {h: k for k, h in enumerate(self.hostnames)}
        self.uuids = str_col(inst, "uuid")
        self.inst_index = {u: k for k, u in enumerate(self.uuids)}

        # capacity and usage, H x R
        self.cap = np.zeros((self.H, len(RCS)))
        used = np.zeros((self.H, len(RCS)))
        for r, rc in enumerate(RCS):
            low = rc.lower()
            total, reserved = num_col(nodes, low + "_total"), num_col(nodes, low + "_reserved")
            ratio = num_col(nodes, low + "_allocation_ratio", 1.0)
            ratio = np.where(ratio > 0, ratio, 1.0)
            self.cap[:, r] = np.maximum(total - reserved, 0) * ratio
            used[:, r] = num_col(nodes, low + "_used")
        # Hosts whose capacity the collector did not read are full: a model collected before
        # summary mode modelled them so may still carry guessed room (docs/model.md).
        estimated = set(as_list((frames.get("meta") or {}).get("placement_estimated")))
        self.host_estimated = np.array([h in estimated for h in self.hostnames], dtype=bool)
        self.cap[self.host_estimated] = np.minimum(self.cap, used)[self.host_estimated]
        self.free = np.asfortranarray(self.cap - used)  # columns contiguous: masks test one class at a time
        n = self.cap.max(axis=0) if self.H else np.ones(len(RCS))
        self.norm = np.where(n > 0, n, 1.0)

        # where instances are
        hosts = str_col(inst, "host")
        self.orig_host = np.array([self.host_index.get(h, -1) for h in hosts], dtype=np.int64)
        self.inst_host = self.orig_host.copy()

        # demand, N x R (nova's resources_from_flavor)
        vcpus = num_col(inst, "vcpus")
        pinned = bool_col(inst, "pinned")
        host_has_pcpu = (self.cap[:, 3] > 0)[np.maximum(self.orig_host, 0)] if self.H else np.zeros(self.N, bool)
        use_pcpu = pinned & host_has_pcpu
        bfv = bool_col(inst, "boot_from_volume")
        disk = (
            np.where(bfv, 0.0, num_col(inst, "disk_gb"))
            + num_col(inst, "ephemeral_gb")
            + np.ceil(num_col(inst, "swap_mb") / 1024.0)
        )
        self.demand = (
            np.stack(
                [np.where(use_pcpu, 0, vcpus), num_col(inst, "memory_mb"), disk, np.where(use_pcpu, vcpus, 0)], axis=1
            )
            if self.N
            else np.zeros((0, len(RCS)))
        )

        # scope
        self.host_in_scope = scopelib.host_mask(nodes, scope)
        if scope and self.H and not self.host_in_scope.any():
            raise ScopeError("the scope matches no compute node")
        # instances follow their host's scope (by index: faster than matching names)
        on_scope_host = (self.orig_host >= 0) & self.host_in_scope[np.maximum(self.orig_host, 0)]
        self.inst_in_scope = (
            scopelib.instance_mask(inst, scope) if scope else np.ones(self.N, dtype=bool)
        ) & on_scope_host

        # destinations: up, enabled, not forced down, powered on, in scope
        status, state = str_col(nodes, "status"), str_col(nodes, "state")
        power = str_col(nodes, "power_state")
        # a host whose L2 agent is down cannot plug a migrated server's ports
        self.host_up = (
            (state == "up")
            & ~bool_col(nodes, "forced_down")
            & (power != "off")
            & bool_col(nodes, "network_agent_up", True)
        )
        self.host_enabled = status == "enabled"
        self.host_ok = self.host_up & self.host_enabled & self.host_in_scope

        # zones: az (unless cross-az) and aggregate signature (unless 'any')
        azs = str_col(nodes, "az")
        aggsig = (
            np.array(["|".join(sorted(str(a) for a in as_list(v))) for v in nodes["aggregates"]], dtype=object)
            if "aggregates" in nodes.columns
            else np.full(self.H, "", object)
        )
        if aggregate_policy not in AGGREGATE_POLICIES:
            raise ValueError("aggregate_policy must be one of %s" % ", ".join(AGGREGATE_POLICIES))
        key = np.full(self.H, "", dtype=object)
        if not allow_cross_az:
            key = key + azs
        if aggregate_policy == "same":
            key = key + "#" + aggsig
        _unused, self.zone = np.unique(key.astype(str), return_inverse=True) if self.H else (None, np.zeros(0, int))
        self._zone_masks = {}
        self.agg_filters = aggregate_policy == "metadata"
        if self.agg_filters:
            self._aggregate_filters(nodes, inst)

        # traits
        host_traits = [set(as_list(t)) for t in nodes["traits"]] if "traits" in nodes.columns else [set()] * self.H
        self.req_traits = {}
        vocab = {}
        if "required_traits" in inst.columns:
            for k, t in enumerate(inst["required_traits"]):
                t = as_list(t)
                if t:
                    self.req_traits[k] = np.array([vocab.setdefault(x, len(vocab)) for x in t])
        self.host_traits = np.zeros((self.H, max(len(vocab), 1)), dtype=bool)
        for x, c in vocab.items():
            self.host_traits[:, c] = [x in ht for ht in host_traits]

        # migration type per instance
        self.mig_type = np.full(self.N, "", dtype=object)
        self.reason = np.full(self.N, "", dtype=object)
        st = np.char.upper(str_col(inst, "status").astype(str)).astype(object)
        self.status = st
        task = str_col(inst, "task_state")
        task = np.where(np.isin(task, ("", "None", "none", "nan", "<NA>")), "", task)
        migr = str_col(inst, "migratable")
        migr = np.where(migr == "", "live", migr)
        no_live = bool_col(inst, "pinned") | bool_col(inst, "pci") | bool_col(inst, "vgpu") | (migr != "live")
        can_cold = np.isin(migr, ("live", "cold"))
        live = (st == "ACTIVE") & ~no_live & allow_live
        cold_active = (st == "ACTIVE") & ~live & can_cold & allow_cold & allow_cold_active
        cold_off = (st == "SHUTOFF") & can_cold & allow_cold
        self.mig_type[live] = "live"
        self.mig_type[cold_active | cold_off] = "cold"
        blocked = bool_col(inst, "locked") | (task != "") | (self.orig_host < 0) | ~self.inst_in_scope
        self.mig_type[blocked] = ""
        self.movable = self.mig_type != ""
        why = np.full(self.N, "", dtype=object)
        why[(st != "ACTIVE") & (st != "SHUTOFF")] = "status does not allow migration"
        why[(st == "ACTIVE") & no_live & ~cold_active] = "cannot be live-migrated"
        why[(st == "SHUTOFF") & ~cold_off] = "cannot be cold-migrated"
        why[task != ""] = "task in progress"
        why[bool_col(inst, "locked")] = "locked"
        why[self.orig_host < 0] = "host not in the model"
        why[~self.inst_in_scope] = "out of scope"
        self.reason = np.where(self.movable, "", why)

        # server groups: per group policy kind, limit, and per-host member counts
        self.group_kind, self.group_max, self.group_ids = [], [], []
        self.inst_groups = {}
        members = {}
        sg = frames.get("server_groups")
        if sg is not None and len(sg):
            for k, row in enumerate(sg.itertuples(index=False)):
                policy = str(getattr(row, "policy", "") or "")
                if policy not in SERVER_GROUP_POLICIES:
                    raise ModelError("server group %s has unknown policy %r" % (getattr(row, "id", k), policy))
                soft = policy.startswith("soft-")
                kind = "" if (soft and soft_policies == "ignore") else ("anti" if "anti" in policy else "aff")
                mx = getattr(row, "max_server_per_host", 1)
                mx = int(mx) if mx is not None and not (isinstance(mx, float) and math.isnan(mx)) and int(mx) > 0 else 1
                self.group_ids.append(str(getattr(row, "id", k)))
                self.group_kind.append(kind)
                self.group_max.append(mx if kind == "anti" else 0)
                members[len(self.group_ids) - 1] = set(str(m) for m in as_list(getattr(row, "members", [])))
        gid_index = {g: k for k, g in enumerate(self.group_ids)}
        if "server_groups" in inst.columns:
            for k, gl in enumerate(inst["server_groups"]):
                for g in as_list(gl):
                    if str(g) in gid_index:
                        members[gid_index[str(g)]].add(self.uuids[k])
        self.group_count = []
        for g in range(len(self.group_ids)):
            counts = {}
            idx = [self.inst_index[m] for m in members.get(g, ()) if m in self.inst_index]
            if self.group_kind[g]:
                for i in idx:
                    self.inst_groups.setdefault(i, []).append(g)
            for i in idx:
                hh = int(self.orig_host[i])
                if hh >= 0:
                    counts[hh] = counts.get(hh, 0) + 1
            self.group_count.append(counts)
        self.group_total = [sum(c.values()) for c in self.group_count]

        self.log = []  # (instance, from, to)
        self.enabled_by_plan = set()

    def _aggregate_filters(self, nodes, inst):
        """Nova's aggregate-metadata filters (aggregate_filters.py) as a table: hosts grouped by
        metadata, instances by what the filters read of them; one mask per pair of groups."""
        meta = nodes["aggregate_metadata"].tolist() if "aggregate_metadata" in nodes.columns else [None] * self.H
        aggs = nodes["aggregates"].tolist() if "aggregates" in nodes.columns else [[]] * self.H
        unknown = [self.hostnames[k] for k in range(self.H) if meta[k] is None and as_list(aggs[k])]
        if unknown:
            raise ModelError(
                "aggregate_policy 'metadata' needs nodes.aggregate_metadata, which this model lacks for %s "
                "(collect it again with compute_model_info, or use aggregate_policy 'same')" % ", ".join(unknown[:5])
            )
        host_keys = [repr(sorted((m or {}).items())) for m in meta]
        host_groups = {}
        self.host_agg_group = np.array([host_groups.setdefault(k, len(host_groups)) for k in host_keys], dtype=np.int64)
        self.host_group_meta = [None] * len(host_groups)
        for k in range(self.H):
            self.host_group_meta[self.host_agg_group[k]] = meta[k] or {}
        specs = inst["extra_specs"].tolist() if "extra_specs" in inst.columns else [None] * self.N
        projects, flavors = str_col(inst, "project_id"), str_col(inst, "flavor_name")
        traits = inst["required_traits"].tolist() if "required_traits" in inst.columns else [None] * self.N
        inst_groups = {}
        self.inst_agg_group = np.zeros(self.N, dtype=np.int64)
        self.inst_group_need = []
        for i in range(self.N):
            need = (
                tuple(aggregate_filters.extra_spec_requirements(specs[i] if isinstance(specs[i], dict) else {})),
                projects[i],
                flavors[i],
                tuple(sorted(str(t) for t in as_list(traits[i]))),
            )
            g = inst_groups.get(need)
            if g is None:
                g = inst_groups[need] = len(self.inst_group_need)
                self.inst_group_need.append(need)
            self.inst_agg_group[i] = g
        self._agg_refusals = {}
        self._agg_masks = {}

    def _agg_refusal(self, ig, hg):
        key = (ig, hg)
        why = self._agg_refusals.get(key)
        if why is None:
            reqs, project, flavor, traits = self.inst_group_need[ig]
            why = self._agg_refusals[key] = aggregate_filters.refusal(
                self.host_group_meta[hg], reqs, project, flavor, traits
            )
        return why

    def aggregate_mask(self, i):
        """Hosts whose aggregate metadata lets instance i in (aggregate_policy metadata)."""
        ig = int(self.inst_agg_group[i])
        m = self._agg_masks.get(ig)
        if m is None:
            ok = np.array([not self._agg_refusal(ig, hg) for hg in range(len(self.host_group_meta))], dtype=bool)
            m = self._agg_masks[ig] = ok[self.host_agg_group] if self.H else np.zeros(0, bool)
        return m

    # --- queries -------------------------------------------------------------------------------

    def zone_mask(self, z):
        m = self._zone_masks.get(z)
        if m is None:
            m = self._zone_masks[z] = self.zone == z
        return m

    def candidates(self, i, hosts=None):
        """Boolean mask over hosts that can take instance ``i`` now (source excluded)."""
        if not self.movable[i]:
            return np.zeros(self.H, dtype=bool)
        src = self.inst_host[i]
        m = self.host_ok & self.zone_mask(self.zone[src])
        if hosts is not None:
            m = m & hosts
        d = self.demand[i]
        for r in np.nonzero(d > 0)[0]:
            m &= self.free[:, r] >= d[r] - EPS
        m[src] = False
        req = self.req_traits.get(i)
        if req is not None:
            m &= self.host_traits[:, req].all(axis=1)
        if self.agg_filters:
            m &= self.aggregate_mask(i)
        for g in self.inst_groups.get(i, ()):
            m &= self._group_mask(g, src)
        return m

    def _group_mask(self, g, src):
        counts = self.group_count[g]
        if self.group_kind[g] == "anti":
            ok = np.ones(self.H, dtype=bool)
            for h, c in counts.items():
                if c >= self.group_max[g]:
                    ok[h] = False
            return ok
        # affinity: every other member must already be on the destination
        others = self.group_total[g] - 1
        if others <= 0:
            return np.ones(self.H, dtype=bool)
        ok = np.zeros(self.H, dtype=bool)
        for h, c in counts.items():
            if c - (1 if h == src else 0) == others:
                ok[h] = True
        return ok

    def allowed(self, i, h):
        """Scalar version of ``candidates(i)[h]``, with the reason when refused (or '')."""
        if not self.movable[i]:
            return "instance %s: %s" % (self.uuids[i], self.reason[i] or "not movable")
        src = self.inst_host[i]
        if h == src:
            return "destination is the current host"
        if not self.host_ok[h]:
            return "host %s is not an enabled, up, in-scope destination" % self.hostnames[h]
        if self.zone[h] != self.zone[src]:
            return "host %s is in another availability zone or aggregate set than %s" % (
                self.hostnames[h],
                self.hostnames[src],
            )
        short = self.demand[i] - self.free[h]
        if (short > EPS).any():
            return "host %s lacks %s%s" % (
                self.hostnames[h],
                ", ".join(RCS[r] for r in np.nonzero(short > EPS)[0]),
                " (capacity not read from Placement: taken as full)" if self.host_estimated[h] else "",
            )
        req = self.req_traits.get(i)
        if req is not None and not self.host_traits[h, req].all():
            return "host %s lacks required traits" % self.hostnames[h]
        if self.agg_filters:
            why = self._agg_refusal(int(self.inst_agg_group[i]), int(self.host_agg_group[h]))
            if why:
                return "host %s: %s" % (self.hostnames[h], why)
        for g in self.inst_groups.get(i, ()):
            counts = self.group_count[g]
            if self.group_kind[g] == "anti" and counts.get(h, 0) >= self.group_max[g]:
                return "server group %s (anti-affinity) already has %d member(s) on %s" % (
                    self.group_ids[g],
                    counts.get(h, 0),
                    self.hostnames[h],
                )
            if self.group_kind[g] == "aff" and self.group_total[g] > 1 and counts.get(h, 0) != self.group_total[g] - 1:
                return "server group %s (affinity) members are not all on %s" % (self.group_ids[g], self.hostnames[h])
        return ""

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
        d = self.demand[i]
        self.free[src] += d
        self.free[dst] -= d
        self.inst_host[i] = dst
        for g in self.inst_groups.get(i, ()):
            c = self.group_count[g]
            c[src] = c.get(src, 0) - 1
            if not c[src]:
                del c[src]
            c[dst] = c.get(dst, 0) + 1

    def enable(self, h):
        """The plan enables host h first (compute_service enable); it becomes a destination."""
        if not (self.host_up[h] and self.host_in_scope[h]):
            raise ValueError(
                "host %s is down or out of scope; enabling it does not make it a destination" % self.hostnames[h]
            )
        if not self.host_enabled[h]:
            self.enabled_by_plan.add(int(h))
        self.host_ok[h] = True

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
        p.free = np.asfortranarray(self._free0())
        p.inst_host = self.orig_host.copy()
        p.host_ok = self.host_up & self.host_enabled & self.host_in_scope
        p.group_count = self._group_count0()
        p._zone_masks = {}
        p.log = []
        p.enabled_by_plan = set()
        return p

    def _free0(self):
        free = self.free.copy()
        for i, src, dst in reversed(self.log):
            d = self.demand[i]
            free[dst] += d
            free[src] -= d
        return free

    def _group_count0(self):
        counts = [dict(c) for c in self.group_count]
        for i, src, dst in reversed(self.log):
            for g in self.inst_groups.get(i, ()):
                c = counts[g]
                c[dst] = c.get(dst, 0) - 1
                if not c[dst]:
                    del c[dst]
                c[src] = c.get(src, 0) + 1
        return counts

    # --- helpers for strategies ----------------------------------------------------------------

    def migration_type(self, i):
        return self.mig_type[i]

    def memory_moved_gb(self, moves=None):
        moves = self.moves() if moves is None else moves
        return round(float(sum(self.demand[i, 1] for i, _unused, _unused in moves)) / 1024.0, 3)


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


def lower_bound_hosts(capacity, demand_total, forced=None):
    """Fewest hosts that can hold ``demand_total`` (per resource), heterogeneous capacities.

    capacity: H x R (usable capacity of candidate hosts), demand_total: R (everything that
    must be placed), forced: H bool (hosts that stay in use whatever happens: unmovable
    instances). Per resource r the bound is |forced| + the fewest non-forced hosts, largest
    first, whose capacity covers what the forced hosts cannot hold; the bound is the max
    over resources (each resource alone is a relaxation).
    """
    capacity = np.asarray(capacity, dtype=float)
    H = capacity.shape[0]
    forced = np.zeros(H, dtype=bool) if forced is None else np.asarray(forced, dtype=bool)
    nf = int(forced.sum())
    best = nf
    for r in range(capacity.shape[1]):
        need = float(demand_total[r]) - float(capacity[forced, r].sum())
        if need <= EPS:
            continue
        caps = np.sort(capacity[~forced, r])[::-1]
        cum = np.cumsum(caps)
        k = int(np.searchsorted(cum, need - EPS)) + 1
        best = max(best, nf + min(k, len(caps)))
    return best
