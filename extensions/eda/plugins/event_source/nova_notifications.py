# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""An event source for Nova's versioned notifications on the message bus (docs/events.md)."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import logging
import threading
from typing import Any

DOCUMENTATION = r"""
---
short_description: Read Nova's versioned notifications from RabbitMQ, one event per notification.
description:
  - Consumes what Nova emits with C([oslo_messaging_notifications] driver = messagingv2) and
    C([notifications] notification_format = versioned) - the oslo.messaging envelope on the
    C(nova) exchange, routing key C(<topic>.<priority>) - and puts one event per notification
    whose C(event_type) matches O(event_types) on the rulebook's queue. C(event.nova) holds
    event_type, publisher_id, priority, timestamp, message_id and the payload's C(nova_object.data).
  - Its own durable queue (O(queue)) is bound to the exchange, so notifications sent while the
    source is down wait for it. Messages are acknowledged only once on the rulebook's queue, and
    at most O(prefetch) are unacknowledged - the bounded queue; RabbitMQ keeps the rest.
  - Reconnects after a lost connection, waiting O(reconnect_delay) seconds, doubling up to 60.
  - Needs the C(kombu) Python package in the decision environment.
options:
  url:
    description:
      - The message bus - Nova's C(transport_url) as it is (C(rabbit://user:password@host:5672/),
        several hosts separated by commas), or a kombu URL (C(amqp://user:password@host:5672//)).
    type: str
    required: true
  exchange:
    description: Nova's C(control_exchange).
    type: str
    default: nova
  topic:
    description: Nova's C(versioned_notifications_topics) entry.
    type: str
    default: versioned_notifications
  queue:
    description: Name of the queue this source consumes from (created durable when missing).
    type: str
    default: vigil-versioned-notifications
  event_types:
    description: Shell patterns of the event types to forward; others are acknowledged and dropped.
    type: list
    elements: str
    default: ["instance.*", "compute.instance.*", "service.update"]
  prefetch:
    description: Notifications received but not yet handed to the rulebook, at most.
    type: int
    default: 100
  reconnect_delay:
    description: First wait before reconnecting, in seconds.
    type: float
    default: 1
"""

EXAMPLES = r"""
- vigil.openstack.nova_notifications:
    url: amqp://guest:guest@rabbit.example.org:5672//
    event_types: [service.update, instance.live_migration_*]
"""

LOG = logging.getLogger("vigil.openstack.nova_notifications")
MAX_DELAY = 60.0


def decode(body: Any) -> dict | None:
    """The notification inside an oslo.messaging message (envelope 2.0, or bare), or None."""
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if isinstance(body, dict) and "oslo.message" in body:
        try:
            body = json.loads(body["oslo.message"])
        except (TypeError, ValueError):
            return None
    if not isinstance(body, dict) or not isinstance(body.get("event_type"), str):
        return None
    payload = body.get("payload")
    data = payload.get("nova_object.data", payload) if isinstance(payload, dict) else payload
    fields = ("event_type", "publisher_id", "priority", "timestamp", "message_id")
    return {"nova": dict({k: body.get(k) for k in fields}, payload=data)}


def kombu_url(url: str) -> str:
    """Nova's transport_url as kombu takes it: oslo.messaging's rabbit:// is kombu's amqp://, and
    its comma-separated hosts (rabbit://u:p@h1:5672,u:p@h2:5672/vhost) kombu's ';'-separated
    failover URLs. Other URLs are kombu's already."""
    scheme, _sep, rest = url.partition("://")
    if scheme != "rabbit":
        return url
    hosts, _slash, vhost = rest.partition("/")
    return ";".join("amqp://%s/%s" % (host, vhost) for host in hosts.split(","))


def matches(event_type: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(event_type, p) for p in patterns)


class _Consumer:
    """kombu is synchronous: it consumes in a thread and hands events to the loop one at a time."""

    def __init__(self, queue: asyncio.Queue, args: dict[str, Any], loop: asyncio.AbstractEventLoop):
        self.queue, self.loop = queue, loop
        self.url = kombu_url(args["url"])
        self.exchange = args.get("exchange", "nova")
        self.topic = args.get("topic", "versioned_notifications")
        self.queue_name = args.get("queue", "vigil-versioned-notifications")
        self.patterns = list(args.get("event_types") or ["instance.*", "compute.instance.*", "service.update"])
        self.prefetch = int(args.get("prefetch", 100))
        self.delay = float(args.get("reconnect_delay", 1))
        self.stopping = threading.Event()

    def _on_message(self, body, message):
        event = decode(body)
        if event is None:
            LOG.warning("dropped a message that is not a notification")
        elif matches(event["nova"]["event_type"], self.patterns):
            # blocks while the rulebook's queue is full: this message stays unacknowledged
            asyncio.run_coroutine_threadsafe(self.queue.put(event), self.loop).result()
        message.ack()

    def _consume_once(self):
        import kombu  # imported here so the documentation loads without kombu

        exchange = kombu.Exchange(self.exchange, type="topic", durable=False)
        bindings = [kombu.binding(exchange, routing_key=self.topic + ".*")]
        queue = kombu.Queue(self.queue_name, bindings=bindings, durable=True)
        with kombu.Connection(self.url) as conn:
            # fail at once (kombu would wait 2s between its own tries): run() does the retrying
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, interval_max=0)
            with conn.Consumer([queue], callbacks=[self._on_message], prefetch_count=self.prefetch, accept=["json"]):
                LOG.info("consuming %s from exchange %s", self.topic, self.exchange)
                self.delay_now = self.delay
                while not self.stopping.is_set():
                    try:
                        conn.drain_events(timeout=1)
                    except TimeoutError:
                        continue

    def run(self):
        self.delay_now = self.delay
        while not self.stopping.is_set():
            try:
                self._consume_once()
            except Exception as exc:  # noqa: BLE001 - any bus failure: wait, reconnect
                LOG.warning("message bus: %s; reconnecting in %.1fs", exc, self.delay_now)
                self.stopping.wait(self.delay_now)
                self.delay_now = min(self.delay_now * 2, MAX_DELAY)


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    """Consume until cancelled."""
    consumer = _Consumer(queue, args, asyncio.get_running_loop())
    thread = threading.Thread(target=consumer.run, name="nova-notifications", daemon=True)
    thread.start()
    try:
        while thread.is_alive():
            await asyncio.sleep(0.5)
    finally:
        consumer.stopping.set()
