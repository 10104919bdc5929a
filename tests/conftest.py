"""Shared pytest fixtures: the cloud twin (twin, twin_factory, clouds_yaml), see vigil_twin.pytest_fixtures."""

import hashlib

import pytest

from vigil_twin.pytest_fixtures import clouds_yaml, twin, twin_factory  # noqa: F401  # pylint: disable=unused-import


@pytest.fixture(autouse=True)
def _own_guard_dir(request, tmp_path_factory, monkeypatch):
    """Each test its own storm guard ledger (VIGIL_GUARD_DIR, inherited by the playbooks it runs):
    a power-on recorded by one test must not hold another test's power-off in its hysteresis."""
    name = hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]  # noqa: S324 - a name, not a secret
    monkeypatch.setenv("VIGIL_GUARD_DIR", str(tmp_path_factory.getbasetemp() / "guard" / name))
