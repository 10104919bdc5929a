# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Aggregate metadata (``aggregate_policy: metadata``): Nova's aggregate filters decide.

The filters themselves are constraints/aggregate_filters.py. Here they become a table: hosts
are grouped by their aggregate metadata, servers by what the filters read of them (extra
specs, project, flavor, required traits); a refusal is computed once per pair of groups and
a mask once per server group. Sets ``agg_filters`` (whether the policy is on) and, when on,
``host_agg_group``/``host_group_meta`` and ``inst_agg_group``/``inst_group_need``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints import aggregate_filters
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import ModelError, as_list, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "aggregates"


def setup(p, opts):
    p.agg_filters = opts["aggregate_policy"] == "metadata"
    if p.agg_filters:
        _host_groups(p)
        _instance_groups(p)
        p._agg_refusals = {}
        p._agg_masks = {}


def _host_groups(p):
    nodes = p.nodes
    meta = nodes["aggregate_metadata"].tolist() if "aggregate_metadata" in nodes.columns else [None] * p.H
    aggs = nodes["aggregates"].tolist() if "aggregates" in nodes.columns else [[]] * p.H
    unknown = [p.hostnames[k] for k in range(p.H) if meta[k] is None and as_list(aggs[k])]
    if unknown:
        raise ModelError(
            "aggregate_policy 'metadata' needs nodes.aggregate_metadata, which this model lacks for %s "
            "(collect it again with compute_model_info, or use aggregate_policy 'same')" % ", ".join(unknown[:5])
        )
    host_keys = [repr(sorted((m or {}).items())) for m in meta]
    groups = {}
    p.host_agg_group = np.array([groups.setdefault(k, len(groups)) for k in host_keys], dtype=np.int64)
    p.host_group_meta = [None] * len(groups)
    for k in range(p.H):
        p.host_group_meta[p.host_agg_group[k]] = meta[k] or {}


def _instance_groups(p):
    inst = p.instances
    specs = inst["extra_specs"].tolist() if "extra_specs" in inst.columns else [None] * p.N
    projects, flavors = str_col(inst, "project_id"), str_col(inst, "flavor_name")
    traits = inst["required_traits"].tolist() if "required_traits" in inst.columns else [None] * p.N
    groups = {}
    p.inst_agg_group = np.zeros(p.N, dtype=np.int64)
    p.inst_group_need = []
    for i in range(p.N):
        need = (
            tuple(aggregate_filters.extra_spec_requirements(specs[i] if isinstance(specs[i], dict) else {})),
            projects[i],
            flavors[i],
            tuple(sorted(str(t) for t in as_list(traits[i]))),
        )
        g = groups.get(need)
        if g is None:
            g = groups[need] = len(p.inst_group_need)
            p.inst_group_need.append(need)
        p.inst_agg_group[i] = g


def active(p):
    return p.agg_filters


def refusal(p, ig, hg):
    """Why hosts of metadata group hg refuse servers of group ig ('' when they take them)."""
    key = (ig, hg)
    why = p._agg_refusals.get(key)
    if why is None:
        reqs, project, flavor, traits = p.inst_group_need[ig]
        why = p._agg_refusals[key] = aggregate_filters.refusal(p.host_group_meta[hg], reqs, project, flavor, traits)
    return why


def aggregate_mask(p, i):
    """Hosts whose aggregate metadata lets server i in."""
    ig = int(p.inst_agg_group[i])
    m = p._agg_masks.get(ig)
    if m is None:
        ok = np.array([not refusal(p, ig, hg) for hg in range(len(p.host_group_meta))], dtype=bool)
        m = p._agg_masks[ig] = ok[p.host_agg_group] if p.H else np.zeros(0, bool)
    return m


def mask(p, i, src, m):
    m &= aggregate_mask(p, i)


def reason(p, i, src, h):
    why = refusal(p, int(p.inst_agg_group[i]), int(p.host_agg_group[h]))
    return "host %s: %s" % (p.hostnames[h], why) if why else ""
