"""Placement through openstacksdk: providers, inventories, usages consistent with Nova."""

from __future__ import annotations

from collections import Counter

from twin_contract_helpers import allocations_of, provider_for


def test_providers_for_every_hypervisor(conn):
    names = {rp.name for rp in conn.placement.resource_providers()}
    for h in conn.compute.hypervisors():
        assert h.name in names


def test_usages_equal_sum_of_server_allocations(conn):
    servers = list(conn.compute.servers(all_projects=True))
    for h in conn.compute.hypervisors(details=True):
        rp = provider_for(conn, h.name)
        usages = conn.placement.fetch_resource_provider_usages(rp).usages
        expected: Counter = Counter()
        for s in servers:
            if s.hypervisor_hostname == h.name:
                for rp_uuid, res in allocations_of(conn, s.id).items():
                    if rp_uuid == rp.id:
                        expected.update(res)
        assert {rc: n for rc, n in usages.items() if n} == dict(expected)


def test_inventories_have_ratios(conn):
    rp = next(iter(conn.placement.resource_providers()))
    invs = {i.resource_class: i for i in conn.placement.resource_provider_inventories(rp)}
    assert {"VCPU", "MEMORY_MB"} <= set(invs)
    assert invs["VCPU"].allocation_ratio > 0 and invs["MEMORY_MB"].total > 0


def test_project_usages(conn):
    usages = list(conn.placement.usages(project_id=conn.current_project_id))
    assert all(u.resources is not None for u in usages)
    demo = next(s for s in conn.compute.servers(all_projects=True))
    by_type = {u.consumer_type: u for u in conn.placement.usages(project_id=demo.project_id)}
    # Nova (34.0) writes allocations without a consumer type: Placement files them as "unknown"
    assert by_type["unknown"].consumer_count >= 1


def test_allocation_candidates_summarize_every_compute_node(conn):
    """One GET /allocation_candidates (1.29) summarizes each compute node with room for 1 MiB:
    capacity per class as (total - reserved) x allocation_ratio, used as /usages, traits as /traits."""

    def get(path, mv="1.29"):
        resp = conn.placement.get(path, microversion=mv)
        assert resp.status_code == 200, resp.text
        return resp.json()

    body = get("/allocation_candidates?resources=MEMORY_MB:1")
    summaries = body["provider_summaries"]
    assert {u for r in body["allocation_requests"] for u in r["allocations"]} == set(summaries)
    assert all(
        r["allocations"][u]["resources"] == {"MEMORY_MB": 1}
        for r in body["allocation_requests"]
        for u in r["allocations"]
    )
    compute_nodes = 0
    for rp in get("/resource_providers")["resource_providers"]:
        uuid = rp["uuid"]
        traits = get(f"/resource_providers/{uuid}/traits")["traits"]
        if "COMPUTE_NODE" not in traits:
            continue
        compute_nodes += 1
        invs = get(f"/resource_providers/{uuid}/inventories")["inventories"]
        used = get(f"/resource_providers/{uuid}/usages")["usages"]
        mem = invs.get("MEMORY_MB")
        room = mem is not None and (mem["total"] - mem["reserved"]) * mem["allocation_ratio"] - used["MEMORY_MB"] >= 1
        if not room or mem["min_unit"] > 1 or mem["step_size"] != 1:
            assert uuid not in summaries, rp["name"]
            continue
        summary = summaries.get(uuid)
        assert summary is not None, f"{rp['name']} has free memory but no provider summary"
        expected = {
            rc: {"capacity": int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"]), "used": used.get(rc, 0)}
            for rc, inv in invs.items()
        }
        assert summary["resources"] == expected, rp["name"]
        assert sorted(summary["traits"]) == sorted(traits), rp["name"]  # Placement does not sort them
        assert summary["root_provider_uuid"] == rp["root_provider_uuid"]
        assert summary["parent_provider_uuid"] == rp["parent_provider_uuid"]
    assert compute_nodes
