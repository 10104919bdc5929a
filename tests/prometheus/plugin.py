"""pytest fixtures for a real Prometheus (see harness.py).

Use them in a test directory by re-exporting them from its conftest.py, as
tests/integration/metrics/conftest.py does (load this file by path, then
``prometheus_factory = plugin.prometheus_factory`` etc.); pytest finds fixtures by name in a
conftest's namespace. For the whole suite, tests/conftest.py can do the same.

Fixtures:
- ``prometheus_binaries`` (session): (prometheus, promtool) paths; installs Debian's package once
  when missing, skips with the reason when it cannot.
- ``prometheus_factory`` (function): ``start(history=..., scrape=..., scrape_interval=...)`` returns
  a started `PrometheusServer`; every server started is stopped (by pid) at teardown.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

_NAME = "vigil_prometheus_harness"


def load_harness():
    """The harness module, imported once by path (it lives outside any package)."""
    if _NAME not in sys.modules:
        spec = importlib.util.spec_from_file_location(_NAME, Path(__file__).with_name("harness.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[_NAME] = module
        spec.loader.exec_module(module)
    return sys.modules[_NAME]


harness = load_harness()


@pytest.fixture(scope="session")
def prometheus_binaries():
    try:
        return harness.ensure_binaries(install=True)
    except harness.PrometheusUnavailable as exc:
        pytest.skip(f"real Prometheus unavailable: {exc}")


@pytest.fixture
def prometheus_factory(prometheus_binaries):
    started = []

    def start(**kwargs):
        server = harness.PrometheusServer(**kwargs)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
