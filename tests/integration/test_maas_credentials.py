"""MAAS from its credentials alone: the AWX MAAS credential type (docs/awx.md) injects only
MAAS_URL and MAAS_API_KEY, and saving_energy.yml / host_maintenance.yml must power machines
through MAAS with nothing else said. Proven from the twin's MAAS state and its request log."""

import json
from pathlib import Path

import maas.client as maas_client
import pytest
import requests
from ansible_run import run_playbook
from maas.client.enum import PowerState

from vigil_twin.testing import write_clouds_yaml

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"

# compute-1 runs the only server; 2, 3 and 4 are free, of three sizes. Every host is a MAAS
# machine (hostname rack1-N, linked by owner_data.compute_hostname); there is no Ironic node.
TOPOLOGY = {
    "nodes": [
        {"hostname": "compute-1", "vcpus": 32, "memory_mb": 65536, "disk_gb": 500},
        {"hostname": "compute-2", "vcpus": 64, "memory_mb": 262144, "disk_gb": 2000},
        {"hostname": "compute-3", "vcpus": 16, "memory_mb": 32768, "disk_gb": 250},
        {"hostname": "compute-4", "vcpus": 24, "memory_mb": 65536, "disk_gb": 500},
    ],
    "servers": [{"name": "app-1", "flavor": "m1.small", "host": "compute-1"}],
    "maas": {"machines": [{"hostname": "rack1-%d" % i, "compute_hostname": "compute-%d" % i} for i in (1, 2, 3, 4)]},
}


@pytest.fixture
def cloud(twin_factory, tmp_path):
    twin = twin_factory(TOPOLOGY)
    return twin, str(write_clouds_yaml(twin, tmp_path / "clouds.yaml"))


def _maas_env(twin):
    return {"MAAS_URL": twin.maas_url, "MAAS_API_KEY": twin.maas_api_key}


def _machines(twin):
    client = maas_client.connect(twin.maas_url, apikey=twin.maas_api_key)
    return {m.hostname: m for m in client.machines.list()}


def _power_calls(twin):
    """(machine hostname, op) of every MAAS power request since the last reset, in order."""
    by_id = {m.system_id: name for name, m in _machines(twin).items()}
    log = requests.get(twin.url + "/admin/requests?log=1", timeout=10).json()["log"]
    out = []
    for r in log:
        if r["service"] == "maas" and r["method"] == "POST" and r["query"] in ("op=power_off", "op=power_on"):
            out.append((by_id[r["path"].rstrip("/").rsplit("/", 1)[1]], r["query"][3:]))
    return out


def _reset_log(twin):
    requests.delete(twin.url + "/admin/requests", timeout=10)


def _saving_energy(tmp_path, clouds, env, min_free):
    extra = {
        "vigil_cloud": "vigil-twin",
        "vigil_output_dir": str(tmp_path / "out"),
        "vigil_apply": True,
        "vigil_params": {"min_free_hosts_num": min_free, "free_used_percent": 0},
    }
    return run_playbook(tmp_path, PLAYBOOKS / "saving_energy.yml", clouds_yaml=clouds, extra_vars=extra, env=env)


def test_saving_energy_powers_maas_machines_off_and_on_from_the_credential_alone(cloud, tmp_path):
    twin, clouds = cloud
    _reset_log(twin)
    off = _saving_energy(tmp_path, clouds, _maas_env(twin), min_free=1)
    assert off.rc == 0, off.stdout + off.stderr
    # keep the biggest free host (compute-2) on, power the two smaller ones off through MAAS
    assert sorted(_power_calls(twin)) == [("rack1-3", "power_off"), ("rack1-4", "power_off")]
    machines = _machines(twin)
    assert [machines["rack1-%d" % i].power_state for i in (1, 2, 3, 4)] == [
        PowerState.ON,
        PowerState.ON,
        PowerState.OFF,
        PowerState.OFF,
    ]
    assert twin.maas_api_key not in off.stdout + off.stderr

    _reset_log(twin)
    on = _saving_energy(tmp_path, clouds, _maas_env(twin), min_free=2)  # the reserve grows by one
    assert on.rc == 0, on.stdout + on.stderr
    assert _power_calls(twin) == [("rack1-4", "power_on")]  # the bigger of the two powered-off ones
    assert _machines(twin)["rack1-4"].power_state == PowerState.ON


def test_saving_energy_without_maas_credentials_powers_nothing_and_says_what_was_read(cloud, tmp_path):
    twin, clouds = cloud
    _reset_log(twin)
    run = _saving_energy(tmp_path, clouds, {}, min_free=1)
    assert run.rc == 0, run.stdout + run.stderr
    assert _power_calls(twin) == []
    plan = json.loads(sorted((tmp_path / "out").glob("plan-*.json"))[-1].read_text())
    assert [w["message"] for w in plan["warnings"]] == [
        "2 free hosts could be powered off but have no usable power backend (bare-metal backends read: ironic)"
    ]


def test_host_maintenance_powers_off_through_maas_from_the_credential_alone(cloud, tmp_path):
    twin, clouds = cloud
    _reset_log(twin)
    extra = {
        "vigil_cloud": "vigil-twin",
        "vigil_output_dir": str(tmp_path / "out"),
        "vigil_maintenance_power_off": True,
    }
    run = run_playbook(
        tmp_path,
        PLAYBOOKS / "host_maintenance.yml",
        clouds_yaml=clouds,
        extra_vars=extra,
        args=["-i", "compute-1,"],
        env=_maas_env(twin),
    )
    assert run.rc == 0, run.stdout + run.stderr
    assert _power_calls(twin) == [("rack1-1", "power_off")]
    assert _machines(twin)["rack1-1"].power_state == PowerState.OFF
    compute = twin.cloud.stores["compute"]
    assert compute.nodes["compute-1"]["status"] == "disabled"
    assert [s["host"] for s in compute.servers.values()] in (["compute-2"], ["compute-3"], ["compute-4"])
