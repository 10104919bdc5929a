"""`make demo` (tools/demo.py) end to end: twin up, optimize.yml with apply, after-state shown,
twin stopped. Its output goes to a temporary directory through VIGIL_DEMO_OUT."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_make_demo_plans_applies_and_stops_its_twin(tmp_path):
    out = tmp_path / "demo"
    env = dict(os.environ, VIGIL_DEMO_OUT=str(out))
    env.pop("OS_CLIENT_CONFIG_FILE", None)
    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "demo.py")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    [plan_file] = out.glob("plan-*.json")
    plan = json.loads(plan_file.read_text())
    released = {a["input"]["host"] for a in plan["actions"] if a["type"] == "compute_service"}
    assert plan["goal"] == "server_consolidation" and released
    # the after-state table: every host the plan disabled is disabled and empty
    rows = {}
    for line in run.stdout.split("demo: after the plan ran on the twin:")[1].splitlines()[2:]:
        parts = line.split()
        if len(parts) == 4:
            rows[parts[0]] = parts[1:]
    for host in released:
        assert rows[host][0] == "disabled" and rows[host][2] == "0", (host, rows)
    assert list(out.glob("report-*.html")) and list(out.glob("model-*.json.gz"))
    info = json.loads((out / "twin.json").read_text())
    with pytest.raises(OSError):  # the twin it started is gone
        os.kill(info["pid"], 0)
