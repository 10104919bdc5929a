# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Server groups: anti-affinity (at most ``max_server_per_host`` members per host) and affinity
(every member on one host). Soft policies count as hard unless ``soft_policies: ignore``.

Per group: ``group_ids``, ``group_kind`` ('anti', 'aff', or '' when ignored), ``group_max``,
``group_count`` (members per host index, kept up to date as servers move) and ``group_total``;
``inst_groups`` maps a server to the groups that constrain it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import ModelError, as_list
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "server_groups"

SERVER_GROUP_POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


def setup(p, opts):
    members = _groups(p, p.frames.get("server_groups"), opts["soft_policies"])
    gid_index = {g: k for k, g in enumerate(p.group_ids)}
    if "server_groups" in p.instances.columns:  # a server may name its groups itself
        for k, gl in enumerate(p.instances["server_groups"]):
            for g in as_list(gl):
                if str(g) in gid_index:
                    members[gid_index[str(g)]].add(p.uuids[k])
    p.inst_groups = {}
    p.group_count = []
    for g in range(len(p.group_ids)):
        counts = {}
        idx = [p.inst_index[m] for m in members.get(g, ()) if m in p.inst_index]
        if p.group_kind[g]:
            for i in idx:
                p.inst_groups.setdefault(i, []).append(g)
        for i in idx:
            hh = int(p.orig_host[i])
            if hh >= 0:
                counts[hh] = counts.get(hh, 0) + 1
        p.group_count.append(counts)
    p.group_total = [sum(c.values()) for c in p.group_count]


def _groups(p, sg, soft_policies):
    """Sets group_ids/kind/max from the server_groups table; returns {group: member uuids}."""
    p.group_kind, p.group_max, p.group_ids = [], [], []
    members = {}
    if sg is None or not len(sg):
        return members
    for k, row in enumerate(sg.itertuples(index=False)):
        policy = str(getattr(row, "policy", "") or "")
        if policy not in SERVER_GROUP_POLICIES:
            raise ModelError("server group %s has unknown policy %r" % (getattr(row, "id", k), policy))
        soft = policy.startswith("soft-")
        kind = "" if (soft and soft_policies == "ignore") else ("anti" if "anti" in policy else "aff")
        mx = getattr(row, "max_server_per_host", 1)
        mx = int(mx) if mx is not None and not (isinstance(mx, float) and math.isnan(mx)) and int(mx) > 0 else 1
        p.group_ids.append(str(getattr(row, "id", k)))
        p.group_kind.append(kind)
        p.group_max.append(mx if kind == "anti" else 0)
        members[len(p.group_ids) - 1] = set(str(m) for m in as_list(getattr(row, "members", [])))
    return members


def active(p):
    return bool(p.inst_groups)


def fresh(p):
    p.group_count = [dict(c) for c in p.group_count]


def moved(p, i, src, dst):
    for g in p.inst_groups.get(i, ()):
        c = p.group_count[g]
        c[src] = c.get(src, 0) - 1
        if not c[src]:
            del c[src]
        c[dst] = c.get(dst, 0) + 1


def _group_mask(p, g):
    counts = p.group_count[g]
    if p.group_kind[g] == "anti":
        ok = np.ones(p.H, dtype=bool)
        for h, c in counts.items():
            if c >= p.group_max[g]:
                ok[h] = False
        return ok
    # affinity: every other member must already be on the destination (never the source:
    # rules/destinations.py excludes it)
    others = p.group_total[g] - 1
    if others <= 0:
        return np.ones(p.H, dtype=bool)
    ok = np.zeros(p.H, dtype=bool)
    for h, c in counts.items():
        if c == others:
            ok[h] = True
    return ok


def mask(p, i, src, m):
    for g in p.inst_groups.get(i, ()):
        m &= _group_mask(p, g)


def reason(p, i, src, h):
    for g in p.inst_groups.get(i, ()):
        counts = p.group_count[g]
        if p.group_kind[g] == "anti" and counts.get(h, 0) >= p.group_max[g]:
            return "server group %s (anti-affinity) already has %d member(s) on %s" % (
                p.group_ids[g],
                counts.get(h, 0),
                p.hostnames[h],
            )
        if p.group_kind[g] == "aff" and p.group_total[g] > 1 and counts.get(h, 0) != p.group_total[g] - 1:
            return "server group %s (affinity) members are not all on %s" % (p.group_ids[g], p.hostnames[h])
    return ""
