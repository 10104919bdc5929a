# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Watcher's ``sleep``: waits `duration` seconds between actions (skipped in check mode)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, ActionTimeout


class SleepAction(Action):
    type = "sleep"

    def run(self, check_mode=False):
        self.validate()
        duration = float(self.input["duration"])
        if self.timeout is not None and duration > float(self.timeout):
            # Every wait is bounded by the timeout; sleeping it out first would only delay the error.
            raise ActionTimeout("sleep of %ss is longer than the timeout of %ss" % (duration, self.timeout))
        if not check_mode:
            self.poller.pause(duration)
        return {"changed": False, "msg": "slept %ss" % duration, "before": {}, "after": {}, "state": {}}
