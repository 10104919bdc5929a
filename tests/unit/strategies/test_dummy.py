"""dummy: two nops and a sleep of para1 seconds (Watcher's dummy strategy)."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_nops_then_a_sleep_of_para1():
    p = registry.run({}, "dummy", params={"para1": 1.5})
    assert [a["type"] for a in p["actions"]] == ["nop", "nop", "sleep"] and p["actions"][2]["input"]["duration"] == 1.5


@pytest.mark.parametrize("params, message", [({"para1": 11}, "params.para1: 11 is above the maximum 10")])
def test_bad_parameters_are_refused_naming_them(params, message):
    with pytest.raises(registry.StrategyError, match=message):
        registry.run({}, "dummy", params=params)
