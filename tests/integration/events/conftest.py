"""The events tier: a real Alertmanager, a real Prometheus and ansible-rulebook, against the twin.

Every process is started here and stopped by its own pid (its process group for
ansible-rulebook, which starts ansible-playbook); a missing binary skips with the reason.
"""

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
PROM = ROOT / "tests" / "prometheus"
BIN = Path(sys.executable).parent
JAVA17 = Path("/usr/lib/jvm/java-17-openjdk-amd64")


def _load(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sys.path.insert(0, str(Path(__file__).parent))  # eda_support, test_event_audit
from eda_support import free_port, stop, wait_http  # noqa: E402

_plugin = _load("vigil_prometheus_plugin", PROM / "plugin.py")
prometheus_binaries = _plugin.prometheus_binaries
prometheus_factory = _plugin.prometheus_factory


@pytest.fixture
def alertmanager(tmp_path):
    """start(webhook_url) -> Alertmanager's URL; one route to the webhook, no grouping delay."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if not binary:
        pytest.skip("prometheus-alertmanager not installed (make system-deps)")
    started = []

    def start(webhook_url):
        config = {
            "route": {
                "receiver": "vigil",
                "group_by": ["alertname", "instance"],
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": "vigil", "webhook_configs": [{"url": webhook_url, "send_resolved": False}]}],
        }
        workdir = tmp_path / f"alertmanager{len(started)}"
        workdir.mkdir()
        (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
        port = free_port()
        log = workdir / "alertmanager.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(  # noqa: S603
                [
                    binary,
                    f"--config.file={workdir / 'alertmanager.yml'}",
                    f"--storage.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--cluster.listen-address=",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/-/ready", proc, log)
        return url

    yield start
    for proc in started:
        stop(proc)


@pytest.fixture
def rulebook(tmp_path, clouds_yaml):
    """start(rulebook, variables) -> the running ansible-rulebook; its log is rulebook.log."""
    if not (BIN / "ansible-rulebook").exists():
        pytest.skip("ansible-rulebook not installed (requirements-dev.txt)")
    java_home = os.environ.get("JAVA_HOME") or (str(JAVA17) if (JAVA17 / "bin" / "java").exists() else None)
    if not java_home:
        pytest.skip("no Java 17 runtime for ansible-rulebook (make system-deps)")
    started = []

    def start(name, variables):
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
        log = open(tmp_path / "rulebook.log", "wb")  # noqa: SIM115 - closed at teardown
        proc = subprocess.Popen(  # noqa: S603
            [str(BIN / "ansible-rulebook"), "-i", str(inventory), "--vars", str(vars_file), "--rulebook", name, "-v"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=tmp_path,
            start_new_session=True,
        )
        started.append((proc, log))
        return proc

    yield start
    for proc, log in started:
        stop(proc, group=True)
        log.close()
