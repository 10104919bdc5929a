"""Helpers of the events tier (a module of its own: two conftest.py files cannot both be imported by name)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
JAVA17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, proc, log, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{url}: process exited {proc.returncode}: {Path(log).read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - our own 127.0.0.1 server
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} not ready after {timeout}s: {Path(log).read_text()[-2000:]}")


def stop(proc, group=False):
    if proc.poll() is not None:
        return
    kill = (lambda sig: os.killpg(proc.pid, sig)) if group else (lambda sig: os.kill(proc.pid, sig))
    kill(signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        kill(signal.SIGKILL)
        proc.wait(timeout=5)


def guard_log(guard_dir, cloud="vigil-twin"):
    path = Path(guard_dir) / f"guard-{cloud}.log"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def start_rulebook(tmp_path, name, variables, clouds_yaml):
    """ansible-rulebook running the collection's rulebook `name` with `variables` against the cloud
    of `clouds_yaml`, in its own process group; its output goes to <tmp_path>/rulebook.log.
    Skips, saying why, when ansible-rulebook or its Java 17 runtime is missing."""
    if not (BIN / "ansible-rulebook").exists():
        pytest.skip("ansible-rulebook not installed (requirements-dev.txt)")
    java_home = os.environ.get("JAVA_HOME") or (str(JAVA17) if (JAVA17 / "bin" / "java").exists() else None)
    if not java_home:
        pytest.skip("no Java 17 runtime for ansible-rulebook (make system-deps)")
    vars_file = tmp_path / "rulebook-vars.yml"
    vars_file.write_text(yaml.safe_dump(variables))
    inventory = tmp_path / "inventory.yml"  # ansible-rulebook wants a file, not "localhost,"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n")
    env = dict(
        os.environ,
        JAVA_HOME=java_home,
        PATH=f"{BIN}:{java_home}/bin:{os.environ.get('PATH', '')}",
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
        OS_CLIENT_CONFIG_FILE=str(clouds_yaml),
        HOME=str(tmp_path / "home"),  # ansible-runner's and ansible's per-user files stay in the test
    )
    (tmp_path / "home").mkdir(exist_ok=True)
    with open(tmp_path / "rulebook.log", "wb") as log:  # the child keeps its own descriptor
        return subprocess.Popen(  # noqa: S603
            [str(BIN / "ansible-rulebook"), "-i", str(inventory), "--vars", str(vars_file), "--rulebook", name, "-v"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )


def stop_rulebook(proc):
    """Stop ansible-rulebook and the playbooks it started (its process group)."""
    stop(proc, group=True)
