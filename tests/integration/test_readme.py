"""The README's quick example works as written (cloud name and state path pointed at the twin)."""

import json
import re
from pathlib import Path

import openstack
import yaml

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert blocks, "README.md has no yaml example"
    return blocks[0]


APPLY = "Apply it only when asked (resumable; a re-run changes nothing)"
MUTATING = {"POST", "PUT", "PATCH", "DELETE"}


def _mutations(twin):
    conn = openstack.connect(cloud="vigil-twin")
    log = json.loads(conn.session.get(twin.url + "/admin/requests?log=1").content)["log"]
    return [r for r in log if r["method"] in MUTATING and r["service"] not in ("identity", "admin")]


def test_readme_example_plans_then_checks_then_applies_on_the_twin(twin, playbook, tmp_path):
    example = readme_example().replace("cloud: mycloud", "cloud: vigil-twin").replace("/var/lib/vigil/", f"{tmp_path}/")
    plays = yaml.safe_load(example)
    plays[0]["vars"] = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}

    # as written, the example plans and shows; it changes nothing
    run = playbook(plays)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.status(APPLY) == "skipped" and _mutations(twin) == []

    # check mode predicts the moves and still changes nothing
    run = playbook(plays, extra_vars={"vigil_apply": True}, args=["--check"])
    assert run.rc == 0, run.stdout + run.stderr
    checked = run.task(APPLY)
    assert checked["changed"] is True and _mutations(twin) == []

    run = playbook(plays, extra_vars={"vigil_apply": True})
    assert run.rc == 0, run.stdout + run.stderr
    applied = run.task(APPLY)
    assert applied["changed"] is True and applied["failed_actions"] == []
    conn = openstack.connect(cloud="vigil-twin")
    hosts = {s.id: s.compute_host for s in conn.compute.servers(all_projects=True)}
    plan = run.task("Plan a consolidation")["ansible_facts"]["plan"]
    for action in (a for a in plan["actions"] if a["type"] == "migrate"):
        assert hosts[action["resource"]] == action["input"]["destination_node"]
    assert all(n["az"] == "az1" for n in _nodes(run.task("Read the cluster model")["model"]))


def _nodes(model):
    cols = model["nodes"]["columns"]
    return [dict(zip(cols, row)) for row in model["nodes"]["data"]]
