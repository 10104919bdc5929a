# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The constraint layer every strategy goes through (DESIGN.md, "Strategies").

- ``Placement`` (placement.py): servers on compute hosts; ``VolumePlacement`` (volumes.py):
  volumes on Cinder pools. Both loop over their rules for masks and reasons.
- rules/: one module per rule, its vectorised mask and its human reason side by side
  (rules/__init__.py lists them and says what a rule module provides).
- tables.py: model access (frames, columns, scope); replay.py: ordering and checking a plan's
  moves; bounds.py: lower bounds; aggregate_filters.py: Nova's aggregate-metadata filters.

This module re-exports the names strategies use. Modules of this package import each other
by their own names, never through this one, so no import cycle goes through it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.bounds import lower_bound_hosts
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.placement import Placement
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.replay import (
    check_moves,
    final_moves,
    order_moves,
)
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules.capacity import EPS, RCS
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules.server_groups import (
    SERVER_GROUP_POLICIES,
)
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.rules.zones import AGGREGATE_POLICIES
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import (
    ModelError,
    ScopeError,
    as_frames,
    as_list,
    bool_col,
    num_col,
    require_table,
    resolve_scope,
    str_col,
)
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.volumes import VolumePlacement

__all__ = [
    "AGGREGATE_POLICIES",
    "EPS",
    "RCS",
    "SERVER_GROUP_POLICIES",
    "ModelError",
    "Placement",
    "ScopeError",
    "VolumePlacement",
    "as_frames",
    "as_list",
    "bool_col",
    "check_moves",
    "final_moves",
    "lower_bound_hosts",
    "num_col",
    "order_moves",
    "require_table",
    "resolve_scope",
    "str_col",
]
