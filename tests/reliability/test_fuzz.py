"""Fuzzing (hypothesis) of what reads untrusted files: the plan validator and the executor's
preflight, the model loader and snapshot reader, the twin's topology loader.

"No uncaught exception, ever": each either accepts the input or raises its one documented
error type (ValueError family, PlanExecutionError, TopologyError) with a message.
"""

import copy
import gzip
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutionError, PlanExecutor

SCENARIOS = {  # rows of docs/reliability.md (conftest.py)
    "test_validate_plan_never_raises": (
        "fuzzing",
        "plan validator on random JSON and mutated plans",
        "a list of problems, never an exception",
    ),
    "test_executor_preflight_refuses_cleanly": (
        "fuzzing",
        "plan_apply's preflight on mutated plans",
        "PlanExecutionError or a runnable DAG",
    ),
    "test_load_model_raises_only_value_errors": (
        "fuzzing",
        "model loader (load_model) on random tables",
        "only ValueError, with a message",
    ),
    "test_load_snapshot_raises_only_value_errors": (
        "fuzzing",
        "snapshot reader on random bytes / JSON",
        "ValueError naming the file",
    ),
    "test_twin_topology_loader_raises_only_topology_errors": (
        "fuzzing",
        "twin topology loader on random and mutated topologies",
        "only TopologyError, with a message",
    ),
}
FUZZ = settings(
    max_examples=int(os.environ.get("VIGIL_FUZZ_EXAMPLES", "150")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["live", "cold", "migrate", "retype", "enabled", "disabled", "on", "off", "a1", "ironic", "maas"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.text(max_size=10) | st.sampled_from(list(planlib.ACTION_SCHEMA["properties"])), children, max_size=5
        ),
    ),
    max_leaves=20,
)


def _valid_plan():
    actions = [
        planlib.compute_service_action("s1", "h1", "disabled", "why"),
        planlib.migrate_action("a1", "srv-1", "h1", "h2", "live", "ACTIVE", parents=["s1"]),
        planlib.volume_migrate_action("v1", "vol-1", "c@l#a", "c@l#b"),
        planlib.node_power_action("p1", "h1", "ironic", "node-1", "off", parents=["a1"]),
        planlib.simple_action("n1", "sleep", "x", {"duration": 1}),
    ]
    return planlib.new_plan("g", "s", scope={"compute_nodes": ["h1", "h2"]}, actions=actions)


PLAN_KEYS = list(planlib.PLAN_SCHEMA["properties"]) + ["extra"]
ACTION_KEYS = list(planlib.ACTION_SCHEMA["properties"]) + ["extra"]


@st.composite
def mutated_plans(draw):
    """A valid plan with a few fields replaced, removed or added at the plan or action level."""
    plan = copy.deepcopy(_valid_plan())
    for _unused in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(["plan", "action", "input"]))
        if where == "plan":
            target = plan
            key = draw(st.sampled_from(PLAN_KEYS))
        else:
            if not isinstance(plan.get("actions"), list) or not plan["actions"]:
                continue
            target = draw(st.sampled_from(plan["actions"]))
            if not isinstance(target, dict):
                continue
            if where == "input":
                if not isinstance(target.get("input"), dict):
                    continue
                target = target["input"]
                key = draw(
                    st.sampled_from(
                        [
                            "migration_type",
                            "source_node",
                            "destination_node",
                            "state",
                            "host",
                            "node_id",
                            "backend",
                            "duration",
                            "hostname",
                            "destination_pool",
                        ]
                    )
                )
            else:
                key = draw(st.sampled_from(ACTION_KEYS))
        if draw(st.booleans()):
            target.pop(key, None)
        else:
            target[key] = draw(json_values)
    return plan


@FUZZ
@given(st.one_of(json_values, mutated_plans()))
def test_validate_plan_never_raises(plan):
    errors = planlib.validate_plan(plan)
    assert isinstance(errors, list) and all(isinstance(e, str) and e for e in errors)


@FUZZ
@given(mutated_plans())
def test_executor_preflight_refuses_cleanly(plan):
    """What plan_apply does before touching anything: only PlanExecutionError, with a message."""
    try:
        executor = PlanExecutor(plan)
        executor.preflight()
    except PlanExecutionError as exc:
        assert str(exc)
        return
    # accepted: then it is a valid plan, and the scheduler can build its graph and waves
    assert planlib.validate_plan(plan) == []
    executor.waves()


# -- model loader -----------------------------------------------------------------------------------
table_names = st.sampled_from(list(schema.TABLES) + ["meta", "unknown"])


@st.composite
def split_tables(draw):
    table = draw(st.sampled_from(list(schema.TABLES)))
    known = list(schema.TABLES[table]) if isinstance(schema.TABLES[table], (list, tuple, dict)) else []
    cols = draw(st.lists(st.sampled_from(list(known) + ["bogus"]) if known else st.text(max_size=6), max_size=5))
    rows = draw(
        st.lists(
            st.lists(
                scalars | st.lists(scalars, max_size=2),
                min_size=len(cols),
                max_size=len(cols) + (1 if draw(st.booleans()) else 0),
            ),
            max_size=4,
        )
    )
    return {table: {"columns": cols, "data": rows}}


@FUZZ
@given(st.one_of(json_values, st.dictionaries(table_names, json_values, max_size=4), split_tables()))
def test_load_model_raises_only_value_errors(model):
    try:
        frames = frame.load_model(model)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(frames, dict)


@FUZZ
@given(st.binary(max_size=200) | json_values.map(lambda v: gzip.compress(json.dumps(v).encode())))
def test_load_snapshot_raises_only_value_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("snap") / "model.json.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError) as exc:
        frame.load_snapshot(str(path))
    assert str(path) in str(exc.value)


# -- twin topology loader ---------------------------------------------------------------------------
TOPOLOGY_KEYS = ["identity", "flavors", "nodes", "servers", "server_groups", "aggregates", "timing", "faults", "seed"]


@st.composite
def topologies(draw):
    base = {
        "nodes": [{"hostname": "c1", "vcpus": 8, "memory_mb": 16384, "disk_gb": 100}],
        "servers": [{"name": "s1", "flavor": "m1.small", "host": "c1"}],
    }
    for _unused in range(draw(st.integers(1, 3))):
        section = draw(st.sampled_from(TOPOLOGY_KEYS))
        current = base.get(section)
        if isinstance(current, list) and current and isinstance(current[0], dict) and draw(st.booleans()):
            item = dict(current[0])
            key = draw(
                st.sampled_from(sorted(item) + ["az", "status", "flavor", "host", "reserved", "allocation_ratio"])
            )
            item[key] = draw(json_values)
            base[section] = [item]
        else:
            base[section] = draw(json_values)
    return base


@FUZZ
@given(st.one_of(json_values, topologies()))
def test_twin_topology_loader_raises_only_topology_errors(topology):
    from vigil_twin.errors import TopologyError
    from vigil_twin.topology import validate_topology

    try:
        validate_topology(topology)
    except TopologyError as exc:
        assert str(exc)
