"""uniform_airflow (goal airflow_optimization): relieve the host with the highest airflow."""

from strategy_models import hot_cluster, migrations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_never_onto_a_host_whose_inlet_is_too_hot():
    p = registry.run(hot_cluster(), "airflow_optimization")
    assert migrations(p) == [("s1", "h0", "h1", "live")]  # h2's inlet is too hot
