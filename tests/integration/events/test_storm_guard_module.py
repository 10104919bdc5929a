"""vigil.openstack.storm_guard as playbooks call it: hysteresis, check mode, diff mode, errors."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ansible_run
from ansible_run import run_playbook, tasks_play  # noqa: E402


def guard_task(name, decision, subject, **extra):
    args = {"cloud": "prod", "decision": decision, "subject": subject, "state_dir": "{{ guard_dir }}"}
    return dict({"name": name, "vigil.openstack.storm_guard": dict(args, **extra.pop("args", {}))}, **extra)


def test_power_hysteresis_check_mode_diff_and_a_clear_error(tmp_path):
    guard_dir = tmp_path / "guard"
    play = tasks_play(
        guard_task("power on (check mode)", "power_on", "c1", check_mode=True),
        guard_task("power off after a check-mode power on", "power_off", "c1"),
        guard_task("power on", "power_on", "c1", diff=True),
        guard_task("power off within the hysteresis", "power_off", "c1"),
        guard_task("power off of another host", "power_off", "c2"),
        guard_task("power off, hysteresis 0", "power_off", "c1", args={"power_hysteresis": 0}),
        guard_task("bad cloud name", "audit", "x", args={"cloud": "../etc"}, ignore_errors=True),
        vars={"guard_dir": str(guard_dir)},
    )
    run = run_playbook(tmp_path, play)
    assert run.rc == 0, run.stdout + run.stderr
    check = run.task("power on (check mode)")
    assert check["changed"] and check["allowed"]
    assert run.task("power off after a check-mode power on")["allowed"], "check mode recorded nothing"
    on = run.task("power on")
    assert on["changed"] and '"c1"' in on["diff"]["after"] and '"c1"' not in on["diff"]["before"]
    refused = run.task("power off within the hysteresis")
    assert not refused["allowed"] and not refused["changed"] and "power hysteresis 1800s" in refused["reason"]
    assert run.task("power off of another host")["allowed"]
    assert run.task("power off, hysteresis 0")["allowed"]
    error = run.task("bad cloud name")
    assert run.status("bad cloud name") == "failed" and "cannot name a guard file" in error["msg"]
    assert not any(p.name.startswith("guard-..") for p in guard_dir.iterdir())
    logged = [line for line in (guard_dir / "guard-prod.log").read_text().splitlines() if line]
    assert len(logged) == 5, "check mode logs nothing; every real decision is logged"
