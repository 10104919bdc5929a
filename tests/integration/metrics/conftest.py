"""Metrics tests against a real Prometheus: the fixtures of tests/prometheus/plugin.py, re-exported here."""

import importlib.util
import sys
from pathlib import Path

PROM = Path(__file__).resolve().parents[2] / "prometheus"
sys.path.insert(0, str(PROM))  # promseries (hand-made histories)


def _load(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_plugin = _load("vigil_prometheus_plugin", PROM / "plugin.py")
prometheus_binaries = _plugin.prometheus_binaries
prometheus_factory = _plugin.prometheus_factory
