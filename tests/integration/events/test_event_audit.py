"""event_audit.yml against the twin: the guards let one audit through, report only unless allowed."""

import json
from pathlib import Path

import openstack

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = ROOT / "playbooks" / "event_audit.yml"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def mutations(twin):
    session = openstack.connect(cloud="vigil-twin").session
    log = json.loads(session.get(twin.url + "/admin/requests?log=1").content)["log"]
    return [r for r in log if r["method"] in MUTATING and r["service"] not in ("identity", "admin")]


def decisions(guard_dir):
    path = guard_dir / "guard-vigil-twin.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_second_event_within_the_interval_is_refused_and_nothing_is_applied(twin, playbook, tmp_path):
    out, guard = tmp_path / "out", tmp_path / "guard"
    extra = {
        "vigil_cloud": "vigil-twin",
        "vigil_goal": "server_consolidation",
        "vigil_output_dir": str(out),
        "vigil_guard_dir": str(guard),
        "vigil_event_fingerprint": "a1",
    }
    first = playbook(PLAYBOOK, extra_vars=extra)
    assert first.rc == 0, first.stdout + first.stderr
    assert len(list(out.glob("report-*.md"))) == 1 and len(list(out.glob("plan-*.json"))) == 1
    assert json.loads(next(out.glob("plan-*.json")).read_text())["actions"], "the twin's demo cloud has work to do"
    assert mutations(twin) == [], "server_consolidation is not in vigil_event_apply_goals: report only"
    assert "waits for approval" in first.task("Say that the plan waits for approval")["msg"]

    second = playbook(PLAYBOOK, extra_vars=dict(extra, vigil_event_fingerprint="a2"))
    assert second.rc == 0, second.stdout + second.stderr
    assert "No audit: an audit of goal server_consolidation started" in second.task("Say why no audit runs")["msg"]
    assert len(list(out.glob("report-*.md"))) == 1, "no second report"
    kinds = [(d["kind"], d["allowed"]) for d in decisions(guard)]
    assert kinds == [
        ("alert", True),
        ("audit", True),
        ("plan_lease", True),
        ("plan_release", True),
        ("alert", True),
        ("audit", False),
    ]


def test_goal_listed_by_the_operator_is_applied(twin, playbook, tmp_path):
    extra = {
        "vigil_cloud": "vigil-twin",
        "vigil_goal": "server_consolidation",
        "vigil_output_dir": str(tmp_path / "out"),
        "vigil_guard_dir": str(tmp_path / "guard"),
        "vigil_event_apply_goals": ["server_consolidation"],
    }
    run = playbook(PLAYBOOK, extra_vars=extra)
    assert run.rc == 0, run.stdout + run.stderr
    plan = json.loads(next((tmp_path / "out").glob("plan-*.json")).read_text())
    conn = openstack.connect(cloud="vigil-twin")
    hosts = {s.id: s.compute_host for s in conn.compute.servers(all_projects=True)}
    moved = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert moved and all(hosts[a["resource"]] == a["input"]["destination_node"] for a in moved)


def test_a_held_plan_lease_stops_the_audit(twin, playbook, tmp_path):
    """Another run (an AWX schedule, a person) holds the cloud's lease: the event audit stops, changing nothing."""
    from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import StormGuard

    guard = tmp_path / "guard"
    assert StormGuard(str(guard), "vigil-twin").acquire_plan("awx-job-42")
    extra = {"vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path / "out"), "vigil_guard_dir": str(guard)}
    run = playbook(PLAYBOOK, extra_vars=dict(extra, vigil_goal="server_consolidation"))
    assert run.rc == 0, run.stdout + run.stderr
    assert "held by awx-job-42" in run.task("Say why no audit runs")["msg"]
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("plan-*"))
    assert mutations(twin) == []
