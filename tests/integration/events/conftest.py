"""The events tier: a real Alertmanager, a real Prometheus and ansible-rulebook, against the twin.

Every process is started here and stopped by its own pid (its process group for
ansible-rulebook, which starts ansible-playbook); a missing binary skips with the reason.
"""

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

PROM = Path(__file__).resolve().parents[2] / "prometheus"


def _load(name, path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


sys.path.insert(0, str(Path(__file__).parent))  # eda_support, test_event_audit
from eda_support import free_port, start_rulebook, stop, stop_rulebook, wait_http  # noqa: E402

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
    started = []

    def start(name, variables):
        proc = start_rulebook(tmp_path, name, variables, clouds_yaml)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        stop_rulebook(proc)
