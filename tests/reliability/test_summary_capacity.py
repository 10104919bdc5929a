"""Issue 15 item 3: a plan made from a Placement-summary model never sends a server to a full host.

Above 50 hosts ``compute_model_info`` reads Placement in summary mode (one
``GET /allocation_candidates``). A host left out of that answer must never look roomier than it
is. The cloud below has 60 hosts with vCPU allocation ratios 2.0, 4.0 and 16.0 (Nova's default
guess is 4.0), some filled to the last vCPU, some to the last MiB: node_resource_consolidation
likes full-looking hosts as destinations, so any guessed room on them is used and the twin,
which enforces Placement capacity as Nova does, refuses the move.
"""

from invariants import assert_invariants, capture, new_requests
from support import apply_args, run_module, start_twin, states

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

RATIOS = (2.0, 4.0, 16.0)
HOSTS = ["node-%02d" % i for i in range(60)]
VCPU_FULL = HOSTS[0:18:3]  # ratio 2.0: 16 x 2 vCPU fill the 32 vCPU, half the memory free
MEMORY_FULL = HOSTS[2:14:3]  # ratio 16.0: 16 x 4 GiB fill the 64 GiB, 224 vCPU free
FULL = set(VCPU_FULL) | set(MEMORY_FULL)

TOPOLOGY = {
    "identity": {},
    "flavors": [
        {"name": "c2", "vcpus": 2, "ram": 2048, "disk": 10},
        {"name": "r2", "vcpus": 2, "ram": 4096, "disk": 10},
        {"name": "s1", "vcpus": 1, "ram": 1024, "disk": 10},
    ],
    "nodes": [
        # 512 MiB reserved (the twin's default) + 64 GiB for servers
        {"hostname": h, "vcpus": 16, "memory_mb": 66048, "disk_gb": 1000, "allocation_ratio": {"vcpus": RATIOS[i % 3]}}
        for i, h in enumerate(HOSTS)
    ],
    "servers": [
        {"name": "%s-%d" % (h, k), "flavor": "c2" if h in VCPU_FULL else "r2" if h in MEMORY_FULL else "s1", "host": h}
        for h in HOSTS
        for k in range(16 if h in FULL else 2)
    ],
}


def test_consolidation_over_50_hosts_applies_with_no_refusal(stack, tmp_path, scenario):
    scenario(
        "safety",
        "60 hosts, vCPU ratios 2.0/4.0/16.0, some full on vCPU or memory: collect (Placement summary), "
        "node_resource_consolidation, apply",
        "no server sent to a full host: every action SUCCEEDED, 0 refusals",
    )
    twin = start_twin(stack, tmp_path, topology=TOPOLOGY)
    collected, out = run_module(tmp_path, "compute_model_info", {"cloud": "vigil-twin"}, twin=twin)
    assert not collected.get("failed"), out
    meta = collected["model"]["meta"]
    # the vCPU-full hosts are in Placement's summaries (read exactly), the memory-full ones not
    assert (meta["placement_detail"], meta["placement_estimated"]) == ("summary", sorted(MEMORY_FULL))

    plan = registry.run(collected["model"], "server_consolidation", "node_resource_consolidation")
    moves = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert len(moves) >= 50, "the plan should drain the lightly loaded hosts: %d moves" % len(moves)

    base = capture(twin)
    state = tmp_path / "state.json"
    # continue_independent: every refusal is counted, not only the first
    result, out = run_module(
        tmp_path, "plan_apply", apply_args(plan, state, on_failure="continue_independent"), twin=twin, timeout=600
    )
    refusals = [e for e in new_requests(twin, base) if e["service"] == "compute" and e["status"] == 400]
    assert not refusals, "Nova refused %d request(s), first: %s" % (len(refusals), refusals[0])
    assert not result.get("failed"), out
    assert set(states(result).values()) == {"SUCCEEDED"}, states(result)
    assert_invariants(twin, base, plan=plan, state_file=state)
    into_full = sorted({a["input"]["destination_node"] for a in moves} & FULL)
    assert not into_full, "servers planned onto full hosts: %s" % into_full
