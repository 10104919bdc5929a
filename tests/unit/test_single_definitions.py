# -*- coding: utf-8 -*-
"""Action types, their input schemas and the default concurrency limits are each written once:
action_types.py and limits.py. A literal elsewhere in plugins/ that lists action types, spells
an action's input schema or sets limit defaults is a second definition, and fails here."""

import ast
import pathlib

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import action_types, json_schema, limits, plan, planner
from ansible_collections.vigil.openstack.plugins.module_utils import plan_executor as executor_mod
from ansible_collections.vigil.openstack.plugins.module_utils.actions.registry import EXECUTORS

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
TYPES = set(action_types.ACTION_TYPES)
INPUT_FIELDS = {"migration_type", "source_node", "destination_node", "hostname", "node_id", "destination_pool"}
LIMIT_KEYS = {"per_host", "total", "per_type", limits.LIVE_KEY}


def _literals(path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Dict):
            yield node, [k.value for k in node.keys if isinstance(k, ast.Constant)]
        elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            yield node, [e.value for e in node.elts if isinstance(e, ast.Constant)]


def _second_definitions(root=PLUGINS):
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node, strings in _literals(path):
            named = {s for s in strings if isinstance(s, str)}
            where = "%s:%d" % (rel, node.lineno)
            if rel != "module_utils/action_types.py":
                if len(named & TYPES) >= 3:
                    found.append("%s lists action types %s" % (where, sorted(named & TYPES)))
                if isinstance(node, ast.Dict) and named & {"required", "properties"}:
                    inner = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant)}
                    if len(inner & INPUT_FIELDS) >= 2:
                        found.append("%s spells an action input schema %s" % (where, sorted(inner & INPUT_FIELDS)))
            if rel != "module_utils/limits.py" and isinstance(node, ast.Dict) and len(named & LIMIT_KEYS) >= 2:
                values = [v for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, int)]
                if values:
                    found.append("%s sets concurrency limits %s" % (where, sorted(named & LIMIT_KEYS)))
    return found


def test_no_second_definition_of_action_types_schemas_or_limits():
    assert _second_definitions() == []


def test_the_check_sees_a_copy(tmp_path):
    """The scan above is not blind: a copied type list, schema or default limits are found."""
    (tmp_path / "module_utils").mkdir()
    (tmp_path / "module_utils" / "copy.py").write_text(
        'TYPES = ("migrate", "resize", "stop")\n'
        'SCHEMA = {"required": ["migration_type", "source_node"]}\n'
        'LIMITS = {"total": 8, "per_host": 2}\n'
    )
    found = _second_definitions(tmp_path)
    assert [line.split(" ", 1)[1].split(" ")[0] for line in found] == ["lists", "spells", "sets"]


def test_everything_derives_from_the_table():
    assert plan.ACTION_TYPES == action_types.ACTION_TYPES
    assert plan.ACTION_INPUT_SCHEMAS is action_types.INPUT_SCHEMAS
    assert set(EXECUTORS) == set(action_types.TABLE)
    assert limits.DEFAULT_LIMITS["per_type"] == {n: t.concurrency for n, t in action_types.TABLE.items()}
    # the planner's waves and the executor run on the same defaults
    assert executor_mod.normalize_limits(None) == limits.normalize(None)
    assert not hasattr(planner, "DEFAULT_LIMITS") and not hasattr(executor_mod, "DEFAULT_LIMITS")


@pytest.mark.parametrize("atype", action_types.ACTION_TYPES)
def test_fast_input_check_agrees_with_the_schema(atype):
    """The fast path is generated from the table's schema: both judge alike."""
    schema = action_types.INPUT_SCHEMAS[atype]
    samples = [
        {},
        {"migration_type": "live", "source_node": "h1", "destination_node": None},
        {"migration_type": "live", "source_node": "", "destination_node": "h2"},
        {"migration_type": "cold", "source_node": "h1", "destination_node": "h2", "block_migration": "auto"},
        {"migration_type": "teleport", "source_node": "h1", "destination_node": "h2"},
        {"host": "h1", "state": "disabled", "disabled_reason": None},
        {"host": "h1", "state": "off"},
        {"hostname": "h1", "backend": "maas", "node_id": "n", "state": "on"},
        {"migration_type": "migrate", "destination_pool": "h@b#p", "source_pool": 3},
        {"migration_type": "migrate", "destination_pool": "h@b#p", "source_pool": None},
        {"migration_type": "migrate", "destination_pool": "cinder2", "source_pool": None},
        {"migration_type": "migrate", "source_pool": "h@b#p"},
        {"migration_type": "retype", "destination_type": "fast"},
        {"migration_type": "retype", "destination_type": ""},
        {"migration_type": "retype", "destination_pool": "nowhere", "destination_type": "fast"},
        {"hostname": None, "backend": "ironic", "node_id": "n", "state": "off", "stop_mode": "soft"},
        {"hostname": "", "backend": "ironic", "node_id": "n", "state": "off"},
        {"migration_type": "cold", "source_node": None, "destination_node": "h2", "confirm": "yes"},
        {"flavor": "m1.small"},
        {"duration": -1},
        {"duration": 2.5},
        {"message": 5},
        [],
    ]
    check = action_types._INPUT_OK[atype]
    assert check is not None
    verdicts = set()
    for sample in samples:
        verdicts.add(check(sample))
        assert check(sample) == (not json_schema.validate_schema(sample, schema)), sample
    assert verdicts == {True, False}  # every type's schema accepts some samples and refuses others
