# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""MAAS collector (python-libmaas): every machine, as the MAAS 2.0 API's JSON shape.

One request (GET /api/2.0/machines/) after the client's connect. Records keep the API's
field names (``system_id``, ``status_name``, ``zone.name``, ``tag_names``...) so builders
read live data and recorded payloads alike.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect.rest import CollectError

SERVICE = "maas"


def _value(enum_or_value):
    return getattr(enum_or_value, "value", enum_or_value)


def _name(related):
    # zone / pool arrive embedded in the machine JSON; reading .name does not fetch.
    if related is None:
        return None
    return getattr(related, "name", None)


def machine_record(machine):
    """A python-libmaas Machine as the API's JSON fields the model uses."""
    tags = machine.tags
    return {
        "system_id": machine.system_id,
        "hostname": machine.hostname,
        "fqdn": machine.fqdn,
        "power_state": _value(machine.power_state),
        "power_type": machine.power_type,
        "status": _value(machine.status),
        "status_name": machine.status_name,
        "locked": machine.locked,
        "zone": {"name": _name(machine.zone)},
        "pool": {"name": _name(machine.pool)},
        "tag_names": [t.name for t in tags] if tags is not None else [],
        "owner_data": dict(machine.owner_data or {}),
        "cpu_count": machine.cpus,
        "memory": machine.memory,
        "architecture": machine.architecture,
    }


def classify(exc, what="MAAS"):
    """A python-libmaas / aiohttp failure as CollectError (None when not recognised)."""
    if isinstance(exc, CollectError):
        return exc
    mro = set(c.__name__ for c in type(exc).__mro__)
    status = getattr(exc, "status", None)
    response = getattr(exc, "response", None)
    if status is None and response is not None:
        status = getattr(response, "status", None)
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if status == 401:
        return CollectError("auth", "MAAS rejected the API key (HTTP 401): %s" % detail, SERVICE)
    if status == 403:
        return CollectError("forbidden", "MAAS user may not read %s (HTTP 403): %s" % (what, detail), SERVICE)
    if status is not None and int(status) >= 400:
        return CollectError(
            "server" if int(status) >= 500 else "bad_response", "MAAS answered HTTP %s: %s" % (status, detail), SERVICE
        )
    if mro & {
        "ClientConnectorError",
        "ClientConnectionError",
        "ServerDisconnectedError",
        "TimeoutError",
        "ConnectionError",
        "OSError",
    }:
        return CollectError("unreachable", "cannot reach MAAS: %s" % detail, SERVICE)
    return None


def collect(client):
    """All machines of a connected python-libmaas client, as a list of dicts."""
    try:
        return [machine_record(m) for m in client.machines.list()]
    except Exception as exc:  # noqa: BLE001 - classified; unknown errors propagate
        err = classify(exc, "machines")
        if err is None:
            raise
        raise err from exc
