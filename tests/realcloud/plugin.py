"""pytest plugin of the real-cloud tier: a session-scoped ``realcloud`` fixture.

If a stack is already running (``tests/realcloud/stack.py up``, as run.sh does), the fixture
attaches to it and leaves it running; otherwise it brings a fresh one up and stops every process
it started at the end of the session, also when a test fails or the run is interrupted (pytest
finaliser, atexit and signal handlers). ``VIGIL_SKIP_REALCLOUD=1`` skips the tier, loudly.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from stack import CLOUD_ADMIN, CLOUD_MEMBER, CLOUD_SYSTEM, Stack, running_stack  # noqa: E402

SKIP_VAR = "VIGIL_SKIP_REALCLOUD"


def skip_requested() -> bool:
    return os.environ.get(SKIP_VAR, "") not in ("", "0")


def pytest_report_header(config):
    if skip_requested():
        return f"realcloud: SKIPPED because {SKIP_VAR}={os.environ[SKIP_VAR]} (real-service tests will not run)"
    return None


@pytest.fixture(scope="session")
def realcloud():
    """A running real stack (``Stack``) with its clouds.yaml exported as OS_CLIENT_CONFIG_FILE."""
    if skip_requested():
        pytest.skip(f"real-service tier disabled by {SKIP_VAR}={os.environ[SKIP_VAR]}")
    stack = Stack()
    status = stack.status()
    if status and all(status.values()):
        stack.load()
        yield _export(stack)
        return
    with running_stack() as stack:
        yield _export(stack)


def _export(stack: Stack) -> Stack:
    os.environ["OS_CLIENT_CONFIG_FILE"] = str(stack.clouds_yaml)
    return stack


@pytest.fixture(scope="session")
def real_conn(realcloud):
    conn = realcloud.connect(CLOUD_ADMIN)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def real_system_conn(realcloud):
    conn = realcloud.connect(CLOUD_SYSTEM)
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def real_clouds(realcloud) -> dict:
    return {"admin": CLOUD_ADMIN, "member": CLOUD_MEMBER, "system": CLOUD_SYSTEM, "clouds_yaml": realcloud.clouds_yaml}
