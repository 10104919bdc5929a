"""The twin's /metrics through plain HTTP: it parses, and a live migration made with openstacksdk
moves the server's memory from one host's series to the other's. (Twin only: a real cloud's
series live in its Prometheus.)"""

from __future__ import annotations

import re

import requests

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$")  # optional timestamp (ms)
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def _scrape(url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    resp = requests.get(f"{url}/metrics", timeout=10)
    assert resp.status_code == 200
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for line in resp.text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, line
        out.setdefault(m.group(1), []).append((dict(LABEL.findall(m.group(2) or "")), float(m.group(3))))
    return out


def _available(fams, host: str) -> float:
    return next(v for lab, v in fams["node_memory_MemAvailable_bytes"] if lab["fqdn"] == host)


def test_metrics_parse_and_cover_the_cloud(conn, twin_only):
    fams = _scrape(twin_only.url)
    hosts = {h.service_details["host"] for h in conn.compute.hypervisors(details=True)}
    assert {lab["fqdn"] for lab, _ in fams["node_memory_MemTotal_bytes"]} <= hosts
    active = {s.id for s in conn.compute.servers(all_projects=True) if s.status == "ACTIVE"}
    assert {lab["resource"] for lab, _ in fams["ceilometer_cpu"]} == active
    assert {lab["resource"] for lab, _ in fams["ceilometer_memory_usage"]} == active


def test_metrics_follow_a_live_migration(conn, twin_only, waiter):
    from twin_contract_helpers import pick_move

    server, dest = pick_move(conn)
    source = server.compute_host
    before = _scrape(twin_only.url)
    used = next(v for lab, v in before["ceilometer_memory_usage"] if lab["resource"] == server.id) * 1024 * 1024
    conn.compute.live_migrate_server(server, host=dest, block_migration="auto")
    waiter(lambda: (s := conn.compute.get_server(server.id)).status == "ACTIVE" and s.compute_host == dest, "migration")
    after = _scrape(twin_only.url)
    assert abs(_available(after, source) - (_available(before, source) + used)) < 1024 * 1024
    assert abs(_available(after, dest) - (_available(before, dest) - used)) < 1024 * 1024
