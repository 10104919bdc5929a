# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The plan's dependency graph, once: cycles, levels, children and descendants (on graphlib).

Actions are plan actions (``{"id", "parents", ...}``); ids and parents that are not strings
are left out (validation reports them), so a hand-edited plan cannot crash these.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import graphlib


def _str_items(value):
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def parents_map(actions):
    """id -> its string parents, for the actions with a string id."""
    out = {}
    for a in actions:
        if isinstance(a, dict) and isinstance(a.get("id"), str):
            out.setdefault(a["id"], []).extend(_str_items(a.get("parents")))
    return out


def find_cycle(actions):
    """One cycle of action ids (a list whose first and last item are the same id) or None."""
    try:
        graphlib.TopologicalSorter(parents_map(actions)).prepare()
    except graphlib.CycleError as exc:
        return list(exc.args[1])
    return None


def children_map(actions):
    """id -> ids of the actions naming it as a parent, in plan order."""
    children = {a["id"]: [] for a in actions}
    for a in actions:
        for p in a.get("parents") or ():
            children[p].append(a["id"])
    return children


def levels(actions):
    """Action ids by DAG level (a level's parents are all in earlier levels), plan order within one."""
    graph = parents_map(actions)
    level = {}
    for aid in graphlib.TopologicalSorter(graph).static_order():
        level[aid] = 1 + max([level[p] for p in graph.get(aid, ())] or [0])
    out = {}
    for a in actions:
        out.setdefault(level[a["id"]], []).append(a["id"])
    return [out[k] for k in sorted(out)]


def descendants(children, aid):
    """Every action that depends on `aid`, directly or not, nearest first."""
    seen, order = set(), []
    queue = collections.deque(children[aid])
    while queue:
        nxt = queue.popleft()
        if nxt not in seen:
            seen.add(nxt)
            order.append(nxt)
            queue.extend(children[nxt])
    return order
