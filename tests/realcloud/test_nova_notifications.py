"""Nova's versioned notifications from the real services, read by vigil's nova_notifications source.

Nova here runs with ``driver = messagingv2`` and ``notification_format = versioned``
(etc/nova.conf). The source runs as ansible-rulebook runs it - its ``main(queue, args)``
coroutine on an event loop - against the tier's RabbitMQ, given Nova's own ``transport_url``.
Real actions through openstacksdk (a compute service disabled and forced down, a live
migration) must arrive as events with Nova's event types and the payload fields that
``extensions/eda/rulebooks/nova_notifications.yml`` matches on. The rulebook's conditions are
evaluated on the real event.

RabbitMQ is shared by the whole tier and cannot be restarted, so the source's connection goes
through a relay that the test cuts: the source must reconnect, and what Nova sent meanwhile
must still arrive (its queue is durable and stays bound).

Last, the shipped rulebook itself, under a real ansible-rulebook, reads the same bus: a compute
service forced down starts exactly one host_maintenance audit of that host (plan and report,
nothing applied).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import socket
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from stack import CLOUD_ADMIN

kombu = pytest.importorskip("kombu")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration" / "events"))
from eda_support import guard_log, start_rulebook, stop_rulebook  # noqa: E402

SOURCE = ROOT / "extensions/eda/plugins/event_source/nova_notifications.py"
RULEBOOK = ROOT / "extensions/eda/rulebooks/nova_notifications.yml"
REASON = "vigil notification test"


def load_source():
    spec = importlib.util.spec_from_file_location("vigil_nova_notifications", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Relay:
    """A TCP relay to RabbitMQ whose connections can be cut, as a network failure would."""

    def __init__(self, port: int):
        self.upstream = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _addr = self.server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> int:
        """Close every relayed connection; returns how many client connections there were."""
        with self.lock:
            sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        return len(sockets) // 2

    def close(self):
        self.server.close()
        self.cut()


class SourceRun:
    """The source's main(queue, args) on an event loop in a thread; events are collected in order."""

    def __init__(self, args: dict):
        self.events: list[dict] = []
        self.loop = asyncio.new_event_loop()
        self.args = args
        self.task = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            self.loop.run_until_complete(self._main())
        except asyncio.CancelledError:
            pass  # stop() cancels it, as ansible-rulebook cancels its sources at shutdown

    async def _main(self):
        queue = asyncio.Queue(maxsize=100)  # ansible-rulebook's queue is bounded too
        self.task = asyncio.create_task(load_source().main(queue, self.args))
        try:
            while True:
                self.events.append(await queue.get())
        finally:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    def wait_for(self, predicate, timeout: float, what: str) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = next((e for e in list(self.events) if predicate(e["nova"])), None)
            if found is not None:
                return found
            time.sleep(0.2)
        seen = [(e["nova"]["event_type"], e["nova"]["payload"].get("host")) for e in self.events]
        raise AssertionError(f"no {what} within {timeout}s; events seen: {seen}")

    def stop(self):
        for task in asyncio.all_tasks(self.loop):
            self.loop.call_soon_threadsafe(task.cancel)
        self.thread.join(15)
        self.loop.close()


def queue_ready(port: int, name: str) -> bool:
    """The source's queue exists on the broker (declared passively: nothing is created)."""
    with kombu.Connection(f"amqp://guest:guest@127.0.0.1:{port}//") as conn:
        try:
            kombu.Queue(name, channel=conn.channel()).queue_declare(passive=True)
        except conn.channel_errors:
            return False
    return True


def delete_queue(port: int, name: str):
    with kombu.Connection(f"amqp://guest:guest@127.0.0.1:{port}//") as conn:
        kombu.Queue(name, channel=conn.channel()).delete()


@pytest.fixture
def notifications(realcloud):
    """start(**args) -> a SourceRun reading Nova's notifications through a Relay; both stopped after."""
    rabbit = realcloud.ports["rabbit"]
    relay = Relay(rabbit)
    runs, queues = [], []

    def start(**args):
        name = f"vigil-test-{uuid.uuid4().hex[:8]}"
        # Nova's transport_url, as written in nova.conf, with the relay's port
        args = {"url": f"rabbit://guest:guest@127.0.0.1:{relay.port}/", "queue": name, "reconnect_delay": 0.2, **args}
        run = SourceRun(args)
        runs.append(run)
        queues.append(name)
        deadline = time.monotonic() + 30
        while not queue_ready(rabbit, name):
            assert time.monotonic() < deadline, "the source never declared its queue"
            time.sleep(0.2)
        return run

    start.relay = relay
    yield start
    for run in runs:
        run.stop()
    relay.close()
    for name in queues:  # durable: it would collect the rest of the tier's notifications
        delete_queue(rabbit, name)


def default_queue_depth(port: int, topic: str) -> int | None:
    """Messages in the queue oslo.messaging declares for a notification topic (None: no queue)."""
    with kombu.Connection(f"amqp://guest:guest@127.0.0.1:{port}//") as conn:
        try:
            return kombu.Queue(topic, channel=conn.channel()).queue_declare(passive=True).message_count
        except conn.channel_errors:
            return None


def _path(event: dict, dotted: str):
    value = {"event": event}
    for key in dotted.split("."):
        value = value[key]
    return value


COMPARISON = re.compile(r"^\s*(event(?:\.[A-Za-z_]+)+)\s*==\s*(.+?)\s*$")


def rule_matches(condition: str, event: dict) -> bool:
    """The rulebook's condition on a real event. Only ``a == b and c == d`` is understood:
    anything else fails the test, so a rule written otherwise is not silently passed."""
    results = []
    for part in condition.split(" and "):
        match = COMPARISON.match(part)
        assert match, f"cannot evaluate {part!r}: extend rule_matches"
        results.append(_path(event, match[1]) == yaml.safe_load(match[2]))
    return all(results)


def rulebook_paths(rule: dict) -> set[str]:
    """Every event.nova... path the rule reads (condition, throttle, extra vars)."""
    return set(re.findall(r"event\.nova(?:\.[A-Za-z_]+)+", yaml.safe_dump(rule)))


def test_service_forced_down_reaches_the_source_with_what_the_rulebook_matches(notifications, real_conn):
    run = notifications()
    service = next(s for s in real_conn.compute.services(binary="nova-compute") if s.host == "compute3")
    try:
        real_conn.compute.disable_service(service, disabled_reason=REASON)
        real_conn.compute.update_service_forced_down(service, forced=True)
        event = run.wait_for(
            lambda n: (
                n["event_type"] == "service.update"
                and n["payload"]["host"] == "compute3"
                and n["payload"]["forced_down"]
            ),
            60,
            "service.update with forced_down for compute3",
        )
    finally:
        real_conn.compute.update_service_forced_down(service, forced=False)
        real_conn.compute.enable_service(service)
    nova = event["nova"]
    assert nova["publisher_id"].startswith("nova-") and nova["priority"] == "INFO"
    assert nova["message_id"] and nova["timestamp"]
    payload = nova["payload"]
    assert payload["binary"] == "nova-compute" and payload["disabled"] is True
    assert payload["disabled_reason"] == REASON

    rules = yaml.safe_load(RULEBOOK.read_text())[0]["rules"]
    rule = next(r for r in rules if "forced down" in r["name"])
    assert rule_matches(rule["condition"], event), rule["condition"]
    for path in rulebook_paths(rule):
        _path(event, path)  # every field the rule reads is in the real event (KeyError otherwise)
    disabled_only = next(
        e for e in run.events if e["nova"]["event_type"] == "service.update" and not e["nova"]["payload"]["forced_down"]
    )
    assert not rule_matches(rule["condition"], disabled_only), "a disabled (not forced down) service starts nothing"


def test_without_a_consumer_nova_notifications_are_kept_in_oslo_messagings_default_queue(realcloud, real_conn):
    """A topic exchange drops what no queue is bound for, but oslo.messaging declares a queue named
    after the topic before it first sends, so the tier's notifications are kept (and counted) there."""
    service = next(s for s in real_conn.compute.services(binary="nova-compute") if s.host == "compute2")
    real_conn.compute.disable_service(service, disabled_reason=REASON)
    real_conn.compute.enable_service(service)
    port = realcloud.ports["rabbit"]
    deadline = time.monotonic() + 30
    while not default_queue_depth(port, "versioned_notifications.info"):
        assert time.monotonic() < deadline, "no notification kept in versioned_notifications.info"
        time.sleep(0.5)
    print(f"versioned_notifications.info holds {default_queue_depth(port, 'versioned_notifications.info')} messages")


def _movable(conn):
    up = sorted(
        s.host for s in conn.compute.services(binary="nova-compute") if s.state == "up" and s.status == "enabled"
    )
    grouped = {m for g in conn.compute.server_groups(all_projects=True) for m in g.member_ids or []}
    for server in sorted(conn.compute.servers(all_projects=True), key=lambda s: s.name):
        if server.status == "ACTIVE" and not server.task_state and server.id not in grouped:
            dest = next((h for h in up if h != server.compute_host), None)
            if dest:
                return server, dest
    pytest.fail("no movable server in the real cloud")


def test_live_migration_events_arrive_across_a_lost_connection(notifications, real_conn):
    run = notifications()
    server, dest = _movable(real_conn)
    source_host = server.compute_host
    assert notifications.relay.cut() >= 1, "the source was connected through the relay"
    # Nova's notifications while the source is away wait in its durable queue
    live_migrate(real_conn, server, dest)

    def of_server(event_type):
        return lambda n: n["event_type"] == event_type and n["payload"].get("uuid") == server.id

    pre = run.wait_for(of_server("instance.live_migration_pre.start"), 60, "live_migration_pre.start")
    post = run.wait_for(of_server("instance.live_migration_post.end"), 60, "live_migration_post.end")
    post_dest = run.wait_for(of_server("instance.live_migration_post_dest.end"), 60, "live_migration_post_dest.end")
    assert pre["nova"]["payload"]["host"] == source_host
    assert post_dest["nova"]["payload"]["host"] == dest
    assert post["nova"]["publisher_id"] == f"nova-compute:{source_host}"
    assert post_dest["nova"]["publisher_id"] == f"nova-compute:{dest}"
    types = [e["nova"]["event_type"] for e in run.events if e["nova"]["payload"].get("uuid") == server.id]
    assert types.index("instance.live_migration_pre.start") < types.index("instance.live_migration_post_dest.end")
    live_migrate(real_conn, server, source_host)  # test_optimize, last in the tier, starts from the seed


def live_migrate(conn, server, dest):
    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    deadline = time.monotonic() + 180
    while True:
        now = conn.compute.get_server(server.id)
        if now.compute_host == dest and now.status == "ACTIVE" and not now.task_state:
            return
        assert now.status != "ERROR" and time.monotonic() < deadline, f"{server.name} did not reach {dest}"
        time.sleep(1)


def wait_until(predicate, timeout: float, what: str, proc, log: Path):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"ansible-rulebook exited {proc.returncode}: {log.read_text()[-4000:]}"
        assert time.monotonic() < deadline, f"no {what} within {timeout}s: {log.read_text()[-4000:]}"
        time.sleep(0.5)


def test_the_rulebook_audits_a_compute_forced_down_and_applies_nothing(realcloud, real_conn, tmp_path):
    port, out, guard = realcloud.ports["rabbit"], tmp_path / "out", tmp_path / "guard"
    variables = {
        "vigil_cloud": CLOUD_ADMIN,
        "vigil_transport_url": f"rabbit://guest:guest@127.0.0.1:{port}/",  # as nova.conf has it
        "vigil_event_apply_goals": [],
        "vigil_output_dir": str(out),
        "vigil_guard_dir": str(guard),
    }
    proc = start_rulebook(tmp_path, "vigil.openstack.nova_notifications", variables, realcloud.clouds_yaml)
    log = tmp_path / "rulebook.log"
    queue = "vigil-versioned-notifications"  # the source's default, which the rulebook keeps
    service = next(s for s in real_conn.compute.services(binary="nova-compute") if s.host == "compute3")
    hosts_before = {s.id: s.compute_host for s in real_conn.compute.servers(all_projects=True)}
    try:
        wait_until(lambda: queue_ready(port, queue), 120, "queue bound by the rulebook's source", proc, log)
        try:
            real_conn.compute.disable_service(service, disabled_reason=REASON)
            real_conn.compute.update_service_forced_down(service, forced=True)

            def audit_ended():
                return any(d["kind"] == "plan_release" for d in guard_log(guard, CLOUD_ADMIN))

            wait_until(audit_ended, 420, "host_maintenance audit run to its end", proc, log)
        finally:
            real_conn.compute.update_service_forced_down(service, forced=False)
            real_conn.compute.enable_service(service)
        time.sleep(3)  # a second playbook, had the rulebook started one, would have logged by now
    finally:
        stop_rulebook(proc)
        delete_queue(port, queue)
    decisions = guard_log(guard, CLOUD_ADMIN)
    assert [(d["kind"], d["subject"]) for d in decisions if d["kind"] == "audit"] == [
        ("audit", "host_maintenance/compute3")
    ]
    assert [d["kind"] for d in decisions if d["allowed"]] == ["audit", "plan_lease", "plan_release"]
    [plan_file] = list(out.glob("plan-*.json"))
    plan = json.loads(plan_file.read_text())
    assert plan["strategy"] == "host_maintenance" and plan["parameters"]["maintenance_node"] == "compute3"
    assert len(list(out.glob("report-*.md"))) == 1
    hosts_after = {s.id: s.compute_host for s in real_conn.compute.servers(all_projects=True)}
    assert hosts_after == hosts_before, "host_maintenance is not in vigil_event_apply_goals: nothing applied"
