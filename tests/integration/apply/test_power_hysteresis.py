"""The power hysteresis on the apply path, through ansible-playbook against the twin (Ironic and MAAS).

A power-on through node_power is recorded in the storm guard ledger; a later playbook run
(a separate process) applying a plan that powers the same host off, through the apply role,
is refused in check mode and for real: the node stays on and the plan's action says why.
With the hysteresis at 0 the same plan powers the host off.
"""

import json

import pytest
from ansible_run import run_playbook
from apply_support import failed, mutating, node_id, reset_requests, task

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

pytestmark = pytest.mark.slow


def ironic_power(twin, host):
    nodes = twin.cloud.stores["baremetal"].nodes.values()
    return next(n["power_state"] for n in nodes if n["name"] == "bm-" + host)


def maas_machine(twin, host):
    return next(m for m in twin.cloud.stores["maas"].machines.values() if m["hostname"] == host)


BACKENDS = {
    "ironic": {
        "node": lambda twin, host: node_id(twin, "bm-" + host),
        "power": ironic_power,
        "on": "power on",
        "options": lambda twin: {},
    },
    "maas": {
        "node": lambda twin, host: maas_machine(twin, host)["system_id"],
        "power": lambda twin, host: maas_machine(twin, host)["power_state"],
        "on": "on",
        "options": lambda twin: {"backend": "maas", "maas_url": twin.maas_url, "maas_api_key": twin.maas_api_key},
    },
}


def apply_role_play(twin, plan, tmp_path, **role_vars):
    options = {"vigil_plan": plan, "vigil_cloud": "vigil-twin", "vigil_output_dir": str(tmp_path / "out")}
    if plan["actions"][0]["input"]["backend"] == "maas":
        options.update(vigil_maas_url=twin.maas_url, vigil_maas_api_key=twin.maas_api_key)
    options.update(role_vars)
    return [
        {
            "name": "apply",
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "apply",
                    "ansible.builtin.include_role": {"name": "vigil.openstack.apply"},
                    "vars": options,
                }
            ],
        }
    ]


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_power_off_within_the_hysteresis_of_a_power_on_is_refused_and_the_node_stays_on(
    apply_twin, run, tmp_path, backend
):
    twin, spec, guard = apply_twin, BACKENDS[backend], tmp_path / "guard"
    node = spec["node"](twin, "cmp4")
    extra = spec["options"](twin)
    assert run(task("compute_service", host="cmp4", state="disabled", disabled_reason="power off")).rc == 0
    off = run(task("node_power", node=node, hostname="cmp4", state="off", guard_dir=str(guard), **extra))
    assert not failed(off), off.stdout + off.stderr
    on = run(task("node_power", node=node, hostname="cmp4", state="on", guard_dir=str(guard), **extra))
    assert not failed(on) and on.task("go")["changed"] is True
    assert "cmp4" in json.loads((guard / "guard-vigil-twin.json").read_text())["power_on"]

    plan = planlib.new_plan(
        "saving_energy", "test", actions=[planlib.node_power_action("p4", "cmp4", backend, node, "off")]
    )
    play = apply_role_play(twin, plan, tmp_path, vigil_guard_dir=str(guard))
    reset_requests(twin)
    logged = (guard / "guard-vigil-twin.log").read_text()
    check = run_playbook(tmp_path, play, clouds_yaml=twin.clouds_yaml, args=["--check"])
    assert check.rc == 0, check.stdout  # check mode lists what would fail; it does not fail the task
    apply = [r for r in check.results if r["task"] == "Apply the plan"][-1]["result"]
    item = apply["order"][0]
    assert item["would"] == "fail" and "power hysteresis 1800s" in item["msg"], item
    assert (guard / "guard-vigil-twin.log").read_text() == logged, "check mode writes no decision"

    real = run_playbook(tmp_path, play, clouds_yaml=twin.clouds_yaml)
    assert real.rc != 0
    action = [r for r in real.results if r["task"] == "Apply the plan"][-1]["result"]["actions"][0]
    assert action["state"] == "FAILED"
    assert "refusing to power off node %s: host cmp4 was powered on" % node in action["error"]
    assert "(power hysteresis 1800s)" in action["error"]
    assert spec["power"](twin, "cmp4") == spec["on"], "the node stays on"
    assert [c for c in mutating(twin) if c["service"] in ("baremetal", "maas")] == []

    # 0 turns it off: a fresh state file, the same plan powers the host off
    off_play = apply_role_play(
        twin,
        plan,
        tmp_path,
        vigil_guard_dir=str(guard),
        vigil_guard_power_hysteresis=0,
        vigil_state_file=str(tmp_path / "again.json"),
    )
    done = run_playbook(tmp_path, off_play, clouds_yaml=twin.clouds_yaml)
    assert done.rc == 0, done.stdout + done.stderr
    assert spec["power"](twin, "cmp4") != spec["on"]


def test_a_negative_window_is_named_and_nothing_is_done(apply_twin, run, tmp_path):
    node = node_id(apply_twin, "bm-cmp4")
    plan = planlib.new_plan(
        "saving_energy", "test", actions=[planlib.node_power_action("p4", "cmp4", "ironic", node, "off")]
    )
    reset_requests(apply_twin)
    for module, args in (
        ("node_power", {"node": node, "hostname": "cmp4", "state": "off"}),
        ("plan_apply", {"plan": plan, "state_file": str(tmp_path / "s.json")}),
    ):
        bad = run(task(module, power_hysteresis=-1, **args))
        assert failed(bad) and "power_hysteresis must be a number of seconds >= 0, got -1" in bad.task("go")["msg"]
    assert mutating(apply_twin) == []
    assert not (tmp_path / "s.json").exists()
    assert ironic_power(apply_twin, "cmp4") == "power on"
