"""The shipped rulebook under ansible-rulebook, fed by a real Alertmanager, against the twin.

A real Prometheus evaluates a real alerting rule (labelled vigil_goal=workload_balancing) and
sends the alert to a real Alertmanager, which posts it to the rulebook's webhook source; the
rulebook runs event_audit.yml on the twin. Then a storm: 100 more alerts of the same goal,
posted to Alertmanager's API within a minute (each its own group, so 100 webhook posts). End
state: one audit, one plan, one report, nothing applied (the goal is not in
vigil_event_apply_goals), and the guard log saying so.
"""

import json
import time
import urllib.request

from eda_support import free_port, guard_log
from test_event_audit import mutations

RULES = """groups:
  - name: vigil-test
    rules:
      - alert: VigilTestHostCpuHigh
        expr: vector(97)
        labels:
          vigil_goal: workload_balancing
          instance: compute-1
        annotations:
          summary: host CPU over threshold (a rule that always fires)
"""


def wait_for(predicate, timeout, what, log, proc):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        assert proc.poll() is None, f"ansible-rulebook exited {proc.returncode}:\n{log.read_text()[-4000:]}"
        time.sleep(0.5)
    raise AssertionError(f"{what} not seen in {timeout}s; rulebook log:\n{log.read_text()[-4000:]}")


def webhook_notifications(alertmanager_url):
    """(sent, failed) webhook notifications, from Alertmanager's own metrics."""
    with urllib.request.urlopen(alertmanager_url + "/metrics", timeout=10) as resp:  # noqa: S310
        text = resp.read().decode()
    counts = {}
    for line in text.splitlines():
        for name in ("alertmanager_notifications_total", "alertmanager_notifications_failed_total"):
            if line.startswith(name + "{") and 'integration="webhook"' in line:
                counts[name] = counts.get(name, 0) + float(line.rsplit(" ", 1)[1])
    return counts.get("alertmanager_notifications_total", 0), counts.get("alertmanager_notifications_failed_total", 0)


def post_alerts(alertmanager_url, alerts):
    request = urllib.request.Request(  # noqa: S310 - our own 127.0.0.1 Alertmanager
        alertmanager_url + "/api/v2/alerts",
        data=json.dumps(alerts).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as resp:  # noqa: S310
        assert resp.status == 200


def test_real_alert_then_a_storm_of_100_yield_one_audit_and_one_report(
    twin, tmp_path, alertmanager, prometheus_factory, rulebook
):
    out, guard = tmp_path / "out", tmp_path / "guard"
    webhook_port = free_port()
    proc = rulebook(
        "vigil.openstack.alertmanager_audits",
        {
            "vigil_cloud": "vigil-twin",
            "vigil_webhook_port": webhook_port,
            "vigil_event_apply_goals": [],
            "vigil_output_dir": str(out),
            "vigil_guard_dir": str(guard),
        },
    )
    log = tmp_path / "rulebook.log"
    am_url = alertmanager(f"http://127.0.0.1:{webhook_port}/alerts")
    rules = tmp_path / "rules.yml"
    rules.write_text(RULES)
    prometheus_factory(
        evaluation_interval="1s",
        extra_config=f"rule_files: [{json.dumps(str(rules))}]\n"
        f"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [{json.dumps(am_url[len('http://') :])}]\n",
    )

    wait_for(lambda: any(d["kind"] == "audit" for d in guard_log(guard)), 240, "the first audit", log, proc)
    assert proc.poll() is None, log.read_text()[-4000:]
    first = guard_log(guard)[0]
    assert first["kind"] == "alert" and first["allowed"], first  # the rule's alert, by its fingerprint

    storm_started = time.monotonic()
    post_alerts(
        am_url,
        [
            {
                "labels": {
                    "alertname": "VigilTestHostCpuHigh",
                    "vigil_goal": "workload_balancing",
                    "instance": f"storm-{i}",
                }
            }
            for i in range(100)
        ],
    )
    assert time.monotonic() - storm_started < 60
    # Alertmanager delivered all 101 notifications (the rule's and the storm's) to the source,
    # which accepted them (a refusal counts as a failed notification)
    wait_for(lambda: webhook_notifications(am_url) >= (101, 0), 120, "101 delivered notifications", log, proc)
    wait_for(lambda: any(d["kind"] == "plan_release" for d in guard_log(guard)), 300, "the audit's end", log, proc)
    time.sleep(3)  # a second playbook, if the rulebook started one, would have logged a decision by now

    decisions = guard_log(guard)
    assert [d["kind"] for d in decisions if d["allowed"]] == ["alert", "audit", "plan_lease", "plan_release"]
    assert len(list(out.glob("plan-*.json"))) == 1 and len(list(out.glob("report-*.md"))) == 1
    assert json.loads(next(out.glob("plan-*.json")).read_text())["goal"] == "workload_balancing"
    assert mutations(twin) == [], "workload_balancing is not in vigil_event_apply_goals: nothing applied"
    delivered, failed = webhook_notifications(am_url)
    assert delivered >= 101 and failed == 0
