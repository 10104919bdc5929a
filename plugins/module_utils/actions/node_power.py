# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Power a host on, off or reboot it through Ironic (openstacksdk) or MAAS (python-libmaas).

Powering off or rebooting is refused, unless forced, while the linked compute host still
runs instances or its nova-compute service is enabled — or when no compute hostname is
given, since then nobody can tell.

A power-off within the power hysteresis of the host's last power-on is refused too (no
flapping, as VMware DPM does): power-ons are recorded in the storm guard ledger of the cloud
(module_utils/storm_guard.py), which outlives the run. ``ctx["power_guard"]`` is the
module's parameters, of which ``cloud``, ``guard_dir`` and ``power_hysteresis`` are read;
without it, no hysteresis.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import asyncio

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    Action,
    ActionError,
    RefusedAction,
    input_field,
    none_if_not_found,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.nova import compute_service, servers_on_host
from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import GuardError, power_guard

POWER_TIMEOUT_S = 300
IRONIC_TARGET = {"on": "power on", "off": "power off", "reboot": "rebooting"}


def _ironic_state(conn, node_id):
    node = none_if_not_found(lambda: conn.baremetal.get_node(node_id))
    if node is None:
        return None
    return {
        "id": node.id,
        "name": node.name,
        "power_state": _short(node.power_state),
        "target_power_state": _short(node.target_power_state),
        "maintenance": bool(node.is_maintenance),
    }


def _short(state):
    """Ironic's "power on"/"power off" as on/off; None stays None."""
    if not state:
        return None
    return state.replace("power ", "") if state.startswith("power ") else state


def _ensure_event_loop():
    # python-libmaas calls asyncio.get_event_loop(), which has no loop in worker threads.
    try:
        asyncio.get_event_loop()
    except RuntimeError:
        asyncio.set_event_loop(asyncio.new_event_loop())


class NodePowerAction(Action):
    type = "node_power"

    backend = input_field("backend")
    node_id = input_field("node_id")
    hostname = input_field("hostname")
    target = input_field("state")

    # -- backends -------------------------------------------------------------------
    @property
    def maas(self):
        client = self.ctx.get("maas")
        if client is None:
            raise ActionError("node_power with backend maas needs MAAS credentials (maas_url, maas_api_key)")
        if callable(client) and not hasattr(client, "machines"):
            _ensure_event_loop()
            # Building the client reads MAAS's API description: a 5xx there is transient too.
            client = self.read(client, "connect to MAAS")
            self.ctx["maas"] = client
        return client

    def _maas_machine(self):
        _ensure_event_loop()
        return none_if_not_found(lambda: self.maas.machines.get(system_id=self.node_id))

    def _maas_state(self):
        machine = self._maas_machine()
        if machine is None:
            return None
        power = machine.power_state
        return {
            "id": machine.system_id,
            "name": machine.hostname,
            "power_state": getattr(power, "value", power),
            "target_power_state": None,
            "maintenance": False,
        }

    def node(self):
        if self.backend == "maas":
            return self.read(self._maas_state, "read MAAS machine %s" % self.node_id)
        return self.read(lambda: _ironic_state(self.conn, self.node_id), "read Ironic node %s" % self.node_id)

    # -- flow -------------------------------------------------------------------------
    def observe(self):
        return {"node": self.node()}

    def done(self, state):
        node = state["node"]
        # A reboot is never "already done": the state file is what keeps it from repeating.
        return (
            node is not None
            and self.target != "reboot"
            and not node["target_power_state"]
            and node["power_state"] == self.target
        )

    def in_progress(self, state):
        node = state["node"]
        return node is not None and bool(node["target_power_state"])

    def exists(self, state):
        return state["node"] is not None

    def stale(self, state):
        if state["node"] is None:
            return "%s node %s not found" % (self.backend, self.node_id)
        return None

    # -- power hysteresis ---------------------------------------------------------------
    @property
    def guard_subject(self):
        """The ledger's key for this host: the compute host name, else the node id."""
        return self.hostname or self.node_id

    def _guard(self):
        try:
            return power_guard(self.ctx.get("power_guard") or {}, dry_run=self.check_mode)
        except GuardError as exc:
            raise ActionError("power hysteresis: %s" % exc) from None

    def _refuse_within_hysteresis(self):
        guard = self._guard()
        if guard is None:
            return
        try:
            decision = guard.admit_power_off(self.guard_subject)
        except GuardError as exc:
            raise ActionError("power hysteresis: %s" % exc) from None
        if not decision:
            raise RefusedAction("refusing to power off node %s: %s" % (self.node_id, decision.reason))

    def _record_power_on(self):
        guard = self._guard()
        if guard is None:
            return
        try:
            guard.record_power_on(self.guard_subject)
        except GuardError as exc:
            raise ActionError(
                "powered on node %s, but the power hysteresis cannot record it: %s" % (self.node_id, exc)
            ) from None

    def refuse(self, state):
        # The hysteresis is not a safety check that force lifts: power_hysteresis 0 turns it off.
        if self.target == "off":
            self._refuse_within_hysteresis()
        if self.target == "on" or self.force:
            return
        if not self.hostname:
            raise RefusedAction(
                "refusing to power %s node %s: no compute hostname given to check it is empty (use force)"
                % (self.target, self.node_id)
            )
        servers = self.read(lambda: servers_on_host(self.conn, self.hostname), "list servers on %s" % self.hostname)
        if servers:
            raise RefusedAction(
                "refusing to power %s %s: it still runs %d instance(s) (%s) (use force)"
                % (self.target, self.hostname, len(servers), ", ".join(servers[:5]))
            )
        svc = self.read(lambda: compute_service(self.conn, self.hostname), "read service of %s" % self.hostname)
        if svc is not None and svc["status"] == "enabled":
            raise RefusedAction(
                "refusing to power %s %s: its nova-compute service is enabled (disable it first, or use force)"
                % (self.target, self.hostname)
            )

    def effective_timeout(self, state):
        return float(self.timeout) if self.timeout is not None else POWER_TIMEOUT_S

    def describe(self, state):
        return "power %s %s node %s%s" % (
            self.target,
            self.backend,
            self.node_id,
            " (%s)" % self.hostname if self.hostname else "",
        )

    def diff_view(self, state):
        node = state.get("node") or {}
        return {"power_state": node.get("power_state")}

    def predicted(self, state):
        return {"power_state": "on" if self.target == "reboot" else self.target}

    def execute(self, state):
        if self.backend == "maas":
            self._maas_execute()
        else:
            self.submit(
                lambda: self.conn.baremetal.set_node_power_state(self.node_id, IRONIC_TARGET[self.target]),
                self._ironic_landed,
                self.describe(state),
            )
        if self.target == "on":
            # counted from the power-on request, as DPM counts from its decision
            self._record_power_on()

    def _ironic_landed(self):
        node = _ironic_state(self.conn, self.node_id)
        if node is None:
            return False
        return bool(node["target_power_state"]) or (self.target != "reboot" and node["power_state"] == self.target)

    def _maas_execute(self):
        from maas.client.enum import PowerStopMode  # imported late: only MAAS users need libmaas

        stop_mode = PowerStopMode(self.input.get("stop_mode", "hard"))

        def power_off():
            _ensure_event_loop()
            self._maas_machine().power_off(stop_mode=stop_mode, comment="vigil %s" % (self.id or ""))

        def power_on():
            _ensure_event_loop()
            self._maas_machine().power_on(comment="vigil %s" % (self.id or ""))

        def is_state(wanted):
            return lambda: (self._maas_state() or {}).get("power_state") == wanted

        if self.target in ("off", "reboot"):
            self.submit(power_off, is_state("off"), "power off MAAS machine %s" % self.node_id)
        if self.target == "reboot":
            # MAAS has no reboot: power cycle, waiting for "off" first.
            self._wait_power("off", self.effective_timeout({}))
        if self.target in ("on", "reboot"):
            self.submit(power_on, is_state("on"), "power on MAAS machine %s" % self.node_id)

    def _wait_power(self, wanted, timeout):
        def probe():
            node = self.node()
            if node is None:
                raise ActionError("%s node %s disappeared" % (self.backend, self.node_id))
            if node["power_state"] == "error":
                raise ActionError("%s node %s reports power state error" % (self.backend, self.node_id))
            return node if node["power_state"] == wanted and not node["target_power_state"] else None

        return self.wait_for(probe, timeout, "%s node %s to be powered %s" % (self.backend, self.node_id, wanted))

    def verify(self, state):
        wanted = "on" if self.target == "reboot" else self.target
        return {"node": self._wait_power(wanted, self.effective_timeout(state))}
