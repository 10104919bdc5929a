"""The single-action modules through ansible-playbook against the twin: effect, idempotence, safety.

Idempotence is checked on the twin's request log (GET /admin/requests?log=1): a second run
must send no mutating request at all.
"""

import pytest
from apply_support import (  # noqa: I001
    APPLY_TOPOLOGY,
    failed,
    mutating,
    node_id,
    reset_requests,
    server,
    server_id,
    service,
    task,
    volume_id,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def cloud(apply_twin):
    return apply_twin


def test_live_migration_then_idempotent(cloud, run):
    sid = server_id(cloud, "vm1")
    reset_requests(cloud)
    first = run(task("server_migrate", server="vm1", destination="cmp2", diff=True))
    res = first.task("go")
    assert not failed(first), first.stdout
    assert res["changed"] is True
    assert res["before"] == {"host": "cmp1", "status": "ACTIVE"} and res["after"] == {
        "host": "cmp2",
        "status": "ACTIVE",
    }
    assert server(cloud, "vm1")["host"] == "cmp2" and server(cloud, "vm1")["status"] == "ACTIVE"
    calls = mutating(cloud)
    assert [(c["method"], c["path"]) for c in calls] == [("POST", "/compute/v2.1/servers/%s/action" % sid)]

    reset_requests(cloud)
    second = run(task("server_migrate", server="vm1", destination="cmp2"))
    assert not failed(second) and second.task("go")["changed"] is False
    assert mutating(cloud) == []


def test_live_migration_check_mode_changes_nothing(cloud, run):
    reset_requests(cloud)
    result = run(task("server_migrate", server="vm1", destination="cmp2", check=True))
    assert not failed(result) and result.task("go")["changed"] is True
    assert server(cloud, "vm1")["host"] == "cmp1"
    assert mutating(cloud) == []


def test_live_migration_to_a_down_host_is_refused_as_stale(cloud, run):
    with cloud.cloud.lock:
        cloud.cloud.stores["compute"].nodes["cmp3"]["state"] = "down"
    reset_requests(cloud)
    result = run(task("server_migrate", server="vm1", destination="cmp3"))
    assert failed(result)
    assert "destination host cmp3 is down" in result.task("go")["msg"]
    assert mutating(cloud) == [] and server(cloud, "vm1")["host"] == "cmp1"


def test_cold_migration_confirms(cloud, run):
    sid = server_id(cloud, "vm3")
    reset_requests(cloud)
    result = run(task("server_migrate", server="vm3", migration_type="cold", destination="cmp4"))
    assert not failed(result), result.stdout
    res = result.task("go")
    assert res["changed"] is True and res["server"]["host"] == "cmp4"
    srv = server(cloud, "vm3")
    assert srv["host"] == "cmp4" and srv["status"] == "SHUTOFF"  # back as it was, confirmed
    bodies = [c["path"] for c in mutating(cloud)]
    assert bodies == ["/compute/v2.1/servers/%s/action" % sid] * 2  # migrate + confirmResize
    reset_requests(cloud)
    again = run(task("server_migrate", server="vm3", migration_type="cold", destination="cmp4"))
    assert not failed(again) and again.task("go")["changed"] is False and mutating(cloud) == []


def test_failed_live_migration_leaves_server_on_source(cloud, run):
    cloud.cloud.faults.configure({"named": [{"kind": "migration_fail", "target": server_id(cloud, "vm2")}]})
    result = run(task("server_migrate", server="vm2", destination="cmp2"))
    assert failed(result)
    assert "still on cmp1" in result.task("go")["msg"]
    srv = server(cloud, "vm2")
    assert srv["host"] == "cmp1" and srv["status"] == "ACTIVE"


def test_hung_live_migration_is_aborted_on_timeout(cloud, run):
    sid = server_id(cloud, "vm2")
    cloud.cloud.faults.configure({"named": [{"kind": "migration_hang", "target": sid}]})
    reset_requests(cloud)
    result = run(task("server_migrate", server="vm2", destination="cmp2", timeout=2))
    assert failed(result)
    msg = result.task("go")["msg"]
    assert "timed out after 2s" in msg and "aborted migration" in msg, msg
    srv = server(cloud, "vm2")
    assert srv["host"] == "cmp1" and srv["status"] == "ACTIVE"
    aborts = [c for c in mutating(cloud) if c["method"] == "DELETE"]
    assert len(aborts) == 1 and aborts[0]["path"].startswith("/compute/v2.1/servers/%s/migrations/" % sid)


def test_compute_service_disable_enable_idempotent(cloud, run):
    reset_requests(cloud)
    first = run(task("compute_service", host="cmp4", state="disabled", disabled_reason="vigil test", diff=True))
    assert not failed(first) and first.task("go")["changed"] is True
    assert first.task("go")["diff"]["after"] == {"status": "disabled", "disabled_reason": "vigil test"}
    svc = service(cloud, "cmp4")
    assert svc["status"] == "disabled" and svc["disabled_reason"] == "vigil test"
    assert len(mutating(cloud)) == 1

    reset_requests(cloud)
    second = run(task("compute_service", host="cmp4", state="disabled", disabled_reason="vigil test"))
    assert not failed(second) and second.task("go")["changed"] is False
    assert mutating(cloud) == []

    # Another reason is a change too.
    third = run(task("compute_service", host="cmp4", state="disabled", disabled_reason="other"))
    assert third.task("go")["changed"] is True and service(cloud, "cmp4")["disabled_reason"] == "other"

    enable = run(task("compute_service", host="cmp4", state="enabled"))
    assert not failed(enable) and enable.task("go")["changed"] is True and service(cloud, "cmp4")["status"] == "enabled"
    reset_requests(cloud)
    again = run(task("compute_service", host="cmp4", state="enabled"))
    assert again.task("go")["changed"] is False and mutating(cloud) == []


def test_compute_service_unknown_host_fails_cleanly(cloud, run):
    reset_requests(cloud)
    result = run(task("compute_service", host="cmp4.example.com", state="disabled"))
    assert failed(result) and "no nova-compute service" in result.task("go")["msg"]
    assert mutating(cloud) == []


def test_volume_migrate_then_idempotent(cloud, run):
    vid = volume_id(cloud, "vol1")
    reset_requests(cloud)
    result = run(
        task("volume_migrate", volume=vid, destination_pool="cinder2@lvm#pool-b", source_pool="cinder1@lvm#pool-a")
    )
    assert not failed(result), result.stdout
    res = result.task("go")
    assert res["changed"] is True and res["volume"]["host"] == "cinder2@lvm#pool-b"
    assert res["volume"]["attached_to"] == [server_id(cloud, "vm1")]
    assert len(mutating(cloud)) == 1
    reset_requests(cloud)
    again = run(task("volume_migrate", volume=vid, destination_pool="cinder2@lvm#pool-b"))
    assert not failed(again) and again.task("go")["changed"] is False and mutating(cloud) == []


def test_volume_migrate_off_its_pinned_backend_is_refused_before_any_call(cloud, run):
    vid = volume_id(cloud, "vol2")
    reset_requests(cloud)
    for check in (True, False):
        result = run(task("volume_migrate", volume=vid, destination_pool="cinder2@lvm#pool-b", check=check))
        assert failed(result)
        msg = result.task("go")["msg"]
        assert "type ceph pins volume_backend_name ceph" in msg and "on backend lvm" in msg and "retype" in msg
    assert mutating(cloud) == []
    assert cloud.cloud.stores["volume"].volumes[vid]["pool"] == "cinder3@ceph#rbd"


def test_ironic_power_off_refused_then_done_on_an_empty_disabled_host(cloud, run):
    nid = node_id(cloud, "bm-cmp1")
    reset_requests(cloud)
    refused = run(task("node_power", node=nid, hostname="cmp1", state="off"))
    assert failed(refused) and "still runs" in refused.task("go")["msg"]
    no_host = run(task("node_power", node=nid, state="off"))
    assert failed(no_host) and "no compute hostname" in no_host.task("go")["msg"]
    assert mutating(cloud) == []

    empty = node_id(cloud, "bm-cmp4")
    enabled = run(task("node_power", node=empty, hostname="cmp4", state="off"))
    assert failed(enabled) and "service is enabled" in enabled.task("go")["msg"]
    assert run(task("compute_service", host="cmp4", state="disabled", disabled_reason="power off")).rc == 0

    reset_requests(cloud)
    off = run(task("node_power", node=empty, hostname="cmp4", state="off", diff=True))
    assert not failed(off), off.stdout
    assert off.task("go")["changed"] is True and off.task("go")["node"]["power_state"] == "off"
    assert len(mutating(cloud)) == 1
    reset_requests(cloud)
    again = run(task("node_power", node=empty, hostname="cmp4", state="off"))
    assert again.task("go")["changed"] is False and mutating(cloud) == []
    on = run(task("node_power", node="bm-cmp4", hostname="cmp4", state="on"))
    assert not failed(on) and on.task("go")["node"]["power_state"] == "on"


def test_maas_power_off_and_on(cloud, run):
    assert run(task("compute_service", host="cmp4", state="disabled", disabled_reason="power off")).rc == 0
    maas = {"backend": "maas", "maas_url": cloud.maas_url, "maas_api_key": cloud.maas_api_key}
    machine = next(m for m in cloud.cloud.stores["maas"].machines.values() if m["hostname"] == "cmp4")
    sid = machine["system_id"]
    reset_requests(cloud)
    off = run(task("node_power", node=sid, hostname="cmp4", state="off", **maas))
    assert not failed(off), off.stdout + off.stderr
    assert off.task("go")["changed"] is True and off.task("go")["node"]["power_state"] == "off"
    assert machine["power_state"] == "off"
    assert len(mutating(cloud)) == 1
    reset_requests(cloud)
    again = run(task("node_power", node=sid, hostname="cmp4", state="off", **maas))
    assert not failed(again) and again.task("go")["changed"] is False and mutating(cloud) == []
    on = run(task("node_power", node=sid, hostname="cmp4", state="on", **maas))
    assert not failed(on) and on.task("go")["node"]["power_state"] == "on" and machine["power_state"] == "on"


def test_topology_is_what_the_tests_assume(cloud):
    assert {s["name"] for s in APPLY_TOPOLOGY["servers"]} <= {
        s["name"] for s in cloud.cloud.stores["compute"].servers.values()
    }


def test_resize_confirms_then_idempotent(cloud, run):
    reset_requests(cloud)
    result = run(task("server_resize", server="vm6", flavor="m1.medium", diff=True))
    assert not failed(result), result.stdout
    res = result.task("go")
    assert res["changed"] is True and res["before"]["flavor"] == "m1.small" and res["after"]["flavor"] == "m1.medium"
    srv = server(cloud, "vm6")
    assert srv["status"] == "ACTIVE" and srv["flavor"]["original_name"] == "m1.medium"
    assert len(mutating(cloud, ok_only=True)) == 2  # resize + confirmResize
    reset_requests(cloud)
    again = run(task("server_resize", server="vm6", flavor="m1.medium"))
    assert not failed(again) and again.task("go")["changed"] is False and mutating(cloud) == []


def test_stop_action_in_a_plan_is_idempotent(cloud, run, tmp_path):
    from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib

    plan = planlib.new_plan(
        "test",
        "test",
        actions=[planlib.simple_action("x1", "stop", server_id(cloud, "vm5"), postcondition={"status": "SHUTOFF"})],
    )
    state = str(tmp_path / "stop.state.json")
    first = run(task("plan_apply", plan=plan, state_file=state, poll_interval=0.05))
    assert not failed(first) and first.task("go")["changed"] is True
    assert server(cloud, "vm5")["status"] == "SHUTOFF"
    reset_requests(cloud)
    fresh = run(task("plan_apply", plan=plan, state_file=str(tmp_path / "other.state.json"), poll_interval=0.05))
    assert not failed(fresh) and fresh.task("go")["changed"] is False and mutating(cloud) == []


def test_bad_input_fails_cleanly_and_changes_nothing(cloud, run):
    reset_requests(cloud)
    unknown = run(task("server_migrate", server="no-such-server", destination="cmp2"))
    assert failed(unknown) and "server 'no-such-server' not found" in unknown.task("go")["msg"]
    bad_pool = run(task("volume_migrate", volume=volume_id(cloud, "vol1"), destination_pool="cinder2"))
    assert failed(bad_pool) and "host@backend#pool" in bad_pool.task("go")["msg"]
    assert mutating(cloud) == []


def test_capacity_refusal_names_the_host_not_only_its_provider(cloud, run):
    """Nova's refusal quotes Placement, which knows a host by its provider uuid: vigil adds the name."""
    with cloud.cloud.lock:
        placement = cloud.cloud.stores["placement"]
        rp = next(u for u, p in placement.providers.items() if p["name"] == "cmp2")
        vcpu = placement.providers[rp]["inventories"]["VCPU"]
        vcpu["allocation_ratio"] = 1.0
        vcpu["total"] = placement.usages[rp].get("VCPU", 0)  # cmp2 has no vCPU left
    reset_requests(cloud)
    result = run(task("server_migrate", server="vm1", destination="cmp2"))
    assert failed(result)
    msg = result.task("go")["msg"]
    assert "resource provider '%s' (host cmp2)" % rp in msg and "exceed the capacity" in msg, msg
    assert server(cloud, "vm1")["host"] == "cmp1"
    assert [c["method"] for c in mutating(cloud)] == ["POST"]  # the one refused call
