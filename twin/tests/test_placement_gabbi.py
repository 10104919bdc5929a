"""Placement's published gabbi tests (openstack-placement 16.0.0) against the twin: every test of
every file that runs passes, except the known failures listed with their reasons in
placement_gabbits.py; the files that do not run are listed there too, by reason."""

from __future__ import annotations

import pytest
from placement_gabbits import KNOWN_FAILURES, NOT_RUN_FILES, gabbit_files, not_run_reason, run_file

FILES = gabbit_files()


def test_every_gabbit_file_is_run_or_listed_with_a_reason():
    run = [f for f in FILES if not not_run_reason(f)]
    assert len(FILES) >= 70 and len(run) >= 30, (len(FILES), len(run))
    assert set(KNOWN_FAILURES) <= set(run), "known failures listed for files that do not run"
    assert set(NOT_RUN_FILES) <= set(FILES)


@pytest.mark.parametrize("name", [f for f in FILES if not not_run_reason(f)])
def test_placement_gabbit_file(name):
    outcomes = run_file(name)
    assert outcomes, f"{name}: no test ran"
    known = KNOWN_FAILURES.get(name, {})
    unexpected = {test: outcome for test, outcome in outcomes.items() if outcome != "pass" and test not in known}
    assert not unexpected, f"{name}: failing on the twin: {unexpected}"
    fixed = sorted(test for test in known if outcomes.get(test) == "pass")
    assert not fixed, f"{name}: now passing, remove from KNOWN_FAILURES: {fixed}"
    missing = sorted(set(known) - set(outcomes))
    assert not missing, f"{name}: KNOWN_FAILURES names tests the file does not have: {missing}"
