# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Watcher's ``nop``: logs its message, changes nothing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action


class NopAction(Action):
    type = "nop"

    def observe(self):
        return {"message": self.input.get("message", "")}

    def done(self, state):
        self.log("%s: %s" % (self.id, state["message"]))
        return True
