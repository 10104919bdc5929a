"""The AWX configuration in docs/awx.md, checked by the awx.awx modules themselves.

awx.awx modules validate their arguments before they connect: pointed at a closed local port, a
valid call fails with a connection error, an invalid one with Ansible's argument error. Workflow
nodes are a free-form list to the module's argument spec, so each node is also checked against
the node fields the module documents.
"""

import ast
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AWX_DOC = ROOT / "docs" / "awx.md"

awx = pytest.importorskip("ansible_collections.awx.awx", reason="awx.awx comes with the ansible package")
AWX_MODULES = Path(next(iter(awx.__path__))) / "plugins" / "modules"
CONNECTION_FAILED = re.compile(r"Connection refused")
ARGUMENT_ERRORS = ("Unsupported parameters", "missing required", "must be one of", "mutually exclusive")


def doc_tasks(path=AWX_DOC):
    """Every task of the page's YAML blocks that calls an awx.awx module."""
    tasks = []
    for block in re.findall(r"```yaml\n(.*?)```", path.read_text(), re.S):
        data = yaml.safe_load(block)
        if isinstance(data, list):
            tasks += [t for t in data if isinstance(t, dict) and any(k.startswith("awx.awx.") for k in t)]
    return tasks


def _module(task):
    return next(k for k in task if k.startswith("awx.awx."))


def _documented_options(module):
    source = (AWX_MODULES / (module.split(".")[-1] + ".py")).read_text()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)["options"]
    raise AssertionError("no DOCUMENTATION in " + module)


def unknown_keys(value, options, where):
    """Keys of `value` (dicts, lists of dicts) that `options` (documented suboptions) lacks."""
    if isinstance(value, list):
        return [bad for i, item in enumerate(value) for bad in unknown_keys(item, options, "%s[%d]" % (where, i))]
    if not isinstance(value, dict) or options is None:
        return []
    bad = []
    for key, sub in value.items():
        if key not in options:
            bad.append("%s.%s" % (where, key))
        else:
            bad += unknown_keys(sub, options[key].get("suboptions"), "%s.%s" % (where, key))
    return bad


def test_the_page_configures_job_templates_a_workflow_and_its_schedule():
    modules = [_module(t) for t in doc_tasks()]
    assert modules.count("awx.awx.job_template") == 2
    assert "awx.awx.workflow_job_template" in modules and "awx.awx.schedule" in modules


def test_workflow_nodes_use_the_documented_node_fields():
    options = _documented_options("workflow_job_template")["workflow_nodes"]["suboptions"]
    workflows = [t["awx.awx.workflow_job_template"] for t in doc_tasks() if "awx.awx.workflow_job_template" in t]
    assert workflows
    for workflow in workflows:
        assert unknown_keys(workflow["workflow_nodes"], options, "workflow_nodes") == []
        kinds = {n["unified_job_template"]["type"] for n in workflow["workflow_nodes"]}
        assert kinds == {"job_template", "workflow_approval"}


def test_the_node_check_refuses_the_old_approval_syntax():
    options = _documented_options("workflow_job_template")["workflow_nodes"]["suboptions"]
    old = [{"identifier": "approve", "approval_node": {"name": "Review", "timeout": 86400}}]
    assert unknown_keys(old, options, "workflow_nodes") == ["workflow_nodes[0].approval_node"]


def _run_through_awx_modules(tasks, tmp_path):
    # A socket bound but never listening: connecting to its port is refused, and while it stays
    # bound no other test's server can take the port (a port merely found free could be, and
    # answered 404 once).
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return _run_against_port(tasks, tmp_path, closed.getsockname()[1])


def _run_against_port(tasks, tmp_path, port):
    play = {
        "name": "awx.awx argument validation",
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {
            "group/awx.awx.controller": {
                "controller_host": "http://127.0.0.1:%d" % port,
                "controller_username": "admin",
                "controller_password": "not-a-real-password",
            }
        },
        "tasks": [dict(t, ignore_errors=True) for t in tasks],
    }
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play], sort_keys=False))
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="json", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")
    env["ANSIBLE_INVENTORY_UNPARSED_WARNING"] = "false"
    env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-c", "local", str(tmp_path / "play.yml")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = json.loads(proc.stdout[proc.stdout.index("{") :])
    return {t["task"]["name"]: t["hosts"]["localhost"] for t in out["plays"][0]["tasks"]}, proc


def test_every_awx_task_of_the_page_passes_the_modules_argument_validation(tmp_path):
    tasks = doc_tasks()
    results, proc = _run_through_awx_modules(tasks, tmp_path)
    assert sorted(results) == sorted(t["name"] for t in tasks), proc.stderr
    for name, result in results.items():
        msg = result.get("msg", "")
        assert not any(err in msg for err in ARGUMENT_ERRORS), "%s: %s" % (name, msg)
        # validation passed, so the module went on to the (closed) controller port
        assert result.get("failed") and CONNECTION_FAILED.search(msg), "%s: %s" % (name, result)


def test_the_modules_refuse_a_schedule_on_a_workflow(tmp_path):
    # the page's earlier workflow: `schedule` is not a workflow_job_template parameter
    task = {"name": "old workflow", "awx.awx.workflow_job_template": {"name": "w", "schedule": {}}}
    results, _proc = _run_through_awx_modules([task], tmp_path)
    assert "Unsupported parameters" in results["old workflow"]["msg"] and "schedule" in results["old workflow"]["msg"]
