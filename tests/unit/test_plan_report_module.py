"""plan_report's check mode predicts what the real run does: changed when a file would be (re)written."""

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml
from test_report import build

ROOT = Path(__file__).resolve().parents[2]


def _report(tmp_path, model, plan, check=False):
    task = {
        "vigil.openstack.plan_report": {"model": model, "plan": plan, "dest": str(tmp_path / "out"), "basename": "r"}
    }
    # the result goes to a file (written in check mode too): no stdout callback needed, any ansible-core
    keep = {"ansible.builtin.copy": {"content": "{{ out | to_json }}", "dest": str(tmp_path / "result.json")}}
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [dict(task, register="out"), dict(keep, check_mode=False)],
        }
    ]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"))
    env.update(ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false")
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    cmd = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-c",
        "local",
        "-i",
        "localhost,",
        str(tmp_path / "play.yml"),
    ]
    proc = subprocess.run(cmd + (["--check"] if check else []), env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads((tmp_path / "result.json").read_text())


def test_check_mode_predicts_each_real_run(tmp_path):
    model, plan = build()
    md = tmp_path / "out" / "r.md"
    steps = []
    for label, tamper in [("no files yet", None), ("same report", None), ("file edited", "edited\n")]:
        if tamper:
            md.write_text(tamper)
        predicted = _report(tmp_path, model, plan, check=True)["changed"]
        before = md.read_text() if md.exists() else None
        actual = _report(tmp_path, model, plan)["changed"]
        steps.append((label, predicted, actual, before != md.read_text()))
    # predicted == actual == whether the file really changed, at every step
    assert steps == [
        ("no files yet", True, True, True),
        ("same report", False, False, False),
        ("file edited", True, True, True),
    ]
