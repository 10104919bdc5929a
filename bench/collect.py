"""Benchmark: compute_model_info on a generated cloud of 1,000 hypervisors / 20,000 servers.

Runs the module the way users do (ansible-playbook, a module process) against a twin of
`vigil_twin.generator.generate(1000, 20000, 5000)` and reports, in the fixed format of
bench/common.py: HTTP requests counted by the twin (target 30), wall time of the task
(target 15 s), peak memory of the child processes (target 1 GiB), and the row counts
(checked equal to the topology). Case "demo" runs the same on the demo topology.

    .venv/bin/python bench/collect.py [--nodes N --servers S --volumes V]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "twin" / "src"), str(ROOT / "bench")]

from common import Reporter, peak_rss_mb  # noqa: E402

from vigil_twin.generator import generate  # noqa: E402

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: collect
      vigil.openstack.compute_model_info:
        cloud: vigil-twin
        placement_detail: "{{ detail }}"
      register: m
    - name: summary
      ansible.builtin.copy:
        dest: "{{ out }}"
        content: "{{ {'nodes': m.model.nodes.data | length, 'instances': m.model.instances.data | length,
                      'server_groups': m.model.server_groups.data | length, 'meta': m.model.meta} | to_json }}"
        mode: "0600"
"""


@contextlib.contextmanager
def served_twin(topology, tmp: Path):
    """The twin in its own process (`vigil-twin serve`), as a cloud is: the module's and the
    twin's CPU time do not share one interpreter lock."""
    topo = tmp / "topology.json"
    topo.write_text(json.dumps(topology))
    info = tmp / "info.json"
    clouds = tmp / "clouds.yaml"
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "vigil-twin"), "serve", "--topology", str(topo), "--port", "0",
         "--clouds-yaml", str(clouds), "--info-file", str(info)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        while not (info.exists() and clouds.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    "bench collect: the twin did not start: %s"
                    % (proc.stderr.read() if proc.poll() is not None else "timeout")
                )
            time.sleep(0.2)
        time.sleep(0.2)  # info file written: give the writer time to close it
        yield json.loads(info.read_text())["url"], clouds
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _admin(url, method="GET"):
    req = urllib.request.Request(url + "/admin/requests", method=method)
    with urllib.request.urlopen(req) as resp:  # noqa: S310 - loopback twin
        return json.loads(resp.read() or b"{}")


def time_inventory(tmp: Path, env: dict) -> dict:
    """``ansible-inventory --list`` with the hypervisors plugin, cold then from its cache."""
    inv = tmp / "hypervisors.yml"
    inv.write_text(
        "plugin: vigil.openstack.hypervisors\ncloud: vigil-twin\ncache: true\n"
        "cache_plugin: ansible.builtin.jsonfile\ncache_connection: %s\ncache_timeout: 3600\n" % (tmp / "inv-cache")
    )
    env = dict(env, ANSIBLE_INVENTORY_ENABLED="vigil.openstack.hypervisors")
    out = {}
    for run in ("cold", "cached"):
        start = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(inv), "--list"],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        out[run] = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit("bench collect: ansible-inventory failed: %s" % proc.stderr[-2000:])
        out["hosts"] = len(json.loads(proc.stdout)["_meta"]["hostvars"])
    return out


def run_case(rep: Reporter, case: str, topology, detail: str, targets: dict) -> None:
    with tempfile.TemporaryDirectory() as tmp, served_twin(topology, Path(tmp)) as (url, clouds):
        book = Path(tmp) / "collect.yml"
        book.write_text(PLAYBOOK)
        out = Path(tmp) / "summary.json"
        env = dict(os.environ, OS_CLIENT_CONFIG_FILE=str(clouds), ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
                   ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")  # fmt: skip
        _admin(url, "DELETE")
        start = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book),
             "-e", json.dumps({"detail": detail, "out": str(out)})],
            env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        wall = time.perf_counter() - start
        # ansible-playbook and its module process, read before the twin process is reaped
        rss = peak_rss_mb(children=True)
        counts = _admin(url)
        if proc.returncode != 0:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit("bench collect: ansible-playbook failed")
        summary = json.loads(out.read_text())
        inventory = time_inventory(Path(tmp), env)
    requests = counts["total"] - counts["by_service"].get("admin", 0)
    rep.emit(case, "http_requests", requests, "count", targets.get("requests"))
    rep.emit(case, "playbook_wall_time", wall, "s", targets.get("seconds"))
    rep.emit(case, "peak_rss_module", rss, "MiB", targets.get("rss_mb"))
    expected = {
        "nodes": len(topology["nodes"]),
        "instances": len(topology["servers"]),
        "server_groups": len(topology.get("server_groups") or []),
    }
    rep.emit(case, "inventory_list_cold", inventory["cold"], "s", targets.get("inventory_cold"))
    rep.emit(case, "inventory_list_cached", inventory["cached"], "s", targets.get("inventory_cached"))
    rep.emit(case, "inventory_host_mismatch", abs(inventory["hosts"] - len(topology["nodes"])), "hosts", 0)
    mismatches = [t for t, n in expected.items() if summary[t] != n]
    rep.emit(case, "row_count_mismatches", len(mismatches), "tables", 0)
    if mismatches:
        print("rows: got %s, topology has %s" % (dict((t, summary[t]) for t in expected), expected), file=sys.stderr)
    by_service = dict((k, v) for k, v in counts["by_service"].items() if k != "admin")
    print(
        json.dumps(
            {
                "case": case,
                "requests_by_service": by_service,
                "requests_by_path": {
                    "%s %s %s" % (r["service"], r["method"], r["path"]): r["count"]
                    for r in counts["requests"]
                    if r["service"] != "admin"
                },
                "placement_detail": summary["meta"]["placement_detail"],
                # hosts summary mode left out (no memory free), modelled full
                "placement_estimated": len(summary["meta"].get("placement_estimated") or []),
            }
        ),
        file=sys.stderr,
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=1000)
    parser.add_argument("--servers", type=int, default=20000)
    parser.add_argument("--volumes", type=int, default=5000)
    parser.add_argument("--detail", default="auto", choices=["auto", "full", "summary"])
    args = parser.parse_args(argv)
    rep = Reporter("collect")
    topology = generate(args.nodes, args.servers, args.volumes, seed=1)
    case = "%dx%d" % (args.nodes, args.servers)
    run_case(
        rep,
        case,
        topology,
        args.detail,
        {"requests": 30, "seconds": 15.0, "rss_mb": 1024.0, "inventory_cold": 10.0, "inventory_cached": 2.0},
    )
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
