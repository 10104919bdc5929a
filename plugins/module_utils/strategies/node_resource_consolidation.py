# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""node_resource_consolidation: pack servers by their allocations, release emptied hosts.

Goal server_consolidation. Needs no metric: demand is what Placement allocates. Per zone,
the fewest hosts the servers fit on are kept (packing.pack_zones), then whole hosts are
emptied least-loaded first while the bound is not reached; emptied and already-empty hosts
are disabled after they are drained. Reports the lower bound on hosts in use and the gap.
docs/strategies/node_resource_consolidation.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np
from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import packing
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import disable_reason, params_schema

NAME = "node_resource_consolidation"
GOAL = "server_consolidation"
TABLES = ("nodes", "instances")
DESCRIPTION = "Allocation-based packing: keep the fewest hosts the servers fit on, move the rest, disable the emptied."
PARAMS = params_schema(
    {
        "host_choice": {
            "enum": ["auto", "specify"],
            "default": "specify",
            "description": "specify: the plan names each destination; auto: the Nova scheduler picks it "
            "(hosts being emptied are disabled first so it cannot pick them)",
        },
        "disable_released": {
            "type": "boolean",
            "default": True,
            "description": "disable the compute service of released hosts",
        },
        "max_migrations": {
            "type": ["integer", "null"],
            "minimum": 1,
            "default": None,
            "description": "cap on migrations: the cheapest hosts of the full plan that fit it (never fewer hosts for more)",
        },
        "exact": {
            "type": "boolean",
            "default": False,
            "description": "solve exactly (mixed-integer program, needs scipy) when the scope has at most exact_max_hosts hosts",
        },
        "exact_max_hosts": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
        "exact_time_limit": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 3600,
            "default": 30.0,
            "description": "seconds",
        },
    }
)


def run(ctx):
    deadline = time.monotonic() + ctx.params["exact_time_limit"]  # exact mode's limit covers the whole call
    p = ctx.params
    pl = ctx.placement()
    bounds = packing.zone_bounds(pl)
    bound = int(sum(bounds.values()))
    solved = pl.fresh() if p["exact"] else None
    curve = packing.consolidate(pl, bounds, p["max_migrations"])
    if solved is not None and _exact(ctx, solved, deadline, packing.hosts_in_use(pl) <= bound and bound):
        # The solver's plan only when it is better: never worse than the heuristic's.
        if packing.hosts_in_use(solved) < packing.hosts_in_use(pl):
            pl = solved
        else:
            ctx.exact_optimal = False  # its proof covers the solver's plan, not the one kept
    released = packing.emptied_hosts(pl)
    for i in np.nonzero(~pl.movable & pl.inst_in_scope)[0][:20]:
        ctx.warn(pl.uuids[i], "stays on %s: %s" % (pl.hostnames[pl.inst_host[i]], pl.reason[i]))

    acts = ActionList(pl)
    disabled = []
    if p["disable_released"]:
        first = set(released) if p["host_choice"] == "auto" else ()
        disabled = packing.disable_empty(pl, acts, disable_reason(NAME), first)
    actions = acts.build()
    if p["host_choice"] == "auto":
        for a in actions:
            if a["type"] == "migrate":
                a["input"]["destination_node"] = None
                a["postcondition"]["host"] = None
    eff = packing.consolidation_efficacy(pl, released, bound, disabled)
    eff.update(curve)
    if p["exact"]:
        solver_bound = getattr(ctx, "exact_bound", None)
        if solver_bound is not None:
            eff["exact_solution_bound"] = solver_bound
        # Optimal when the solver proved it, or when the plan meets a bound no plan can beat.
        eff["exact_optimal"] = bool(getattr(ctx, "exact_optimal", False)) or eff["hosts_in_use_after"] <= bound
    return actions, eff


# Share of exact_time_limit kept for what follows the solve (applying it, building the plan).
EXACT_RESERVE = 0.05


def _exact(ctx, pl, deadline, at_bound):
    """Apply the exact solution to ``pl`` by ``deadline`` (monotonic); False (with a warning) if none.

    at_bound: the heuristic's plan meets this lower bound, so no plan does better: no solve.
    """
    from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import exact

    p = ctx.params
    time_left = deadline - time.monotonic() - EXACT_RESERVE * p["exact_time_limit"]  # after scipy's import
    ctx.exact_bound = None
    if not exact.HAS_SCIPY:
        ctx.warn(None, "exact mode needs scipy (pip install scipy); used the heuristic")
        return False
    if int(pl.host_in_scope.sum()) > p["exact_max_hosts"]:
        ctx.warn(None, "exact mode is limited to %d hosts in scope; used the heuristic" % p["exact_max_hosts"])
        return False
    if at_bound:
        ctx.exact_bound, ctx.exact_optimal = at_bound, True
        return False
    out = exact.solve(pl, time_left) if time_left > 0 else None
    if out is None:
        ctx.warn(None, "exact mode found no solution within %s s; used the heuristic" % p["exact_time_limit"])
        return False
    moves, solver_bound, optimal = out
    if p["max_migrations"] is not None and len(moves) > p["max_migrations"]:
        ctx.warn(None, "the exact solution needs %d migrations, over max_migrations; used the heuristic" % len(moves))
        return False
    for i, d in moves:  # a host only sends or only receives: any order fits
        pl.move(i, d)
    if not optimal:
        ctx.warn(None, "exact mode stopped at the time limit: the solution may not be optimal")
    ctx.exact_bound, ctx.exact_optimal = solver_bound, bool(optimal)
    return True
