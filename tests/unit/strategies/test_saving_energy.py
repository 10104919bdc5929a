"""saving_energy: power off free hosts down to a reserve, power them back on when short."""

from plancheck import plan_violations
from strategy_models import cluster

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_power_off_and_on():
    m = cluster([("h0", 2, 2048), ("h1", 2, 2048)], hosts=6)
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 1, "free_used_percent": 0})
    offs = [a for a in p["actions"] if a["type"] == "node_power"]
    assert len(offs) == 3 and all(a["input"]["state"] == "off" and a["input"]["backend"] == "ironic" for a in offs)
    assert p["efficacy"]["free_hosts_after"] == 1
    assert plan_violations(m, p) == []
    m["nodes"]["power_state"] = ["on", "on", "off", "off", "off", "off"]
    m["nodes"]["status"] = ["enabled", "enabled", "disabled", "disabled", "disabled", "disabled"]
    m["nodes"]["disabled_reason"] = [None, None, "vigil: saving_energy", "operator", None, None]
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 2})
    ons = [a for a in p["actions"] if a["type"] == "node_power"]
    assert len(ons) == 2 and all(a["input"]["state"] == "on" for a in ons)
    enables = [a for a in p["actions"] if a["type"] == "compute_service"]
    assert [a["resource"] for a in enables] == ["h2"] and enables[0]["parents"] == [ons[0]["id"]]
    m["nodes"]["power_backend"] = "none"
    p = registry.run(m, "saving_energy", params={"min_free_hosts_num": 2})
    assert p["actions"] == [] and "short by 2" in p["warnings"][0]["message"]
