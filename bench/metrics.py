"""metrics_info's collector against a real Prometheus: 1 000 hosts / 20 000 instances.

Issue target: all metrics for the scope in at most 12 HTTP requests and under 10 s. The
Prometheus (tests/prometheus/harness.py) is backfilled with the twin's OpenMetrics history of
a generated cluster (vigil_twin.generator + services.metrics.write_history: node_exporter,
Ceilometer and ipmi_exporter series), or with --source synthetic a hand-made one
(tests/prometheus/promseries.py). The timed part is the collection only (queries + mapping).

Usage: python bench/metrics.py [--hosts 1000] [--instances 20000] [--source twin|synthetic]
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [
    str(ROOT / ".collections"),
    str(ROOT / "tests" / "prometheus"),
    str(ROOT / "twin" / "src"),
    str(Path(__file__).parent),
]

from common import Reporter, timed  # noqa: E402
from promseries import History  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.collect import prometheus as prom  # noqa: E402

PERIOD = 600
STEP = 60
END = 1_700_000_000


def load_harness():
    spec = importlib.util.spec_from_file_location(
        "vigil_prometheus_harness", ROOT / "tests" / "prometheus" / "harness.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def build_history(path: Path, hosts: int, instances: int) -> tuple[list, dict, dict]:
    h = History(END - PERIOD - 300, END, step=STEP)
    names, vcpus, expected = [], {}, {}
    for i in range(hosts):
        name = "cmp%05d" % i
        names.append(name)
        pct = 5 + (i * 7) % 90
        h.host(name + ".bench.example", pct, cpus=2, mem_total_mb=262144, mem_used_mb=1024 * (1 + i % 200))
        expected[("node", name)] = pct
        if i % 2 == 0:
            h.gauge("ipmi_temperature_celsius", {"fqdn": name + ".bench.example", "name": "Outlet Temp"}, 20 + i % 30)
    for j in range(instances):
        uuid = "%08x-0000-4000-8000-%012x" % (j, j)
        cpus = 1 + j % 8
        pct = (j * 13) % 100
        vcpus[uuid] = cpus
        h.instance(uuid, pct, vcpus=cpus, ram_mb=512 * (1 + j % 16))
        expected[("instance", uuid)] = pct
    h.write(path)
    return names, vcpus, expected


def twin_history(path: Path, hosts: int, instances: int) -> tuple[list, dict, dict]:
    from vigil_twin.generator import generate
    from vigil_twin.server import Twin
    from vigil_twin.services.metrics import write_history

    twin = Twin(generate(nodes=hosts, servers=instances, seed=1))
    try:
        store = twin.cloud.stores["metrics"]
        end = int(store.t_load)
        write_history(twin.cloud, str(path), hours=(PERIOD + 300) / 3600.0, step=STEP, end=end)
        compute = twin.cloud.stores["compute"]
        vcpus = {sid: s["flavor"]["vcpus"] for sid, s in compute.servers.items()}
        # mean over the window ~ the profile at mid-window (the diurnal swing is a day long)
        expected = {
            ("instance", sid): store.cpu_pct(sid, s, end - PERIOD / 2)
            for sid, s in compute.servers.items()
            if s["status"] == "ACTIVE"
        }
        return sorted(compute.nodes), vcpus, expected, end
    finally:
        twin.httpd.server_close()  # never served: Twin.stop() would wait for a serve loop
        twin.cloud.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--instances", type=int, default=20000)
    parser.add_argument("--source", choices=["twin", "synthetic"], default="twin")
    args = parser.parse_args(argv)
    case = "%dx%d" % (args.hosts, args.instances) + ("" if args.source == "twin" else "-synthetic")
    rep = Reporter("metrics")
    harness = load_harness()
    try:
        harness.ensure_binaries(install=True)
    except harness.PrometheusUnavailable as exc:
        print("bench metrics: skipped, %s" % exc, file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="vigil-bench-metrics-") as tmp:
        path = Path(tmp) / "history.om"
        started = time.perf_counter()
        if args.source == "twin":
            hosts, vcpus, expected, end = twin_history(path, args.hosts, args.instances)
        else:
            (hosts, vcpus, expected), end = build_history(path, args.hosts, args.instances), END
        with harness.PrometheusServer(history=path) as server:
            rep.emit(case, "setup_seconds", time.perf_counter() - started, "s")
            transport = prom.HTTPTransport(server.url)
            with timed() as t:
                out = prom.collect(transport, hosts, vcpus, {"period": PERIOD, "time": end})
            rep.emit(case, "http_requests", out["requests"], "count", target=12, better="lower")
            rep.emit(case, "seconds", t["seconds"], "s", target=10, better="lower")
            cpu = {(r[0], r[1]): r[5] for r in out["rows"] if r[2] == "cpu_util_pct"}
            wrong = sum(1 for k, v in expected.items() if abs(cpu.get(k, -1000) - v) > 1.0)
            rep.emit(case, "cpu_values_wrong", wrong, "count", target=0, better="lower")
            rep.emit(case, "rows", len(out["rows"]), "count")
            slowest = max(out["queries"], key=lambda q: q["seconds"])
            rep.emit(case, "slowest_query_seconds", slowest["seconds"], "s")
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main())
