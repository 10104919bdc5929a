# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Zones: a server stays in its availability zone and, by default, its aggregate set.

Hosts get a zone number (``zone``) from their availability zone (unless ``allow_cross_az``)
and, with ``aggregate_policy`` 'same', the set of aggregates they belong to; a server moves
only within its host's zone. 'metadata' evaluates Nova's aggregate filters instead
(rules/aggregates.py); 'any' ignores aggregates.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import as_list, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "zones"

AGGREGATE_POLICIES = ("same", "metadata", "any")


def setup(p, opts):
    nodes, policy = p.nodes, opts["aggregate_policy"]
    if policy not in AGGREGATE_POLICIES:
        raise ValueError("aggregate_policy must be one of %s" % ", ".join(AGGREGATE_POLICIES))
    key = np.full(p.H, "", dtype=object)
    if not opts["allow_cross_az"]:
        key = key + str_col(nodes, "az")
    if policy == "same":
        aggsig = (
            np.array(["|".join(sorted(str(a) for a in as_list(v))) for v in nodes["aggregates"]], dtype=object)
            if "aggregates" in nodes.columns
            else np.full(p.H, "", object)
        )
        key = key + "#" + aggsig
    p.zone = np.unique(key.astype(str), return_inverse=True)[1] if p.H else np.zeros(0, int)
    fresh(p)


def fresh(p):
    p._zone_masks = {}


def zone_mask(p, z):
    """Hosts of zone z (cached: strategies ask for the same few zones over and over)."""
    m = p._zone_masks.get(z)
    if m is None:
        m = p._zone_masks[z] = p.zone == z
    return m


def mask(p, i, src, m):
    m &= zone_mask(p, p.zone[src])


def reason(p, i, src, h):
    if p.zone[h] != p.zone[src]:
        return "host %s is in another availability zone or aggregate set than %s" % (p.hostnames[h], p.hostnames[src])
    return ""
