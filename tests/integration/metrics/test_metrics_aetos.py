"""datasource=aetos: Keystone (the twin's) authenticates, the catalog gives the endpoint.

The twin's catalog has no ``metric-storage`` service, which is the clear-error case; with
``aetos_endpoint`` the token-carrying session queries the real Prometheus.
"""

import pytest
from ansible_run import tasks_play
from promseries import History

END = 1_700_000_000


@pytest.fixture(scope="module")
def server(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    h = History(END - 1200, END)
    h.host("cmp1.example.com", 42)
    with PrometheusServer(history=h.write(tmp_path_factory.mktemp("h") / "h.om")) as srv:
        yield srv


def _task(name, **args):
    base = dict(cloud="vigil-twin", datasource="aetos", hostnames=["cmp1"], metrics=["node.cpu_util_pct"], period=600)
    base.update(args)
    base["evaluation_time"] = str(END)
    return {"name": name, "vigil.openstack.metrics_info": base, "ignore_errors": True}


def test_aetos_through_keystone(server, playbook):
    run = playbook(
        tasks_play(
            _task("no catalog entry"),
            _task("endpoint given", aetos_endpoint=server.url),
            _task("bad credentials", cloud="nope-not-a-cloud", aetos_endpoint=server.url),
        )
    )
    res = run.task("no catalog entry")
    assert run.status("no catalog entry") == "failed"
    assert res["kind"] == "missing_service" and "metric-storage" in res["msg"]
    res = run.task("endpoint given")
    assert run.status("endpoint given") == "ok", res
    assert [r[:3] for r in res["metrics"]["data"]] == [["node", "cmp1", "cpu_util_pct"]]
    assert res["metrics"]["data"][0][5] == pytest.approx(42, abs=0.01)
    assert res["requests"] == 1
    assert run.status("bad credentials") == "failed" and run.task("bad credentials")["kind"] == "connection"
