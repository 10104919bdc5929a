"""Test helpers: start a twin in-process, write a clouds.yaml for it (TEAM.md contract).

with running_twin() as twin:              # twin/topologies/demo.yaml, speed 100
    write_clouds_yaml(twin, tmp / "clouds.yaml")
    conn = openstack.connect(cloud="vigil-twin")
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from vigil_twin.server import Twin
from vigil_twin.topology import load_topology, validate_topology
from vigil_twin.topology import write_clouds_yaml as _write_clouds_yaml

__all__ = ["DEMO_TOPOLOGY", "running_twin", "write_clouds_yaml"]

# twin/src/vigil_twin/testing.py -> twin/topologies/demo.yaml
DEMO_TOPOLOGY = Path(__file__).resolve().parents[2] / "topologies" / "demo.yaml"


def _topology(topology: Any) -> dict[str, Any]:
    if topology is None:
        return load_topology(DEMO_TOPOLOGY)
    if isinstance(topology, (str, os.PathLike)):
        return load_topology(topology)
    return validate_topology(topology)


@contextlib.contextmanager
def running_twin(topology: Any = None, speed: float = 100.0) -> Iterator[Twin]:
    """A started twin on 127.0.0.1 (free port); stopped on exit.

    ``topology``: None (the demo topology), a path, or a topology dict.
    """
    twin = Twin(_topology(topology), speed=speed)
    twin.start()
    # MAAS credentials: the maas service sets them on the cloud when it is loaded
    twin.maas_url = getattr(twin.cloud, "maas_url", None) or f"{twin.url}/MAAS/"
    twin.maas_api_key = getattr(twin.cloud, "maas_api_key", None)
    try:
        yield twin
    finally:
        twin.stop()


def write_clouds_yaml(twin: Twin, path: str | os.PathLike[str]) -> str:
    """Write clouds.yaml: ``vigil-twin`` (admin, project scope), ``vigil-twin-member`` (member role),
    ``vigil-twin-system`` (admin, system scope). Returns the path."""
    return _write_clouds_yaml(twin, path)
