"""Fixtures of the apply integration tests: a twin with the apply topology, and a playbook runner."""

import contextlib
import copy
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so tests import apply_support

from ansible_run import run_playbook, tasks_play  # noqa: E402
from apply_support import APPLY_TOPOLOGY  # noqa: E402

from vigil_twin.testing import running_twin, write_clouds_yaml  # noqa: E402


@pytest.fixture
def apply_twin_factory(tmp_path):
    """Start a twin on the apply topology (or a variant); yields a function (topology, speed) -> Twin."""
    with contextlib.ExitStack() as stack:

        def start(topology=None, speed=100.0):
            twin = stack.enter_context(running_twin(copy.deepcopy(topology or APPLY_TOPOLOGY), speed=speed))
            twin.clouds_yaml = write_clouds_yaml(twin, tmp_path / ("clouds-%s.yaml" % twin.port))
            return twin

        yield start


@pytest.fixture
def apply_twin(apply_twin_factory):
    return apply_twin_factory()


@pytest.fixture
def run(tmp_path, apply_twin):
    """Run tasks (dicts) in one play against `apply_twin`."""

    def _run(*tasks, **kwargs):
        kwargs.setdefault("clouds_yaml", apply_twin.clouds_yaml)
        return run_playbook(tmp_path, tasks_play(*tasks), **kwargs)

    return _run
