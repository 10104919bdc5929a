"""MAAS through python-libmaas, unmodified: connect, machines, zones, pools, tags, power off, bad key.

Against a real MAAS: ``VIGIL_CONTRACT_MAAS_URL`` and ``VIGIL_CONTRACT_MAAS_KEY`` (and
``VIGIL_CONTRACT_MAAS_MACHINE``, a hostname that may be powered off and on).
"""

from __future__ import annotations

import os
import time

import maas.client
import pytest
from maas.client.bones import CallError
from maas.client.enum import PowerState

REAL_URL = os.environ.get("VIGIL_CONTRACT_MAAS_URL")


@pytest.fixture
def maas_creds(request) -> tuple[str, str]:
    if REAL_URL:
        return REAL_URL, os.environ["VIGIL_CONTRACT_MAAS_KEY"]
    twin = request.getfixturevalue("twin")
    return twin.maas_url, twin.maas_api_key


@pytest.fixture
def client(maas_creds):
    return maas.client.connect(maas_creds[0], apikey=maas_creds[1])


def _victim(client):
    wanted = os.environ.get("VIGIL_CONTRACT_MAAS_MACHINE")
    for m in client.machines.list():
        if (wanted is None or m.hostname == wanted) and m.power_state == PowerState.ON:
            return m
    pytest.skip("no powered-on machine")


def test_machines_zones_pools_tags(client):
    machines = client.machines.list()
    assert machines
    for m in machines:
        assert m.system_id and m.hostname and m.power_state in set(PowerState)
        assert m.zone.name and m.pool.name
    assert {z.name for z in client.zones.list()} >= {m.zone.name for m in machines}
    assert {p.name for p in client.resource_pools.list()} >= {m.pool.name for m in machines}
    client.tags.list()
    assert client.users.whoami().username
    one = client.machines.get(system_id=machines[0].system_id)
    assert one.hostname == machines[0].hostname


def test_power_off_and_query(client):
    machine = _victim(client)
    machine.power_off()
    deadline = time.monotonic() + 60
    while machine.query_power_state() != PowerState.OFF:
        assert time.monotonic() < deadline, "machine did not power off"
        time.sleep(0.05)
    assert client.machines.get(system_id=machine.system_id).power_state == PowerState.OFF
    machine.power_on()
    deadline = time.monotonic() + 60
    while machine.query_power_state() != PowerState.ON:
        assert time.monotonic() < deadline, "machine did not power on"
        time.sleep(0.05)


def test_bad_key_gets_401(maas_creds):
    consumer, token, _ = maas_creds[1].split(":")
    bad = maas.client.connect(maas_creds[0], apikey=f"{consumer}:{token}:wrong-secret")
    with pytest.raises(CallError) as exc:
        bad.machines.list()
    assert exc.value.status == 401
