# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Goals -> strategies, parameter schemas, and ``run()``: model + goal -> validated plan.

Each strategy is a module of this package with NAME, GOAL, TABLES (tables it needs),
DESCRIPTION, PARAMS (JSON schema with defaults and bounds) and ``run(ctx) -> (actions,
efficacy)``. Bad input raises ``StrategyError`` before anything is computed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import importlib

from ansible_collections.vigil.openstack.plugins.module_utils import constraints
from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.constraints import tables
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import Context, StrategyError  # noqa: F401 (re-exported)

_PKG = "ansible_collections.vigil.openstack.plugins.module_utils.strategies."

# goal -> (best strategy first, then the others); the best is the default of the goal.
GOALS = {
    "server_consolidation": ("node_resource_consolidation", "vm_workload_consolidation", "basic"),
    "workload_balancing": ("workload_stabilization", "workload_balance", "storage_capacity_balance"),
    "thermal_optimization": ("outlet_temperature",),
    "airflow_optimization": ("uniform_airflow",),
    "noisy_neighbor": ("noisy_neighbor",),
    "saving_energy": ("saving_energy",),
    "hardware_maintenance": ("zone_migration",),
    "cluster_maintaining": ("host_maintenance",),
    "unclassified": ("actuator",),
    "dummy": ("dummy",),
}


def _module(name):
    try:
        return importlib.import_module(_PKG + name)
    except ImportError:
        return None


def available():
    """{goal: [strategy, ...]} of the strategies implemented in this version (best first)."""
    return dict((g, [s for s in names if _module(s) is not None]) for g, names in GOALS.items())


def strategy_info(name):
    mod = _module(name)
    if mod is None:
        raise StrategyError("unknown strategy %r" % name)
    return {
        "name": mod.NAME,
        "goal": mod.GOAL,
        "description": mod.DESCRIPTION,
        "parameters": copy.deepcopy(mod.PARAMS),
        "tables": list(mod.TABLES),
    }


def apply_defaults(schema, params):
    out = dict(params or {})
    for key, sub in schema.get("properties", {}).items():
        if key not in out and "default" in sub:
            out[key] = copy.deepcopy(sub["default"])
    return out


def resolve(goal, strategy=None):
    """(goal, strategy module) or StrategyError listing the valid names."""
    avail = available()
    if goal not in GOALS:
        raise StrategyError("unknown goal %r; valid goals: %s" % (goal, ", ".join(sorted(GOALS))))
    names = avail[goal]
    if not names:
        raise StrategyError("goal %r has no strategy implemented yet" % goal)
    if strategy is None:
        return goal, _module(names[0])
    if strategy not in names:
        where = [g for g, n in avail.items() if strategy in n]
        hint = " (it belongs to goal %s)" % where[0] if where else ""
        raise StrategyError(
            "unknown strategy %r for goal %r%s; valid strategies: %s" % (strategy, goal, hint, ", ".join(names))
        )
    return goal, _module(strategy)


def check_params(mod, params):
    if params is not None and not isinstance(params, dict):
        raise StrategyError("params must be a mapping, got %s" % type(params).__name__)
    full = apply_defaults(mod.PARAMS, params)
    errors = planlib.validate_schema(full, mod.PARAMS, "params")
    if errors:
        raise StrategyError("invalid parameters for strategy %s: %s" % (mod.NAME, "; ".join(errors)))
    return full


def load(model, tables):
    """Frames of the model; StrategyError if it is not a model or lacks what is needed."""
    if model is None or (isinstance(model, dict) and not [k for k in model if k != "meta"]):
        if not tables:
            return {"meta": {}}
        raise StrategyError("the model is empty")
    try:
        frames = constraints.as_frames(model)
        for t in tables:
            constraints.require_table(frames, t, min_rows=1 if t in ("nodes", "pools") else 0)
    except constraints.ModelError as e:
        raise StrategyError("malformed model: %s" % e) from e
    return frames


def _digest(model, frames):
    meta = model.get("meta") if isinstance(model, dict) else None
    if isinstance(meta, dict) and meta.get("digest"):
        return meta["digest"]
    from ansible_collections.vigil.openstack.plugins.module_utils.model.frame import model_digest

    return model_digest(dict((k, v) for k, v in frames.items() if k != "meta"))


def run(model, goal, strategy=None, params=None, scope=None):
    """Run a strategy over the model and return a validated plan (docs/plan.md)."""
    if tables.np is None or tables.pd is None:
        raise StrategyError("planning needs the Python libraries numpy and pandas (pip install numpy pandas)")
    goal, mod = resolve(goal, strategy)
    full = check_params(mod, params)
    frames = load(model, mod.TABLES)
    if scope is not None and "nodes" in mod.TABLES:
        try:
            constraints.resolve_scope(frames["nodes"], frames.get("instances", frames["nodes"].iloc[0:0]), scope)
        except constraints.ScopeError as e:
            raise StrategyError("bad scope: %s" % e) from e
    ctx = Context(frames, full, scope)
    try:
        actions, efficacy = mod.run(ctx)
    except (constraints.ScopeError, constraints.ModelError) as e:
        raise StrategyError(str(e)) from e
    result = planlib.new_plan(goal, mod.NAME, full, scope, _digest(model, frames), actions, efficacy, ctx.warnings)
    errors = planlib.validate_plan(result)
    if errors:  # a bug in the strategy, never the user's fault
        raise RuntimeError("strategy %s produced an invalid plan: %s" % (mod.NAME, "; ".join(errors[:5])))
    return result
