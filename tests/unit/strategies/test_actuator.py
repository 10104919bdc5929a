"""actuator (goal unclassified): the plan is the list of actions given, validated and checked."""

import pytest
from strategy_models import cluster

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

ACTIONS = [
    {"type": "compute_service", "input": {"host": "h1", "state": "disabled", "disabled_reason": "x"}},
    {"type": "sleep", "input": {"duration": 2}, "parents": ["a1"]},
]


def test_ids_and_resources_are_filled_in():
    p = registry.run({}, "unclassified", params={"actions": ACTIONS})
    assert [a["id"] for a in p["actions"]] == ["a1", "a2"] and p["actions"][0]["resource"] == "h1"


def _overfull_move():
    return [
        {
            "type": "migrate",
            "resource": "s0",
            "input": {"migration_type": "live", "source_node": "h0", "destination_node": "h1"},
        }
    ]


REFUSED = [
    ({}, [ACTIONS[0], dict(ACTIONS[1], parents=["a9"])], r"params.actions\[1\].parents: unknown action id 'a9'"),
    (cluster([("h0", 12, 2048), ("h1", 12, 2048)], hosts=2), _overfull_move(), "host h1 lacks VCPU"),
]


@pytest.mark.parametrize("model, actions, message", REFUSED, ids=["unknown parent", "breaks capacity"])
def test_a_bad_list_is_refused_naming_the_problem(model, actions, message):
    with pytest.raises(registry.StrategyError, match=message):
        registry.run(model, "unclassified", params={"actions": actions})
