"""basic (goal server_consolidation): Watcher's basic consolidation on a generated cluster."""

from modelgen import add_metrics, random_model
from plancheck import plan_violations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_moves_servers_on_a_generated_cluster():
    m = add_metrics(random_model(11, hosts=15, instances=150), 11)
    p = registry.run(m, "server_consolidation", "basic")
    assert plan_violations(m, p) == []
    assert p["efficacy"]["instance_migrations_count"] > 0
