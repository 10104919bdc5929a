# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Resize a server to a flavor: resize, wait VERIFY_RESIZE, confirm (revert when the flavor is wrong)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, ActionError, input_field
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import (
    ServerActionMixin,
    settled,
)

BASE_S, PER_GIB_S = 600, 30


class ResizeAction(ServerActionMixin, Action):
    type = "resize"

    flavor = input_field("flavor")

    def observe(self):
        return {"server": self.server()}

    def _flavor(self):
        flavor = self.read(lambda: self.conn.compute.find_flavor(self.flavor, ignore_missing=True), "find flavor")
        if flavor is None:
            raise ActionError("flavor %s not found" % self.flavor)
        return flavor

    def _matches(self, server):
        return server["flavor_name"] == self.flavor or server["flavor_name"] == getattr(self, "_flavor_name", None)

    def done(self, state):
        server = state["server"]
        return (
            server is not None
            and settled(server)
            and server["status"] not in ("VERIFY_RESIZE", "ERROR")
            and self._matches(server)
        )

    def stale(self, state):
        gone = self.server_gone(state)
        if gone:
            return gone
        server = state["server"]
        if not self.in_progress(state) and server["status"] not in ("ACTIVE", "SHUTOFF"):
            return "server %s is %s; resize needs ACTIVE or SHUTOFF" % (self.resource, server["status"])
        return None

    def in_progress(self, state):
        server = state["server"]
        return server is not None and (
            server["status"] in ("RESIZE", "VERIFY_RESIZE") or (server["task_state"] or "").startswith("resize")
        )

    def effective_timeout(self, state):
        if self.timeout is not None:
            return float(self.timeout)
        return BASE_S + PER_GIB_S * ((state["server"] or {}).get("memory_mb") or 0) / 1024.0

    def describe(self, state):
        server = state.get("server") or {}
        return "resize server %s from %s to %s" % (self.resource, server.get("flavor_name"), self.flavor)

    def diff_view(self, state):
        server = state.get("server") or {}
        return {"flavor": server.get("flavor_name"), "status": server.get("status"), "host": server.get("host")}

    def predicted(self, state):
        after = self.diff_view(state)
        after["flavor"] = self.flavor
        return after

    def execute(self, state):
        flavor = self._flavor()
        self._flavor_name = flavor.name
        self.submit(
            lambda: self.conn.compute.resize_server(self.resource, flavor.id),
            lambda: not settled(self.server()) or self.server()["status"] == "VERIFY_RESIZE",
            "resize of %s" % self.resource,
        )

    def verify(self, state):
        timeout = self.effective_timeout(state)
        before = (state["server"] or {}).get("status")
        expected = self.postcondition.get("status") or (before if before in ("ACTIVE", "SHUTOFF") else None)
        server = self.wait_status(("VERIFY_RESIZE",), timeout, "resize of %s" % self.resource)
        if server["status"] != "VERIFY_RESIZE":
            if not self._matches(server):
                raise ActionError(
                    "resize of %s failed: flavor is %s (%s)" % (self.resource, server["flavor_name"], server["status"])
                )
            return {"server": server}

        def ok(srv):
            if not self._matches(srv):
                return "resize of %s produced flavor %s, expected %s" % (self.resource, srv["flavor_name"], self.flavor)
            return None

        return {"server": self.finish_resize(server, timeout, ok, expected)}
