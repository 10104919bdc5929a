"""End to end on the real services: playbooks/optimize.yml with vigil_apply=true (collect ->
plan -> report -> apply), then the cloud's end state read back from the real APIs, then the
same plan applied again changes nothing. Runs last in the tier (it moves most servers); the
compute services it disabled are enabled again afterwards."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from ansible_run import ROOT, run_playbook
from stack import CLOUD_ADMIN

PLAYBOOKS = ROOT / "playbooks"


@pytest.fixture
def restore_services(real_conn):
    yield
    for svc in real_conn.compute.services(binary="nova-compute"):
        if svc.status == "disabled":
            real_conn.compute.enable_service(svc, svc.host, "nova-compute")


def test_optimize_apply_end_state(tmp_path, realcloud, real_conn, restore_services):
    out = tmp_path / "out"
    extra = {"vigil_cloud": CLOUD_ADMIN, "vigil_output_dir": str(out), "vigil_apply": True}
    run = run_playbook(tmp_path, PLAYBOOKS / "optimize.yml", clouds_yaml=realcloud.clouds_yaml, extra_vars=extra)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-4000:]
    [plan_file] = list(out.glob("plan-*.json"))
    plan = json.loads(plan_file.read_text())
    assert plan["goal"] == "server_consolidation"
    moves = [a for a in plan["actions"] if a["type"] == "migrate"]
    assert moves, "the seeded cloud (7+3 servers over 3 hosts) has something to consolidate"

    servers = {s.id: s for s in real_conn.compute.servers(all_projects=True)}
    for action in moves:  # every server where the plan said, running as before
        assert servers[action["resource"]].compute_host == action["input"]["destination_node"], action
    assert all(s.status in ("ACTIVE", "SHUTOFF") and not s.task_state for s in servers.values())
    services = {s.host: s for s in real_conn.compute.services(binary="nova-compute")}
    for action in (a for a in plan["actions"] if a["type"] == "compute_service"):
        host = action["input"]["host"]
        assert services[host].status == action["input"]["state"]
        if action["input"]["state"] == "disabled":
            assert not [s for s in servers.values() if s.compute_host == host], "a disabled host is empty"
    # Placement agrees: every server holds allocations on its own host's provider only
    rp_of = {}
    for hyp in real_conn.compute.hypervisors(details=True):
        rp_of[hyp.service_details["host"]] = next(iter(real_conn.placement.resource_providers(name=hyp.name))).id
    used = defaultdict(int)
    for s in servers.values():
        allocs = real_conn.placement.get(f"/allocations/{s.id}", microversion="1.28").json()["allocations"]
        assert set(allocs) == {rp_of[s.compute_host]}, s.name
        used[s.compute_host] += allocs[rp_of[s.compute_host]]["resources"]["MEMORY_MB"]
    for host, rp in rp_of.items():
        usages = real_conn.placement.get(f"/resource_providers/{rp}/usages").json()["usages"]
        assert usages.get("MEMORY_MB", 0) == used[host]
    # anti-affinity still holds after the moves
    for group in real_conn.compute.server_groups(all_projects=True):
        if group.policy == "anti-affinity":
            hosts = [servers[m].compute_host for m in group.member_ids]
            assert len(hosts) == len(set(hosts))

    hosts_after = {sid: s.compute_host for sid, s in servers.items()}
    extra = {"vigil_cloud": CLOUD_ADMIN, "vigil_output_dir": str(out), "vigil_plan_file": str(plan_file)}
    again = run_playbook(tmp_path, PLAYBOOKS / "apply_plan.yml", clouds_yaml=realcloud.clouds_yaml, extra_vars=extra)
    assert again.rc == 0, again.stdout[-4000:] + again.stderr[-4000:]
    assert again.task("Apply the plan")["changed"] is False
    assert {s.id: s.compute_host for s in real_conn.compute.servers(all_projects=True)} == hosts_after
