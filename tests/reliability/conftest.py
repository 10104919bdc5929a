"""Reliability tier: faults, crashes, bad input and secrets against the twin (marker ``reliability``).

Every test that calls the ``scenario`` fixture adds a row to the scenario table of
docs/reliability.md: at the end of the session the rows (with pass/fail) are written to
``tests/output/reliability/results.json`` (or $VIGIL_RELIABILITY_RESULTS), and
``tests/reliability/render_doc.py`` renders them into the document.
"""

import contextlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # so tests import support / invariants
sys.path.insert(0, str(HERE.parent / "integration"))  # ansible_run

RESULTS = Path(
    os.environ.get("VIGIL_RELIABILITY_RESULTS", HERE.parents[1] / "tests" / "output" / "reliability" / "results.json")
)
_ROWS = {}


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reliability: fault, crash, bad-input and security scenarios (tests/reliability)"
    )


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)


@pytest.fixture
def scenario(request):
    """Describe the scenario of this test for docs/reliability.md: scenario(area, name, expected)."""

    def describe(area, name, expected):
        _ROWS[request.node.nodeid] = {"area": area, "scenario": name, "expected": expected, "outcome": "not run"}

    return describe


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    row = _ROWS.get(item.nodeid)
    if row is None:
        # tests that cannot take the fixture (hypothesis) describe themselves in their module's SCENARIOS
        described = getattr(getattr(item, "module", None), "SCENARIOS", {}).get(
            getattr(item, "originalname", item.name)
        )
        if not described:
            return
        row = _ROWS[item.nodeid] = dict(zip(("area", "scenario", "expected"), described), outcome="not run")
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        row["outcome"] = "passed" if report.passed else ("skipped" if report.skipped else "FAILED")
        row["seconds"] = round(report.duration, 1)


def pytest_sessionfinish(session):
    if not _ROWS:
        return
    previous = {}
    if RESULTS.exists():
        with contextlib.suppress(ValueError, OSError):
            previous = {r["id"]: r for r in json.loads(RESULTS.read_text())["scenarios"]}
    for nodeid, row in _ROWS.items():
        previous[nodeid] = dict(row, id=nodeid)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "scenarios": sorted(previous.values(), key=lambda r: r["id"]),
            },
            indent=1,
        )
    )


@pytest.fixture
def stack():
    with contextlib.ExitStack() as s:
        yield s


@pytest.fixture
def rtwin(stack, tmp_path):
    """A twin of support.TOPOLOGY at speed 50 (a live migration of a small server: ~0.2 s)."""
    import support

    return support.start_twin(stack, tmp_path)
