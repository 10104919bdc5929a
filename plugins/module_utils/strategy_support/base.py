# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What every strategy gets (``Context``) and the parameters shared by the moving ones."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import Placement
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np, pd
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList


class StrategyError(ValueError):
    """Bad request (goal, strategy, params, model, scope); the message names the problem."""


# Parameters of every strategy that moves servers (merged into its schema).
MOVE_PARAMS = {
    "allow_cross_az": {"type": "boolean", "default": False, "description": "allow moves between availability zones"},
    "aggregate_policy": {
        "enum": ["same", "metadata", "any"],
        "default": "same",
        "description": "same: a server only moves between hosts of the same aggregates; metadata: Nova's aggregate"
        " filters decide (extra specs, tenant isolation, instance_type, isolated traits); any: ignore aggregates",
    },
    "soft_policies": {
        "enum": ["hard", "ignore"],
        "default": "hard",
        "description": "treat soft-(anti-)affinity server groups as hard, or ignore them",
    },
    "allow_cold_active": {
        "type": "boolean",
        "default": False,
        "description": "cold-migrate ACTIVE servers that cannot live-migrate (they reboot)",
    },
}


def params_schema(properties, required=(), moves=True):
    props = dict(MOVE_PARAMS) if moves else {}
    props.update(properties)
    return {"type": "object", "additionalProperties": False, "properties": props, "required": list(required)}


class Context:
    """Model frames, validated params (defaults applied), scope, and the warnings list."""

    def __init__(self, frames, params, scope):
        self.frames = frames
        self.params = params
        self.scope = scope
        self.warnings = []

    def warn(self, resource, message):
        self.warnings.append({"resource": None if resource is None else str(resource), "message": message})

    def placement(self, **overrides):
        opts = {
            "allow_cross_az": self.params.get("allow_cross_az", False),
            "aggregate_policy": self.params.get("aggregate_policy", "same"),
            "soft_policies": self.params.get("soft_policies", "hard"),
            "allow_cold_active": self.params.get("allow_cold_active", False),
        }
        opts.update(overrides)
        return Placement(self.frames, scope=self.scope, **opts)

    def table(self, name):
        return self.frames.get(name)


def migration_plan(pl, eff):
    """``(actions, efficacy)`` of a strategy that only moves servers: the actions of `pl`'s
    moves, and `eff` with their count and the memory they move."""
    moves = pl.moves()
    eff.update(instance_migrations_count=len(moves), memory_moved_gb=pl.memory_moved_gb(moves))
    return ActionList(pl).build(), eff


def metric_values(frames, resource_type, metric, ids, aggregate="mean"):
    """Values of ``metric`` for ``ids`` (numpy float, NaN where missing) from the metrics table.

    Prefers the requested aggregate; falls back to any aggregate of that metric.
    """
    out = np.full(len(ids), np.nan)
    m = frames.get("metrics")
    if m is None or not len(m):
        return out
    sel = m[(m["resource_type"].astype(str) == resource_type) & (m["metric"].astype(str) == metric)]
    if not len(sel):
        return out
    agg = sel["aggregate"].astype(str)
    pref = sel[agg == aggregate]
    sel = pd.concat([pref, sel[agg != aggregate]]) if len(pref) else sel
    series = sel.drop_duplicates("resource_id", keep="first").set_index(
        sel.drop_duplicates("resource_id", keep="first")["resource_id"].astype(str)
    )["value"]
    return pd.to_numeric(pd.Series(list(ids), dtype=object).astype(str).map(series), errors="coerce").to_numpy(
        dtype=float
    )


def instance_usage(ctx, pl):
    """Measured use per instance (N x 2: vCPUs busy, RAM MiB used) and whether it is measured.

    From the metrics table (cpu_util_pct, ram_used_mb, mean); where a value is missing, the
    allocation (all vCPUs, flavor RAM) stands in and a warning says how many.
    """
    cpu = metric_values(ctx.frames, "instance", "cpu_util_pct", pl.uuids)
    ram = metric_values(ctx.frames, "instance", "ram_used_mb", pl.uuids)
    vcpus = pl.demand[:, 0] + pl.demand[:, 3]
    use = np.stack(
        [
            np.where(np.isnan(cpu), vcpus, vcpus * np.clip(cpu, 0, 100) / 100.0),
            np.where(np.isnan(ram), pl.demand[:, 1], ram),
        ],
        axis=1,
    )
    placed = pl.inst_host >= 0
    for name, values in (("cpu_util_pct", cpu), ("ram_used_mb", ram)):
        n_missing = int(np.isnan(values)[placed].sum())
        if n_missing:
            ctx.warn(
                None,
                "%d of %d instances have no %s metric; their allocations stand in"
                % (n_missing, int(placed.sum()), name),
            )
    return use, ~(np.isnan(cpu) | np.isnan(ram))


def host_usage_capacity(pl):
    """Physical capacity for measured load (H x 2): vCPU total (no overcommit), RAM usable MiB."""
    vcpu = np.maximum(pl.nodes["vcpu_total"].to_numpy(float) + pl.nodes["pcpu_total"].to_numpy(float), 0)
    ram = np.maximum(pl.nodes["memory_mb_total"].to_numpy(float) - pl.nodes["memory_mb_reserved"].to_numpy(float), 0)
    return np.stack([np.where(vcpu > 0, vcpu, 1.0), np.where(ram > 0, ram, 1.0)], axis=1)


def host_load(pl, use):
    """Measured load per host now (H x 2), summed over the instances on it."""
    out = np.zeros((pl.H, use.shape[1]))
    on = pl.inst_host >= 0
    for k in range(use.shape[1]):
        out[:, k] = np.bincount(pl.inst_host[on], weights=use[on, k], minlength=pl.H)
    return out


def host_index(ctx, pl, name, field):
    """Index of hostname ``name`` or StrategyError naming the parameter."""
    h = pl.host_index.get(name)
    if h is None:
        raise StrategyError("params.%s: unknown compute node %r" % (field, name))
    return h


def disable_reason(strategy):
    return "vigil: %s" % strategy
