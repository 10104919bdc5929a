"""Integration tier: real ansible-playbook runs against a twin (fixtures in tests/conftest.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests import ansible_run

from ansible_run import run_playbook  # noqa: E402


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def playbook(tmp_path, clouds_yaml):
    """Call with a playbook (data/text/path) and keyword args of ansible_run.run_playbook."""

    def _run(pb, **kwargs):
        kwargs.setdefault("clouds_yaml", clouds_yaml)
        return run_playbook(tmp_path, pb, **kwargs)

    return _run
