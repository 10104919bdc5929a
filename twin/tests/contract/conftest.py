"""Contract suite: drives a cloud only through openstacksdk (and plain HTTP where the SDK has
no call), so the same tests can run against a real cloud.

By default each test gets a fresh twin of the demo topology. To run against a real cloud:
``VIGIL_CONTRACT_CLOUD=<cloud> VIGIL_CONTRACT_MEMBER_CLOUD=<member cloud> pytest twin/tests/contract``
(clouds from your clouds.yaml). Tests that need the twin's admin API (fault injection)
are skipped there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import openstack
import pytest

REAL_CLOUD = os.environ.get("VIGIL_CONTRACT_CLOUD")


@pytest.fixture
def twin_or_none(request: pytest.FixtureRequest) -> Any:
    """The twin under test, or None against a real cloud."""
    if REAL_CLOUD:
        return None
    request.getfixturevalue("clouds_yaml")
    return request.getfixturevalue("twin")


@pytest.fixture
def twin_only(twin_or_none: Any) -> Any:
    if twin_or_none is None:
        pytest.skip("needs the twin's admin API (fault injection)")
    return twin_or_none


@pytest.fixture
def cloud_name(twin_or_none: Any) -> str:
    return REAL_CLOUD or "vigil-twin"


@pytest.fixture
def member_cloud_name(twin_or_none: Any) -> str:
    if REAL_CLOUD:
        name = os.environ.get("VIGIL_CONTRACT_MEMBER_CLOUD")
        if not name:
            pytest.skip("VIGIL_CONTRACT_MEMBER_CLOUD not set")
        return name
    return "vigil-twin-member"


@pytest.fixture
def conn(cloud_name: str) -> openstack.connection.Connection:
    c = openstack.connect(cloud=cloud_name)
    yield c
    c.close()


@pytest.fixture
def member_conn(member_cloud_name: str) -> openstack.connection.Connection:
    c = openstack.connect(cloud=member_cloud_name)
    yield c
    c.close()


def wait_for(fn: Callable[[], Any], what: str, timeout: float = 60.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval)


@pytest.fixture
def waiter() -> Callable[..., Any]:
    return wait_for
