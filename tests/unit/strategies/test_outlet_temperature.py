"""outlet_temperature (goal thermal_optimization): move servers off hosts with a hot outlet."""

from strategy_models import cluster, hot_cluster, migrations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_largest_server_goes_to_the_coolest_host():
    p = registry.run(hot_cluster(), "thermal_optimization")
    assert migrations(p) == [("s1", "h0", "h2", "live")]


def test_without_the_metric_nothing_moves_and_it_says_so():
    p = registry.run(cluster([("h0", 2, 2048)], hosts=2), "thermal_optimization")
    assert p["actions"] == [] and "no outlet_temp_c metric" in p["warnings"][0]["message"]
