# -*- coding: utf-8 -*-
"""plan.py: schema, semantic checks, and agreement with the jsonschema library."""

import copy

import jsonschema
import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib


def _plan():
    return planlib.new_plan(
        "server_consolidation",
        "node_resource_consolidation",
        {"host_choice": "specify"},
        None,
        "sha256:00",
        [
            planlib.migrate_action("a1", "srv-1", "cmp1", "cmp2", "live", "ACTIVE"),
            planlib.compute_service_action("a2", "cmp1", "disabled", "vigil", ["a1"]),
            planlib.node_power_action("a3", "cmp1", "ironic", "node-1", "off", ["a2"]),
            planlib.volume_migrate_action("a4", "vol-1", "h@b#p1", destination_pool="h@b#p2"),
            planlib.volume_migrate_action("a5", "vol-2", "h@b#p1", destination_type="fast"),
            planlib.simple_action("a6", "sleep", "plan", {"duration": 1}),
            planlib.simple_action("a7", "nop", "plan", {"message": "hi"}, ["a6"]),
        ],
        {"instance_migrations_count": 1},
        [{"resource": "srv-9", "message": "stays"}],
    )


def test_valid_plan_passes_both_validators():
    p = _plan()
    assert planlib.validate_plan(p) == []
    jsonschema.Draft7Validator.check_schema(planlib.PLAN_SCHEMA)
    jsonschema.validate(p, planlib.PLAN_SCHEMA)


@pytest.mark.parametrize(
    "mutate, needle",
    [
        (lambda p: p.pop("goal"), "missing required field 'goal'"),
        (lambda p: p.update(schema_version=2), "schema_version"),
        (lambda p: p["actions"][0].update(type="teleport"), "'teleport' is not one of"),
        (lambda p: p["actions"][0]["input"].update(migration_type="warp"), "migration_type"),
        (lambda p: p["actions"][0]["input"].pop("source_node"), "source_node"),
        (lambda p: p["actions"][1]["input"].update(state="off"), "state"),
        (lambda p: p["actions"][2]["input"].update(backend="ipmi"), "backend"),
        (lambda p: p["actions"][5]["input"].update(duration=-1), "below the minimum"),
        (lambda p: p["actions"][0].update(colour="red"), "unknown field 'colour'"),
        (lambda p: p["actions"][1].update(parents=["a1", "a1"]), "duplicate item"),
    ],
)
def test_schema_errors_agree_with_jsonschema(mutate, needle):
    p = _plan()
    mutate(p)
    errors = planlib.validate_plan(p)
    assert any(needle in e for e in errors), errors
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(p, planlib.PLAN_SCHEMA)


def test_semantic_checks():
    p = _plan()
    p["actions"][1]["id"] = "a1"
    assert any("duplicate action id 'a1'" in e for e in planlib.validate_plan(p))
    p = _plan()
    p["actions"][1]["parents"] = ["a99"]
    assert any("unknown action id 'a99'" in e for e in planlib.validate_plan(p))
    p = _plan()
    p["actions"][0]["parents"] = ["a3"]
    assert any(
        "dependency cycle a1 -> a3 -> a2 -> a1" in e or "dependency cycle" in e for e in planlib.validate_plan(p)
    )
    p = _plan()
    p["actions"][0]["input"]["destination_node"] = "cmp1"
    assert any("onto its own source" in e for e in planlib.validate_plan(p))
    p = _plan()
    p["actions"][3]["input"]["destination_pool"] = "h@b#p1"
    assert any("onto its own pool" in e for e in planlib.validate_plan(p))
    p = _plan()
    p["actions"][6]["parents"] = ["a7"]
    assert any("depends on itself" in e for e in planlib.validate_plan(p))
    assert planlib.validate_plan([1]) == ["$: a plan must be a mapping, got array"]


def test_find_cycle_none_and_long():
    acts = [{"id": "a%d" % k, "parents": ["a%d" % (k - 1)] if k else []} for k in range(3000)]
    assert planlib.find_cycle(acts) is None
    acts[0]["parents"] = ["a2999"]
    cyc = planlib.find_cycle(acts)
    assert cyc[0] == cyc[-1] and len(cyc) == 3001


def test_validate_schema_subset():
    s = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "n": {"type": "integer", "minimum": 1, "maximum": 5},
            "f": {"type": ["number", "null"]},
            "b": {"type": "boolean"},
        },
    }
    assert planlib.validate_schema({"n": 3, "f": None, "b": True}, s) == []
    assert planlib.validate_schema({"n": True}, s) == ["$.n: expected integer, got boolean"]
    assert planlib.validate_schema({"n": 9}, s) == ["$.n: 9 is above the maximum 5"]
    assert planlib.validate_schema({"x": 1}, s)[0].startswith("$: unknown field 'x'")
    assert planlib.validate_schema({"b": 1}, s) == ["$.b: expected boolean, got integer"]


def test_new_plan_fields():
    p = planlib.new_plan("dummy", "dummy")
    assert p["schema_version"] == 1 and p["actions"] == [] and len(p["id"]) == 36
    assert planlib.validate_plan(copy.deepcopy(p)) == []
