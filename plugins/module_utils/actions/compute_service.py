# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Enable or disable the nova-compute service of a host, idempotent on status and reason."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, input_field
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import compute_service

SERVICE_TIMEOUT_S = 60


class ComputeServiceAction(Action):
    type = "compute_service"

    host = input_field("host")
    target = input_field("state")
    reason = input_field("disabled_reason")

    def observe(self):
        return {"service": self.read(lambda: compute_service(self.conn, self.host), "read service of %s" % self.host)}

    def done(self, state):
        svc = state["service"]
        if svc is None or svc["status"] != self.target:
            return False
        # The reason is part of the desired state only when disabling with one.
        return self.target == "enabled" or self.reason is None or svc["disabled_reason"] == self.reason

    def exists(self, state):
        return state["service"] is not None

    def stale(self, state):
        if state["service"] is None:
            return "host %s has no nova-compute service" % self.host
        return None

    def describe(self, state):
        if self.target == "enabled":
            return "enable nova-compute on %s" % self.host
        return "disable nova-compute on %s (reason: %s)" % (self.host, self.reason)

    def diff_view(self, state):
        svc = state.get("service") or {}
        return {"status": svc.get("status"), "disabled_reason": svc.get("disabled_reason")}

    def predicted(self, state):
        if self.target == "enabled":
            return {"status": "enabled", "disabled_reason": None}
        return {"status": "disabled", "disabled_reason": self.reason}

    def _landed(self):
        svc = compute_service(self.conn, self.host)
        return svc is not None and self.done({"service": svc})

    def execute(self, state):
        svc = state["service"]

        def call():
            if self.target == "enabled":
                return self.conn.compute.enable_service(svc["id"], host=self.host, binary="nova-compute")
            return self.conn.compute.disable_service(
                svc["id"], host=self.host, binary="nova-compute", disabled_reason=self.reason
            )

        self.submit(call, self._landed, "%s nova-compute on %s" % (self.target[:-1], self.host))

    def verify(self, state):
        timeout = float(self.timeout) if self.timeout is not None else SERVICE_TIMEOUT_S

        def probe():
            observed = self.observe()
            return observed if self.done(observed) else None

        return self.wait_for(probe, timeout, "nova-compute on %s to be %s" % (self.host, self.target))
