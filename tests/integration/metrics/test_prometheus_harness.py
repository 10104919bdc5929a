"""The Prometheus test harness itself: backfill + scrape, stop by pid, clear errors."""

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from promseries import History

HARNESS = Path(__file__).resolve().parents[2] / "prometheus" / "harness.py"


@pytest.fixture
def exposition():
    """A /metrics endpoint with one gauge."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = b'# TYPE vigil_probe gauge\nvigil_probe{fqdn="h1"} 7\n'
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    yield "http://127.0.0.1:%d/metrics" % server.server_address[1]
    server.shutdown()
    server.server_close()


def test_backfill_scrape_and_stop(prometheus_factory, exposition, tmp_path):
    h = History(1_700_000_000 - 600, 1_700_000_000)
    h.gauge("vigil_history", {"fqdn": "h1"}, 3.5)
    server = prometheus_factory(history=h.write(tmp_path / "h.om"), scrape=exposition)
    assert server.url.startswith("http://127.0.0.1:")
    assert server.query("vigil_history", at=1_700_000_000)[0]["value"][1] == "3.5"
    (sample,) = server.wait_for("vigil_probe", timeout=30)
    assert sample["metric"]["fqdn"] == "h1" and sample["value"][1] == "7"  # honor_labels keeps fqdn
    pid, workdir = server.pid, server.workdir
    server.stop()
    assert server.pid is None and not os.path.exists(workdir)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_bad_history_is_a_clear_error(prometheus_binaries, tmp_path):
    from vigil_prometheus_harness import PrometheusError, PrometheusServer

    bad = tmp_path / "bad.om"
    bad.write_text("this is not openmetrics\n")
    with pytest.raises(PrometheusError, match="promtool could not backfill"):
        PrometheusServer(history=bad).start()
    with pytest.raises(PrometheusError, match="does not exist"):
        PrometheusServer(history=tmp_path / "missing.om").start()


def test_missing_binaries_message(monkeypatch):
    import vigil_prometheus_harness as harness

    monkeypatch.setenv("PROMETHEUS_BIN", "/nonexistent/prometheus")
    monkeypatch.setenv("PROMTOOL_BIN", "/nonexistent/promtool")
    with pytest.raises(
        harness.PrometheusUnavailable, match="set PROMETHEUS_BIN/PROMTOOL_BIN or run `make system-deps`"
    ):
        harness.ensure_binaries(install=False)


def test_cli_check(prometheus_binaries):
    out = subprocess.run([sys.executable, str(HARNESS), "check"], capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    assert info["prometheus"] == prometheus_binaries[0] and info["version"].startswith("prometheus, version")
