"""Fault injection, configurable at start (topology ``faults:``) and at run time (/admin/faults).

Generic faults apply to every request of a service before it reaches the handler:
``{"service": {"error_rate": 0.1, "error_status": 503, "latency": 0.2, "methods": ["GET"]}}``.
Named faults are one-shot or standing conditions that services consult, e.g.
``{"kind": "migration_fail", "target": "<server id>"}``; see docs in twin/README.md.
"""

from __future__ import annotations

import random
import threading
from typing import Any


class Faults:
    def __init__(self, config: dict[str, Any] | None = None, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)  # nosec B311 # fault injection needs reproducible randomness, not cryptography
        self.services: dict[str, dict[str, Any]] = {}
        self.named: list[dict[str, Any]] = []
        self.configure(config or {})

    def configure(self, config: dict[str, Any]) -> None:
        with self._lock:
            if "seed" in config:
                self._rng.seed(config["seed"])
            for service, spec in (config.get("services") or {}).items():
                if not isinstance(spec, dict):
                    raise ValueError(f"faults.services.{service} must be a mapping")
                self.services[service] = dict(spec)
            for spec in config.get("named") or []:
                if not isinstance(spec, dict) or "kind" not in spec:
                    raise ValueError("faults.named entries need a 'kind'")
                self.named.append(dict(spec))

    def clear(self) -> None:
        with self._lock:
            self.services.clear()
            self.named.clear()

    def state(self) -> dict[str, Any]:
        with self._lock:
            return {"services": dict(self.services), "named": list(self.named)}

    def for_request(self, service: str, method: str) -> tuple[float, int | None]:
        """(latency seconds, error status or None) for one request."""
        with self._lock:
            spec = self.services.get(service) or self.services.get("*")
            if not spec:
                return 0.0, None
            methods = spec.get("methods")
            if methods and method not in methods:
                return 0.0, None
            latency = float(spec.get("latency", 0.0))
            if self._rng.random() < float(spec.get("error_rate", 0.0)):
                return latency, int(spec.get("error_status", 503))
            return latency, None

    def take(self, kind: str, target: str | None = None) -> dict[str, Any] | None:
        """Return the matching named fault; one-shot ones (``times`` reaching 0) are consumed."""
        return self._take(lambda spec: spec["kind"] == kind and spec.get("target") in (None, target))

    def lost_answer(self, service: str, method: str, path: str, body: bytes) -> dict[str, Any] | None:
        """A ``lost_answer`` fault matching a request the service has just carried out.

        ``{kind: lost_answer, service: compute, method: POST, path: /action, body: os-migrateLive,
        answer: 504 | drop, times: 1}``: the call takes effect, then the client gets a gateway's
        504 or a connection closed without an answer. ``path`` and ``body`` match substrings.
        """
        return self._take(
            lambda spec: (
                spec["kind"] == "lost_answer"
                and spec.get("service") in (None, service)
                and spec.get("method", "POST") == method
                and spec.get("path", "") in path
                and spec.get("body", "").encode() in body
            )
        )

    def _take(self, matches: Any) -> dict[str, Any] | None:
        with self._lock:
            for spec in self.named:
                if not matches(spec):
                    continue
                if "times" in spec:
                    spec["times"] -= 1
                    if spec["times"] <= 0:
                        self.named.remove(spec)
                return spec
            return None

    def active(self, kind: str, target: str | None = None) -> bool:
        """Standing condition check that consumes nothing."""
        with self._lock:
            return any(s["kind"] == kind and s.get("target") in (None, target) for s in self.named)
