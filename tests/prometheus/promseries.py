"""Hand-made OpenMetrics histories for edge cases (NaN, FQDN clashes, peaks) the twin does not produce.

Shapes follow the exporters vigil reads: node_exporter (``node_cpu_seconds_total`` idle counter
per cpu, ``node_memory_*_bytes``), Ceilometer (``ceilometer_cpu`` ns counter,
``ceilometer_memory_usage`` MB) and plain gauges. A utilisation is a number (constant) or a
function of the sample's offset in seconds from the start (for max/min tests).
"""

from __future__ import annotations

import math


def _level(value, offset):
    return value(offset) if callable(value) else value


class History:
    def __init__(self, start: int, end: int, step: int = 15) -> None:
        self.start, self.end, self.step = int(start), int(end), int(step)
        self.families: dict[str, tuple[str, list]] = {}

    def _series(self, family, kind, labels, points):
        self.families.setdefault(family, (kind, []))[1].append((labels, points))

    def times(self):
        return range(self.start, self.end + 1, self.step)

    def counter(self, name, labels, rate):
        """A counter whose per-second increase is rate (number or function of the offset)."""
        points, total, prev = [], 0.0, None
        for t in self.times():
            if prev is not None:
                total += _level(rate, prev - self.start) * (t - prev)
            points.append((t, total))
            prev = t
        self._series(name, "counter", labels, points)

    def gauge(self, name, labels, value):
        self._series(name, "gauge", labels, [(t, _level(value, t - self.start)) for t in self.times()])

    def host(self, fqdn, cpu_pct, cpus=2, mem_total_mb=65536, mem_used_mb=16384, label="fqdn"):
        for cpu in range(cpus):
            idle = cpu_pct if callable(cpu_pct) else (lambda _o, v=cpu_pct: v)
            self.counter(
                "node_cpu_seconds_total",
                {label: fqdn, "cpu": str(cpu), "mode": "idle"},
                lambda o, f=idle: 1.0 - f(o) / 100.0,
            )
        self.gauge("node_memory_MemTotal_bytes", {label: fqdn}, mem_total_mb * 1048576.0)
        used = mem_used_mb if callable(mem_used_mb) else (lambda _o, v=mem_used_mb: v)
        self.gauge("node_memory_MemAvailable_bytes", {label: fqdn}, lambda o: (mem_total_mb - used(o)) * 1048576.0)

    def instance(self, uuid, cpu_pct, vcpus, ram_mb, label="resource"):
        pct = cpu_pct if callable(cpu_pct) else (lambda _o, v=cpu_pct: v)
        self.counter("ceilometer_cpu", {label: uuid}, lambda o: pct(o) / 100.0 * vcpus * 1e9)
        self.gauge("ceilometer_memory_usage", {label: uuid}, ram_mb)

    def text(self) -> str:
        out = []
        for family, (kind, series) in self.families.items():
            base = family[: -len("_total")] if kind == "counter" and family.endswith("_total") else family
            out.append(f"# TYPE {base} {kind}")
            for labels, points in series:
                lab = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
                for t, v in points:
                    val = "NaN" if isinstance(v, float) and math.isnan(v) else repr(float(v))
                    out.append(f"{family}{{{lab}}} {val} {t}")
        out.append("# EOF")
        return "\n".join(out) + "\n"

    def write(self, path) -> str:
        with open(path, "w") as fh:
            fh.write(self.text())
        return str(path)
