"""MAAS twin: OAuth PLAINTEXT auth, describe, machines, power transitions and refusals (plain HTTP)."""

from __future__ import annotations

import re

import pytest
import requests
from rest_twin import load_stores, topology, wait_for

from vigil_twin.errors import TopologyError

API = "/MAAS/api/2.0"


def oauth(key: str) -> dict[str, str]:
    consumer, token, secret = key.split(":")
    return {
        "Authorization": (
            f'OAuth realm="", oauth_version="1.0", oauth_signature_method="PLAINTEXT", '
            f'oauth_consumer_key="{consumer}", oauth_token="{token}", oauth_signature="%26{secret}", '
            'oauth_nonce="n", oauth_timestamp="1"'
        )
    }


@pytest.fixture
def cloud(twin_factory):
    return twin_factory(topology(), speed=20)


@pytest.fixture
def maas(cloud):
    session = requests.Session()
    session.headers.update(oauth(cloud.maas_api_key))
    session.base = cloud.url + API
    return session


def _machine(maas, hostname: str) -> dict:
    found = maas.get(f"{maas.base}/machines/?hostname={hostname}").json()
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("maas", "message"),
    [
        ({"machines": [{"hostname": "m", "zone": "mars"}]}, "maas.machines[0].zone: unknown zone 'mars'"),
        ({"machines": [{"hostname": "m", "status": "Sleeping"}]}, "maas.machines[0].status"),
        ({"machines": [{"hostname": "m", "power_state": "dim"}]}, "maas.machines[0].power_state"),
        ({"machines": [{"hostname": "m", "compute_hostname": "ghost"}]}, "maas.machines[0].compute_hostname"),
        ({"api_key": "only-two:parts"}, "maas.api_key"),
        ({"machines": [{"hostname": "m"}, {"hostname": "m"}]}, "maas.machines[1].hostname: duplicate 'm'"),
    ],
)
def test_bad_topology_names_the_field(maas, message):
    with pytest.raises(TopologyError, match=re.escape(message)):
        load_stores(topology(maas=maas))


def test_cloud_exposes_url_and_key(cloud):
    assert cloud.maas_url == f"{cloud.url}/MAAS/"
    assert len(cloud.maas_api_key.split(":")) == 3


def test_auth(cloud, maas):
    anonymous = requests.get(f"{cloud.url}{API}/machines/", timeout=10)
    assert anonymous.status_code == 401
    consumer, token, _ = cloud.maas_api_key.split(":")
    wrong = requests.get(f"{cloud.url}{API}/machines/", headers=oauth(f"{consumer}:{token}:nope"), timeout=10)
    assert wrong.status_code == 401
    other = requests.get(f"{cloud.url}{API}/machines/", headers=oauth(f"x:{token}:s"), timeout=10)
    assert other.status_code == 401
    assert maas.get(f"{maas.base}/machines/").status_code == 200
    # describe and version stay anonymous, as in MAAS
    desc = requests.get(f"{cloud.url}{API}/describe/", timeout=10)
    assert desc.status_code == 200 and desc.headers["Content-Type"].startswith("application/json")
    names = {r["name"] for r in desc.json()["resources"]}
    assert {"MachinesHandler", "MachineHandler", "ZonesHandler", "ResourcePoolsHandler", "TagsHandler"} <= names
    machine = next(r for r in desc.json()["resources"] if r["name"] == "MachineHandler")["auth"]
    assert machine["uri"] == f"{cloud.url}{API}/machines/{{system_id}}/"
    assert {a["name"] for a in machine["actions"]} >= {"read", "power_on", "power_off", "query_power_state"}
    assert requests.get(f"{cloud.url}{API}/version/", timeout=10).json()["version"]


def test_machines_zones_pools_tags(cloud, maas):
    machines = {m["hostname"]: m for m in maas.get(f"{maas.base}/machines/").json()}
    assert set(machines) == {"cmp-2", "spare-2"}
    cmp2 = machines["cmp-2"]
    assert cmp2["power_state"] == "on" and cmp2["status_name"] == "Deployed" and cmp2["status"] == 6
    assert cmp2["zone"]["name"] == "az1" and cmp2["pool"]["name"] == "compute" and cmp2["tag_names"] == ["compute"]
    assert cmp2["cpu_count"] == 32 and cmp2["memory"] == 131072, "sizes come from the linked compute node"
    assert maas.get(f"{maas.base}/machines/{cmp2['system_id']}/").json()["hostname"] == "cmp-2"
    assert maas.get(f"{maas.base}/machines/nope/").status_code == 404
    assert [z["name"] for z in maas.get(f"{maas.base}/zones/").json()] == ["az1"]
    assert [p["name"] for p in maas.get(f"{maas.base}/resourcepools/").json()] == ["compute"]
    assert [t["name"] for t in maas.get(f"{maas.base}/tags/").json()] == ["compute"]
    assert maas.get(f"{maas.base}/users/?op=whoami").json()["username"] == "admin"
    assert maas.get(f"{maas.base}/machines/?op=frobnicate").status_code == 400


def test_power_off_then_query(cloud, maas):
    sid = _machine(maas, "cmp-2")["system_id"]
    resp = maas.post(f"{maas.base}/machines/{sid}/?op=power_off")
    assert resp.status_code == 200 and resp.json()["system_id"] == sid
    assert maas.get(f"{maas.base}/machines/{sid}/?op=query_power_state").json() == {"state": "on"}
    wait_for(lambda: maas.get(f"{maas.base}/machines/{sid}/?op=query_power_state").json()["state"] == "off", "off")
    assert cloud.cloud.stores["compute"].nodes["cmp-2"]["state"] == "down"
    assert maas.post(f"{maas.base}/machines/{sid}/?op=power_on").status_code == 200
    wait_for(lambda: _machine(maas, "cmp-2")["power_state"] == "on", "on")


def test_request_log_keeps_the_query_string(cloud, maas):
    """The log tells op=power_off from op=power_on; counts still group by path."""
    sid = _machine(maas, "cmp-2")["system_id"]
    requests.delete(f"{cloud.url}/admin/requests", timeout=10)
    maas.post(f"{maas.base}/machines/{sid}/?op=power_off")
    maas.post(f"{maas.base}/machines/{sid}/?op=power_on")
    summary = requests.get(f"{cloud.url}/admin/requests?log=1", timeout=10).json()
    log = [r for r in summary["log"] if r["service"] == "maas"]
    assert [(r["method"], r["query"]) for r in log] == [("POST", "op=power_off"), ("POST", "op=power_on")]
    assert {r["path"] for r in log} == {f"{API}/machines/{sid}/"}
    assert [r["count"] for r in summary["requests"] if r["service"] == "maas"] == [2]


def test_power_on_refused_for_new_machine(cloud, maas):
    sid = _machine(maas, "spare-2")["system_id"]
    resp = maas.post(f"{maas.base}/machines/{sid}/?op=power_on")
    assert resp.status_code == 409 and "New" in resp.text


def test_stuck_powering_fault(cloud, maas):
    sid = _machine(maas, "cmp-2")["system_id"]
    faults = {"named": [{"kind": "maas_stuck_powering", "target": "cmp-2"}]}
    assert requests.put(f"{cloud.url}/admin/faults", json=faults, timeout=10).ok
    assert maas.post(f"{maas.base}/machines/{sid}/?op=power_off").status_code == 200
    pending = cloud.cloud.scheduler
    wait_for(lambda: pending.pending() == 0, "power action processed")
    assert _machine(maas, "cmp-2")["power_state"] == "on", "the machine never powers off"
