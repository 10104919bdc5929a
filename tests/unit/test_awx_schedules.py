"""The continuous-audit schedules of docs/events.md: awx.awx's own validation, and RRULE = cron.

The awx.awx validation helpers live in tests/unit/test_awx_docs.py (branch `channels`); this
file reuses them rather than copying them, and skips until that file is on the branch.
"""

import datetime
from pathlib import Path

import pytest
from dateutil import rrule

awx_docs = pytest.importorskip("test_awx_docs", reason="needs tests/unit/test_awx_docs.py (branch channels)")

EVENTS_DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
UTC = datetime.timezone.utc


def schedules():
    return {
        t["awx.awx.schedule"]["extra_data"]["vigil_goal"]: t
        for t in awx_docs.doc_tasks(EVENTS_DOC)
        if "awx.awx.schedule" in t
    }


def test_one_schedule_per_goal_on_the_documented_job_template():
    tasks = awx_docs.doc_tasks(EVENTS_DOC)
    templates = [t["awx.awx.job_template"] for t in tasks if "awx.awx.job_template" in t]
    assert [t["playbook"] for t in templates] == ["playbooks/event_audit.yml"]
    found = schedules()
    assert sorted(found) == ["server_consolidation", "thermal_optimization", "workload_balancing"]
    assert {t["awx.awx.schedule"]["unified_job_template"] for t in found.values()} == {templates[0]["name"]}


def test_every_task_passes_the_awx_modules_argument_validation(tmp_path):
    tasks = awx_docs.doc_tasks(EVENTS_DOC)
    results, proc = awx_docs._run_through_awx_modules(tasks, tmp_path)
    assert sorted(results) == sorted(t["name"] for t in tasks), proc.stderr
    for name, result in results.items():
        msg = result.get("msg", "")
        assert not any(err in msg for err in awx_docs.ARGUMENT_ERRORS), "%s: %s" % (name, msg)
        assert result.get("failed") and awx_docs.CONNECTION_FAILED.search(msg), "%s: %s" % (name, result)


def first(rule_text, n):
    """The first n occurrences of an AWX rrule string ("DTSTART:... RRULE:...")."""
    rule = rrule.rrulestr(rule_text.replace(" ", "\n"))
    return [when.replace(tzinfo=UTC) for when in rule[:n]]


def at(*args):
    return datetime.datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    "goal, expected",
    [
        # interval: every 30 minutes
        ("workload_balancing", [at(2027, 1, 1, 0, 0), at(2027, 1, 1, 0, 30), at(2027, 1, 1, 1, 0)]),
        # 15 */4 * * *
        ("thermal_optimization", [at(2027, 1, 1, 0, 15), at(2027, 1, 1, 4, 15), at(2027, 1, 1, 8, 15)]),
        # 0 2 * * 1-5 (2027-01-01 is a Friday: then Monday 4th, Tuesday 5th)
        ("server_consolidation", [at(2027, 1, 1, 2, 0), at(2027, 1, 4, 2, 0), at(2027, 1, 5, 2, 0)]),
    ],
)
def test_each_rrule_fires_when_its_cron_expression_would(goal, expected):
    assert first(schedules()[goal]["awx.awx.schedule"]["rrule"], 3) == expected
