# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Stop a server (Watcher's ``stop`` action): os-stop, wait SHUTOFF."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, ActionError
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import ServerActionMixin, settled

STOP_TIMEOUT_S = 300


class StopAction(ServerActionMixin, Action):
    type = "stop"

    def observe(self):
        return {"server": self.server()}

    def done(self, state):
        server = state["server"]
        return server is not None and settled(server) and server["status"] == "SHUTOFF"

    def stale(self, state):
        gone = self.server_gone(state, refuse_error=False)  # a server in ERROR cannot be stopped: stale
        if gone:
            return gone
        server = state["server"]
        if not self.in_progress(state) and server["status"] not in ("ACTIVE", "PAUSED", "SUSPENDED"):
            return "server %s is %s and cannot be stopped" % (self.resource, server["status"])
        return None

    def in_progress(self, state):
        server = state["server"]
        return server is not None and server["task_state"] == "powering-off"

    def effective_timeout(self, state):
        return float(self.timeout) if self.timeout is not None else STOP_TIMEOUT_S

    def describe(self, state):
        return "stop server %s" % self.resource

    def diff_view(self, state):
        server = state.get("server") or {}
        return {"status": server.get("status"), "host": server.get("host")}

    def execute(self, state):
        self.submit(
            lambda: self.conn.compute.stop_server(self.resource),
            lambda: self.server()["task_state"] == "powering-off" or self.server()["status"] == "SHUTOFF",
            "stop of %s" % self.resource,
        )

    def verify(self, state):
        server = self.wait_settled(self.effective_timeout(state), "stop of %s" % self.resource)
        if server["status"] != "SHUTOFF":
            raise ActionError("server %s is %s after stop, expected SHUTOFF" % (self.resource, server["status"]))
        return {"server": server}
