# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Required traits: a host takes a server only when it has every trait the server requires.

``req_traits`` maps a server to the columns of its traits in ``host_traits`` (H x traits).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import as_list
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "traits"


def setup(p, opts):
    nodes, inst = p.nodes, p.instances
    host_traits = [set(as_list(t)) for t in nodes["traits"]] if "traits" in nodes.columns else [set()] * p.H
    p.req_traits = {}
    vocab = {}
    if "required_traits" in inst.columns:
        for k, t in enumerate(inst["required_traits"]):
            t = as_list(t)
            if t:
                p.req_traits[k] = np.array([vocab.setdefault(x, len(vocab)) for x in t])
    p.host_traits = np.zeros((p.H, max(len(vocab), 1)), dtype=bool)
    for x, c in vocab.items():
        p.host_traits[:, c] = [x in ht for ht in host_traits]


def active(p):
    return bool(p.req_traits)


def mask(p, i, src, m):
    req = p.req_traits.get(i)
    if req is not None:
        m &= p.host_traits[:, req].all(axis=1)


def reason(p, i, src, h):
    req = p.req_traits.get(i)
    if req is not None and not p.host_traits[h, req].all():
        return "host %s lacks required traits" % p.hostnames[h]
    return ""
