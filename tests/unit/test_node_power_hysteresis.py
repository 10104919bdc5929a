"""The power hysteresis in node_power's executor: the ledger is storm_guard's, real files on disk.

The Ironic side is a stand-in with openstacksdk's two calls (get_node, set_node_power_state), so
each test can see exactly which power calls were sent; the end-to-end runs against the twin
(Ironic and MAAS) are in tests/integration/apply/test_power_hysteresis.py.
"""

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import ActionError, RefusedAction
from ansible_collections.vigil.openstack.plugins.module_utils.actions.node_power import NodePowerAction
from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import StormGuard, guard_dir, ledger_cloud

NODE = "1be26c0b-03f2-4d2e-ae87-c02d7f33c123"


class Baremetal:
    """openstacksdk's baremetal proxy, as far as node_power uses it; power changes land at once."""

    def __init__(self, power_state="power off"):
        self.power_state = power_state
        self.calls = []

    def get_node(self, node_id):
        return SimpleNamespace(
            id=node_id, name="bm-cmp1", power_state=self.power_state, target_power_state=None, is_maintenance=False
        )

    def set_node_power_state(self, node_id, target):
        self.calls.append((node_id, target))
        self.power_state = "power on" if target == "rebooting" else target


def action(state, hostname="cmp1"):
    return {
        "id": "p1",
        "type": "node_power",
        "resource": NODE,
        "input": {"hostname": hostname, "backend": "ironic", "node_id": NODE, "state": state},
        "parents": [],
        "postcondition": {"power_state": state},
    }


def run(state, baremetal, guard_params, check_mode=False, force=False, hostname="cmp1"):
    ctx = {"conn": SimpleNamespace(baremetal=baremetal), "force": force, "power_guard": guard_params, "timeout": 5}
    return NodePowerAction(action(state, hostname), ctx).run(check_mode=check_mode)


@pytest.fixture
def params(tmp_path):
    return {"cloud": "prod", "guard_dir": str(tmp_path / "guard"), "power_hysteresis": 1800}


def ledger(params):
    return json.loads((tmp_path_of(params) / "guard-prod.json").read_text())


def tmp_path_of(params):
    return Path(params["guard_dir"])


def test_power_on_records_the_time_and_a_power_off_inside_the_window_is_refused(params):
    bm = Baremetal("power off")
    before = time.time()
    assert run("on", bm, params)["changed"] is True
    recorded = ledger(params)["power_on"]["cmp1"]
    assert before <= recorded <= time.time()
    # force lifts the instance/service checks, not the hysteresis
    with pytest.raises(
        RefusedAction,
        match=r"refusing to power off node %s: host cmp1 was powered on \d+s ago "
        r"\(power hysteresis 1800s\)" % NODE,
    ):
        run("off", bm, params, force=True)
    assert bm.calls == [(NODE, "power on")], "the refused power-off sent nothing"
    assert bm.power_state == "power on"
    refusals = [d for d in StormGuard(params["guard_dir"], "prod").decisions() if d["kind"] == "power_off"]
    assert [d["allowed"] for d in refusals] == [False] and "power hysteresis 1800s" in refusals[0]["reason"]


def test_check_mode_refuses_the_same_way_and_writes_nothing(params):
    bm = Baremetal("power off")
    run("on", bm, params)
    logged = len(StormGuard(params["guard_dir"], "prod").decisions())
    with pytest.raises(RefusedAction, match="power hysteresis 1800s"):
        run("off", bm, params, check_mode=True, force=True)
    assert len(StormGuard(params["guard_dir"], "prod").decisions()) == logged, "check mode logs no decision"
    assert bm.calls == [(NODE, "power on")]


def test_check_mode_power_on_records_nothing(params):
    bm = Baremetal("power off")
    assert run("on", bm, params, check_mode=True)["changed"] is True
    assert bm.calls == []
    assert not (tmp_path_of(params) / "guard-prod.json").exists()


def test_power_off_after_the_window_goes_ahead(params):
    bm = Baremetal("power on")
    StormGuard(params["guard_dir"], "prod", clock=lambda: time.time() - 1801).record_power_on("cmp1")
    result = run("off", bm, params, force=True)
    assert result["changed"] is True and bm.calls == [(NODE, "power off")]


def test_window_is_per_host_and_zero_turns_it_off(params):
    bm = Baremetal("power off")
    run("on", bm, params)
    other = Baremetal("power on")
    assert run("off", other, params, force=True, hostname="cmp2")["changed"] is True, "cmp2 was not powered on"
    assert run("off", bm, dict(params, power_hysteresis=0), force=True)["changed"] is True
    assert bm.calls == [(NODE, "power on"), (NODE, "power off")]


def test_without_guard_options_there_is_no_hysteresis(params):
    bm = Baremetal("power off")
    run("on", bm, None)
    assert run("off", bm, None, force=True)["changed"] is True
    assert not (tmp_path_of(params) / "guard-prod.json").exists()


def test_node_without_hostname_is_keyed_by_its_node_id(params):
    bm = Baremetal("power off")
    run("on", bm, params, hostname=None)
    assert NODE in ledger(params)["power_on"]
    with pytest.raises(RefusedAction, match="host %s was powered on" % NODE):
        run("off", bm, params, force=True, hostname=None)


def test_reboot_is_neither_refused_nor_recorded(params):
    bm = Baremetal("power on")
    run("on", Baremetal("power off"), params)
    assert run("reboot", bm, params, force=True)["changed"] is True
    assert list(ledger(params)["power_on"]) == ["cmp1"]


def test_damaged_ledger_fails_the_power_off_cleanly(params):
    bm = Baremetal("power on")
    tmp_path_of(params).mkdir(mode=0o700)
    (tmp_path_of(params) / "guard-prod.json").write_text("{not json")
    with pytest.raises(ActionError, match="power hysteresis: guard ledger .* is not JSON"):
        run("off", bm, params, force=True)
    assert bm.calls == []


def test_negative_window_is_named(params):
    with pytest.raises(ActionError, match="power_hysteresis must be a number of seconds >= 0, got -5"):
        run("off", Baremetal("power on"), dict(params, power_hysteresis=-5), force=True)


def test_ledger_location_follows_the_option_then_the_environment(monkeypatch):
    monkeypatch.setenv("VIGIL_GUARD_DIR", "/srv/guard")
    assert guard_dir("/opt/g") == "/opt/g" and guard_dir(None) == "/srv/guard"
    monkeypatch.delenv("VIGIL_GUARD_DIR")
    assert guard_dir("") == "~/vigil/guard"
    assert [ledger_cloud(c) for c in ("prod", "", None, {"auth": {}})] == ["prod", "default", "default", "default"]
