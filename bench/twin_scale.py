"""Twin scale: startup time, memory, and a full paginated servers/detail?all_tenants=1.

Each case generates a topology (vigil_twin.generator), serves it with ``vigil-twin serve`` in
its own process (so RSS is the server's alone) and drives it over plain HTTP, as a client
would: Keystone token, then every page of ``/compute/v2.1/servers/detail?all_tenants=1`` at
microversion 2.96 following ``servers_links``. Targets from issue 3: the demo starts in under
5 s, 20,000 servers page through in under 5 s, 2,000 hypervisors / 50,000 servers / 10,000
volumes fit in 1.5 GB.

    python bench/twin_scale.py            # all cases
    python bench/twin_scale.py demo 1000x20000
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "twin" / "src"))

from common import Reporter  # noqa: E402

from vigil_twin.generator import generate  # noqa: E402
from vigil_twin.topology import dump_topology  # noqa: E402

DEMO = HERE.parent / "twin" / "topologies" / "demo.yaml"
CASES = {  # name: (nodes, servers, volumes) or None for the demo file
    "demo": None,
    "1000x20000": (1000, 20000, 2000),
    "2000x50000": (2000, 50000, 10000),
}


def _rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident set of a process, MiB."""
    values = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, amount = line.split(":")
                values[key] = int(amount.split()[0]) / 1024.0
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _serve(topology_path: str, workdir: str) -> tuple[subprocess.Popen, dict, float]:
    info_file = os.path.join(workdir, "info.json")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vigil_twin.cli",
            "serve",
            "--topology",
            topology_path,
            "--info-file",
            info_file,
            "--speed",
            "100",
        ],
        stdout=subprocess.DEVNULL,
        env=dict(os.environ, PYTHONPATH=str(HERE.parent / "twin" / "src")),
    )
    while not os.path.exists(info_file):
        if proc.poll() is not None:
            raise RuntimeError(f"vigil-twin serve exited with {proc.returncode}")
        if time.perf_counter() - started > 600:
            proc.kill()
            raise RuntimeError("vigil-twin serve did not start in 600 s")
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    with open(info_file) as fh:
        return proc, json.load(fh), elapsed


def _token(session: requests.Session, url: str) -> str:
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": "vigil-admin"}},
            },
            "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}},
        }
    }
    resp = session.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"]


def _page_all(session: requests.Session, url: str, token: str) -> tuple[int, int, float]:
    headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.96"}
    next_url = f"{url}/compute/v2.1/servers/detail?all_tenants=1"
    count = pages = 0
    started = time.perf_counter()
    while next_url:
        resp = session.get(next_url, headers=headers, timeout=120)
        resp.raise_for_status()
        body = resp.json()
        count += len(body["servers"])
        pages += 1
        links = body.get("servers_links")
        next_url = links[0]["href"] if links else None
    return count, pages, time.perf_counter() - started


def run_case(rep: Reporter, name: str) -> None:
    spec = CASES[name]
    with tempfile.TemporaryDirectory(prefix="twin-scale-") as workdir:
        if spec is None:
            path = str(DEMO)
        else:
            path = os.path.join(workdir, "topology.json")
            dump_topology(generate(*spec, seed=1), path)
        proc, info, startup = _serve(path, workdir)
        try:
            rep.emit(name, "startup_seconds", startup, "s", 5.0 if spec is None else None)
            rss, _ = _rss_mb(proc.pid)
            rep.emit(name, "rss_after_start_mb", rss, "MiB", 1536.0 if spec else None)
            session = requests.Session()
            token = _token(session, info["url"])
            count, pages, cold = _page_all(session, info["url"], token)
            expected = spec[1] if spec else count
            rep.emit(name, "servers_listed", count, "count", expected, better="higher")
            rep.emit(
                name, "servers_detail_all_pages_cold_seconds", cold, "s", 5.0 if spec and spec[1] <= 20000 else None
            )
            _, _, warm = _page_all(session, info["url"], token)
            rep.emit(
                name, "servers_detail_all_pages_warm_seconds", warm, "s", 5.0 if spec and spec[1] <= 20000 else None
            )
            rep.emit(name, "servers_detail_pages", pages, "count")
            headers = {"X-Auth-Token": token, "OpenStack-API-Version": "compute 2.87"}
            started = time.perf_counter()
            hyps = session.get(f"{info['url']}/compute/v2.1/os-hypervisors/detail", headers=headers, timeout=120).json()
            rep.emit(name, "hypervisors_detail_seconds", time.perf_counter() - started, "s")
            rep.emit(name, "hypervisors_first_page", len(hyps["hypervisors"]), "count")
            _, peak = _rss_mb(proc.pid)
            rep.emit(name, "rss_peak_mb", peak, "MiB", 1536.0 if spec else None)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main(argv: list[str]) -> int:
    names = argv or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(f"twin_scale: unknown case(s) {unknown}; have {list(CASES)}", file=sys.stderr)
        return 2
    rep = Reporter("twin_scale")
    for name in names:
        run_case(rep, name)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
