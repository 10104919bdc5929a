"""Prometheus faults through metrics_info, against a stub Prometheus HTTP API (real PromQL
semantics are tested with a real Prometheus in tests/integration/metrics/).

The stub answers every instant query with an empty vector (so every metric is reported
missing, never made up), after an optional burst of 503s and with optional latency.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from support import run_module


class StubPrometheus:
    def __init__(self, errors=0, latency=0.0):
        self.errors, self.latency, self.requests = errors, latency, []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.requests.append(self.path)
                time.sleep(stub.latency)
                if stub.errors > 0:
                    stub.errors -= 1
                    status, body = 503, {"status": "error", "errorType": "unavailable", "error": "injected"}
                else:
                    status, body = 200, {"status": "success", "data": {"resultType": "vector", "result": []}}
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def prometheus():
    stubs = []

    def make(**kw):
        stubs.append(StubPrometheus(**kw))
        return stubs[-1]

    yield make
    for s in stubs:
        s.close()


ARGS = {"hostnames": ["cmp1", "cmp2"], "instances": ["11111111-1111-4111-8111-111111111111"], "period": 600}


def test_prometheus_latency(prometheus, tmp_path, scenario):
    scenario(
        "API faults",
        "Prometheus: 0.2 s latency on every query",
        "metrics_info succeeds; missing series reported, none made up",
    )
    stub = prometheus(latency=0.2)
    result, out = run_module(tmp_path, "metrics_info", dict(ARGS, prometheus_url=stub.url))
    assert not result.get("failed"), out
    assert stub.requests and result["metric_warnings"]


def test_prometheus_5xx_burst(prometheus, tmp_path, scenario):
    scenario(
        "API faults",
        "Prometheus: a burst of 503s",
        "retried with backoff; metrics_info succeeds, missing series reported, none made up",
    )
    stub = prometheus(errors=2)
    result, out = run_module(tmp_path, "metrics_info", dict(ARGS, prometheus_url=stub.url))
    assert not result.get("failed"), out
    assert stub.errors == 0 and len(stub.requests) > 2 and result["metric_warnings"]


def test_prometheus_5xx_persistent(prometheus, tmp_path, scenario):
    scenario(
        "API faults",
        "Prometheus: 503 on every query",
        "metrics_info fails after its retries with one line naming Prometheus and HTTP 503; nothing made up",
    )
    stub = prometheus(errors=1000)
    result, out = run_module(tmp_path, "metrics_info", dict(ARGS, prometheus_url=stub.url))
    assert result.get("failed"), out
    assert len(stub.requests) == 1 + 3  # the first try and three retries, then it stops
    msg = result["msg"]
    assert "503" in msg and stub.url.split("//")[1] in msg and "\n" not in msg, msg
    assert "model" not in result
