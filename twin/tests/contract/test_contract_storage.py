"""Cinder through openstacksdk: listing, pools, services, attachments, volume migration and retype."""

from __future__ import annotations

import openstack
import pytest


def _pools(conn) -> dict:
    return {p.name: p.capabilities for p in conn.block_storage.backend_pools()}


def _movable(conn):
    """An available volume and another pool of the same backend with room for it."""
    pools = _pools(conn)
    for vol in conn.block_storage.volumes(details=True, all_projects=True):
        if vol.status != "available" or vol.migration_status in ("starting", "migrating"):
            continue
        backend = pools[vol.host]["volume_backend_name"]
        for name, caps in pools.items():
            if name != vol.host and caps["volume_backend_name"] == backend and caps["free_capacity_gb"] > vol.size:
                return vol, name
    pytest.skip("no volume with another pool of its backend to move to")


def test_volumes_paginate_across_projects(conn):
    everything = list(conn.block_storage.volumes(details=True, all_projects=True))
    paged = list(conn.block_storage.volumes(details=True, all_projects=True, limit=2))
    assert len(everything) >= 3
    assert sorted(v.id for v in paged) == sorted(v.id for v in everything)
    assert len({v.project_id for v in everything}) >= 2
    mine = list(conn.block_storage.volumes(details=True))
    assert len(mine) < len(everything)


def test_types_pools_services(conn):
    types = list(conn.block_storage.types())
    assert any("volume_backend_name" in (t.extra_specs or {}) for t in types)
    pools = _pools(conn)
    assert pools and all("@" in name and "#" in name for name in pools)
    for caps in pools.values():
        assert caps["total_capacity_gb"] >= caps["free_capacity_gb"] >= 0
    services = list(conn.block_storage.services())
    assert {s.binary for s in services} >= {"cinder-scheduler", "cinder-volume"}


def test_attachments_point_at_servers(conn):
    attached = [v for v in conn.block_storage.volumes(details=True, all_projects=True) if v.attachments]
    assert attached
    for vol in attached:
        assert vol.status == "in-use"
        for att in vol.attachments:
            server = conn.compute.get_server(att["server_id"])
            assert att["host_name"] == server.compute_host


def test_member_cannot_migrate(conn, member_conn):
    vol, dest = _movable(conn)
    with pytest.raises(openstack.exceptions.HttpException) as exc:
        member_conn.block_storage.migrate_volume(vol.id, host=dest)
    assert exc.value.status_code in (403, 404)


def test_volume_migration_end_to_end(conn, waiter):
    vol, dest = _movable(conn)
    source = vol.host
    before = _pools(conn)
    conn.block_storage.migrate_volume(vol, host=dest)
    done = waiter(
        lambda: (v := conn.block_storage.get_volume(vol.id)).migration_status in ("success", "error") and v,
        "volume migration",
    )
    assert done.migration_status == "success"
    assert done.host == dest
    assert done.status == "available"
    after = _pools(conn)
    assert after[source]["allocated_capacity_gb"] == before[source]["allocated_capacity_gb"] - vol.size
    assert after[dest]["allocated_capacity_gb"] == before[dest]["allocated_capacity_gb"] + vol.size


def test_migration_to_same_host_refused(conn):
    vol, _ = _movable(conn)
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.migrate_volume(vol, host=vol.host)


def test_migration_off_a_pinned_backend_fails_in_the_scheduler(conn, waiter):
    """A type with volume_backend_name keeps its volumes on that backend: the API accepts the
    migration (202) and the scheduler fails it; the volume stays where it was, usable."""
    pools = _pools(conn)
    pinned = {t.name: (t.extra_specs or {}).get("volume_backend_name") for t in conn.block_storage.types()}
    for vol in conn.block_storage.volumes(details=True, all_projects=True):
        backend = pinned.get(vol.volume_type)
        if vol.status != "available" or vol.migration_status not in (None, "", "success") or not backend:
            continue
        others = [n for n, c in sorted(pools.items()) if c["volume_backend_name"] != backend]
        if others:
            break
    else:
        pytest.skip("no available volume of a backend-pinned type, with another backend to try")
    conn.block_storage.migrate_volume(vol, host=others[0])
    done = waiter(
        lambda: (v := conn.block_storage.get_volume(vol.id)).migration_status == "error" and v,
        "the scheduler to fail the migration",
    )
    assert done.host == vol.host
    assert done.status == "available"
    assert done.volume_type == vol.volume_type


def test_retype_on_demand_moves_backend(conn, waiter):
    pools = _pools(conn)
    types = {t.name: (t.extra_specs or {}).get("volume_backend_name") for t in conn.block_storage.types()}
    for vol in conn.block_storage.volumes(details=True, all_projects=True):
        current = pools[vol.host]["volume_backend_name"]
        targets = [
            name
            for name, backend in types.items()
            if backend
            and backend != current
            and any(c["volume_backend_name"] == backend and c["free_capacity_gb"] > vol.size for c in pools.values())
        ]
        if vol.status == "available" and targets:
            break
    else:
        pytest.skip("no volume that a retype would move to another backend")
    new_type = targets[0]
    conn.block_storage.retype_volume(vol, new_type, migration_policy="on-demand")
    done = waiter(
        lambda: (v := conn.block_storage.get_volume(vol.id)).status == "available" and v.volume_type == new_type and v,
        "retype",
    )
    assert pools[done.host]["volume_backend_name"] == types[new_type]
    assert done.migration_status == "success"
