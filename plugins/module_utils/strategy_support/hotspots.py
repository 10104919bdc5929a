# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Shared by outlet_temperature, uniform_airflow and noisy_neighbor: relieve hot hosts.

``relieve(pl, hot, cool, per_host, pick)`` moves up to ``per_host`` servers off each hot
host (hottest first) onto the allowed cool host with the lowest score; ``pick(insts)``
orders the candidates of a host. Hosts without the metric are neither hot nor cool.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np


def largest_first(pl):
    """An `order` for `relieve`: the servers with the most memory first (ties keep their order)."""
    size = pl.demand[:, 1]
    return lambda ii: ii[np.argsort(-size[ii], kind="stable")]


def relieve(ctx, pl, heat, hot, cool, per_host, order=None):
    for s in np.nonzero(hot)[0][np.argsort(-heat[hot], kind="stable")]:
        insts = pl.instances_on(s)
        insts = insts[pl.movable[insts]]
        if order is not None:
            insts = order(insts)
        moved = 0
        for i in insts:
            if moved >= per_host:
                break
            idx = np.nonzero(pl.candidates(i, cool))[0]
            if not len(idx):
                continue
            pl.move(i, int(idx[np.argmin(heat[idx])]), check=False)
            moved += 1
        if not moved:
            ctx.warn(pl.hostnames[s], "stays hot: no server can move to a cooler allowed host")


def metric_warning(ctx, name, values):
    if np.isnan(values).all():
        ctx.warn(None, "no %s metric for any compute node: nothing to do" % name)
        return True
    if np.isnan(values).any():
        ctx.warn(
            None,
            "%d compute nodes have no %s metric: they are neither sources nor destinations"
            % (int(np.isnan(values).sum()), name),
        )
    return False
