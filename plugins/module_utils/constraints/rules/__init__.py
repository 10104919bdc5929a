# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The placement rules, one module each, in the order a refusal is explained.

A rule module keeps everything about its constraint side by side:

``NAME``
    unique name of the rule.
``setup(p, opts)``
    builds the rule's arrays on the state ``p`` from ``p.nodes``/``p.instances`` (or the
    pools) and the options; the attribute names it sets are public (strategies read them).
``mask(p, i, src, m)``
    the vectorised rule: narrows ``m`` (a writable boolean array over hosts, or pools) in
    place to those that may take ``i`` now from ``src``; returns ``False`` when none may,
    which ends the loop (anything else: go on).
``reason(p, i, src, h)``
    the scalar rule: why ``h`` may not take ``i`` now, or ``''``; the same decision as
    ``mask`` for that host, worded for a person.
``active(p)`` (optional)
    False when the rule cannot refuse anything in this model: the hot loops skip it.
``moved(p, i, src, dst)`` (optional)
    updates the rule's state when ``i`` moves (a rollback moves it back).
``fresh(p)`` (optional)
    gives ``p``, a copy of a state, its own copy of the rule's mutable arrays.

A new rule is one new module listed below. ``COMPUTE`` also fixes the order of setup (a
rule may read what an earlier one built) and of the checks in ``allowed`` (the first
refusal is the one reported).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules import (
    aggregates,
    capacity,
    destinations,
    device_ports,
    migratability,
    server_groups,
    traits,
    volume_capacity,
    volume_state,
    volume_types,
    zones,
)

# servers onto compute hosts (Placement)
COMPUTE = (migratability, destinations, zones, capacity, traits, device_ports, aggregates, server_groups)

# volumes onto Cinder pools (VolumePlacement)
VOLUME = (volume_state, volume_types, volume_capacity)


class RuleLoop:
    """Rule modules looped over like a list of predicates, for a state ``p`` (Placement or
    VolumePlacement): the masks, the reasons and the movers, in the order given."""

    def __init__(self, modules):
        self.masks = tuple(r.mask for r in modules)
        self.reasons = tuple(r.reason for r in modules)
        self.movers = tuple(r.moved for r in modules if hasattr(r, "moved"))

    def narrow(self, p, i, src, m):
        """``m`` narrowed in place by every mask; False as soon as one leaves no destination."""
        for mask in self.masks:
            if mask(p, i, src, m) is False:
                return False
        return True

    def refusal(self, p, i, src, dst):
        """Why ``dst`` may not take ``i``: the first rule that refuses says it; else ''."""
        for reason in self.reasons:
            why = reason(p, i, src, dst)
            if why:
                return why
        return ""

    def moved(self, p, i, src, dst):
        """Tell the rules that keep state that ``i`` moved from ``src`` to ``dst``."""
        for moved in self.movers:
            moved(p, i, src, dst)
