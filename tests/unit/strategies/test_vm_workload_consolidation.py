"""vm_workload_consolidation: pack by measured load (Watcher's strategy of the same name)."""

import pytest
from plancheck import plan_violations
from strategy_models import cluster, metrics, migrations, server_load

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

# Four 8-vCPU servers, one per host; allocations fill 2 hosts at ratio 4, the measured load decides.
LOAD_CASES = [
    # low measured load: everything fits on one host
    (10.0, None, 1),
    # measured load too high for cc: cannot pack onto one host
    (100.0, {"cc": {"cpu": 0.6, "ram": 1.0}}, 4),
]


@pytest.mark.parametrize("cpu_pct, params, hosts_after", LOAD_CASES)
def test_uses_measured_load(cpu_pct, params, hosts_after):
    m = cluster([("h%d" % (k % 4), 8, 8192) for k in range(4)], hosts=4)
    m["metrics"] = metrics(server_load(4, cpu_pct, 1024.0))
    m["nodes"]["vcpu_allocation_ratio"] = 4.0
    p = registry.run(m, "server_consolidation", "vm_workload_consolidation", params)
    assert p["efficacy"]["hosts_in_use_after"] == hosts_after
    if hosts_after == 1:
        assert p["warnings"] == []
        assert plan_violations(m, p) == []


def test_offload_onto_empty_host_keeps_it_enabled():
    m = cluster([("h0", 8, 4096), ("h0", 8, 4096)], hosts=2)
    m["metrics"] = metrics(server_load(2, 100.0, 1024.0))
    p = registry.run(m, "server_consolidation", "vm_workload_consolidation")
    assert migrations(p) == [("s0", "h0", "h1", "live")]
    assert [a for a in p["actions"] if a["type"] == "compute_service"] == []
    assert plan_violations(m, p) == []
