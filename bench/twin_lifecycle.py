"""Twin lifecycle in-process, as every twin test pays it: start (load the demo topology, bind,
serve) and stop (until `Twin.stop` returns), median of N rounds. Targets from issue 16: a stop
in milliseconds (socketserver's poll cost 0.1-0.2 s per stop), a start well under a second.

    python bench/twin_lifecycle.py [rounds]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "twin" / "src"))

from common import Reporter  # noqa: E402

from vigil_twin.testing import running_twin  # noqa: E402


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 10
    report = Reporter("twin_lifecycle")
    starts, stops = [], []
    with running_twin():  # warm imports
        pass
    for _ in range(rounds):
        began = time.perf_counter()
        with running_twin():
            started = time.perf_counter()
        stopped = time.perf_counter()
        starts.append(started - began)
        stops.append(stopped - started)
    report.emit("demo", "start_seconds_median", statistics.median(starts), "s", target=0.5)
    report.emit("demo", "stop_seconds_median", statistics.median(stops), "s", target=0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
