"""The operator's journey: each playbook run against the twin, asserting the cloud's end state."""

import json
import os
import stat
import subprocess
from pathlib import Path

import maas.client as maas_client
import openstack
import pytest
import yaml
from maas.client.enum import PowerState

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _conn():
    return openstack.connect(cloud="vigil-twin")


def _hosts():
    return {s.id: s.compute_host for s in _conn().compute.servers(all_projects=True)}


def _services():
    return {s.host: s for s in _conn().compute.services(binary="nova-compute")}


def _mutations(twin):
    log = json.loads(openstack.connect(cloud="vigil-twin").session.get(twin.url + "/admin/requests?log=1").content)[
        "log"
    ]
    return [r for r in log if r["method"] in MUTATING and r["service"] not in ("identity", "admin")]


def _only(out: Path, pattern: str) -> Path:
    files = sorted(out.glob(pattern))
    assert len(files) == 1, f"{pattern}: {files}"
    return files[0]


def test_optimize_audit_changes_nothing_and_writes_private_files(twin, playbook, tmp_path):
    before = _hosts()
    out = tmp_path / "out"
    run = playbook(PLAYBOOKS / "optimize.yml", extra_vars={"vigil_cloud": "vigil-twin", "vigil_output_dir": str(out)})
    assert run.rc == 0, run.stdout + run.stderr
    assert _mutations(twin) == []
    assert _hosts() == before
    plan = json.loads(_only(out, "plan-*.json").read_text())
    assert plan["goal"] == "server_consolidation" and plan["actions"]
    for path in [
        _only(out, "plan-*.json"),
        _only(out, "report-*.md"),
        _only(out, "report-*.html"),
        _only(out, "model-*"),
    ]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    stats = run.task("Publish the key figures as job artifacts")["ansible_stats"]["data"]
    assert stats["vigil_plan_id"] == plan["id"]
    assert stats["vigil_actions_total"] == len(plan["actions"])


def test_optimize_apply_then_apply_plan_again_changes_nothing(twin, playbook, tmp_path):
    out = tmp_path / "out"
    extra = {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(out), "vigil_apply": True}
    run = playbook(PLAYBOOKS / "optimize.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout + run.stderr
    plan_file = _only(out, "plan-*.json")
    plan = json.loads(plan_file.read_text())
    hosts, services = _hosts(), _services()
    moved = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert moved
    for action in moved:  # every server where the plan said
        assert hosts[action["resource"]] == action["input"]["destination_node"], action
    for action in (a for a in plan["actions"] if a["type"] == "compute_service"):
        assert services[action["input"]["host"]].status == action["input"]["state"]
        assert not [s for s, h in hosts.items() if h == action["input"]["host"]]  # disabled hosts are empty
    servers = list(_conn().compute.servers(all_projects=True))
    assert all(s.status in ("ACTIVE", "SHUTOFF") for s in servers)
    mutations = len(_mutations(twin))

    again = playbook(
        PLAYBOOKS / "apply_plan.yml",
        extra_vars={"vigil_cloud": "vigil-twin", "vigil_output_dir": str(out), "vigil_plan_file": str(plan_file)},
    )
    assert again.rc == 0, again.stdout + again.stderr
    assert again.task("Apply the plan")["changed"] is False
    assert len(_mutations(twin)) == mutations  # not one more mutating call
    assert _hosts() == hosts


def _ironic_power(name):
    return _conn().baremetal.find_node(name, ignore_missing=False).power_state


def test_host_maintenance_evacuates_disables_powers_off_and_returns(twin, playbook, tmp_path):
    host = "compute-4"  # powered by Ironic node bm-compute-4; one of its servers is SHUTOFF (cold move)
    assert [s for s, h in _hosts().items() if h == host]
    extra = {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path / "out"), "vigil_maintenance_reason": "disk swap",
             "vigil_maintenance_power_off": True}  # fmt: skip
    run = playbook(PLAYBOOKS / "host_maintenance.yml", args=["-i", f"{host},"], extra_vars=extra)
    assert run.rc == 0, run.stdout + run.stderr
    assert not [s for s, h in _hosts().items() if h == host]
    svc = _services()[host]
    assert (svc.status, svc.disabled_reason) == ("disabled", "disk swap")
    assert _ironic_power("bm-compute-4") == "power off"
    assert _services()["compute-1"].status == "enabled"

    back = playbook(
        PLAYBOOKS / "host_maintenance.yml",
        args=["-i", f"{host},"],
        extra_vars={**extra, "vigil_maintenance_action": "return"},
    )
    assert back.rc == 0, back.stdout + back.stderr
    assert _ironic_power("bm-compute-4") == "power on"
    assert _services()[host].status == "enabled"


def test_bad_role_variables_fail_before_anything_runs(twin, playbook, tmp_path):
    run = playbook(
        PLAYBOOKS / "optimize.yml",
        extra_vars={"vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path), "vigil_collect_storage": "perhaps"},
    )
    assert run.rc != 0
    assert "vigil_collect_storage" in run.stdout + run.stderr
    assert _mutations(twin) == []


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed (make system-deps installs it)"
)
def test_report_renders_in_a_real_browser(twin, playbook, tmp_path):
    out = tmp_path / "out"
    run = playbook(PLAYBOOKS / "optimize.yml", extra_vars={"vigil_cloud": "vigil-twin", "vigil_output_dir": str(out)})
    assert run.rc == 0, run.stdout + run.stderr
    plan = json.loads(_only(out, "plan-*.json").read_text())
    page = _only(out, "report-*.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'chromium'}", "--enable-logging=stderr", "--v=0"]  # fmt: skip
    dom = subprocess.run(
        check=False, args=[CHROMIUM, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    subprocess.run(
        [CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000  # a rendered page, not a blank one
    assert "CONSOLE" not in dom.stderr, [line for line in dom.stderr.splitlines() if "CONSOLE" in line]
    assert f'<span id="actions-total">{len(plan["actions"])}</span>' in dom.stdout
    assert (
        f'data-indicator="released_compute_nodes_count">{plan["efficacy"]["released_compute_nodes_count"]}<'
        in dom.stdout
    )
    assert dom.stdout.count("<tr data-host=") == len(_services())


def _pool_used_pct():
    conn = _conn()
    out = {}
    for pool in conn.block_storage.backend_pools(details=True):
        caps = pool.capabilities
        out[pool.name] = 100.0 * (caps["total_capacity_gb"] - caps["free_capacity_gb"]) / caps["total_capacity_gb"]
    return out


def test_rebalance_storage_moves_volumes_off_the_full_pool(twin, playbook, tmp_path):
    full = "storage-1@lvm#lvm"
    assert _pool_used_pct()[full] > 60
    out = tmp_path / "out"
    extra = {
        "vigil_cloud": "vigil-twin",
        "vigil_output_dir": str(out),
        "vigil_apply": True,
        "vigil_params": {"volume_threshold": 60},
    }
    run = playbook(PLAYBOOKS / "rebalance_storage.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout + run.stderr
    plan = json.loads(_only(out, "plan-*.json").read_text())
    moves = [a for a in plan["actions"] if a["type"] == "volume_migrate"]
    assert moves and all(a["input"]["source_pool"] == full for a in moves)
    conn = _conn()
    for action in moves:
        volume = conn.block_storage.get_volume(action["resource"])
        assert volume.host == action["input"]["destination_pool"]
        assert volume.status in ("available", "in-use") and volume.migration_status == "success"
    assert _pool_used_pct()[full] <= 60


def test_saving_energy_powers_off_free_hosts_beyond_the_reserve(twin, playbook, tmp_path):
    base = {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path / "out")}
    first = playbook(PLAYBOOKS / "optimize.yml", extra_vars={**base, "vigil_apply": True})  # frees and disables hosts
    assert first.rc == 0, first.stdout + first.stderr
    hosts = _hosts()
    free = {h for h in _services() if h not in hosts.values()}
    assert len(free) >= 3
    extra = {**base, "vigil_apply": True, "vigil_params": {"min_free_hosts_num": 1, "free_used_percent": 0},
             "vigil_baremetal_backends": ["ironic", "maas"], "vigil_maas_url": twin.maas_url, "vigil_maas_api_key": twin.maas_api_key}  # fmt: skip
    run = playbook(PLAYBOOKS / "saving_energy.yml", extra_vars=extra)
    assert run.rc == 0, run.stdout + run.stderr
    plan = json.loads(sorted((tmp_path / "out").glob("plan-*.json"))[-1].read_text())
    powered = {a["input"]["hostname"]: a for a in plan["actions"] if a["type"] == "node_power"}
    assert len(powered) == len(free) - 1 and set(powered) <= free
    conn = _conn()
    maas = maas_client.connect(twin.maas_url, apikey=twin.maas_api_key)
    assert {a["input"]["backend"] for a in powered.values()} <= {"ironic", "maas"}
    for host, action in powered.items():
        assert action["input"]["state"] == "off"
        assert _services()[host].status == "disabled"
        if action["input"]["backend"] == "ironic":
            assert conn.baremetal.get_node(action["input"]["node_id"]).power_state == "power off"
        else:
            assert maas.machines.get(system_id=action["input"]["node_id"]).power_state == PowerState.OFF
    assert twin.maas_api_key not in run.stdout + run.stderr  # the MAAS key is never logged
    assert _hosts() == hosts  # no server moved or lost


def test_apply_plan_wave_by_wave(twin, playbook, tmp_path):
    out = tmp_path / "out"
    base = {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(out)}
    audit = playbook(PLAYBOOKS / "optimize.yml", extra_vars=base)
    assert audit.rc == 0, audit.stdout + audit.stderr
    plan = json.loads(_only(out, "plan-*.json").read_text())
    plan_file = tmp_path / "reviewed-plan.yaml"  # plans are reviewed (and kept) as YAML too
    plan_file.write_text(yaml.safe_dump(plan))
    run = playbook(
        PLAYBOOKS / "apply_plan.yml",
        extra_vars={**base, "vigil_plan_file": str(plan_file), "vigil_apply_mode": "waves"},
    )
    assert run.rc == 0, run.stdout + run.stderr
    waves = run.task("Apply the plan wave by wave")["results"]
    assert len(waves) == audit.task("Show the plan summary")["msg"]["waves"] > 1
    assert sum(len(w["actions"]) for w in waves) == len(plan["actions"])
    assert all(a["state"] == "SUCCEEDED" for w in waves for a in w["actions"])
    hosts = _hosts()
    for action in (a for a in plan["actions"] if a["type"] == "migrate"):
        assert hosts[action["resource"]] == action["input"]["destination_node"]


@pytest.mark.parametrize(
    "content, problem",
    [
        (None, "not found"),
        ("{not: [json, or yaml", "YAML"),
        ("[1, 2]", "not a vigil plan"),
        ('{"id": "p1"}', "not a vigil plan"),
    ],
)
def test_apply_plan_names_the_file_it_cannot_load(twin, playbook, tmp_path, content, problem):
    plan_file = tmp_path / "plan.json"
    if content is not None:
        plan_file.write_text(content)
    before = len(_mutations(twin))
    run = playbook(
        PLAYBOOKS / "apply_plan.yml",
        extra_vars={"vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path), "vigil_plan_file": str(plan_file)},
    )
    assert run.rc != 0
    msg = run.task("Say which file could not be loaded, and why")["msg"]
    assert msg.startswith("cannot load the plan file %s:" % plan_file) and problem.lower() in msg.lower(), msg
    assert len(_mutations(twin)) == before


@pytest.mark.parametrize(
    "given, problem",
    [
        (
            {"vigil_plan_file": "plan.json", "vigil_plan": {"id": "p1", "actions": []}},
            "both vigil_plan_file and vigil_plan",
        ),
        ({}, "vigil_plan_file is not set (nor vigil_plan)"),
    ],
    ids=["both", "neither"],
)
def test_apply_plan_needs_exactly_one_plan(twin, playbook, tmp_path, given, problem):
    before = len(_mutations(twin))
    run = playbook(
        PLAYBOOKS / "apply_plan.yml",
        extra_vars=dict(given, vigil_cloud="vigil-twin", vigil_output_dir=str(tmp_path)),
    )
    assert run.rc != 0
    msg = run.task("Say which file could not be loaded, and why")["msg"]
    assert problem in msg, msg
    assert len(_mutations(twin)) == before
