# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Destinations: another host, up, enabled, in scope.

Up means the compute service is up and not forced down, the node is not powered off and
its L2 agent is up (a host whose agent is down cannot plug a migrated server's ports).
A disabled host becomes a destination when the plan enables it first (``enable``). Sets
``host_up``, ``host_enabled`` and ``host_ok`` (the three and in scope; strategies may clear
entries of ``host_ok`` to keep servers off a host).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import bool_col, str_col

NAME = "destinations"


def setup(p, opts):
    nodes = p.nodes
    state, power = str_col(nodes, "state"), str_col(nodes, "power_state")
    p.host_up = (
        (state == "up") & ~bool_col(nodes, "forced_down") & (power != "off") & bool_col(nodes, "network_agent_up", True)
    )
    p.host_enabled = str_col(nodes, "status") == "enabled"
    fresh(p)


def fresh(p):
    p.host_ok = p.host_up & p.host_enabled & p.host_in_scope


def enable(p, h):
    """The plan enables host h first (compute_service enable); it becomes a destination."""
    if not (p.host_up[h] and p.host_in_scope[h]):
        raise ValueError("host %s is down or out of scope; enabling it does not make it a destination" % p.hostnames[h])
    if not p.host_enabled[h]:
        p.enabled_by_plan.add(int(h))
    p.host_ok[h] = True


def mask(p, i, src, m):
    m &= p.host_ok
    m[src] = False


def reason(p, i, src, h):
    if h == src:
        return "destination is the current host"
    if not p.host_ok[h]:
        return "host %s is not an enabled, up, in-scope destination" % p.hostnames[h]
    return ""
