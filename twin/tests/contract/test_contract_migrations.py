"""Live and cold migrations end to end through openstacksdk, with Placement allocations
following the server, and the refusals Nova makes."""

from __future__ import annotations

import openstack
import pytest
import requests
from twin_contract_helpers import allocations_of, pick_move, provider_for


def _rp_uuid(conn, host: str) -> str:
    hyp = next(h for h in conn.compute.hypervisors(details=True) if h.service_details["host"] == host)
    return provider_for(conn, hyp.name).id


def _server(conn, sid):
    return conn.compute.get_server(sid)


def test_live_migration_moves_allocations(conn, waiter):
    server, dest = pick_move(conn)
    source = server.compute_host
    src_rp, dst_rp = _rp_uuid(conn, source), _rp_uuid(conn, dest)
    assert set(allocations_of(conn, server.id)) == {src_rp}

    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    waiter(
        lambda: _server(conn, server.id).status == "ACTIVE" and _server(conn, server.id).compute_host == dest,
        "live migration",
    )
    # Real Nova moves the server's host before the source marks the migration completed:
    # the record, not the server, says when the migration is over.
    migs = waiter(
        lambda: [m for m in conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "live-migration"
                 and m.status in ("completed", "error", "failed")],
        "live migration record to finish",
    )  # fmt: skip
    assert migs[0].status == "completed"
    after = allocations_of(conn, server.id)
    assert set(after) == {dst_rp}
    # ...and the source drops the record's allocation after saying "completed"
    waiter(lambda: allocations_of(conn, migs[0].uuid) == {}, "the migration record's allocation to be dropped")
    actions = [a.action for a in conn.compute.server_actions(server)]
    assert "live-migration" in actions


def test_live_migration_scheduler_picks_host(conn, waiter):
    server, _ = pick_move(conn)
    source = server.compute_host
    conn.compute.live_migrate_server(server, host=None, block_migration="auto")
    moved = waiter(
        lambda: (s := _server(conn, server.id)).status == "ACTIVE" and s.compute_host != source and s, "live migration"
    )
    assert set(allocations_of(conn, server.id)) == {_rp_uuid(conn, moved.compute_host)}


def test_cold_migration_with_confirm(conn, waiter):
    server, dest = pick_move(conn, statuses=("ACTIVE", "SHUTOFF"))
    source = server.compute_host
    src_rp, dst_rp = _rp_uuid(conn, source), _rp_uuid(conn, dest)
    conn.compute.migrate_server(server, host=dest)
    resized = waiter(lambda: (s := _server(conn, server.id)).status == "VERIFY_RESIZE" and s, "VERIFY_RESIZE")
    assert resized.compute_host == dest
    mig = next(m for m in conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "migration")
    assert mig.status == "finished"
    # during the move the source stays held by the migration record, as Nova does
    assert set(allocations_of(conn, server.id)) == {dst_rp}
    assert set(allocations_of(conn, mig.uuid)) == {src_rp}

    conn.compute.confirm_server_resize(server)
    done = waiter(lambda: (s := _server(conn, server.id)).status in ("ACTIVE", "SHUTOFF") and s, "confirmed")
    assert done.status == server.status and done.compute_host == dest
    assert allocations_of(conn, mig.uuid) == {}
    assert set(allocations_of(conn, server.id)) == {dst_rp}
    mig = next(m for m in conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "migration")
    assert mig.status == "confirmed"


def test_cold_migration_revert(conn, waiter):
    server, dest = pick_move(conn, statuses=("ACTIVE",))
    source = server.compute_host
    conn.compute.migrate_server(server, host=dest)
    waiter(lambda: _server(conn, server.id).status == "VERIFY_RESIZE", "VERIFY_RESIZE")
    conn.compute.revert_server_resize(server)
    back = waiter(lambda: (s := _server(conn, server.id)).status == "ACTIVE" and s, "reverted")
    assert back.compute_host == source
    assert set(allocations_of(conn, server.id)) == {_rp_uuid(conn, source)}


def test_refuses_same_host_and_disabled_host(conn):
    server, dest = pick_move(conn)
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.compute.live_migrate_server(server, host=server.compute_host, block_migration="auto")
    svc = next(s for s in conn.compute.services(binary="nova-compute", host=dest))
    conn.compute.disable_service(svc, dest, "nova-compute", disabled_reason="contract test")
    try:
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
        with pytest.raises(openstack.exceptions.BadRequestException):
            conn.compute.migrate_server(server, host=dest)
    finally:
        conn.compute.enable_service(svc, dest, "nova-compute")
    assert _server(conn, server.id).compute_host == server.compute_host
    assert _server(conn, server.id).status == "ACTIVE"


def test_refuses_wrong_state(conn, waiter):
    server, dest = pick_move(conn, statuses=("ACTIVE",))
    conn.compute.stop_server(server)
    waiter(lambda: _server(conn, server.id).status == "SHUTOFF", "SHUTOFF")
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    with pytest.raises(openstack.exceptions.ConflictException):
        conn.compute.confirm_server_resize(server)
    conn.compute.start_server(server)
    waiter(lambda: _server(conn, server.id).status == "ACTIVE", "ACTIVE")


def test_member_cannot_migrate(conn, member_conn):
    server = next(iter(member_conn.compute.servers()))
    with pytest.raises(openstack.exceptions.ForbiddenException):
        member_conn.compute.live_migrate_server(server, host=None, block_migration="auto")


# -- twin only: faults through the twin's admin API ------------------------------------------
def _fault(twin, kind: str, target: str) -> None:
    resp = requests.put(f"{twin.url}/admin/faults", json={"named": [{"kind": kind, "target": target}]}, timeout=10)
    assert resp.status_code == 200


def test_abort_hanging_live_migration(conn, twin_only, waiter):
    server, dest = pick_move(conn)
    source = server.compute_host
    _fault(twin_only, "migration_hang", server.id)
    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    running = waiter(
        lambda: [m for m in conn.compute.server_migrations(server) if m.status == "running"], "running migration"
    )
    conn.compute.abort_server_migration(running[0], server)
    back = waiter(lambda: (s := _server(conn, server.id)).status == "ACTIVE" and s, "aborted")
    assert back.compute_host == source
    assert set(allocations_of(conn, server.id)) == {_rp_uuid(conn, source)}
    mig = next(m for m in conn.compute.migrations(instance_uuid=server.id))
    assert mig.status == "cancelled"
    assert allocations_of(conn, mig.uuid) == {}


def test_failed_live_migration_stays_on_source(conn, twin_only, waiter):
    server, dest = pick_move(conn)
    source = server.compute_host
    _fault(twin_only, "migration_fail", server.id)
    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    waiter(lambda: next(conn.compute.migrations(instance_uuid=server.id)).status == "error", "migration error")
    back = _server(conn, server.id)
    assert back.status == "ACTIVE" and back.compute_host == source
    assert set(allocations_of(conn, server.id)) == {_rp_uuid(conn, source)}


def test_host_down_refused_as_destination(conn, twin_only):
    server, dest = pick_move(conn)
    _fault(twin_only, "host_down", dest)
    svc = next(s for s in conn.compute.services(binary="nova-compute", host=dest))
    assert svc.state == "down"
    with pytest.raises(openstack.exceptions.BadRequestException, match="unavailable"):
        conn.compute.live_migrate_server(server, host=dest, block_migration="auto")


def test_overcommit_refused_and_no_violations(conn, twin_only):
    """Shrink a destination through Placement until the server does not fit: the move is refused."""
    server, dest = pick_move(conn)
    rp_uuid = _rp_uuid(conn, dest)
    path = f"/resource_providers/{rp_uuid}/inventories/MEMORY_MB"
    inv = conn.placement.get(path, microversion="1.26").json()
    used = conn.placement.get(f"/resource_providers/{rp_uuid}/usages").json()["usages"]["MEMORY_MB"]
    # leave room for one MiB less than the server needs (allocation_ratio 1.0 in the body)
    reserved = inv["total"] - used - server.flavor.ram + 1
    shrunk = dict(inv, reserved=reserved, allocation_ratio=1.0)
    assert conn.placement.put(path, json=shrunk, microversion="1.26").status_code == 200
    try:
        with pytest.raises(openstack.exceptions.BadRequestException, match="No valid host"):
            conn.compute.live_migrate_server(server, host=dest, block_migration="auto", force=True)
        with pytest.raises(openstack.exceptions.BadRequestException, match="No valid host"):
            conn.compute.migrate_server(server, host=dest)
    finally:
        current = conn.placement.get(path, microversion="1.26").json()
        restore = dict(inv, resource_provider_generation=current["resource_provider_generation"])
        assert conn.placement.put(path, json=restore, microversion="1.26").status_code == 200
    assert _server(conn, server.id).compute_host == server.compute_host
    assert requests.get(f"{twin_only.url}/admin/violations", timeout=10).json()["count"] == 0
