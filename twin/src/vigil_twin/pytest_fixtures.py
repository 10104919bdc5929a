"""pytest fixtures over `vigil_twin.testing` (imported by tests/conftest.py and twin/tests/conftest.py).

- ``twin``: a started twin of the demo topology at speed 100, one per test.
- ``twin_factory(topology=None, speed=100.0)``: start more twins (any topology); all stopped at teardown.
- ``clouds_yaml``: path of a clouds.yaml for ``twin`` (clouds ``vigil-twin``, ``vigil-twin-member``,
  ``vigil-twin-system``); OS_CLIENT_CONFIG_FILE points at it for the test.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from vigil_twin.server import Twin
from vigil_twin.testing import running_twin, write_clouds_yaml


@pytest.fixture
def twin_factory() -> Iterator[Callable[..., Twin]]:
    with contextlib.ExitStack() as stack:

        def start(topology: Any = None, speed: float = 100.0) -> Twin:
            return stack.enter_context(running_twin(topology, speed=speed))

        yield start


@pytest.fixture
def twin(twin_factory: Callable[..., Twin]) -> Twin:
    return twin_factory()


@pytest.fixture
def clouds_yaml(twin: Twin, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    path = write_clouds_yaml(twin, tmp_path / "clouds.yaml")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    return str(path)
