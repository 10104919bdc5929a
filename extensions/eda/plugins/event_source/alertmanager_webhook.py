# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""An event source for Prometheus Alertmanager's webhook receiver (docs/events.md)."""

from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from aiohttp import web

DOCUMENTATION = r"""
---
short_description: Receive Prometheus Alertmanager webhook notifications, one event per alert.
description:
  - Listens for Alertmanager's webhook POSTs (C(webhook_configs) in alertmanager.yml) and puts
    one event per alert on the rulebook's queue - C(event.alert) (status, labels, annotations,
    startsAt, fingerprint) and C(event.alertmanager) (receiver, status, groupKey, externalURL).
  - Binds 127.0.0.1 unless told otherwise. Accepted alerts wait in a bounded queue; when it is
    full the receiver answers 503 so that Alertmanager retries later instead of the rulebook
    falling behind without bound.
options:
  host:
    description: Address to listen on.
    type: str
    default: 127.0.0.1
  port:
    description: Port to listen on.
    type: int
    required: true
  path:
    description: URL path Alertmanager posts to.
    type: str
    default: /alerts
  token:
    description:
      - When set, a request must carry C(Authorization Bearer <token>) (Alertmanager's
        C(http_config.authorization.credentials)); others get 401.
    type: str
  queue_size:
    description: Alerts accepted but not yet handed to the rulebook, at most.
    type: int
    default: 1000
  skip_resolved:
    description: Drop alerts whose status is C(resolved) (nothing to audit when a problem ends).
    type: bool
    default: true
"""

EXAMPLES = r"""
- vigil.openstack.alertmanager_webhook:
    host: 127.0.0.1
    port: 9095
    path: /alerts
"""

LOG = logging.getLogger("vigil.openstack.alertmanager_webhook")
MAX_BODY = 4 * 1024 * 1024  # Alertmanager groups alerts; a bigger body is not one of its posts


class _Receiver:
    def __init__(self, args: dict[str, Any]):
        self.token = args.get("token") or None
        self.skip_resolved = bool(args.get("skip_resolved", True))
        self.pending: asyncio.Queue = asyncio.Queue(maxsize=int(args.get("queue_size", 1000)))

    async def handle(self, request: web.Request) -> web.Response:
        if self.token is not None:
            expected = "Bearer " + self.token
            if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
                return web.json_response({"error": "missing or wrong bearer token"}, status=401)
        try:
            payload = await request.json()
        except ValueError:
            return web.json_response({"error": "body is not JSON"}, status=400)
        alerts = payload.get("alerts") if isinstance(payload, dict) else None
        if not isinstance(alerts, list):
            return web.json_response({"error": "body has no 'alerts' list (not an Alertmanager webhook)"}, status=400)
        events = [self._event(payload, alert) for alert in alerts if isinstance(alert, dict)]
        events = [e for e in events if not (self.skip_resolved and e["alert"].get("status") == "resolved")]
        # all or nothing, so a retried post is not half duplicated
        if self.pending.maxsize - self.pending.qsize() < len(events):
            LOG.warning("queue full (%d alerts waiting): asking Alertmanager to retry", self.pending.qsize())
            return web.json_response({"error": "queue full, retry later"}, status=503)
        for event in events:
            self.pending.put_nowait(event)
        return web.json_response({"accepted": len(events)}, status=202)

    @staticmethod
    def _event(payload: dict, alert: dict) -> dict:
        meta = {k: payload.get(k) for k in ("receiver", "status", "groupKey", "externalURL")}
        return {"alert": alert, "alertmanager": meta}

    async def forward(self, queue: asyncio.Queue) -> None:
        while True:
            event = await self.pending.get()
            await queue.put(event)


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    """Serve until cancelled (ansible-rulebook cancels its sources when it stops)."""
    receiver = _Receiver(args)
    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(args.get("path", "/alerts"), receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, args.get("host", "127.0.0.1"), int(args["port"]))
    await site.start()
    LOG.info("listening on %s:%s%s", args.get("host", "127.0.0.1"), args["port"], args.get("path", "/alerts"))
    try:
        await receiver.forward(queue)
    finally:
        await runner.cleanup()


if __name__ == "__main__":  # a quick manual run: print the events

    class _Print:
        async def put(self, event):
            print(event)  # noqa: T201

    asyncio.run(main(_Print(), {"port": 9095}))
