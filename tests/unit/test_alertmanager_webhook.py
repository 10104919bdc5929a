"""The Alertmanager webhook event source, served for real on 127.0.0.1 and posted to over HTTP.

The payloads have the shape Alertmanager 0.25 posts (its webhook_configs); the rulebook's
queue is a plain asyncio.Queue, as ansible-rulebook hands one to its sources.
"""

import asyncio
import importlib.util
import socket
from pathlib import Path

import aiohttp
import pytest
from private_loop import run

SOURCE = Path(__file__).resolve().parents[2] / "extensions/eda/plugins/event_source/alertmanager_webhook.py"


def load_source():
    spec = importlib.util.spec_from_file_location("alertmanager_webhook", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alert(name, instance, status="firing"):
    return {
        "status": status,
        "labels": {"alertname": name, "instance": instance, "severity": "warning"},
        "annotations": {"summary": "%s on %s" % (name, instance)},
        "startsAt": "2026-12-06T08:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus/graph",
        "fingerprint": "%s-%s" % (name, instance),
    }


def webhook(*alerts):
    return {
        "version": "4",
        "groupKey": '{}:{alertname="x"}',
        "status": "firing",
        "receiver": "vigil",
        "alerts": list(alerts),
    }


async def serve_and(args, client_steps, queue):
    port = free_port()
    args = dict(args, port=port)
    task = asyncio.create_task(load_source().main(queue, args))
    url = "http://127.0.0.1:%d%s" % (port, args.get("path", "/alerts"))
    try:
        async with aiohttp.ClientSession() as session:
            for _unused in range(200):  # wait for the listener
                try:
                    async with session.post(url, json={}) as resp:
                        await resp.read()
                    break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.02)
            return await client_steps(session, url)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


def test_one_event_per_firing_alert_resolved_dropped_and_bad_bodies_refused():
    queue = asyncio.Queue()

    async def steps(session, url):
        answers = []
        body = webhook(alert("HostCpuHigh", "c1"), alert("HostCpuHigh", "c2"), alert("HostCpuHigh", "c3", "resolved"))
        for kwargs in ({"json": body}, {"data": b"not json"}, {"json": {"alerts": "x"}}):
            async with session.post(url, **kwargs) as resp:
                answers.append((resp.status, await resp.json()))
        await asyncio.sleep(0.05)
        return answers

    answers = run(serve_and({}, steps, queue))
    assert answers[0] == (202, {"accepted": 2})
    assert answers[1][0] == 400 and "not JSON" in answers[1][1]["error"]
    assert answers[2][0] == 400 and "no 'alerts' list" in answers[2][1]["error"]
    events = [queue.get_nowait() for _unused in range(queue.qsize())]
    assert [e["alert"]["labels"]["instance"] for e in events] == ["c1", "c2"]
    assert events[0]["alertmanager"]["receiver"] == "vigil" and events[0]["alert"]["fingerprint"] == "HostCpuHigh-c1"


def test_full_queue_answers_503_and_loses_nothing_it_accepted():
    """The rulebook does not read: its queue (1), the one being handed over and queue_size (3) are accepted."""
    queue = asyncio.Queue(maxsize=1)

    async def steps(session, url):
        statuses = []
        for i in range(6):
            async with session.post(url, json=webhook(alert("HostCpuHigh", "c%d" % i))) as resp:
                statuses.append(resp.status)
            await asyncio.sleep(0.02)
        drained = [(await queue.get())["alert"]["labels"]["instance"] for _unused in range(5)]
        return statuses, drained

    statuses, drained = run(serve_and({"queue_size": 3}, steps, queue))
    assert statuses == [202, 202, 202, 202, 202, 503]
    assert drained == ["c0", "c1", "c2", "c3", "c4"]


def test_token_is_required_when_set():
    queue = asyncio.Queue()

    async def steps(session, url):
        out = []
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer s3cret"}):
            async with session.post(url, json=webhook(alert("NovaComputeDown", "c1")), headers=headers) as resp:
                out.append(resp.status)
        return out

    assert run(serve_and({"token": "s3cret"}, steps, queue)) == [401, 401, 202]
    assert queue.qsize() == 1
