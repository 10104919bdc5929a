"""vigil.openstack.metrics_info run by ansible-playbook against a real Prometheus (and a file)."""

import datetime

import pytest
from ansible_run import run_playbook, tasks_play
from promseries import History

END = 1_700_000_000
PERIOD = 1800
U1 = "11111111-1111-4111-8111-111111111111"
U2 = "22222222-2222-4222-8222-222222222222"

MODEL = {
    "nodes": {
        "columns": ["hostname", "status"],
        "data": [["cmp1", "enabled"], ["cmp2", "enabled"], ["cmp9", "enabled"]],
    },
    "instances": {"columns": ["uuid", "host", "vcpus"], "data": [[U1, "cmp1", 2], [U2, "cmp2", 4]]},
    "meta": {"digest": "sha256:old", "cloud": "test"},
}


@pytest.fixture(scope="module")
def server(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    h = History(END - PERIOD - 600, END)
    h.host("cmp1.example.com", 25, mem_used_mb=8192)
    h.host("cmp2.example.com", 75, mem_used_mb=4096)
    h.instance(U1, 40, vcpus=2, ram_mb=1500)
    h.instance(U2, 10, vcpus=4, ram_mb=3000)
    with PrometheusServer(history=h.write(tmp_path_factory.mktemp("h") / "h.om")) as srv:
        yield srv


def _task(**args):
    args.setdefault("model", MODEL)
    args.setdefault("period", PERIOD)
    return {"name": "metrics", "vigil.openstack.metrics_info": args, "register": "m"}


def _rows(result):
    return {(r[0], r[1], r[2]): r[5] for r in result["metrics"]["data"]}


@pytest.mark.parametrize("check", [False, True], ids=["run", "check_mode"])
def test_fills_metrics_of_the_model(server, tmp_path, check):
    iso = datetime.datetime.fromtimestamp(END, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    run = run_playbook(
        tmp_path,
        tasks_play(_task(prometheus_url=server.url, evaluation_time=iso, metrics=["cpu_util_pct", "ram_used_mb"])),
        args=["--check"] if check else [],
    )
    assert run.rc == 0, run.stdout + run.stderr
    res = run.task("metrics")
    assert res["changed"] is False
    rows = _rows(res)
    assert rows[("node", "cmp1", "cpu_util_pct")] == pytest.approx(25, abs=0.01)
    assert rows[("node", "cmp2", "cpu_util_pct")] == pytest.approx(75, abs=0.01)
    assert rows[("node", "cmp1", "ram_used_mb")] == pytest.approx(8192, abs=0.01)
    assert rows[("instance", U1, "cpu_util_pct")] == pytest.approx(40, abs=0.01)
    assert rows[("instance", U2, "cpu_util_pct")] == pytest.approx(10, abs=0.01)
    assert rows[("instance", U2, "ram_used_mb")] == 3000.0
    assert res["requests"] == 4
    assert res["missing"]["node"] == {"cpu_util_pct": ["cmp9"], "ram_used_mb": ["cmp9"]}
    assert any("no series for 1 of 3 hosts: cmp9" in w for w in res["warnings"])  # surfaced as Ansible warnings
    model = res["model"]
    assert model["metrics"] == res["metrics"]
    assert model["meta"]["digest"].startswith("sha256:") and model["meta"]["digest"] != "sha256:old"
    assert model["meta"]["cloud"] == "test" and model["meta"]["metrics"]["period_s"] == PERIOD
    assert model["nodes"] == MODEL["nodes"]


def test_hostnames_and_instances_override_the_model(server, tmp_path):
    task = _task(
        prometheus_url=server.url,
        evaluation_time=str(END),
        hostnames=["cmp2"],
        instances=[{"uuid": U1, "vcpus": 1}],
        metrics=["cpu_util_pct"],
        aggregate=["mean", "max"],
    )
    task["vigil.openstack.metrics_info"].pop("model")
    run = run_playbook(tmp_path, tasks_play(task))
    assert run.rc == 0, run.stdout + run.stderr
    res = run.task("metrics")
    assert "model" not in res
    assert {(r[1], r[3]) for r in res["metrics"]["data"]} == {
        ("cmp2", "mean"),
        ("cmp2", "max"),
        (U1, "mean"),
        (U1, "max"),
    }
    assert _rows(res)[("instance", U1, "cpu_util_pct")] == pytest.approx(80, abs=0.01)  # 0.8 cpu-s/s on 1 vCPU


def test_unreachable_prometheus_fails_clearly(tmp_path):
    from vigil_prometheus_harness import free_port

    url = "http://127.0.0.1:%d" % free_port()
    run = run_playbook(tmp_path, tasks_play(dict(_task(prometheus_url=url, api_timeout=5), ignore_errors=True)))
    res = run.task("metrics")
    assert run.status("metrics") == "failed" and res["kind"] == "unreachable"
    assert res["msg"] == "cannot reach Prometheus at %s: connection refused" % url


def test_bad_input_fails_before_any_request(tmp_path):
    run = run_playbook(
        tmp_path,
        tasks_play(
            dict(_task(prometheus_url="http://127.0.0.1:9", period=-5), ignore_errors=True),
            dict(_task(datasource="file"), ignore_errors=True, name="nofile"),
        ),
    )
    res = run.task("metrics")
    assert (
        run.status("metrics") == "failed" and res["kind"] == "bad_input" and "period must be a positive" in res["msg"]
    )
    assert run.status("nofile") == "failed" and "metrics_file" in run.task("nofile")["msg"]


def test_file_datasource(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text(
        f"resource_type,resource_id,metric,value\nnode,cmp1.example.com,cpu_util_pct,33\ninstance,{U2},ram_used_mb,nan\n"
    )
    run = run_playbook(tmp_path, tasks_play(_task(datasource="file", metrics_file=str(path))))
    assert run.rc == 0, run.stdout + run.stderr
    res = run.task("metrics")
    assert res["metrics"]["data"] == [["node", "cmp1", "cpu_util_pct", "mean", PERIOD, 33.0]]
    assert res["missing"]["instance"]["ram_used_mb"] == [U1, U2]
    assert res["requests"] == 0
