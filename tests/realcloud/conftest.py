"""Real-service tier (tests/realcloud): fixtures from plugin.py; every test here is marked
``realcloud`` and ``integration``. Run it with ``bash tests/realcloud/run.sh``."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
for p in (HERE, HERE.parent / "integration"):  # plugin/stack, and ansible_run
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from plugin import pytest_report_header, real_clouds, real_conn, real_system_conn, realcloud  # noqa: E402,F401  # pylint: disable=unused-import


def pytest_collection_modifyitems(items):
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.realcloud)
            item.add_marker(pytest.mark.integration)
