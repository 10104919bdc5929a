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
