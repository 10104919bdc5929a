# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""dummy: a fixed plan of nop and sleep actions (Watcher's dummy), for testing the pipeline."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.planner import ActionList
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support.base import params_schema

NAME = "dummy"
GOAL = "dummy"
TABLES = ()
DESCRIPTION = "Two nop actions and a sleep, whatever the model (tests the apply pipeline)."
PARAMS = params_schema(
    {
        "para1": {"type": "number", "minimum": 0, "maximum": 10, "default": 3.2, "description": "sleep duration (s)"},
        "para2": {"type": "string", "default": "hello", "description": "message of the nop actions"},
    },
    moves=False,
)


def run(ctx):
    p = ctx.params
    acts = ActionList()
    acts.extra.append(("nop", "dummy", {"message": p["para2"]}, {}, []))
    acts.extra.append(("nop", "dummy", {"message": "Welcome"}, {}, []))
    acts.extra.append(("sleep", "dummy", {"duration": p["para1"]}, {}, ["a1", "a2"]))
    return acts.build(), {}
