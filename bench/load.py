"""Benchmark: the whole job at scale - optimize.yml (collect, plan, report) then a check-mode
plan_apply of the plan - on a generated cloud of 2,000 hypervisors / 50,000 servers.

One ansible-playbook run against a twin served in its own process (bench/collect.py's
`served_twin`). Reported in the fixed format of bench/common.py: wall time of the run
and of each phase (recorded, no target), peak memory of the playbook and its module processes (target 2 GiB), the
plan's action count, and mutating requests the twin saw (must be 0: nothing but check mode
ran against the cloud).

    .venv/bin/python bench/load.py [--nodes 2000 --servers 50000 --goal server_consolidation]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "twin" / "src"), str(ROOT / "bench")]

from collect import served_twin  # noqa: E402
from common import Reporter, peak_rss_mb  # noqa: E402

from vigil_twin.generator import generate  # noqa: E402

PLAYBOOK = """
- name: The job
  import_playbook: {optimize}

- name: Check-mode apply of the plan
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  tasks:
    - name: apply (check mode)
      vigil.openstack.plan_apply:
        cloud: vigil-twin
        plan: "{{{{ vigil_plan }}}}"
        state_file: "{{{{ vigil_output_dir }}}}/state.json"
      check_mode: true
      register: checked

    - name: summary
      ansible.builtin.copy:
        dest: "{{{{ vigil_output_dir }}}}/summary.json"
        content: "{{{{ {{'actions': vigil_plan.actions | length, 'check_counts': checked.counts}} | to_json }}}}"
        mode: "0600"
"""

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
# task names of optimize.yml's roles (and the check-mode task above) per phase
PHASES = {
    "collect": ("Read compute nodes, servers and placement", "Assemble the cluster model"),
    "plan": ("Compute the plan", "Save the plan", "Show the plan summary"),
    "report": ("Write the report",),
    "check_mode_apply": ("apply (check mode)",),
}


def requests_log(url):
    with urllib.request.urlopen(url + "/admin/requests?log=1", timeout=60) as resp:  # noqa: S310 - loopback twin
        return json.loads(resp.read())["log"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--servers", type=int, default=50000)
    parser.add_argument("--goal", default="server_consolidation")
    args = parser.parse_args(argv)
    rep = Reporter("load")
    case = "%dx%d/%s" % (args.nodes, args.servers, args.goal)
    topology = generate(args.nodes, args.servers, 0, seed=1)
    with tempfile.TemporaryDirectory() as tmp, served_twin(topology, Path(tmp)) as (url, clouds):
        tmp = Path(tmp)
        book = tmp / "load.yml"
        book.write_text(PLAYBOOK.format(optimize=ROOT / "playbooks" / "optimize.yml"))
        out_dir = tmp / "out"
        env = dict(
            os.environ,
            OS_CLIENT_CONFIG_FILE=str(clouds),
            ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
            ANSIBLE_PYTHON_INTERPRETER=sys.executable,
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_CALLBACK_PLUGINS=str(ROOT / "bench" / "callback_plugins"),
            ANSIBLE_CALLBACKS_ENABLED="task_times",
            VIGIL_TASK_TIMES=str(tmp / "task_times.jsonl"),
        )
        extra = {"vigil_cloud": "vigil-twin", "vigil_goal": args.goal, "vigil_output_dir": str(out_dir)}
        start = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(book),
             "-e", json.dumps(extra)],
            env=env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        wall = time.perf_counter() - start
        rss = peak_rss_mb(children=True)
        if proc.returncode != 0:
            print(proc.stdout[-4000:], proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit("bench load: ansible-playbook failed")
        summary = json.loads((out_dir / "summary.json").read_text())
        mutating = [
            e for e in requests_log(url) if e["method"] in MUTATING and e["service"] not in ("identity", "admin")
        ]
        files = sorted(p.name.split("-")[0] for p in out_dir.iterdir())
        tasks = [json.loads(line) for line in (tmp / "task_times.jsonl").read_text().splitlines()]
    rep.emit(case, "wall_time", wall, "s")
    for phase, names in PHASES.items():
        rep.emit(
            case, "%s_seconds" % phase, sum(t["seconds"] for t in tasks if t["task"].split(" : ")[-1] in names), "s"
        )
    rep.emit(case, "peak_rss_playbook", rss, "MiB", 2048.0)
    rep.emit(case, "plan_actions", summary["actions"], "count")
    rep.emit(case, "check_mode_would_run", summary["check_counts"].get("run", 0), "count")
    rep.emit(case, "mutating_requests", len(mutating), "count", 0)
    rep.emit(case, "report_written", int("report" in files), "bool", 1, better="higher")
    print(json.dumps({"case": case, "files": files, "check_counts": summary["check_counts"]}), file=sys.stderr)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
