"""The action modules against the real services through ansible-playbook: live migration, cold
migration with confirm, compute service disable/enable, volume migration between the two
Cinder backends, Ironic power off/on. Every outcome is read back from the real APIs, and a
second run of the same task changes nothing."""

from __future__ import annotations

import pytest
from ansible_run import run_playbook, tasks_play
from stack import CLOUD_ADMIN


@pytest.fixture
def act(tmp_path, realcloud):
    def _act(module: str, expect_failure: bool = False, **args):
        args.setdefault("cloud", CLOUD_ADMIN)
        args.setdefault("poll_interval", 0.5)
        task = {"name": "go", f"vigil.openstack.{module}": args, "ignore_errors": True}
        result = run_playbook(tmp_path, tasks_play(task), clouds_yaml=realcloud.clouds_yaml)
        failed = result.status("go") == "failed"
        assert failed is expect_failure, result.stdout + result.stderr
        return result.task("go")

    return _act


def _movable(conn, statuses=("ACTIVE",)):
    """A server outside any server group and an enabled, up compute host other than its own."""
    grouped = {m for g in conn.compute.server_groups(all_projects=True) for m in g.member_ids or []}
    up = sorted(
        s.host for s in conn.compute.services(binary="nova-compute") if s.state == "up" and s.status == "enabled"
    )
    for server in sorted(conn.compute.servers(all_projects=True), key=lambda s: s.name):
        if server.id in grouped or server.status not in statuses or server.task_state:
            continue
        for host in up:
            if host != server.compute_host:
                return server, host
    pytest.fail("no movable server in the real cloud")


def _rp(conn, host: str) -> str:
    hyp = next(h for h in conn.compute.hypervisors(details=True) if h.service_details["host"] == host)
    return next(iter(conn.placement.resource_providers(name=hyp.name))).id


def _allocation_rps(conn, consumer: str) -> set[str]:
    return set(conn.placement.get(f"/allocations/{consumer}", microversion="1.28").json()["allocations"])


def test_live_migration(act, real_conn):
    server, dest = _movable(real_conn)
    res = act("server_migrate", server=server.id, destination=dest, timeout=120)
    assert res["changed"] is True
    after = real_conn.compute.get_server(server.id)
    assert after.compute_host == dest and after.status == "ACTIVE"
    assert _allocation_rps(real_conn, server.id) == {_rp(real_conn, dest)}
    mig = next(m for m in real_conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "live-migration")
    assert mig.status == "completed" and mig.dest_compute == dest
    again = act("server_migrate", server=server.id, destination=dest)
    assert again["changed"] is False


def test_cold_migration_with_confirm(act, real_conn):
    server, dest = _movable(real_conn)
    res = act("server_migrate", server=server.name, migration_type="cold", destination=dest, confirm=True, timeout=120)
    assert res["changed"] is True
    after = real_conn.compute.get_server(server.id)
    assert after.compute_host == dest and after.status == "ACTIVE"
    mig = next(m for m in real_conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "migration")
    assert mig.status == "confirmed"
    # confirmed: the source's hold (the migration record's allocation) is gone
    assert _allocation_rps(real_conn, server.id) == {_rp(real_conn, dest)}
    assert _allocation_rps(real_conn, mig.uuid) == set()
    again = act("server_migrate", server=server.name, migration_type="cold", destination=dest)
    assert again["changed"] is False


def test_compute_service_disable_enable(act, real_conn):
    host = "compute3"
    try:
        res = act("compute_service", host=host, state="disabled", disabled_reason="vigil realcloud")
        assert res["changed"] is True
        svc = next(real_conn.compute.services(binary="nova-compute", host=host))
        assert svc.status == "disabled" and svc.disabled_reason == "vigil realcloud"
        # Nova mirrors it onto the provider as a trait, so Placement stops offering the host
        rp = _rp(real_conn, host)
        traits = real_conn.placement.get(f"/resource_providers/{rp}/traits", microversion="1.6").json()["traits"]
        assert "COMPUTE_STATUS_DISABLED" in traits
        assert (
            act("compute_service", host=host, state="disabled", disabled_reason="vigil realcloud")["changed"] is False
        )
    finally:
        res = act("compute_service", host=host, state="enabled")
    assert res["changed"] is True
    svc = next(real_conn.compute.services(binary="nova-compute", host=host))
    assert svc.status == "enabled" and svc.disabled_reason is None
    assert act("compute_service", host=host, state="enabled")["changed"] is False


def test_volume_migration_between_backends(act, real_conn):
    pools = [p.name for p in real_conn.block_storage.backend_pools()]
    # the contract suite may have retyped a vol-free-* volume onto a backend-pinned type
    pinned = {t.name for t in real_conn.block_storage.types() if (t.extra_specs or {}).get("volume_backend_name")}
    vol = next(
        v
        for v in sorted(real_conn.block_storage.volumes(details=True, all_projects=True), key=lambda v: v.name)
        if v.status == "available" and v.name.startswith("vol-free") and v.volume_type not in pinned
    )
    backend = vol.host.split("@")[1].split("#")[0]
    dest = next(p for p in sorted(pools) if p.split("@")[1].split("#")[0] != backend)
    res = act("volume_migrate", volume=vol.id, destination_pool=dest, timeout=120)
    assert res["changed"] is True
    after = real_conn.block_storage.get_volume(vol.id)
    assert after.host == dest and after.status == "available" and after.migration_status == "success"
    assert act("volume_migrate", volume=vol.id, destination_pool=dest)["changed"] is False


def test_volume_migration_off_a_pinned_backend_is_refused(act, real_conn):
    # chosen from the live state: the contract suite's retype test may have retyped any volume
    pinned = {t.name: t.extra_specs["volume_backend_name"] for t in real_conn.block_storage.types()
              if (t.extra_specs or {}).get("volume_backend_name")}  # fmt: skip
    pools = sorted(real_conn.block_storage.backend_pools(), key=lambda p: p.name)
    vol, dest = next(
        (v, p.name)
        for v in sorted(real_conn.block_storage.volumes(details=True, all_projects=True), key=lambda v: v.name)
        if v.status == "available" and v.volume_type in pinned
        for p in pools
        if p.capabilities["volume_backend_name"] != pinned[v.volume_type]
    )
    res = act("volume_migrate", expect_failure=True, volume=vol.id, destination_pool=dest)
    assert "pins volume_backend_name %s" % pinned[vol.volume_type] in res["msg"]
    after = real_conn.block_storage.get_volume(vol.id)
    assert after.host == vol.host and after.migration_status == vol.migration_status


def test_ironic_power_off_on(act, real_system_conn):
    node = real_system_conn.baremetal.get_node("bm-compute3")
    assert node.power_state == "power on"
    try:
        res = act(
            "node_power", node=node.id, backend="ironic", state="off", hostname="compute3", force=True, timeout=120
        )
        assert res["changed"] is True
        assert real_system_conn.baremetal.get_node(node.id).power_state == "power off"
        again = act("node_power", node=node.id, backend="ironic", state="off", hostname="compute3", force=True)
        assert again["changed"] is False
    finally:
        res = act("node_power", node=node.id, backend="ironic", state="on", timeout=120)
    assert res["changed"] is True
    assert real_system_conn.baremetal.get_node(node.id).power_state == "power on"


def test_cold_migration_refused_later_by_nova_is_reported(act, real_conn):
    """Real Nova accepts a cold migration to a disabled host (202) and fails it in the conductor
    (the twin refuses it at once, docs/twin-fidelity.md #3): the module must still report the
    failure from the live API, and the server must stay where it was."""
    server, dest = _movable(real_conn)
    source = server.compute_host
    svc = next(real_conn.compute.services(binary="nova-compute", host=dest))
    real_conn.compute.disable_service(svc, dest, "nova-compute", disabled_reason="vigil realcloud async refusal")
    try:
        # force: skip the module's own "destination disabled" check so the request reaches Nova
        res = act(
            "server_migrate",
            expect_failure=True,
            server=server.id,
            migration_type="cold",
            destination=dest,
            force=True,
            timeout=60,
        )
    finally:
        real_conn.compute.enable_service(svc, dest, "nova-compute")
    assert f"still on {source}" in res["msg"], res["msg"]
    after = real_conn.compute.get_server(server.id)
    assert after.compute_host == source and after.status == "ACTIVE"
    mig = next(m for m in real_conn.compute.migrations(instance_uuid=server.id) if m.migration_type == "migration")
    assert mig.status == "error"
