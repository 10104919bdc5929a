"""The README's quick example works as written (cloud name and state path pointed at the twin):
check mode first changes nothing and writes a report naming the freed hosts, then it applies."""

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


def test_readme_example_plans_and_applies_on_the_twin(twin, playbook, tmp_path):
    example = readme_example().replace("cloud: mycloud", "cloud: vigil-twin").replace("/var/lib/vigil/", f"{tmp_path}/")
    plays = yaml.safe_load(example)
    plays[0]["vars"] = {"ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    before = _servers_hosts()
    # check mode first, as the README says: the report is written, nothing moves
    dry = playbook(plays, args=["--check"])
    assert dry.rc == 0, dry.stdout + dry.stderr
    assert _servers_hosts() == before
    would = dry.task("Apply it (resumable; a re-run changes nothing)")
    assert would["changed"] is True and not list(tmp_path.glob("*.state.json"))
    written = dry.task("Write the report to review (hosts freed, servers that stay and why, risks)")
    freed = written["stats"]["vigil_freed_hosts"]
    report_md = next(f for f in written["files"] if f.endswith(".md"))
    assert freed and f"- hosts freed ({len(freed)}): {', '.join(freed)}" in open(report_md).read()
    run = playbook(plays)
    assert run.rc == 0, run.stdout + run.stderr
    applied = run.task("Apply it (resumable; a re-run changes nothing)")
    assert applied["changed"] is True and applied["failed_actions"] == []
    hosts = _servers_hosts()
    plan = run.task("Plan a consolidation")["ansible_facts"]["plan"]
    for action in (a for a in plan["actions"] if a["type"] == "migrate"):
        assert hosts[action["resource"]] == action["input"]["destination_node"]
    assert set(freed).isdisjoint(hosts.values())  # the hosts the report said it frees hold no server now
    assert all(n["az"] == "az1" for n in _nodes(run.task("Read the cluster model")["model"]))


def _servers_hosts():
    return {s.id: s.compute_host for s in openstack.connect(cloud="vigil-twin").compute.servers(all_projects=True)}


def _nodes(model):
    cols = model["nodes"]["columns"]
    return [dict(zip(cols, row)) for row in model["nodes"]["data"]]
