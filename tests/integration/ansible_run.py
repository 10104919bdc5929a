"""Run ansible-playbook / ansible-inventory in a subprocess the way users do, and read results.

Results come from the test-only callback in callback_plugins/record_results.py, one JSON
object per task: {"task", "host", "status", "result"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list[dict]

    def task(self, name: str) -> dict:
        """The result dict of the (last) task with this name."""
        rows = [r for r in self.results if r["task"] == name]
        if not rows:
            raise AssertionError(
                f"no task named {name!r}; ran: {[r['task'] for r in self.results]}\n{self.stdout}\n{self.stderr}"
            )
        return rows[-1]["result"]

    def status(self, name: str) -> str:
        return [r for r in self.results if r["task"] == name][-1]["status"]


def ansible_env(tmp_path: Path, clouds_yaml: str | os.PathLike | None = None, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_CALLBACK_PLUGINS=str(Path(__file__).parent / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="record_results",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        VIGIL_TEST_RESULTS=str(tmp_path / "results.jsonl"),
        PATH=f"{BIN}:{env.get('PATH', '')}",
    )
    if clouds_yaml:
        env["OS_CLIENT_CONFIG_FILE"] = str(clouds_yaml)
    env.update(extra or {})
    return env


def run_playbook(
    tmp_path: Path,
    playbook: list | str | Path,
    *,
    clouds_yaml=None,
    extra_vars: dict | None = None,
    args: list[str] | None = None,
    env: dict | None = None,
    timeout: float = 600,
) -> PlaybookRun:
    """Run a playbook given as YAML data, YAML text, or a path. Never raises on failure: check rc."""
    if isinstance(playbook, Path):
        path = playbook
    else:
        path = tmp_path / "playbook.yml"
        path.write_text(playbook if isinstance(playbook, str) else yaml.safe_dump(playbook, sort_keys=False))
    results_file = tmp_path / "results.jsonl"
    results_file.unlink(missing_ok=True)
    cmd = [str(BIN / "ansible-playbook"), "-c", "local", str(path)]
    if "-i" not in (args or []):
        cmd[1:1] = ["-i", "localhost,"]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    cmd += args or []
    proc = subprocess.run(
        check=False,
        args=cmd,
        env=ansible_env(tmp_path, clouds_yaml, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)


def tasks_play(*tasks: dict, vars: dict | None = None, module_defaults: dict | None = None) -> list:
    """A one-play playbook on localhost running the given tasks."""
    play = {"name": "vigil integration test", "hosts": "localhost", "gather_facts": False, "tasks": list(tasks)}
    if vars:
        play["vars"] = vars
    if module_defaults:
        play["module_defaults"] = module_defaults
    return [play]
