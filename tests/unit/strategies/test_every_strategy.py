"""The property every strategy shares: its plans are valid by the independent referee.

Each strategy runs on generated clusters with zones, aggregates, server groups, traits, odd
server states, metrics and storage; tests/unit/oracle.py (which shares no code with the
strategies or the constraint layer) replays each plan and must find nothing. A strategy the
registry offers without a row in CASES fails here, so a new strategy is refereed from day one.
"""

import oracle
import pytest
from modelgen import add_metrics, add_storage, random_model, with_usage

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

SEEDS = (1, 2, 3)


def _first_host(model):
    return str(model["nodes"]["hostname"].iloc[0])


# strategy -> parameters, given the model (None: the defaults).
CASES = {
    "node_resource_consolidation": None,
    "vm_workload_consolidation": None,
    "basic": None,
    "workload_stabilization": None,
    "workload_balance": lambda m: {"threshold": 40.0},
    "storage_capacity_balance": lambda m: {"volume_threshold": 50.0},
    "outlet_temperature": lambda m: {"threshold": 30.0},
    "uniform_airflow": None,
    "noisy_neighbor": None,
    "saving_energy": lambda m: {"min_free_hosts_num": 1},
    "zone_migration": lambda m: {"compute_nodes": [{"src_node": _first_host(m)}]},
    "host_maintenance": lambda m: {"maintenance_node": _first_host(m)},
    "actuator": lambda m: {"actions": [{"type": "sleep", "input": {"duration": 1}}]},
    "dummy": None,
}
GOAL_OF = {s: goal for goal, names in registry.available().items() for s in names}


def cloud(seed, free_hosts=0):
    """A generated cluster; its last ``free_hosts`` hosts hold no server."""
    m = random_model(seed, hosts=12, instances=110, azs=2, groups=3, traits=True, aggregates=2, disabled=1)
    if free_hosts:
        inst = m["instances"]
        m["instances"] = inst[~inst["host"].isin(m["nodes"]["hostname"].iloc[-free_hosts:])].reset_index(drop=True)
        m["nodes"] = with_usage(m["nodes"], m["instances"])
    m["nodes"]["power_backend"] = "ironic"  # saving_energy powers hosts off only through a backend
    m["nodes"]["power_state"] = "on"
    return add_storage(add_metrics(m, seed), seed, pools=4, volumes=40)


def test_every_registered_strategy_has_a_case():
    assert sorted(GOAL_OF) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_plans_pass_the_independent_referee(name):
    acted = 0
    for seed in SEEDS:
        m = cloud(seed, free_hosts=3 if name == "saving_energy" else 0)
        plan = registry.run(m, GOAL_OF[name], name, CASES[name](m) if CASES[name] else None)
        assert planlib.validate_plan(plan) == [], seed
        assert oracle.violations(m, plan) == [], seed
        acted += len(plan["actions"])
    assert acted > 0  # the clusters give the referee something to check
