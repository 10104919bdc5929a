"""Nova read APIs and service enable/disable through openstacksdk."""

from __future__ import annotations

import openstack
import pytest
from twin_contract_helpers import provider_for


def test_hypervisors_match_services(conn):
    hyps = list(conn.compute.hypervisors(details=True))
    services = {s.host: s for s in conn.compute.services(binary="nova-compute")}
    assert hyps
    for h in hyps:
        assert h.service_details["host"] in services
        assert h.state in ("up", "down") and h.status in ("enabled", "disabled")
        # from 2.53 ids are uuids; the SDK negotiates the newest version
        assert len(h.id) == 36


def test_hypervisor_with_servers(conn):
    resp = conn.compute.get("/os-hypervisors/detail?with_servers=true", microversion="2.53")
    assert resp.status_code == 200
    hosted = {s["uuid"] for h in resp.json()["hypervisors"] for s in h.get("servers", [])}
    on_hosts = {s.id for s in conn.compute.servers(all_projects=True) if s.compute_host}
    assert hosted == on_hosts


def test_hypervisor_stats_removed_in_2_88(conn):
    old = conn.compute.get("/os-hypervisors/detail", microversion="2.87").json()["hypervisors"][0]
    new = conn.compute.get("/os-hypervisors/detail", microversion="2.88").json()["hypervisors"][0]
    assert "vcpus_used" in old and "memory_mb_used" in old
    assert "vcpus_used" not in new and "memory_mb" not in new


def test_servers_paginated_all_projects(conn):
    everything = list(conn.compute.servers(all_projects=True))
    paged = list(conn.compute.servers(all_projects=True, limit=7))
    assert [s.id for s in paged] == [s.id for s in everything]
    assert len({s.id for s in paged}) == len(paged)
    first = conn.compute.get("/servers/detail?all_tenants=1&limit=7", microversion="2.96").json()
    assert len(first["servers"]) == 7
    assert first["servers_links"][0]["rel"] == "next"
    assert "marker=" in first["servers_links"][0]["href"]


def test_server_embedded_flavor_from_2_47(conn):
    server = next(iter(conn.compute.servers(all_projects=True)))
    old = conn.compute.get(f"/servers/{server.id}", microversion="2.46").json()["server"]["flavor"]
    new = conn.compute.get(f"/servers/{server.id}", microversion="2.47").json()["server"]["flavor"]
    assert set(old) == {"id", "links"}
    assert {"vcpus", "ram", "disk", "ephemeral", "swap", "original_name", "extra_specs"} <= set(new)


def test_server_filters(conn):
    servers = list(conn.compute.servers(all_projects=True))
    host = servers[0].compute_host
    on_host = list(conn.compute.servers(all_projects=True, compute_host=host))
    assert on_host and all(s.compute_host == host for s in on_host)
    assert {s.id for s in on_host} == {s.id for s in servers if s.compute_host == host}


def test_missing_server_is_nova_404(conn):
    resp = conn.compute.get("/servers/00000000-0000-0000-0000-000000000000", microversion="2.1")
    assert resp.status_code == 404
    assert resp.json()["itemNotFound"]["code"] == 404


def test_service_disable_enable(conn):
    svc = next(s for s in conn.compute.services(binary="nova-compute") if s.status == "enabled" and s.state == "up")
    hyp = next(h for h in conn.compute.hypervisors(details=True) if h.service_details["host"] == svc.host)
    rp = provider_for(conn, hyp.name)
    try:
        conn.compute.disable_service(svc, svc.host, "nova-compute", disabled_reason="vigil contract test")
        again = next(s for s in conn.compute.services(host=svc.host, binary="nova-compute"))
        assert again.status == "disabled"
        assert again.disabled_reason == "vigil contract test"
        traits = set(conn.placement.get(f"/resource_providers/{rp.id}/traits", microversion="1.6").json()["traits"])
        assert "COMPUTE_STATUS_DISABLED" in traits
    finally:
        conn.compute.enable_service(svc, svc.host, "nova-compute")
    again = next(s for s in conn.compute.services(host=svc.host, binary="nova-compute"))
    assert again.status == "enabled" and again.disabled_reason is None
    traits = set(conn.placement.get(f"/resource_providers/{rp.id}/traits", microversion="1.6").json()["traits"])
    assert "COMPUTE_STATUS_DISABLED" not in traits


def test_disabled_reason_needs_disabled_status(conn):
    svc = next(s for s in conn.compute.services(binary="nova-compute"))
    resp = conn.compute.put(
        f"/os-services/{svc.id}", json={"status": "enabled", "disabled_reason": "x"}, microversion="2.53"
    )
    assert resp.status_code == 400
    assert "badRequest" in resp.json()


def test_aggregates_and_zones(conn):
    aggs = list(conn.compute.aggregates())
    zones = list(conn.compute.availability_zones(details=True))
    hosts = {s.host for s in conn.compute.services(binary="nova-compute")}
    assert {z.name for z in zones} - {"internal"}
    for agg in aggs:
        assert set(agg.hosts or []) <= hosts


def test_flavors_with_extra_specs(conn):
    flavors = list(conn.compute.flavors(details=True))
    assert flavors
    f = flavors[0]
    specs = conn.compute.fetch_flavor_extra_specs(f).extra_specs
    assert isinstance(specs, dict)


def test_server_groups(conn):
    groups = list(conn.compute.server_groups(all_projects=True))
    servers = {s.id: s for s in conn.compute.servers(all_projects=True)}
    for g in groups:
        assert g.policy in ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")
        hosts = [servers[m].compute_host for m in g.member_ids if m in servers]
        if g.policy == "anti-affinity":
            assert len(hosts) == len(set(hosts))
        if g.policy == "affinity":
            assert len(set(hosts)) <= 1


def test_microversion_out_of_range_is_406(conn):
    resp = conn.compute.get("/servers", headers={"OpenStack-API-Version": "compute 2.999"}, microversion=None)
    assert resp.status_code == 406


@pytest.mark.parametrize("version", ["2.1", "2.53", "2.96"])
def test_microversion_echoed(conn, version):
    resp = conn.compute.get("/flavors", microversion=version)
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == f"compute {version}"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == version


def test_member_cannot_disable_service(member_conn, conn):
    svc = next(s for s in conn.compute.services(binary="nova-compute"))
    with pytest.raises(openstack.exceptions.ForbiddenException):
        member_conn.compute.disable_service(svc.id, svc.host, "nova-compute", disabled_reason="nope")
