"""The twin's state: one `Cloud` object shared by every service, guarded by one lock.

Each service area keeps its own store as an attribute of the cloud (``cloud.compute``,
``cloud.storage``, ``cloud.baremetal``...), created by that area's module from its
section of the topology. Time moves through `Clock` (a speed factor makes tests fast)
and delayed state changes (a migration finishing, a node powering off) go through
`Scheduler`.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any


class Clock:
    """Wall time scaled by `speed`: with speed 10, a 30 s migration takes 3 s."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed

    def delay(self, seconds: float) -> float:
        return seconds / self.speed if self.speed > 0 else seconds


class Scheduler:
    """Runs callbacks after a delay on one background thread, under the cloud lock."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="twin-scheduler", daemon=True)
        self._thread.start()

    def call_later(self, delay: float, fn: Callable[[], None]) -> None:
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + max(delay, 0.0), next(self._seq), fn))
            self._cv.notify()

    def pending(self) -> int:
        with self._cv:
            return len(self._heap)

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cv.wait(timeout)
                if self._stopped:
                    return
                _, _, fn = heapq.heappop(self._heap)
            with self._lock:
                try:
                    fn()
                except Exception:  # a failing transition must not kill the clock  # noqa: BLE001
                    import traceback

                    traceback.print_exc()


class RequestCounter:
    """Counts every request by (service, method, path template) and keeps a short log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.log: list[dict[str, Any]] = []

    def record(self, service: str, method: str, path: str, status: int, query: str = "") -> None:
        # Counts go by path alone; the log keeps the query string (op=power_off vs op=power_on).
        with self._lock:
            self.counts[(service, method, path)] += 1
            self.log.append(
                {
                    "service": service,
                    "method": method,
                    "path": path,
                    "query": query,
                    "status": status,
                    "time": time.time(),
                }
            )

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()
            self.log.clear()

    def summary(self) -> dict[str, Any]:
        with self._lock:
            by_service: Counter[str] = Counter()
            for (service, _, _), n in self.counts.items():
                by_service[service] += n
            return {
                "total": sum(self.counts.values()),
                "by_service": dict(by_service),
                "requests": [
                    {"service": s, "method": m, "path": p, "count": n} for (s, m, p), n in sorted(self.counts.items())
                ],
            }


class Cloud:
    """Everything the twin knows. Service stores hang off it as attributes."""

    def __init__(self, topology: dict[str, Any], speed: float = 1.0) -> None:
        self.lock = threading.RLock()
        self.clock = Clock(speed)
        self.scheduler = Scheduler(self.lock)
        self.requests = RequestCounter()
        self.topology = topology
        self.base_url = ""  # set by the server once it is bound
        self.faults: Any = None  # vigil_twin.faults.Faults, set by the server
        self.stores: dict[str, Any] = {}
        self.services: list[Any] = []  # the Service registry, set by the server (catalog)

    def __getattr__(self, name: str) -> Any:
        stores = self.__dict__.get("stores", {})
        if name in stores:
            return stores[name]
        raise AttributeError(name)

    def close(self) -> None:
        self.scheduler.stop()
