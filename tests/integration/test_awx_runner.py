"""The AWX workflow of docs/awx.md, run the way AWX runs it: ansible-runner jobs against the twin.

AWX runs each job template with ansible-runner inside the execution environment and hands the
`set_stats` data of a job (found in its job events) to the next workflow node as extra variables.
Here the audit job runs playbooks/optimize.yml, its artifacts are read back from
artifacts/<ident>/job_events, and they become the extra variables of playbooks/apply_plan.yml.
"""

import json
from pathlib import Path

import openstack
import pytest
from ansible_run import ansible_env

ansible_runner = pytest.importorskip("ansible_runner")

ROOT = Path(__file__).resolve().parents[2]


def _job(private_dir, ident, playbook, extravars, env):
    private_dir.mkdir(exist_ok=True)
    return ansible_runner.run(
        private_data_dir=str(private_dir),
        ident=ident,
        playbook=str(ROOT / "playbooks" / playbook),
        extravars=extravars,
        envvars=env,  # its PATH starts with this venv's bin: runner's ansible-playbook is ours
        quiet=True,
    )


def set_stats_of(private_dir, ident):
    """The job's set_stats data, from the playbook_on_stats event of its job_events (as AWX reads it)."""
    events = [
        json.loads(p.read_text()) for p in (Path(private_dir) / "artifacts" / ident / "job_events").glob("*.json")
    ]
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, [e.get("event") for e in events]
    return stats[0]["event_data"].get("artifact_data") or {}


def _hosts():
    conn = openstack.connect(cloud="vigil-twin")
    return {s.id: s.compute_host for s in conn.compute.servers(all_projects=True)}


@pytest.mark.parametrize("publish", ["path", "plan"])
def test_audit_then_apply_through_ansible_runner(twin, clouds_yaml, tmp_path, publish):
    shared = tmp_path / "plans"  # the storage both jobs mount (docs/awx.md)
    env = ansible_env(tmp_path, clouds_yaml)
    before = _hosts()

    audit = _job(
        tmp_path / "runner",
        "audit",
        "optimize.yml",
        {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(shared), "vigil_plan_publish": publish},
        env,
    )
    assert (audit.status, audit.rc) == ("successful", 0), audit.stdout.read()
    assert _hosts() == before  # the audit changes nothing
    artifacts = set_stats_of(tmp_path / "runner", "audit")
    plan_files = sorted(shared.glob("plan-*.json"))
    assert len(plan_files) == 1
    plan = json.loads(plan_files[0].read_text())
    assert artifacts["vigil_plan_id"] == plan["id"] and artifacts["vigil_actions_total"] == len(plan["actions"])
    if publish == "path":
        assert artifacts["vigil_plan_file"] == str(plan_files[0]) and "vigil_plan" not in artifacts
    else:
        assert artifacts["vigil_plan"] == plan and "vigil_plan_file" not in artifacts

    # AWX: the workflow's artifacts become the next node's extra variables
    apply = _job(
        tmp_path / "runner",
        "apply",
        "apply_plan.yml",
        dict(artifacts, vigil_cloud="vigil-twin", vigil_output_dir=str(shared)),
        env,
    )
    assert (apply.status, apply.rc) == ("successful", 0), apply.stdout.read()
    moves = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert moves
    hosts = _hosts()
    for action in moves:
        assert hosts[action["resource"]] == action["input"]["destination_node"], action
    assert (shared / ("state-%s.json" % plan["id"])).exists()  # a re-launched apply resumes from it
