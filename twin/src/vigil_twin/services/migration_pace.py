"""Nova's pace for live migrations: how many run at once on a compute host, and how long each takes.

A nova-compute runs at most ``[DEFAULT] max_concurrent_live_migrations`` live migrations at
once (Nova's default: 1); the source compute takes a semaphore before it starts one, so any
more wait with their migration record ``queued`` (the server is already ``MIGRATING``) until
an earlier one ends (completed, failed or aborted). The twin reads the limit from the
topology's ``timing.max_concurrent_live_migrations`` (every host alike).

Duration of one live migration, counted from the moment it leaves the queue and scaled by the
twin's ``--speed``::

    live_migration_base_seconds + live_migration_seconds_per_gb x (server RAM in GiB)

(the memory copy dominates a live migration; a guest that dirties pages faster than the link
copies them takes longer still, which the twin does not model). Phases: ``queued`` ->
``preparing`` at 5 % of the duration -> ``running`` at 15 % -> ``completed`` (or ``error``) at
100 %.

Kept out of compute.py so the two calls it needs there (``admit`` when Nova accepts a live
migration, ``release`` when one ends) are the whole hook.
"""

from __future__ import annotations

import collections
import time
from typing import Any

LIMIT_KEY = "max_concurrent_live_migrations"
NOVA_DEFAULT = 1


def limit(store: Any) -> int:
    return int(store.timing.get(LIMIT_KEY, NOVA_DEFAULT))


def _pace(store: Any) -> dict[str, Any]:
    pace = store.__dict__.get("_live_pace")
    if pace is None:
        # source host -> running migration ids; source host -> queued ids, first come first served
        pace = store.__dict__["_live_pace"] = {"running": collections.defaultdict(set), "queued": {}}
    return pace


def admit(store: Any, mig: dict[str, Any]) -> None:
    """A live migration Nova accepted: start it now, or queue it behind its source's running ones."""
    pace = _pace(store)
    host = mig["source_compute"]
    store._update_mig(mig, "queued")  # the conductor hands it to the source compute: the row is updated
    if len(pace["running"][host]) < limit(store):
        _start(store, mig)
    else:
        pace["queued"].setdefault(host, collections.deque()).append(mig["id"])


def release(store: Any, mid: int) -> None:
    """Migration `mid` ended (or was aborted, even while queued): start what waits on its source."""
    mig = store.migrations.get(mid)
    if mig is None:
        return
    pace = _pace(store)
    host = mig["source_compute"]
    pace["running"][host].discard(mid)
    queue = pace["queued"].get(host)
    if not queue:
        return
    if mid in queue:
        queue.remove(mid)
    while queue and len(pace["running"][host]) < limit(store):
        nxt = store.migrations.get(queue.popleft())
        if nxt is not None and nxt["status"] == "queued":
            _start(store, nxt)


def _start(store: Any, mig: dict[str, Any]) -> None:
    pace = _pace(store)
    pace["running"][mig["source_compute"]].add(mig["id"])
    mig["started"] = time.monotonic()  # progress (memory_processed_bytes) counts from here
    d = mig["duration"]
    mid = mig["id"]
    store._later(0.05 * d, lambda: store._live_step(mid, "queued", "preparing"))
    store._later(0.15 * d, lambda: store._live_step(mid, "preparing", "running"))
    if not mig["hang"]:
        store._later(d, lambda: store._live_finish(mid))


def queued(store: Any, host: str) -> int:
    """Live migrations waiting for a slot on source `host` (for tests and the fidelity page)."""
    return len(_pace(store)["queued"].get(host) or ())
