# -*- coding: utf-8 -*-
"""One validation path for action inputs: the table's schema (action_types.py).

Each executor validates its action with the schema before reading anything, and re-checks
none of it. The cases are derived from the schemas themselves: for every field, values the
schema refuses. With the real schema each is refused naming the field; with the schema
switched off, no executor refuses it on its own (it goes on to read the cloud), so a check
copied into an executor fails here.
"""

import copy

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import action_types
from ansible_collections.vigil.openstack.plugins.module_utils.actions import base
from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import Action, ActionError, Poller
from ansible_collections.vigil.openstack.plugins.module_utils.actions.registry import EXECUTORS

VALID_INPUTS = {
    "migrate": {"migration_type": "live", "source_node": "cmp1", "destination_node": "cmp2", "block_migration": "auto"},
    "resize": {"flavor": "m1.large"},
    "compute_service": {"host": "cmp1", "state": "disabled", "disabled_reason": "maintenance"},
    "volume_migrate": {"migration_type": "migrate", "destination_pool": "c2@lvm#b", "source_pool": "c1@lvm#a"},
    "node_power": {"hostname": "cmp1", "backend": "ironic", "node_id": "node-1", "state": "off"},
    "stop": {},
    "nop": {"message": "hello"},
    "sleep": {"duration": 1},
}


class Reached(Exception):
    """Raised by the cloud stand-in: the executor got past validation and tried to read."""


def _unreachable():
    raise Reached()


def _action(atype, inp, resource="res-1"):
    return {"id": "a1", "type": atype, "resource": resource, "input": inp, "parents": []}


def _run(action):
    """What the executor does with `action` up to its first read: "reached" (validation passed
    and the cloud was asked), "returned" (nothing to read), or the ActionError it raised."""
    ctx = {"conn": _unreachable, "maas": _unreachable, "poller": Poller(interval=0.01)}
    try:
        EXECUTORS[action["type"]](action, ctx).run(check_mode=True)
    except Reached:
        return "reached"
    except ActionError as exc:
        return exc
    except Exception:  # noqa: BLE001 - a crash on a value the schema would refuse is no re-check
        return "crashed"
    return "returned"


def _bad_values(schema):
    """(value, why) pairs the property schema refuses, read from the schema."""
    types = schema.get("type")
    types = types if isinstance(types, list) else [types] if types else []
    out = []
    if "enum" in schema:
        out.append(("no-such-choice", "enum"))
    if "string" in types:
        out.append((12345, "type"))
        if "null" not in types:
            out.append((None, "type"))
    if schema.get("minLength"):
        out.append(("", "minLength"))
    if "pattern" in schema:
        out.append(("no-pattern-here", "pattern"))
    if types == ["boolean"]:
        out.append(("yes", "type"))
    if "number" in types:
        out.append(("3", "type"))
        if "minimum" in schema:
            out.append((schema["minimum"] - 1, "minimum"))
    return out


def _cases():
    """(type, input, field) for every way the table's schemas refuse an input."""
    for atype, schema in action_types.INPUT_SCHEMAS.items():
        valid = VALID_INPUTS[atype]
        branches = [(valid, schema)]
        for rule in schema.get("allOf", ()):  # if/then: the fields a given kind requires
            cond = {k: v["const"] for k, v in rule["if"]["properties"].items()}
            sample = dict(valid, **cond)
            for field in rule["then"].get("required", ()):
                sample.setdefault(field, "x@y#z")
            branches.append((sample, rule["then"]))
        for sample, sub in branches:
            for field in sub.get("required", ()):
                broken = {k: v for k, v in sample.items() if k != field}
                yield atype, broken, field
            for field, prop in sub.get("properties", {}).items():
                for value, _why in _bad_values(prop):
                    yield atype, dict(sample, **{field: value}), field


CASES = list(_cases())


def test_cases_cover_every_schema_field():
    covered = {(atype, field) for atype, _inp, field in CASES}
    for atype, schema in action_types.INPUT_SCHEMAS.items():
        subs = [schema] + [rule["then"] for rule in schema.get("allOf", ())]
        fields = {f for s in subs for f in list(s.get("properties", {})) + list(s.get("required", ()))}
        assert {f for f in fields if (atype, f) in covered} == fields, atype


@pytest.mark.parametrize("atype", sorted(VALID_INPUTS))
def test_a_valid_action_passes_and_goes_on_to_read(atype):
    assert action_types.action_errors(_action(atype, VALID_INPUTS[atype])) == []
    assert _run(_action(atype, VALID_INPUTS[atype])) in ("reached", "returned")


@pytest.mark.parametrize("atype, inp, field", CASES, ids=["%s-%s-%d" % (c[0], c[2], n) for n, c in enumerate(CASES)])
def test_the_schema_refuses_naming_the_field(atype, inp, field):
    result = _run(_action(atype, copy.deepcopy(inp)))
    assert isinstance(result, ActionError), result
    message = str(result)
    assert message.startswith("invalid %s action: " % atype)
    assert "action.input.%s:" % field in message or "missing required field '%s'" % field in message, message


@pytest.mark.parametrize("atype, inp, field", CASES, ids=["%s-%s-%d" % (c[0], c[2], n) for n, c in enumerate(CASES)])
def test_no_executor_rechecks_what_the_schema_defines(monkeypatch, atype, inp, field):
    monkeypatch.setattr(base, "action_errors", lambda action, path="action": [])
    result = _run(_action(atype, copy.deepcopy(inp)))
    assert not isinstance(result, ActionError), "%s re-checks input.%s: %s" % (atype, field, result)


@pytest.mark.parametrize("atype", sorted(VALID_INPUTS))
def test_the_resource_is_the_schema_s_too(monkeypatch, atype):
    refused = _run(_action(atype, VALID_INPUTS[atype], resource=""))
    assert isinstance(refused, ActionError) and "action.resource: must not be empty" in str(refused)
    monkeypatch.setattr(base, "action_errors", lambda action, path="action": [])
    assert not isinstance(_run(_action(atype, VALID_INPUTS[atype], resource="")), ActionError)


def test_no_executor_overrides_the_one_validation():
    for cls in EXECUTORS.values():
        owner = next(k for k in cls.__mro__ if "validate" in vars(k))
        assert owner is Action, "%s defines its own validate()" % cls.__name__


def test_the_check_sees_a_copied_check(monkeypatch):
    """The re-check test is not blind: an executor that refuses a schema-covered value itself is caught."""
    cls = EXECUTORS["compute_service"]

    def run(self, check_mode=False):
        if self.input.get("state") not in ("enabled", "disabled"):
            raise ActionError("state must be enabled or disabled")
        return Action.run(self, check_mode)

    monkeypatch.setattr(cls, "run", run)
    monkeypatch.setattr(base, "action_errors", lambda action, path="action": [])
    bad = dict(VALID_INPUTS["compute_service"], state="off")
    assert isinstance(_run(_action("compute_service", bad)), ActionError)
