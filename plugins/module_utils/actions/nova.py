# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Reads of Nova and Placement state shared by the server, service and power executors.

Each function returns plain dicts (or None when the resource does not exist) so that the
executors' decisions can be reasoned about without SDK objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    ActionError,
    RefusedAction,
    none_if_not_found,
)

# Server states an executor waits through; anything else is a settled state.
BUSY_STATUSES = ("MIGRATING", "RESIZE", "REBUILD", "REBOOT", "HARD_REBOOT", "BUILD")


def server_state(conn, server_id):
    """Server as a dict, or None when Nova answers 404."""
    server = none_if_not_found(lambda: conn.compute.get_server(server_id))
    if server is None:
        return None
    flavor = server.flavor or {}
    if not isinstance(flavor, dict):
        flavor = flavor.to_dict() if hasattr(flavor, "to_dict") else dict(flavor)
    return {
        "id": server.id,
        "name": server.name,
        "host": server.compute_host,
        "node": server.hypervisor_hostname,
        "status": (server.status or "").upper(),
        "task_state": server.task_state or None,
        "vm_state": server.vm_state,
        "locked": bool(server.is_locked),
        "flavor_name": flavor.get("original_name") or flavor.get("name"),
        "memory_mb": int(flavor.get("ram") or 0),
        "disk_gb": int(flavor.get("disk") or 0),
    }


def settled(state):
    """The server is not in the middle of a task."""
    return state is not None and not state["task_state"] and state["status"] not in BUSY_STATUSES


def server_in_error(server):
    """Why vigil will not move a server Nova left in ERROR (an operator must look first)."""
    return (
        "server %s is in ERROR on %s: look at its fault (openstack server show), repair it and reset "
        "its state before vigil moves it" % (server["id"], server["host"])
    )


def compute_service(conn, host):
    """The nova-compute service of `host` (exact name) as a dict, or None."""
    for svc in conn.compute.services(binary="nova-compute", host=host):
        if svc.host == host and svc.binary == "nova-compute":
            return {
                "id": svc.id,
                "host": svc.host,
                "status": svc.status,
                "state": svc.state,
                "disabled_reason": svc.disabled_reason or None,
                "forced_down": bool(svc.is_forced_down),
            }
    return None


def servers_on_host(conn, host):
    """Ids of servers (every project, any state) whose compute host is exactly `host`."""
    return sorted(s.id for s in conn.compute.servers(all_projects=True, compute_host=host) if s.compute_host == host)


def allocation_providers(conn, consumer, names=None):
    """Names of the resource providers holding allocations of `consumer`, or None if Placement is absent.

    `names` caches provider uuid -> name (a provider's name does not change).
    """
    names = {} if names is None else names
    try:
        response = conn.placement.get("/allocations/%s" % consumer)
    except Exception as exc:  # noqa: BLE001 - no Placement in the catalog: nothing to check
        if type(exc).__name__ in ("EndpointNotFound", "ServiceDisabledException"):
            return None
        raise
    _raise_for(response)
    uuids = sorted((response.json() or {}).get("allocations", {}))
    for uuid in uuids:
        if uuid not in names:
            names[uuid] = provider_name(conn, uuid)
    return [names[uuid] for uuid in uuids]


def provider_name(conn, uuid):
    """A resource provider's name (for a compute node: its hypervisor hostname)."""
    response = conn.placement.get("/resource_providers/%s" % uuid)
    _raise_for(response)
    return response.json().get("name")


_PROVIDER_UUID = re.compile(
    r"resource provider '?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})'?"
)


def name_providers(conn, text):
    """`text` with each "resource provider <uuid>" followed by the provider's name (the host).

    Nova's capacity refusals quote Placement, which names hosts by provider uuid only.
    A provider that cannot be read keeps its uuid alone: the refusal is what matters.
    """

    def named(match):
        try:
            name = provider_name(conn, match.group(1))
        except Exception:  # noqa: BLE001 - best effort: the error being reported matters more
            name = None
        return "%s (host %s)" % (match.group(0), name) if name else match.group(0)

    return _PROVIDER_UUID.sub(named, text)


def _raise_for(response):
    if response.status_code >= 400:
        from openstack import exceptions  # imported late: keeps this module importable without the SDK

        exceptions.raise_from_response(response)


class ServerActionMixin:
    """Waits shared by the server executors (migrate, resize, stop); mixed into `Action`."""

    @property
    def watcher(self):
        """The run's shared `ServerWatch` (plan_apply), or None: this action polls alone."""
        return self.ctx.get("server_watch")

    def exists(self, state):
        return state["server"] is not None

    def server_gone(self, state, refuse_error=True):
        """ "server <id> not found" when it is gone, else None; with `refuse_error`, RefusedAction
        for a server in ERROR: not stale (the plan still applies) but broken, and skipping it
        would hide the fault."""
        server = state["server"]
        if server is None:
            return "server %s not found" % self.resource
        if refuse_error and server["status"] == "ERROR":
            raise RefusedAction(server_in_error(server))
        return None

    def server(self):
        """The server as Nova shows it now (one read: what `landed` and refusals rely on)."""
        return self.read(lambda: server_state(self.conn, self.resource), "read server %s" % self.resource)

    def observed_server(self, host=None):
        """The server before the action starts: from the run's watch when there is one (one
        listing of `host` serves every action moving a server off it), else read alone."""
        if self.watcher is None:
            return self.server()
        return self.read(
            lambda: self.watcher.server(self.conn, self.resource, host=host), "read server %s" % self.resource
        )

    def wait_server(self, test, timeout, what, migrations=False):
        """Wait until ``test(server state)`` is not None: on the run's watch, else polling alone."""
        if self.watcher is not None:
            return self.watcher.wait(self.conn, self.resource, test, timeout, what, migrations=migrations)

        def probe():
            state = server_state(self.conn, self.resource)
            if state is None:
                raise ActionError("server %s disappeared while waiting for %s" % (self.resource, what))
            return test(state)

        return self.wait_for(probe, timeout, what)

    def wait_settled(self, timeout, what, leaving=(), migrations=False):
        """Wait until the server has no task and is in none of the `leaving` statuses."""
        return self.wait_server(
            lambda state: state if settled(state) and state["status"] not in leaving else None,
            timeout,
            what,
            migrations=migrations,
        )

    def wait_status(self, statuses, timeout, what):
        """Wait until the server is settled or in one of `statuses` (e.g. VERIFY_RESIZE)."""
        return self.wait_server(
            lambda state: state if state["status"] in statuses or settled(state) else None, timeout, what
        )

    def wait_allocations(self, timeout, server=None):
        """Wait until Placement holds the server's allocations on its node only.

        `server`: the state just read, used for the first check instead of reading it again.
        """
        pending = [server] if server is not None else []
        cache = self.ctx.setdefault("provider_names", {})

        def probe():
            state = pending.pop() if pending else server_state(self.conn, self.resource)
            providers = allocation_providers(self.conn, self.resource, cache)
            if providers is None or providers == [state["node"]] or providers == [state["host"]]:
                return state
            return None

        return self.wait_for(probe, timeout, "allocations of %s to move to its host" % self.resource)

    def finish_resize(self, state, timeout, ok, expected_status, confirm=True):
        """From VERIFY_RESIZE: confirm when ``ok(state)`` is None, else revert and fail with its reason."""
        problem = ok(state)
        if problem:
            self.submit(
                lambda: self.conn.compute.revert_server_resize(self.resource),
                lambda: self.server()["status"] != "VERIFY_RESIZE",
                "revert resize of %s" % self.resource,
            )
            self.wait_settled(timeout, "revert of %s" % self.resource, leaving=("VERIFY_RESIZE",))
            raise ActionError("%s; reverted" % problem)
        if not confirm:
            return state
        self.submit(
            lambda: self.conn.compute.confirm_server_resize(self.resource),
            lambda: self.server()["status"] != "VERIFY_RESIZE",
            "confirm resize of %s" % self.resource,
        )
        final = self.wait_settled(timeout, "confirmation of %s" % self.resource, leaving=("VERIFY_RESIZE",))
        if expected_status and final["status"] != expected_status:
            raise ActionError(
                "server %s is %s after confirmation, expected %s" % (self.resource, final["status"], expected_status)
            )
        return self.wait_allocations(timeout, final)


def resolve_server(conn, name_or_id):
    """Server id for a name or id (any project); ActionError when none or several match."""
    try:
        server = conn.compute.find_server(name_or_id, ignore_missing=True, all_projects=True)
    except Exception as exc:  # noqa: BLE001 - DuplicateResource and friends: say it plainly
        if type(exc).__name__ == "DuplicateResource":
            raise ActionError("several servers are named %r; give the server id" % name_or_id) from None
        raise
    if server is None:
        raise ActionError("server %r not found" % name_or_id)
    return server.id
