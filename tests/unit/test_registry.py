# -*- coding: utf-8 -*-
"""registry.run: goal/strategy resolution, parameter schemas, bad input errors."""

import pytest
from modelgen import random_model

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


@pytest.fixture(scope="module")
def model():
    return random_model(3, hosts=8, instances=40)


def test_default_is_best_strategy(model):
    p = registry.run(model, "server_consolidation")
    assert p["strategy"] == "node_resource_consolidation"
    assert p["parameters"]["host_choice"] == "specify"  # defaults applied
    assert planlib.validate_plan(p) == []


def test_unknown_goal_lists_goals(model):
    with pytest.raises(
        registry.StrategyError, match="unknown goal 'nope'; valid goals: airflow_optimization, cluster_maintaining"
    ):
        registry.run(model, "nope")


def test_unknown_strategy_lists_valid(model):
    with pytest.raises(
        registry.StrategyError,
        match="unknown strategy 'zzz' for goal 'server_consolidation'; valid strategies: node_resource_consolidation",
    ):
        registry.run(model, "server_consolidation", "zzz")


def test_bad_params_name_the_field(model):
    with pytest.raises(registry.StrategyError, match=r"params.host_choice: 'maybe' is not one of 'auto', 'specify'"):
        registry.run(model, "server_consolidation", params={"host_choice": "maybe"})
    with pytest.raises(registry.StrategyError, match=r"unknown field 'colour'"):
        registry.run(model, "server_consolidation", params={"colour": 1})
    with pytest.raises(registry.StrategyError, match=r"params.max_migrations: 0 is below the minimum 1"):
        registry.run(model, "server_consolidation", params={"max_migrations": 0})
    with pytest.raises(registry.StrategyError, match="params must be a mapping"):
        registry.run(model, "server_consolidation", params=[1])


def test_bad_models():
    with pytest.raises(registry.StrategyError, match="the model is empty"):
        registry.run({}, "server_consolidation")
    with pytest.raises(registry.StrategyError, match="the model is empty"):
        registry.run({"meta": {}}, "server_consolidation")
    with pytest.raises(registry.StrategyError, match="no 'nodes' table"):
        registry.run({"instances": {"columns": [], "data": []}}, "server_consolidation")
    with pytest.raises(registry.StrategyError, match="table 'nodes' is empty"):
        registry.run(
            {"nodes": frame.to_split(frame.empty("nodes")), "instances": frame.to_split(frame.empty("instances"))},
            "server_consolidation",
        )
    with pytest.raises(registry.StrategyError, match="split orientation"):
        registry.run({"nodes": [1, 2]}, "server_consolidation")
    with pytest.raises(registry.StrategyError, match="lacks columns"):
        registry.run(
            {"nodes": {"columns": ["hostname"], "data": [["h"]]}, "instances": {"columns": [], "data": []}},
            "server_consolidation",
        )


def test_scope_errors(model):
    with pytest.raises(registry.StrategyError, match="bad scope: the scope matches no compute node"):
        registry.run(model, "server_consolidation", scope={"compute_nodes": ["nope"]})
    with pytest.raises(registry.StrategyError, match="unknown scope keys"):
        registry.run(model, "server_consolidation", scope={"hosts": ["x"]})


def test_split_model_round_trip(model):
    split = {k: frame.to_split(v) for k, v in model.items()}
    split["meta"] = {"digest": "sha256:abc"}
    p = registry.run(split, "server_consolidation")
    q = registry.run(model, "server_consolidation")
    assert p["model_digest"] == "sha256:abc" and q["model_digest"].startswith("sha256:")

    def strip(plan):
        return [(a["type"], a["resource"], a["input"]) for a in plan["actions"]]

    assert strip(p) == strip(q)


def test_every_strategy_has_valid_schema_and_docs():
    import jsonschema

    for goal, names in registry.available().items():
        for n in names:
            info = registry.strategy_info(n)
            assert info["goal"] == goal
            jsonschema.Draft7Validator.check_schema(info["parameters"])
            defaults = registry.apply_defaults(info["parameters"], {})
            assert planlib.validate_schema(defaults, info["parameters"]) == [] or n in ("host_maintenance", "actuator")


def test_every_strategy_is_documented():
    import os

    root = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "strategies")
    index = open(os.path.join(root, "README.md")).read()
    for names in registry.available().values():
        for n in names:
            assert "(%s.md)" % n in index
            doc = open(os.path.join(root, n + ".md")).read()
            for section in (
                "## Algorithm",
                "## Parameters",
                "## Constraints honoured",
                "## Efficacy indicators",
                "## Without a metric",
            ):
                assert section in doc, (n, section)
            for param in registry.strategy_info(n)["parameters"]["properties"]:
                assert "`%s`" % param in doc or "`%s`" % param in index, (n, param)


def test_all_goals_have_their_strategies():
    avail = registry.available()
    assert all(avail[g] == list(names) for g, names in registry.GOALS.items())


def test_missing_numpy_is_reported(monkeypatch):
    from ansible_collections.vigil.openstack.plugins.module_utils.constraints import tables

    monkeypatch.setattr(tables, "np", None)
    with pytest.raises(registry.StrategyError, match="needs the Python libraries numpy and pandas"):
        registry.run({}, "dummy")
