"""The Nova notification event source, consuming through kombu's in-memory transport.

Messages are published as oslo.messaging's rabbit driver sends Nova's versioned notifications:
the 2.0 envelope, exchange ``nova``, routing key ``versioned_notifications.info``. The payload
shapes are Nova's (InstanceActionPayload / ServiceStatusPayload, trimmed).
"""

import asyncio
import importlib.util
import json
from pathlib import Path

import pytest
from private_loop import run

kombu = pytest.importorskip("kombu")

SOURCE = Path(__file__).resolve().parents[2] / "extensions/eda/plugins/event_source/nova_notifications.py"


def load_source():
    spec = importlib.util.spec_from_file_location("nova_notifications", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def envelope(event_type, data, name="ServiceStatusPayload"):
    message = {
        "message_id": "m-" + event_type,
        "publisher_id": "nova-compute:compute-1",
        "event_type": event_type,
        "priority": "INFO",
        "timestamp": "2026-12-06 08:00:00.000000",
        "payload": {"nova_object.name": name, "nova_object.namespace": "nova", "nova_object.data": data},
    }
    return {"oslo.version": "2.0", "oslo.message": json.dumps(message)}


def test_decode_reads_the_envelope_and_refuses_what_is_not_a_notification():
    source = load_source()
    event = source.decode(json.dumps(envelope("service.update", {"host": "compute-1", "disabled": True})))
    assert event["nova"]["event_type"] == "service.update"
    assert event["nova"]["payload"] == {"host": "compute-1", "disabled": True}
    assert event["nova"]["publisher_id"] == "nova-compute:compute-1"
    assert source.decode(b"not json") is None
    assert source.decode({"oslo.version": "2.0", "oslo.message": "{"}) is None
    assert source.decode({"no": "event_type"}) is None


def test_matching_notifications_reach_the_queue_others_are_dropped():
    source = load_source()
    url = "memory://vigil-test-%s" % id(source)
    publish = [
        ("instance.live_migration_post", {"host": "compute-2", "uuid": "s1"}),
        ("volume.usage", {"volume_id": "v1"}),
        ("service.update", {"host": "compute-1", "disabled": True}),
    ]

    async def scenario():
        queue = asyncio.Queue(maxsize=10)
        task = asyncio.create_task(source.main(queue, {"url": url, "reconnect_delay": 0.1}))
        await asyncio.sleep(1.0)  # the consumer declares its queue and binding
        with kombu.Connection(url) as conn:
            exchange = kombu.Exchange("nova", type="topic", durable=False)
            producer = conn.Producer(serializer="json")
            for event_type, data in publish:
                producer.publish(
                    envelope(event_type, data), exchange=exchange, routing_key="versioned_notifications.info"
                )
        got = [await asyncio.wait_for(queue.get(), 10) for _unused in range(2)]
        await asyncio.sleep(0.5)
        extra = queue.qsize()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got, extra

    got, extra = run(scenario())
    assert [e["nova"]["event_type"] for e in got] == ["instance.live_migration_post", "service.update"]
    assert got[1]["nova"]["payload"]["disabled"] is True
    assert extra == 0, "volume.usage matched no pattern"


def test_an_unreachable_bus_is_retried_with_a_growing_delay(caplog):
    source = load_source()

    async def scenario():
        queue = asyncio.Queue()
        task = asyncio.create_task(
            source.main(queue, {"url": "amqp://guest:guest@127.0.0.1:1//", "reconnect_delay": 0.2})
        )
        await asyncio.sleep(2.5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with caplog.at_level("WARNING", logger="vigil.openstack.nova_notifications"):
        run(scenario())
    delays = [
        r.getMessage().rsplit("reconnecting in ", 1)[1] for r in caplog.records if "reconnecting in" in r.getMessage()
    ]
    assert delays[:3] == ["0.2s", "0.4s", "0.8s"], delays


def test_a_lost_connection_is_reconnected_and_nothing_sent_meanwhile_is_lost(caplog, monkeypatch):
    """The bus drops the consumer's connection twice while it consumes (kombu's memory transport
    is told to fail a drain, as a broker restart would): each time the source reconnects after
    the first delay (reset by the good connection in between), and what was published while it
    was away waits in its queue and arrives."""
    source = load_source()
    url = "memory://vigil-reconnect-%s" % id(source)
    memory = importlib.import_module("kombu.transport.memory").Transport  # imported on first use otherwise
    drain, cuts = memory.drain_events, []

    def drain_or_drop(self, connection, timeout=None):
        if cuts:
            cuts.pop()
            raise ConnectionResetError("connection reset by the broker")
        return drain(self, connection, timeout=timeout)

    monkeypatch.setattr(memory, "drain_events", drain_or_drop)

    def publish(event_type, host):
        with kombu.Connection(url) as conn:
            conn.Producer(serializer="json").publish(
                envelope(event_type, {"host": host, "disabled": True}),
                exchange=kombu.Exchange("nova", type="topic", durable=False),
                routing_key="versioned_notifications.info",
            )

    async def scenario():
        queue = asyncio.Queue(maxsize=10)
        task = asyncio.create_task(source.main(queue, {"url": url, "reconnect_delay": 0.3}))
        await asyncio.sleep(1.0)
        got = []
        for host in ("compute-1", "compute-2", "compute-3"):
            publish("service.update", host)
            got.append(await asyncio.wait_for(queue.get(), 10))
            cuts.append(True)  # the next drain loses the connection
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return got

    with caplog.at_level("WARNING", logger="vigil.openstack.nova_notifications"):
        got = run(scenario())
    assert [e["nova"]["payload"]["host"] for e in got] == ["compute-1", "compute-2", "compute-3"]
    warnings = [r.getMessage() for r in caplog.records if "reconnecting in" in r.getMessage()]
    assert len(warnings) >= 2 and all("connection reset by the broker" in w for w in warnings), warnings
    assert {w.rsplit("reconnecting in ", 1)[1] for w in warnings[:2]} == {"0.3s"}, (
        "the delay restarts after a good connection"
    )


def test_nova_transport_url_is_read_as_kombu_reads_it():
    source = load_source()
    assert source.kombu_url("rabbit://guest:secret@10.0.0.5:5672/") == "amqp://guest:secret@10.0.0.5:5672/"
    assert (
        source.kombu_url("rabbit://u:p@h1:5672,u:p@h2:5672/openstack")
        == "amqp://u:p@h1:5672/openstack;amqp://u:p@h2:5672/openstack"
    )
    assert source.kombu_url("amqp://guest:guest@rabbit:5672//") == "amqp://guest:guest@rabbit:5672//"
    conn = kombu.Connection(source.kombu_url("rabbit://u:p@h1:5672,u:p@h2:5672/"))
    assert conn.hostname == "h1" and conn.alt == ["amqp://u:p@h1:5672/", "amqp://u:p@h2:5672/"]
