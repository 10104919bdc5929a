# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Action type -> executor class, as named in docs/plan.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.compute_service import ComputeServiceAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.migrate import MigrateAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.node_power import NodePowerAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nop import NopAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.resize import ResizeAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.sleep import SleepAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.stop import StopAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.volume_migrate import VolumeMigrateAction

EXECUTORS = {
    cls.type: cls
    for cls in (
        MigrateAction,
        ResizeAction,
        ComputeServiceAction,
        VolumeMigrateAction,
        NodePowerAction,
        StopAction,
        NopAction,
        SleepAction,
    )
}


def executor_for(action, ctx=None, executors=None):
    """Executor instance for one plan action; ActionError naming an unknown type."""
    from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import ActionError

    table = executors or EXECUTORS
    cls = table.get(action.get("type"))
    if cls is None:
        raise ActionError("unknown action type %r (known: %s)" % (action.get("type"), ", ".join(sorted(table))))
    return cls(action, ctx)
