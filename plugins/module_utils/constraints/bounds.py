# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Lower bounds that efficacy indicators compare plans with."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules.capacity import EPS
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np


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
