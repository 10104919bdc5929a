"""Fixed output format shared by every benchmark (DESIGN.md, "Tests and benchmarks").

Each result is one JSON object per line on stdout, also appended to bench/results/<bench>.jsonl:
{"bench": ..., "case": ..., "metric": ..., "value": ..., "unit": ..., "target": ...,
 "better": "lower"|"higher", "ok": bool}
"""

from __future__ import annotations

import json
import os
import resource
import time
from contextlib import contextmanager
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


class Reporter:
    def __init__(self, bench: str) -> None:
        self.bench = bench
        RESULTS.mkdir(exist_ok=True)
        self.path = RESULTS / f"{bench}.jsonl"
        self.path.write_text("")  # one run per file: the latest figures
        self.failed = 0

    def emit(
        self, case: str, metric: str, value: float, unit: str, target: float | None = None, better: str = "lower"
    ) -> dict:
        ok = True
        if target is not None:
            ok = value <= target if better == "lower" else value >= target
        row = {
            "bench": self.bench,
            "case": case,
            "metric": metric,
            "value": round(value, 4) if isinstance(value, float) else value,
            "unit": unit,
            "target": target,
            "better": better,
            "ok": ok,
        }
        line = json.dumps(row)
        print(line, flush=True)
        with self.path.open("a") as fh:
            fh.write(line + "\n")
        self.failed += not ok
        return row


@contextmanager
def timed():
    """Yields a dict whose 'seconds' is filled when the block ends."""
    out = {}
    start = time.perf_counter()
    try:
        yield out
    finally:
        out["seconds"] = time.perf_counter() - start


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def cpu_count() -> int:
    return os.cpu_count() or 1
