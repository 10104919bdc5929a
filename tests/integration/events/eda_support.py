"""Helpers of the events tier (a module of its own: two conftest.py files cannot both be imported by name)."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path


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
