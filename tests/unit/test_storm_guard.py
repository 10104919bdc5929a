"""The storm guards: dedup, audit interval, power hysteresis, one plan lease per cloud, the log.

Each guard is driven with an injected clock; the ledger and log are real files, and a second
process (multiprocessing) contends for the same ledger as EDA and AWX runs would.
"""

import json
import multiprocessing
import os
import stat

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import GuardError, StormGuard


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def guard(tmp_path, clock, **kwargs):
    return StormGuard(str(tmp_path / "state"), "prod", clock=clock, **kwargs)


def test_repeated_alert_is_dropped_inside_the_window_and_admitted_after(tmp_path):
    clock = Clock()
    g = guard(tmp_path, clock, dedup_window=300)
    assert g.admit_alert("HostCpuHigh/c1")
    clock.now += 299
    second = g.admit_alert("HostCpuHigh/c1")
    assert not second and "dedup window 300s" in second.reason
    assert g.admit_alert("HostCpuHigh/c2"), "another host's alert is not a repeat"
    clock.now += 2
    assert g.admit_alert("HostCpuHigh/c1")


def test_audits_of_one_goal_keep_the_minimum_interval_other_goals_do_not_wait(tmp_path):
    clock = Clock()
    g = guard(tmp_path, clock, min_audit_interval=600)
    assert g.admit_audit("workload_balancing")
    clock.now += 100
    refused = g.admit_audit("workload_balancing")
    assert not refused and "started 100s ago (minimum interval 600s)" in refused.reason
    assert g.admit_audit("thermal_optimization")
    clock.now += 500
    assert g.admit_audit("workload_balancing")


def test_power_off_refused_within_the_hysteresis_of_a_power_on(tmp_path):
    clock = Clock()
    g = guard(tmp_path, clock, power_hysteresis=1800)
    assert g.admit_power_off("c1"), "never powered on by us: nothing holds it"
    g.record_power_on("c1")
    clock.now += 1799
    refused = g.admit_power_off("c1")
    assert not refused and "powered on 1799s ago (power hysteresis 1800s)" in refused.reason
    assert g.admit_power_off("c2")
    clock.now += 1
    assert g.admit_power_off("c1")


def test_one_plan_lease_per_cloud_until_released_or_expired(tmp_path):
    clock = Clock()
    g = guard(tmp_path, clock, lease_ttl=3600)
    assert g.acquire_plan("run-a")
    refused = g.acquire_plan("run-b")
    assert not refused and "held by run-a" in refused.reason
    other_cloud = StormGuard(str(tmp_path / "state"), "staging", clock=clock)
    assert other_cloud.acquire_plan("run-b"), "the lease is per cloud"
    assert not g.release_plan("run-b"), "only the holder releases"
    assert g.release_plan("run-a")
    assert g.acquire_plan("run-b")
    clock.now += 3601  # run-b died without releasing
    taken = g.acquire_plan("run-c")
    assert taken and "replaced the expired lease of run-b" in taken.reason


def test_state_survives_a_new_guard_object_and_every_decision_is_logged_with_its_reason(tmp_path):
    clock = Clock()
    guard(tmp_path, clock).admit_audit("workload_balancing")
    again = guard(tmp_path, clock).admit_audit("workload_balancing")
    assert not again
    log = guard(tmp_path, clock).decisions()
    assert [(d["kind"], d["allowed"]) for d in log] == [("audit", True), ("audit", False)]
    assert all(d["reason"] and d["cloud"] == "prod" for d in log)
    ledger = tmp_path / "state" / "guard-prod.json"
    assert stat.S_IMODE(os.stat(ledger).st_mode) == 0o600
    assert json.loads(ledger.read_text())["audits"]["workload_balancing"] == clock.now


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cloud": "../etc"}, "cannot name a guard file"),
        ({"cloud": "prod", "min_audit_interval": -1}, "min_audit_interval must be a number of seconds >= 0"),
        ({"cloud": "prod", "dedup_window": "5m"}, "dedup_window must be a number of seconds"),
    ],
)
def test_bad_arguments_name_the_problem(tmp_path, kwargs, message):
    with pytest.raises(GuardError, match=message):
        StormGuard(str(tmp_path), **kwargs)


def test_damaged_ledger_is_reported_and_left_alone(tmp_path):
    g = guard(tmp_path, Clock())
    g.admit_audit("x")
    ledger = tmp_path / "state" / "guard-prod.json"
    ledger.write_text("{not json")
    with pytest.raises(GuardError, match="not JSON"):
        g.admit_audit("x")
    assert ledger.read_text() == "{not json"


def _admit_many(state_dir, n, results):
    g = StormGuard(state_dir, "prod", min_audit_interval=3600)
    results.put(sum(1 for _unused in range(n) if g.admit_audit("workload_balancing")))


def test_concurrent_processes_admit_one_audit_between_them(tmp_path):
    """Two processes racing 50 admissions each (a storm) get exactly one audit in total."""
    results = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_admit_many, args=(str(tmp_path / "state"), 50, results)) for _unused in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted(results.get(timeout=5) for _unused in procs) in ([0, 1], [1, 0])
    log = StormGuard(str(tmp_path / "state"), "prod").decisions()
    assert len(log) == 100 and sum(d["allowed"] for d in log) == 1


def test_dry_run_decides_like_a_real_run_and_writes_nothing(tmp_path):
    clock = Clock()
    real = guard(tmp_path, clock, min_audit_interval=600)
    real.decide("audit", "workload_balancing")
    dry = guard(tmp_path, clock, min_audit_interval=600, dry_run=True)
    assert not dry.decide("audit", "workload_balancing")
    admitted = dry.decide("audit", "thermal_optimization")
    assert admitted and dry.last_change is not None
    assert '"thermal_optimization"' in dry.last_change[1] and '"thermal_optimization"' not in dry.last_change[0]
    assert "thermal_optimization" not in (tmp_path / "state" / "guard-prod.json").read_text()
    assert len(real.decisions()) == 1, "a dry run logs nothing"


def test_decide_refuses_an_unknown_decision(tmp_path):
    with pytest.raises(GuardError, match="unknown guard decision 'reboot'"):
        guard(tmp_path, Clock()).decide("reboot", "c1")
