"""Utilisation series for a real Prometheus: ``/metrics`` exposition and an OpenMetrics history file.

The series follow the servers' utilisation profiles (``cpu_util_pct``, ``ram_util_pct`` in the
topology) with a daily swing, and are read from the compute store at each scrape, so a
migrated server's load moves to its new host. Counters are integrals of the load: a
server's CPU time grows by ``util * vcpus`` seconds per second while it is ACTIVE, and a
host's busy CPU time by the sum over the servers it holds (capped at 98 % of its CPUs),
plus a small host overhead. Names, labels and units: twin/README.md, "Metrics".

Config (topology ``metrics:``): ``diurnal_amplitude`` (0..1, default 0.2), ``host_overhead_pct``
(default 2), ``max_cpus_per_host`` (per-CPU series exported per host, default 4),
``uptime_days`` (age of the counters at load, default 30).
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.services._support import cloud_of, compute_nodes, compute_servers, field, non_negative

DAY = 86400.0
OMEGA = 2 * math.pi / DAY
BUSY_SPLIT = (("user", 0.80), ("system", 0.15), ("iowait", 0.05))
MAX_BUSY = 0.98
MIB = 1024 * 1024

FAMILIES = {
    # name: (type, help)
    "node_cpu_seconds_total": ("counter", "Seconds the CPUs spent in each mode."),
    "node_memory_MemTotal_bytes": ("gauge", "Memory information field MemTotal_bytes."),
    "node_memory_MemAvailable_bytes": ("gauge", "Memory information field MemAvailable_bytes."),
    "ceilometer_cpu": ("gauge", "CPU time used by the instance, cumulative, in nanoseconds (Ceilometer meter cpu)."),
    "ceilometer_memory_usage": ("gauge", "Memory used by the instance, in MB (Ceilometer meter memory.usage)."),
    "ipmi_temperature_celsius": ("gauge", "Temperature reading of the sensor in degrees Celsius."),
    "ipmi_dcmi_power_consumption_watts": ("gauge", "Current power consumption in Watts (DCMI)."),
    "ipmi_airflow_cfm": ("gauge", "System airflow in cubic feet per minute."),
}


def _phase(key: str) -> float:
    """A stable per-object phase so that servers do not all peak at the same hour."""
    return (zlib.crc32(key.encode()) % 3600) / 3600.0 * 2 * math.pi


class MetricsStore:
    def __init__(self, cloud: Any, conf: dict[str, Any]) -> None:
        self.cloud = cloud
        self.amplitude = field(conf, "metrics", "diurnal_amplitude", float, 0.2, non_negative)
        if self.amplitude > 1:
            raise TopologyError("metrics.diurnal_amplitude: must be <= 1")
        self.overhead = field(conf, "metrics", "host_overhead_pct", float, 2.0, non_negative) / 100.0
        self.max_cpus = field(conf, "metrics", "max_cpus_per_host", int, 4, lambda n: "must be >= 1" if n < 1 else None)
        self.uptime = field(conf, "metrics", "uptime_days", float, 30.0, non_negative) * DAY
        self.t_load = time.time()
        self.t0 = self.t_load - self.uptime  # when every counter was 0
        self.last = self.t_load
        self.host_busy: dict[str, float] = {}  # hostname -> busy CPU seconds (all CPUs)
        self.host_idle: dict[str, float] = {}
        self.server_cpu: dict[str, float] = {}  # server id -> CPU seconds
        self._off: set[str] = set()
        self.refresh_power()
        hosts, servers = compute_nodes(cloud), compute_servers(cloud)
        placed = _by_host(servers)
        for host, node in hosts.items():
            busy = self._host_busy_integral(host, node, placed.get(host, {}), self.t0, self.t_load)
            self.host_busy[host] = busy
            self.host_idle[host] = _ncpu(node) * (self.t_load - self.t0) - busy
        for sid, s in servers.items():
            self.server_cpu[sid] = self._server_integral(sid, s, self.t0, self.t_load)

    # load profiles -------------------------------------------------------------------
    def _swing(self, base: float) -> float:
        return self.amplitude * min(base, 100.0 - base)

    def cpu_pct(self, sid: str, s: dict[str, Any], t: float) -> float:
        if s.get("status") != "ACTIVE":
            return 0.0
        base = float(s.get("cpu_util_pct") or 0.0)
        return base + self._swing(base) * math.sin(OMEGA * t + _phase(sid))

    def _server_integral(self, sid: str, s: dict[str, Any], a: float, b: float) -> float:
        """CPU seconds the server used between a and b (exact integral of its profile)."""
        if s.get("status") != "ACTIVE" or b <= a:
            return 0.0
        base = float(s.get("cpu_util_pct") or 0.0)
        swing, ph = self._swing(base), _phase(sid)
        pct_seconds = base * (b - a) - swing / OMEGA * (math.cos(OMEGA * b + ph) - math.cos(OMEGA * a + ph))
        return max(pct_seconds, 0.0) / 100.0 * _vcpus(s)

    def _host_busy_integral(
        self, host: str, node: dict[str, Any], servers: dict[str, Any], a: float, b: float
    ) -> float:
        """`servers`: those on `host` (see _by_host)."""
        ncpu = _ncpu(node)
        load = sum(self._server_integral(sid, s, a, b) for sid, s in servers.items())
        return min(load + self.overhead * ncpu * (b - a), MAX_BUSY * ncpu * (b - a))

    # live counters ------------------------------------------------------------------------
    def advance(self, now: float) -> None:
        """Integrate from the last scrape to `now` with the placement as it is now."""
        dt = now - self.last
        if dt <= 0:
            return
        hosts, servers = compute_nodes(self.cloud), compute_servers(self.cloud)
        by_host: dict[str, float] = {}
        for sid, s in servers.items():
            used = self._server_integral(sid, s, self.last, now)
            self.server_cpu[sid] = self.server_cpu.get(sid, 0.0) + used
            by_host[s.get("host")] = by_host.get(s.get("host"), 0.0) + used
        for host, node in hosts.items():
            ncpu = _ncpu(node)
            busy = min(by_host.get(host, 0.0) + self.overhead * ncpu * dt, MAX_BUSY * ncpu * dt)
            if not self.powered(host):
                busy = 0.0
            self.host_busy[host] = self.host_busy.get(host, 0.0) + busy
            self.host_idle[host] = self.host_idle.get(host, 0.0) + (ncpu * dt - busy if self.powered(host) else 0.0)
        self.last = now

    def powered(self, host: str) -> bool:
        """False when the host's Ironic node or MAAS machine is powered off (as of the last refresh)."""
        return host not in self._off

    def refresh_power(self) -> None:
        """Which hosts are powered off, from the baremetal and MAAS stores (once per scrape)."""
        off: set[str] = set()
        bm = self.cloud.stores.get("baremetal")
        for node in getattr(bm, "nodes", {}).values():
            host = node["extra"].get("compute_hostname")
            if host and node["power_state"] == "power off":
                off.add(host)
        maas = self.cloud.stores.get("maas")
        for m in getattr(maas, "machines", {}).values():
            if m["power_state"] == "off":
                off.add(m["owner_data"].get("compute_hostname", m["hostname"]))
        self._off = off

    # samples ------------------------------------------------------------------------------
    def host_gauges(self, host: str, node: dict[str, Any], servers: dict[str, Any], t: float, busy_frac: float):
        """(mem_total, mem_available, inlet, outlet, power, airflow) at t for a host."""
        total = int(node.get("memory_mb") or 0) * MIB
        reserved = int((node.get("reserved") or {}).get("memory_mb") or 512)
        used_mb = reserved + sum(
            _ram(s) * float(s.get("ram_util_pct") or 0.0) / 100.0
            for s in servers.values()
            if s.get("status") == "ACTIVE"
        )
        available = max(total - int(used_mb * MIB), 0)
        inlet = 21.0 + (zlib.crc32(host.encode()) % 40) / 10.0  # rack position
        on = self.powered(host)
        outlet = inlet + (5.0 + 15.0 * busy_frac if on else 0.5)
        power = 120.0 + 330.0 * busy_frac if on else 8.0
        airflow = 40.0 + 60.0 * busy_frac if on else 0.0
        return total, available, inlet, outlet, power, airflow

    def families(self, now: float) -> dict[str, list[tuple[dict[str, str], float]]]:
        """Every family's samples at `now` (live counters)."""
        with self.cloud.lock:
            self.advance(now)
            self.refresh_power()
            hosts, servers = compute_nodes(self.cloud), compute_servers(self.cloud)
            placed = _by_host(servers)
            out: dict[str, list[tuple[dict[str, str], float]]] = {name: [] for name in FAMILIES}
            for host, node in sorted(hosts.items()):
                ncpu, mine = _ncpu(node), placed.get(host, {})
                frac = self._busy_fraction(host, node, mine, now)
                busy, idle = self.host_busy.get(host, 0.0), self.host_idle.get(host, 0.0)
                self._host_samples(out, host, node, mine, now, busy, idle, ncpu, frac)
            for sid, s in sorted(servers.items()):
                self._server_samples(out, sid, s, self.server_cpu.get(sid, 0.0))
            return out

    def _busy_fraction(self, host: str, node: dict[str, Any], servers: dict[str, Any], t: float) -> float:
        if not self.powered(host):
            return 0.0
        ncpu = _ncpu(node)
        load = sum(self.cpu_pct(sid, s, t) / 100.0 * _vcpus(s) for sid, s in servers.items())
        return min(load / ncpu + self.overhead, MAX_BUSY)

    def _host_samples(self, out, host, node, servers, t, busy, idle, ncpu, frac) -> None:
        label = {"fqdn": host}
        total, available, inlet, outlet, power, airflow = self.host_gauges(host, node, servers, t, frac)
        if self.powered(host):  # node_exporter does not answer from a machine that is off
            shown = min(ncpu, self.max_cpus)
            for cpu in range(shown):
                for mode, value in (("idle", idle),) + tuple((m, busy * share) for m, share in BUSY_SPLIT):
                    out["node_cpu_seconds_total"].append(({"cpu": str(cpu), "fqdn": host, "mode": mode}, value / ncpu))
            out["node_memory_MemTotal_bytes"].append((label, float(total)))
            out["node_memory_MemAvailable_bytes"].append((label, float(available)))
        out["ipmi_temperature_celsius"].append(({"fqdn": host, "id": "1", "name": "Inlet Temp"}, round(inlet, 2)))
        out["ipmi_temperature_celsius"].append(({"fqdn": host, "id": "2", "name": "Outlet Temp"}, round(outlet, 2)))
        out["ipmi_dcmi_power_consumption_watts"].append((label, round(power, 1)))
        out["ipmi_airflow_cfm"].append((label, round(airflow, 1)))

    def _server_samples(self, out, sid: str, s: dict[str, Any], cpu_seconds: float) -> None:
        if s.get("status") != "ACTIVE":
            return  # libvirt reports nothing for a stopped domain
        common = {"resource": sid, "resource_name": str(s.get("name") or ""), "project": str(s.get("project_id") or "")}
        out["ceilometer_cpu"].append(
            ({**common, "counter": "cpu", "type": "cumulative", "unit": "ns"}, round(cpu_seconds * 1e9))
        )
        mem = _ram(s) * float(s.get("ram_util_pct") or 0.0) / 100.0
        out["ceilometer_memory_usage"].append(
            ({**common, "counter": "memory.usage", "type": "gauge", "unit": "MB"}, round(mem, 2))
        )

    # history ------------------------------------------------------------------------------
    def history(
        self, start: float, end: float, step: float
    ) -> Iterator[tuple[str, dict[str, str], list[tuple[float, float]]]]:
        """(family, labels, [(t, value)...]) for every series over [start, end], placement as it is now.

        Counters are the exact integrals from the counters' origin, so the history joins the
        live values at the time the store was loaded.
        """
        hosts, servers = compute_nodes(self.cloud), compute_servers(self.cloud)
        placed = _by_host(servers)
        self.refresh_power()
        times = []
        t = start
        while t <= end + 1e-6:
            times.append(t)
            t += step
        per_family: dict[str, list[tuple[dict[str, str], list[tuple[float, float]]]]] = {n: [] for n in FAMILIES}
        for host, node in sorted(hosts.items()):
            ncpu, mine = _ncpu(node), placed.get(host, {})
            rows: dict[tuple, tuple[str, dict[str, str], list[tuple[float, float]]]] = {}
            for t in times:
                busy = self._host_busy_integral(host, node, mine, self.t0, t)
                idle = ncpu * (t - self.t0) - busy
                frac = self._busy_fraction(host, node, mine, t)
                out: dict[str, list[tuple[dict[str, str], float]]] = {n: [] for n in FAMILIES}
                self._host_samples(out, host, node, mine, t, busy, idle, ncpu, frac)
                for fam, samples in out.items():
                    for labels, value in samples:
                        key = (fam, tuple(sorted(labels.items())))
                        rows.setdefault(key, (fam, labels, []))[2].append((t, value))
            for fam, labels, points in rows.values():
                per_family[fam].append((labels, points))
        for sid, s in sorted(servers.items()):
            rows = {}
            for t in times:
                out = {n: [] for n in FAMILIES}
                self._server_samples(out, sid, s, self._server_integral(sid, s, self.t0, t))
                for fam, samples in out.items():
                    for labels, value in samples:
                        key = (fam, tuple(sorted(labels.items())))
                        rows.setdefault(key, (fam, labels, []))[2].append((t, value))
            for fam, labels, points in rows.values():
                per_family[fam].append((labels, points))
        for fam in FAMILIES:
            for labels, points in per_family[fam]:
                yield fam, labels, points


def _by_host(servers: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    placed: dict[str, dict[str, dict[str, Any]]] = {}
    for sid, s in servers.items():
        placed.setdefault(s.get("host"), {})[sid] = s
    return placed


def _ncpu(node: dict[str, Any]) -> int:
    return max(int(node.get("vcpus") or 0) + int(node.get("pcpus") or 0), 1)


def _vcpus(s: dict[str, Any]) -> int:
    return int((s.get("flavor") or {}).get("vcpus") or 1)


def _ram(s: dict[str, Any]) -> float:
    return float((s.get("flavor") or {}).get("ram") or 0)


# -- formats -----------------------------------------------------------------------------------
def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items())) + "}"


def _num(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def exposition(families: dict[str, list[tuple[dict[str, str], float]]], at: float | None = None) -> str:
    """Prometheus text exposition format 0.0.4; `at` (seconds) stamps every sample.

    The counters are integrals up to the moment they were computed, which on a busy machine can be
    a few hundred ms after Prometheus started the scrape (its default sample time): rates over a
    short window then drift from the profile. Stamping the samples with that moment keeps them exact.
    """
    stamp = "" if at is None else f" {int(at * 1000)}"
    lines = []
    for name, samples in families.items():
        kind, text = FAMILIES[name]
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            lines.append(f"{name}{_labels(labels)} {_num(value)}{stamp}")
    return "\n".join(lines) + "\n"


def openmetrics_lines(
    series: Iterable[tuple[str, dict[str, str], list[tuple[float, float]]]], extra_labels: dict[str, str] | None = None
) -> Iterator[str]:
    """OpenMetrics text with timestamps in seconds, families contiguous, ending with ``# EOF``.

    `extra_labels` are added to every series (e.g. the ``job``/``instance`` a scrape would add).
    """
    current = None
    for name, labels, points in series:
        labels = {**labels, **(extra_labels or {})}
        if name != current:
            kind, text = FAMILIES[name]
            family = name[: -len("_total")] if kind == "counter" else name
            yield f"# HELP {family} {text}\n"
            yield f"# TYPE {family} {kind}\n"
            current = name
        label_text = _labels(labels)
        for t, value in points:
            yield f"{name}{label_text} {_num(value)} {int(t)}\n"
    yield "# EOF\n"


def write_history(
    cloud: Any,
    path: str,
    hours: float = 24.0,
    step: float = 60.0,
    end: float | None = None,
    extra_labels: dict[str, str] | None = None,
) -> int:
    """Write the last `hours` of every series at `step` seconds to `path`; returns the number of samples."""
    if step <= 0 or hours <= 0:
        raise ValueError("hours and step must be > 0")
    store: MetricsStore = cloud.stores["metrics"]
    end = float(int(end if end is not None else store.t_load))
    start = end - hours * 3600.0
    count = 0
    with open(path, "w", encoding="utf-8") as fh:
        for line in openmetrics_lines(store.history(start, end, step), extra_labels):
            if not line.startswith("#"):
                count += 1
            fh.write(line)
    return count


# -- service ---------------------------------------------------------------------------------
router = Router()


@router.route("GET", "/")
def scrape(request: Request) -> Response:
    store: MetricsStore = cloud_of(request).stores["metrics"]
    now = time.time()
    body = exposition(store.families(now), at=now)
    return Response(200, body, {"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


def _load(cloud: Any, topology: dict[str, Any]) -> MetricsStore:
    conf = topology.get("metrics") or {}
    if not isinstance(conf, dict):
        raise TopologyError("metrics: must be a mapping")
    return MetricsStore(cloud, conf)


def _snapshot(store: MetricsStore) -> dict[str, Any]:
    return {}  # the series derive from the other stores; counters only ever grow


def _restore(cloud: Any, old: MetricsStore, data: dict[str, Any]) -> MetricsStore:
    return old


SERVICE = Service(
    name="metrics",
    prefix="/metrics",
    router=router,
    load=_load,
    service_type=None,
    requires_token=False,
    snapshot=_snapshot,
    restore=_restore,
)
