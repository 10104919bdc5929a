# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Audit scope, as Watcher's compute scope: which hosts and instances a run may touch.

One scope dict, the same for the collect modules (which read only what is in scope) and
the planner (which moves only what is in scope)::

    availability_zones: [az1]          # hosts in these AZs
    host_aggregates: [ssd]             # hosts in any of these aggregates (name or id)
    compute_nodes: [compute-1]         # exact host names
    projects: [<project id>]           # only these projects' instances may move
    exclude:
      compute_nodes: [compute-7]       # never a source or a destination
      host_aggregates: [gpu]
      instances: [<uuid or name>]      # stay where they are (still take capacity)
      projects: [<project id>]
      instance_metadata: {vigil: skip} # every given key equals the value
      instance_tags: [pinned-by-ops]   # any of these tags
      instances_query: "metadata.tier == 'db'"        # JMESPath, see below
      compute_nodes_query: "contains(traits, 'CUSTOM_GPU')"
    compute_nodes_query: "contains(aggregates, 'ssd')"  # only hosts where it is true
    instances_query: "flavor_name != 'm1.huge'"         # only these instances may move

Given inclusions all apply (a host must be in one of the AZs *and* one of the aggregates);
host names match exactly (``compute-1`` is not ``compute-10``). Instances follow their
host: an instance on a host out of scope is out of scope.

A ``*_query`` is a JMESPath expression (what ``json_query`` takes inside ``[?...]``),
evaluated on each row of the ``nodes`` or ``instances`` table as a mapping of column name
to value; the row matches when the result is true in JMESPath's sense (not null, false, an
empty string, list or mapping). Expressions are compiled when the scope is normalised, so a
malformed one fails before any request, naming the expression.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
except ImportError:  # pragma: no cover - openstacksdk depends on it; the error says so if absent
    jmespath = None
    JMESPathError = ValueError

NAME_KEYS = ("availability_zones", "host_aggregates", "compute_nodes", "projects")
QUERY_KEYS = ("compute_nodes_query", "instances_query")
SCOPE_KEYS = NAME_KEYS + QUERY_KEYS + ("exclude",)
EXCLUDE_KEYS = (
    "instances",
    "compute_nodes",
    "projects",
    "host_aggregates",
    "instance_metadata",
    "instance_tags",
) + QUERY_KEYS


class ScopeError(ValueError):
    """The scope is malformed or matches nothing; the message names the key."""


def _names(value, where):
    if value is None:
        return None
    if isinstance(value, (str, int)):
        value = [value]
    if not isinstance(value, (list, tuple)):
        raise ScopeError("%s must be a list of names, got %s" % (where, type(value).__name__))
    out = []
    for item in value:
        if isinstance(item, dict):  # Watcher's form: [{name: az1}] / [{uuid: ...}] / [{id: 3}]
            item = item.get("name", item.get("uuid", item.get("id")))
        if item is None or isinstance(item, (list, dict)):
            raise ScopeError("%s has an entry that is not a name: %r" % (where, item))
        out.append(str(item))
    return out


def _query(value, where):
    """A JMESPath expression, checked to compile; None when not given."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ScopeError("%s must be a JMESPath expression (a string), got %s" % (where, type(value).__name__))
    if jmespath is None:
        raise ScopeError("%s needs the jmespath Python package where vigil runs" % where)
    try:
        jmespath.compile(value)
    except JMESPathError as exc:
        raise ScopeError("%s: bad JMESPath expression %r: %s" % (where, value, exc)) from exc
    return value


def _check_keys(value, where, known):
    """ScopeError unless `value` is a mapping whose keys are all `known`."""
    if not isinstance(value, dict):
        raise ScopeError("%s must be a mapping, got %s" % (where, type(value).__name__))
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ScopeError("unknown %s keys: %s (known: %s)" % (where, ", ".join(unknown), ", ".join(known)))


def normalize(scope):
    """A validated copy of `scope` with lists of strings; ``{}`` for no scope."""
    if not scope:
        return {}
    _check_keys(scope, "scope", SCOPE_KEYS)
    out = {}
    for key in NAME_KEYS:
        names = _names(scope.get(key), "scope." + key)
        if names is not None:
            out[key] = names
    for key in QUERY_KEYS:
        query = _query(scope.get(key), "scope." + key)
        if query is not None:
            out[key] = query
    ex = scope.get("exclude") or {}
    _check_keys(ex, "scope.exclude", EXCLUDE_KEYS)
    exclude = {}
    for key in ("instances", "compute_nodes", "projects", "host_aggregates", "instance_tags"):
        names = _names(ex.get(key), "scope.exclude." + key)
        if names:
            exclude[key] = names
    md = ex.get("instance_metadata")
    if md:
        if not isinstance(md, dict):
            raise ScopeError("scope.exclude.instance_metadata must be a mapping of key: value")
        exclude["instance_metadata"] = dict((str(k), str(v)) for k, v in md.items())
    for key in QUERY_KEYS:
        query = _query(ex.get(key), "scope.exclude." + key)
        if query is not None:
            exclude[key] = query
    if exclude:
        out["exclude"] = exclude
    return out


def from_module_params(params):
    """The scope dict from compute_model_info's options (None/empty options dropped)."""
    scope = dict((k, params.get(k)) for k in SCOPE_KEYS[:-1] if params.get(k))
    ex = dict((k, v) for k, v in (params.get("exclude") or {}).items() if v)
    if ex:
        scope["exclude"] = ex
    return normalize(scope)


def _str_array(df, col):
    if col not in df.columns:
        return np.array([""] * len(df), dtype=object)
    return df[col].astype(object).where(df[col].notna(), "").astype(str).to_numpy(dtype=object)


def _list_column(df, col):
    if col not in df.columns:
        return [()] * len(df)
    return [
        v
        if isinstance(v, (list, tuple))
        else (list(v) if v is not None and hasattr(v, "__iter__") and not isinstance(v, (str, dict)) else ())
        for v in df[col]
    ]


def _native(value):
    """A cell as JMESPath expects it: lists (not tuples or arrays), null for NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (tuple, set)) or (np is not None and isinstance(value, np.ndarray)):
        return [_native(v) for v in value]
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return dict((k, _native(v)) for k, v in value.items())
    return value.item() if np is not None and isinstance(value, np.generic) else value


def _truthy(value):
    """JMESPath's truth: null, false, "", [] and {} are false; every number is true."""
    return not (value is None or value is False or (isinstance(value, (str, list, dict)) and not value))


def _fields(node, found):
    """Names an expression's AST reads; None when it reads the whole row (``@``)."""
    if node.get("type") == "current":
        return None
    if node.get("type") == "field":
        found.add(node.get("value"))
    for child in node.get("children") or ():
        if isinstance(child, dict) and _fields(child, found) is None:
            return None
    return found


def query_mask(frame, expression, where, id_column):
    """Boolean array over `frame`: rows where the JMESPath `expression` is true. A row the
    expression cannot be evaluated on (a function given the wrong type) is an error naming
    the expression and the row."""
    compiled = jmespath.compile(expression)
    fields = _fields(compiled.parsed, set())
    # only the columns the expression names go into the rows: building rows is the cost
    cols = [c for c in frame.columns if fields is None or c in fields]
    values = [[_native(v) for v in frame[c].tolist()] for c in cols]
    out = np.zeros(len(frame), dtype=bool)
    for k in range(len(frame)):
        row = dict((c, column[k]) for c, column in zip(cols, values))
        try:
            out[k] = _truthy(compiled.search(row))
        except JMESPathError as exc:
            name = frame[id_column].iloc[k] if id_column in frame.columns else k
            raise ScopeError(
                "%s: JMESPath expression %r fails on %s %s: %s" % (where, expression, id_column, name, exc)
            ) from exc
    return out


def host_mask(nodes, scope):
    """Boolean array over `nodes`: hosts in scope."""
    scope = normalize(scope)
    mask = np.ones(len(nodes), dtype=bool)
    hostnames = _str_array(nodes, "hostname")
    aggs = [set(str(a) for a in v) for v in _list_column(nodes, "aggregates")]
    if "availability_zones" in scope:
        mask &= np.isin(_str_array(nodes, "az"), scope["availability_zones"])
    if "host_aggregates" in scope:
        want = set(scope["host_aggregates"])
        mask &= np.array([bool(a & want) for a in aggs], dtype=bool)
    if "compute_nodes" in scope:
        mask &= np.isin(hostnames, scope["compute_nodes"])
    ex = scope.get("exclude", {})
    if "compute_nodes" in ex:
        mask &= ~np.isin(hostnames, ex["compute_nodes"])
    if "host_aggregates" in ex:
        bad = set(ex["host_aggregates"])
        mask &= ~np.array([bool(a & bad) for a in aggs], dtype=bool)
    if "compute_nodes_query" in scope:
        mask &= query_mask(nodes, scope["compute_nodes_query"], "scope.compute_nodes_query", "hostname")
    if "compute_nodes_query" in ex:
        mask &= ~query_mask(nodes, ex["compute_nodes_query"], "scope.exclude.compute_nodes_query", "hostname")
    return mask


def instance_mask(instances, scope, hosts_in_scope=None):
    """Boolean array over `instances`: instances that may move. `hosts_in_scope`: the
    hostnames in scope (instances on other hosts are out)."""
    scope = normalize(scope)
    mask = np.ones(len(instances), dtype=bool)
    projects = _str_array(instances, "project_id")
    if "projects" in scope:
        mask &= np.isin(projects, scope["projects"])
    ex = scope.get("exclude", {})
    if "instances" in ex:
        mask &= ~(
            np.isin(_str_array(instances, "uuid"), ex["instances"])
            | np.isin(_str_array(instances, "name"), ex["instances"])
        )
    if "projects" in ex:
        mask &= ~np.isin(projects, ex["projects"])
    if "instance_metadata" in ex:
        want = ex["instance_metadata"]
        metas = instances["metadata"] if "metadata" in instances.columns else [{}] * len(instances)
        mask &= ~np.array(
            [isinstance(m, dict) and all(k in m and str(m[k]) == v for k, v in want.items()) for m in metas], dtype=bool
        )
    if "instance_tags" in ex:
        bad = set(ex["instance_tags"])
        mask &= ~np.array([bool(set(t) & bad) for t in _list_column(instances, "tags")], dtype=bool)
    if "instances_query" in scope:
        mask &= query_mask(instances, scope["instances_query"], "scope.instances_query", "uuid")
    if "instances_query" in ex:
        mask &= ~query_mask(instances, ex["instances_query"], "scope.exclude.instances_query", "uuid")
    if hosts_in_scope is not None:
        mask &= np.isin(_str_array(instances, "host"), list(hosts_in_scope))
    return mask


def resolve(nodes, instances, scope):
    """``(host_mask, instance_mask)``; raises ScopeError when no host is in scope."""
    hosts = host_mask(nodes, scope)
    if len(nodes) and not hosts.any():
        raise ScopeError("the scope matches no compute node")
    names = _str_array(nodes, "hostname")[hosts]
    return hosts, instance_mask(instances, scope, names)


def apply(tables, scope):
    """Tables restricted to the scope's hosts: ``nodes`` in scope, ``instances`` on them
    (excluded instances stay: they take capacity), ``server_groups`` unchanged.
    Returns ``(tables, movable)`` where `movable` is the instance mask over the result."""
    nodes, instances = tables["nodes"], tables["instances"]
    if not normalize(scope):
        return dict(tables), np.ones(len(instances), dtype=bool)
    hosts = host_mask(nodes, scope)
    if len(nodes) and not hosts.any():
        raise ScopeError("the scope matches no compute node")
    kept_nodes = nodes[hosts].reset_index(drop=True)
    names = set(_str_array(kept_nodes, "hostname"))
    on_hosts = np.isin(_str_array(instances, "host"), list(names))
    kept_instances = instances[on_hosts].reset_index(drop=True)
    out = dict(tables)
    out["nodes"] = kept_nodes
    out["instances"] = kept_instances
    return out, instance_mask(kept_instances, scope, names)
