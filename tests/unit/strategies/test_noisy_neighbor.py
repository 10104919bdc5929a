"""noisy_neighbor: move the cache-hungry low-priority server away from a priority one."""

from strategy_models import hot_cluster, metrics, migrations

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry


def test_the_noisy_low_priority_server_moves():
    m = hot_cluster()
    m["metrics"] = metrics(
        [
            ("instance", "s0", "l3_cache_mb", 5.0),
            ("instance", "s1", "l3_cache_mb", 60.0),
            ("instance", "s2", "l3_cache_mb", 10.0),
        ]
    )
    m["instances"]["metadata"] = [{"watcher-priority": "9"}, {"priority": 1}, {}]
    p = registry.run(m, "noisy_neighbor")
    assert migrations(p) == [("s1", "h0", "h2", "live")]
