"""Migration executor paths the twin cannot easily reach: revert on a wrong host, abort, lost answers.

`FakeNova` stands in for ``conn.compute`` / ``conn.placement`` (the cloud), with servers as
plain dicts and scripted transitions; the executor under test is the real one.
"""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import ActionError, ActionTimeout, Poller
from ansible_collections.vigil.openstack.plugins.module_utils.actions.migrate import MigrateAction


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def now(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


class Http503(Exception):
    status_code = 503


class Obj(dict):
    __getattr__ = dict.get


class FakeNova:
    def __init__(self, server):
        self.server = dict(server)
        self.calls = []
        self.on_get = []  # callables run on each get_server (scripted transitions)
        self.fail_next_post = 0

    # compute
    def get_server(self, sid):
        for step in list(self.on_get):
            step(self)
        s = self.server
        return Obj(
            id=s["id"],
            name="vm",
            compute_host=s["host"],
            hypervisor_hostname=s["host"],
            status=s["status"],
            task_state=s.get("task_state"),
            vm_state="active",
            is_locked=False,
            flavor={"original_name": "m1.small", "ram": 2048, "disk": 20},
        )

    def services(self, binary=None, host=None):
        return [
            Obj(
                id="svc-" + host,
                host=host,
                binary="nova-compute",
                status="enabled",
                state="up",
                disabled_reason=None,
                is_forced_down=False,
            )
        ]

    def _post(self, name, landed_effect):
        self.calls.append(name)
        if self.fail_next_post:
            self.fail_next_post -= 1
            landed_effect()  # the request was processed, but the answer was lost
            raise Http503("503 Service Unavailable")
        landed_effect()

    def migrate_server(self, sid, host=None):
        def effect():
            self.server.update(status="VERIFY_RESIZE", host=self.land_on or host, task_state=None)

        self._post("migrate", effect)

    def live_migrate_server(self, sid, host=None, force=False, block_migration=None):
        def effect():
            self.server.update(status="MIGRATING", task_state="migrating")

        self._post("live", effect)

    def revert_server_resize(self, sid):
        self._post("revert", lambda: self.server.update(status="ACTIVE", host="cmp1"))

    def confirm_server_resize(self, sid):
        self._post("confirm", lambda: self.server.update(status="ACTIVE"))

    def migrations(self, instance_uuid=None):
        return []  # no migration records: nothing holds the source

    def server_migrations(self, sid):
        return [Obj(id=7, status="running")] if self.server["status"] == "MIGRATING" else []

    def abort_server_migration(self, mid, sid, ignore_missing=True):
        self._post("abort %s" % mid, lambda: self.server.update(status="ACTIVE", task_state=None))

    land_on = None


class FakeConn:
    def __init__(self, nova):
        self.compute = nova
        self.placement = self

    def get(self, path):  # no allocation check in these tests: pretend Placement is absent
        raise type("EndpointNotFound", (Exception,), {})()


def action(kind="cold", destination="cmp2"):
    return {
        "id": "a1",
        "type": "migrate",
        "resource": "s1",
        "input": {
            "migration_type": kind,
            "source_node": "cmp1",
            "destination_node": destination,
            "block_migration": "auto",
        },
        "parents": [],
        "postcondition": {"host": destination, "status": "ACTIVE"},
    }


def run(nova, act, timeout=None):
    ctx = {"conn": FakeConn(nova), "poller": Poller(interval=1, clock=FakeClock()), "timeout": timeout}
    return MigrateAction(act, ctx).run()


def test_cold_migration_on_the_wrong_host_is_reverted_and_fails():
    nova = FakeNova({"id": "s1", "host": "cmp1", "status": "ACTIVE"})
    nova.land_on = "cmp9"
    with pytest.raises(ActionError, match="went to cmp9, expected cmp2; reverted"):
        run(nova, action())
    assert nova.calls == ["migrate", "revert"]
    assert nova.server["host"] == "cmp1" and nova.server["status"] == "ACTIVE"


def test_cold_migration_confirms_on_the_right_host():
    nova = FakeNova({"id": "s1", "host": "cmp1", "status": "ACTIVE"})
    result = run(nova, action())
    assert nova.calls == ["migrate", "confirm"]
    assert result["after"] == {"host": "cmp2", "status": "ACTIVE"}


def test_resumed_cold_migration_in_verify_resize_is_only_confirmed():
    nova = FakeNova({"id": "s1", "host": "cmp2", "status": "VERIFY_RESIZE"})
    run(nova, action())
    assert nova.calls == ["confirm"]


def test_live_migration_timeout_aborts():
    nova = FakeNova({"id": "s1", "host": "cmp1", "status": "ACTIVE"})
    with pytest.raises(ActionTimeout, match=r"timed out after 30s .*aborted migration 7; server ACTIVE on cmp1"):
        run(nova, action("live"), timeout=30)
    assert nova.calls == ["live", "abort 7"]


def test_a_lost_answer_is_not_sent_again():
    nova = FakeNova({"id": "s1", "host": "cmp1", "status": "ACTIVE"})
    nova.fail_next_post = 1  # the POST is processed but its answer is a 503
    reads = []

    def migration_finishes_later(n):
        reads.append(n.server["status"])
        if len(reads) > 3 and n.server["status"] == "MIGRATING":
            n.server.update(status="ACTIVE", task_state=None, host="cmp2")

    nova.on_get = [migration_finishes_later]
    result = run(nova, action("live"), timeout=600)
    assert nova.calls == ["live"]  # the read after the 503 saw MIGRATING: not sent again
    assert result["after"] == {"host": "cmp2", "status": "ACTIVE"}


def test_live_migration_failure_reports_source():
    nova = FakeNova({"id": "s1", "host": "cmp1", "status": "ACTIVE"})
    nova.on_get = [
        lambda n: n.server.update(status="ACTIVE", task_state=None) if n.server["status"] == "MIGRATING" else None
    ]
    with pytest.raises(ActionError, match="live migration of s1 failed: server still on cmp1"):
        run(nova, action("live"))


def test_server_on_neither_source_nor_destination_is_stale_and_untouched():
    from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import StaleAction

    nova = FakeNova({"id": "s1", "host": "cmp7", "status": "ACTIVE"})
    with pytest.raises(StaleAction, match="is on cmp7, not on its source cmp1"):
        run(nova, action("live"))
    assert nova.calls == []
