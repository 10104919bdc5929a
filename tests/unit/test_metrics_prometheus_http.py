"""collect.prometheus against a stub HTTP server: what goes on the wire (auth, form body) and how
bad answers (5xx, 401, non-JSON, wrong result type) become one clear MetricsError.

Values and PromQL semantics are tested against a real Prometheus in tests/integration/metrics/.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.collect import prometheus as prom

HOSTS = ["cmp1", "cmp2"]


class Stub:
    def __init__(self):
        self.requests = []
        self.answer = (200, {"status": "success", "data": {"resultType": "vector", "result": []}})

        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                stub.requests.append(
                    {"path": self.path, "headers": dict(self.headers), "form": urllib.parse.parse_qs(body)}
                )
                status, payload = stub.answer
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/prom" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stub():
    s = Stub()
    yield s
    s.close()


def _vector(*samples):
    return {"status": "success", "data": {"resultType": "vector", "result": list(samples)}}


def test_bearer_token_form_body_and_time(stub):
    prom.collect(
        prom.HTTPTransport(stub.url, token="s3cret"), HOSTS, {}, {"metrics": ["node.cpu_util_pct"], "time": 1700000000}
    )
    (req,) = stub.requests
    assert req["path"] == "/prom/api/v1/query"
    assert req["headers"]["Authorization"] == "Bearer s3cret"
    assert req["form"]["time"] == ["1700000000.0"]
    assert req["form"]["query"] == [
        '100 - (avg by (fqdn)(rate(node_cpu_seconds_total{mode="idle",fqdn=~"(?:cmp1|cmp2)(?:\\\\..+)?"}[300s])) * 100)'
    ]


def test_basic_auth(stub):
    prom.collect(
        prom.HTTPTransport(stub.url, username="u", password="p"), HOSTS, {}, {"metrics": ["node.cpu_util_pct"]}
    )
    assert stub.requests[0]["headers"]["Authorization"] == "Basic dTpw"


def test_one_request_per_metric_whatever_the_scope(stub):
    hosts = ["cmp%04d" % i for i in range(1000)]
    instances = {"%08d-0000-4000-8000-000000000000" % i: 2 for i in range(5000)}
    out = prom.collect(prom.HTTPTransport(stub.url), hosts, instances, {})
    assert out["requests"] == len(stub.requests) == len(prom.SPECS)
    assert all(len(v) == 1000 for v in out["missing"]["node"].values())


@pytest.mark.parametrize(
    "answer, kind, text",
    [
        (
            (503, {"status": "error", "errorType": "unavailable", "error": "too busy"}),
            "server",
            "HTTP 503, unavailable: too busy",
        ),
        ((500, "<html>oops</html>"), "server", "HTTP 500, <html>oops</html>"),
        ((401, "Unauthorized"), "auth", "refused the query (HTTP 401: Unauthorized)"),
        ((403, {"status": "error", "error": "no"}), "forbidden", "HTTP 403"),
        (
            (422, {"status": "error", "errorType": "execution", "error": "too many samples"}),
            "bad_query",
            "execution: too many samples",
        ),
        ((200, "not json"), "bad_response", "not a Prometheus API answer"),
        (
            (200, {"status": "success", "data": {"resultType": "matrix", "result": []}}),
            "bad_response",
            "expected a vector",
        ),
        ((200, _vector({"metric": {"fqdn": "cmp1"}})), "bad_response", "malformed answer"),
        (
            (200, _vector({"metric": {"fqdn": "cmp1"}, "value": [1, "abc"]})),
            "bad_response",
            "'abc' for cmp1 is not a number",
        ),
    ],
)
def test_bad_answers_are_one_clear_error(stub, answer, kind, text):
    stub.answer = answer
    with pytest.raises(prom.MetricsError) as err:
        prom.collect(prom.HTTPTransport(stub.url), HOSTS, {}, {"metrics": ["node.cpu_util_pct"]})
    assert err.value.kind == kind
    assert text in err.value.message
    assert stub.url in err.value.message


def test_nan_inf_and_prometheus_warnings(stub):
    stub.answer = (
        200,
        dict(
            _vector(
                {"metric": {"fqdn": "cmp1.example.com"}, "value": [1, "NaN"]},
                {"metric": {"fqdn": "cmp2.example.com"}, "value": [1, "+Inf"]},
            ),
            warnings=["results truncated"],
        ),
    )
    out = prom.collect(prom.HTTPTransport(stub.url), HOSTS, {}, {"metrics": ["node.cpu_util_pct"]})
    assert out["rows"] == []
    assert out["missing"]["node"]["cpu_util_pct"] == ["cmp1", "cmp2"]
    assert out["warnings"] == [
        "node cpu_util_pct (mean over 300s): Prometheus warns: results truncated",
        "node cpu_util_pct (mean over 300s): NaN or infinite value, no metric for cmp1, cmp2",
    ]


def test_selector_and_escaping():
    assert prom.selector("a", ['x="1"']) == 'a{x="1"}'
    assert prom.selector('a{b="c"}', ['x="1"']) == 'a{b="c",x="1"}'
    assert prom.selector("a{}", [None]) == "a{}"
    assert prom.promql_string('a"b\\c') == '"a\\"b\\\\c"'
    assert prom.regex_escape("cmp1.example.com") == "cmp1\\.example\\.com"


def test_aetos_transport_sends_the_keystone_token(stub):
    from keystoneauth1 import session, token_endpoint

    sess = session.Session(auth=token_endpoint.Token(stub.url, "ks-token"))
    transport = prom.KeystoneTransport(sess, service_type="metric-storage")
    assert transport.base == stub.url
    prom.collect(transport, HOSTS, {}, {"metrics": ["node.cpu_util_pct"]})
    (req,) = stub.requests
    assert req["headers"]["X-Auth-Token"] == "ks-token"
    assert req["path"] == "/prom/api/v1/query"
    stub.answer = (401, {"error": "token expired"})
    with pytest.raises(prom.MetricsError) as err:
        prom.collect(transport, HOSTS, {}, {"metrics": ["node.cpu_util_pct"]})
    assert err.value.kind == "auth" and "Aetos at %s refused the query (HTTP 401" % stub.url in err.value.message
