"""`make demo`: serve the twin's demo cloud, run playbooks/optimize.yml against it, stop the twin.

Everything it writes goes under output/demo/ (clouds.yaml, model snapshot, plan, report), or
under $VIGIL_DEMO_OUT when set (the test of `make demo` uses that).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# the twin and ansible-playbook of the venv whose Python runs this (.venv under make demo, a
# .matrix/ venv under make matrix), so a test run on another ansible-core demos that one
VENV_BIN = Path(sys.executable).parent
OUT = Path(os.environ.get("VIGIL_DEMO_OUT") or ROOT / "output" / "demo")


def start_twin() -> tuple[subprocess.Popen, dict]:
    OUT.mkdir(parents=True, exist_ok=True)
    info_file = OUT / "twin.json"
    info_file.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [
            str(VENV_BIN / "vigil-twin"),
            "serve",
            "--topology",
            str(ROOT / "twin" / "topologies" / "demo.yaml"),
            "--speed",
            "20",
            "--clouds-yaml",
            str(OUT / "clouds.yaml"),
            "--info-file",
            str(info_file),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not info_file.exists():
        if proc.poll() is not None:
            raise SystemExit(f"demo: the twin exited with status {proc.returncode} before listening")
        if time.monotonic() > deadline:
            proc.terminate()
            raise SystemExit("demo: the twin did not start within 30 s")
        time.sleep(0.1)
    return proc, json.loads(info_file.read_text())


def main() -> int:
    proc, info = start_twin()
    print(f"demo: twin of the demo cloud serving at {info['url']} (started in {info['startup_seconds']} s)")
    env = dict(
        os.environ,
        OS_CLIENT_CONFIG_FILE=str(OUT / "clouds.yaml"),
        ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"),
        ANSIBLE_STDOUT_CALLBACK="default",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        PATH=f"{VENV_BIN}:{os.environ.get('PATH', '')}",
    )
    try:
        rc = subprocess.call(
            [
                str(VENV_BIN / "ansible-playbook"),
                str(ROOT / "playbooks" / "optimize.yml"),
                "-e",
                "vigil_cloud=vigil-twin",
                "-e",
                f"vigil_output_dir={OUT}",
                "-e",
                "vigil_goal=server_consolidation",
                "-e",
                "vigil_apply=true",
                "-e",
                json.dumps(
                    {"vigil_maas_url": info.get("maas_url", ""), "vigil_maas_api_key": info.get("maas_api_key", "")}
                ),
            ],
            env=env,
            cwd=ROOT,
        )
        if rc == 0:
            show_after_state(env)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    if rc == 0:
        print(f"demo: done; plan, report, state file and model snapshot are in {OUT}")
    return rc


def show_after_state(env: dict) -> None:
    """The cloud as the twin sees it once the plan ran: servers and service status per host."""
    import openstack

    os.environ["OS_CLIENT_CONFIG_FILE"] = env["OS_CLIENT_CONFIG_FILE"]
    conn = openstack.connect(cloud="vigil-twin")
    per_host: dict[str, int] = {}
    for server in conn.compute.servers(all_projects=True):
        per_host[server.compute_host] = per_host.get(server.compute_host, 0) + 1
    print("demo: after the plan ran on the twin:")
    print(f"  {'host':<12} {'service':<9} {'state':<6} servers")
    for svc in sorted(conn.compute.services(binary="nova-compute"), key=lambda s: (len(s.host), s.host)):
        print(f"  {svc.host:<12} {svc.status:<9} {svc.state:<6} {per_host.get(svc.host, 0)}")


if __name__ == "__main__":
    sys.exit(main())
