"""workload_balance: move servers off hosts over a CPU threshold."""

from modelgen import add_metrics, random_model
from plancheck import plan_violations
from strategy_models import cluster, metrics, migrations, server_load

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_moves_servers_on_a_generated_cluster():
    m = add_metrics(random_model(11, hosts=15, instances=150), 11)
    p = registry.run(m, "workload_balancing", "workload_balance")
    assert plan_violations(m, p) == []
    assert p["efficacy"]["instance_migrations_count"] > 0


def test_threshold():
    m = cluster([("h0", 4, 4096)] * 3 + [("h1", 1, 1024)], hosts=3)
    m["metrics"] = metrics(server_load(4, 100.0, 512.0))
    p = registry.run(m, "workload_balancing", "workload_balance", {"threshold": 60.0})
    # h0 at 75% -> one 4-vCPU server leaves to the idle h2
    assert migrations(p) == [("s0", "h0", "h2", "live")]
    assert p["efficacy"]["hosts_over_threshold_after"] == 0
