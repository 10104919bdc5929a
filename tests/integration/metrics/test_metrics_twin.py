"""metrics_info on the twin's series in a real Prometheus: backfilled 24 h history + live scrapes.

The expected values come from the topology's utilisation profiles (twin/topologies/demo.yaml)
and the twin's documented series model (twin/README.md, "Metrics"): over a whole day the
diurnal swing averages out, so a server's mean CPU is its ``cpu_util_pct``; a host's busy
fraction is the sum of its ACTIVE servers' ``cpu_util_pct x vcpus`` over its CPUs plus the
host overhead (capped at 98 %); RAM used is ``ram_util_pct x flavor RAM`` (+ the host's
reserved memory for hosts).
"""

import math
import time
import zlib

import pytest
from ansible_run import run_playbook, tasks_play

from ansible_collections.vigil.openstack.plugins.module_utils.collect import prometheus as prom
from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry
from vigil_twin.services.metrics import write_history
from vigil_twin.testing import running_twin, write_clouds_yaml

DAY = 86400


@pytest.fixture(scope="module")
def env(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    tmp = tmp_path_factory.mktemp("twin-metrics")
    with running_twin() as twin:
        store = twin.cloud.stores["metrics"]
        end = int(store.t_load)
        write_history(twin.cloud, str(tmp / "history.om"), hours=24, step=60, end=end)
        clouds = write_clouds_yaml(twin, tmp / "clouds.yaml")
        with PrometheusServer(history=tmp / "history.om", scrape=twin.url + "/metrics", scrape_interval="1s") as server:
            yield {"twin": twin, "store": store, "server": server, "end": end, "clouds": clouds}


def _expected(twin):
    """Daily means implied by the topology, per host and per ACTIVE server."""
    compute = twin.cloud.stores["compute"]
    overhead = twin.cloud.stores["metrics"].overhead
    hosts, servers = {}, {}
    for sid, s in compute.servers.items():
        if s["status"] != "ACTIVE":
            continue
        servers[sid] = {
            "cpu": float(s.get("cpu_util_pct") or 0),
            "ram": s["flavor"]["ram"] * float(s.get("ram_util_pct") or 0) / 100.0,
        }
    for host, node in compute.nodes.items():
        ncpu = int(node.get("vcpus") or 0) + int(node.get("pcpus") or 0)
        mine = [s for s in compute.servers.values() if s["host"] == host and s["status"] == "ACTIVE"]
        busy = sum(float(s.get("cpu_util_pct") or 0) / 100.0 * s["flavor"]["vcpus"] for s in mine) / ncpu
        frac = min(busy + overhead, 0.98)
        reserved = int((node.get("reserved") or {}).get("memory_mb") or 512)
        inlet = 21.0 + (zlib.crc32(host.encode()) % 40) / 10.0
        hosts[host] = {
            "cpu": frac * 100.0,
            "ram": reserved + sum(servers[s["id"]]["ram"] for s in mine),
            "inlet": inlet,
            "outlet": inlet + 5.0 + 15.0 * frac,
            "power": 120.0 + 330.0 * frac,
            "airflow": 40.0 + 60.0 * frac,
        }
    return hosts, servers


@pytest.fixture(scope="module")
def measured(env, tmp_path_factory):
    """compute_model_info then metrics_info (daily means) run by ansible-playbook, as users do."""
    tmp = tmp_path_factory.mktemp("measured")
    run = run_playbook(
        tmp,
        tasks_play(
            {"name": "model", "vigil.openstack.compute_model_info": {"cloud": "vigil-twin"}, "register": "cluster"},
            {
                "name": "metrics",
                "vigil.openstack.metrics_info": {
                    "model": "{{ cluster.model }}",
                    "prometheus_url": env["server"].url,
                    "period": DAY,
                    "evaluation_time": str(env["end"]),
                },
            },
        ),
        clouds_yaml=env["clouds"],
    )
    assert run.rc == 0, run.stdout + run.stderr
    return run


def test_daily_means_match_the_topology_profiles(env, measured):
    twin, run = env["twin"], measured
    res = run.task("metrics")
    rows = {(r[0], r[1], r[2]): r[5] for r in res["metrics"]["data"]}
    hosts, servers = _expected(twin)
    assert hosts and servers
    for host, exp in hosts.items():
        assert rows[("node", host, "cpu_util_pct")] == pytest.approx(exp["cpu"], abs=0.3), host
        assert rows[("node", host, "ram_used_mb")] == pytest.approx(exp["ram"], abs=1.0), host
        assert rows[("node", host, "inlet_temp_c")] == pytest.approx(exp["inlet"], abs=0.01), host
        assert rows[("node", host, "outlet_temp_c")] == pytest.approx(exp["outlet"], abs=0.1), host
        assert rows[("node", host, "power_w")] == pytest.approx(exp["power"], abs=1.0), host
        assert rows[("node", host, "airflow")] == pytest.approx(exp["airflow"], abs=0.2), host
    for sid, exp in servers.items():
        assert rows[("instance", sid, "cpu_util_pct")] == pytest.approx(exp["cpu"], abs=0.3), sid
        assert rows[("instance", sid, "ram_used_mb")] == pytest.approx(exp["ram"], abs=0.01), sid
    # compute-1 and compute-10 are different hosts with different loads
    assert rows[("node", "compute-1", "cpu_util_pct")] != pytest.approx(
        rows[("node", "compute-10", "cpu_util_pct")], abs=1
    )
    # the SHUTOFF server has no series: reported, not invented
    shutoff = [s["id"] for s in twin.cloud.stores["compute"].servers.values() if s["status"] != "ACTIVE"]
    assert shutoff and set(shutoff) <= set(res["missing"]["instance"]["cpu_util_pct"])
    assert not any(r[1] in shutoff for r in res["metrics"]["data"])
    # the twin exports no L3 cache series: one warning, no rows
    assert any("l3_cache_mb" in w and "no series at all" in w for w in res["metric_warnings"])
    assert res["requests"] == len(prom.SPECS)
    assert res["model"]["metrics"] == res["metrics"] and res["model"]["nodes"] == run.task("model")["model"]["nodes"]


def test_live_scrape_follows_the_current_load(env):
    store, server, twin = env["store"], env["server"], env["twin"]
    server.wait_for('count_over_time(node_memory_MemTotal_bytes{fqdn="compute-1"}[10s]) >= 5', timeout=40)
    compute = twin.cloud.stores["compute"]
    vcpus = {sid: s["flavor"]["vcpus"] for sid, s in compute.servers.items()}
    now = time.time()
    out = prom.collect(
        prom.HTTPTransport(server.url),
        list(compute.nodes),
        vcpus,
        {"period": 5, "metrics": ["instance.cpu_util_pct", "node.cpu_util_pct"], "time": now},
    )
    rows = {(r[0], r[1]): r[5] for r in out["rows"]}
    checked = 0
    for sid, s in compute.servers.items():
        if s["status"] != "ACTIVE":
            assert ("instance", sid) not in rows
            continue
        # the instantaneous profile value (base + diurnal swing at this time of day)
        expected = store.cpu_pct(sid, s, now - 3)
        assert rows[("instance", sid)] == pytest.approx(expected, abs=0.5), s["name"]
        checked += 1
    assert checked >= 20
    busy = {
        h: sum(
            store.cpu_pct(sid, s, now - 3) / 100 * s["flavor"]["vcpus"]
            for sid, s in compute.servers.items()
            if s["host"] == h
        )
        for h in compute.nodes
    }
    for host, node in compute.nodes.items():
        ncpu = node["vcpus"] + int(node.get("pcpus") or 0)
        expected = min(busy[host] / ncpu + store.overhead, 0.98) * 100
        assert rows[("node", host)] == pytest.approx(expected, abs=0.5), host
    assert not math.isnan(sum(rows.values()))


def _moves(plan):
    return [
        (a["input"]["source_node"], a["input"]["destination_node"]) for a in plan["actions"] if a["type"] == "migrate"
    ]


def test_outlet_temperature_plan_follows_the_profiles(env, measured):
    """Hot hosts are the ones the profiles make hot; each sends one server to the coolest allowed host."""
    model = measured.task("metrics")["model"]
    hosts = _expected(env["twin"])[0]
    nodes = env["twin"].cloud.stores["compute"].nodes
    threshold = 35.0
    hot = {h for h, e in hosts.items() if e["outlet"] > threshold}
    assert hot == {"compute-1", "compute-2"}  # the busy hosts of the demo topology
    assert {nodes[h]["az"] for h in hot} == {"az1"}
    coolest = min((e["outlet"], h) for h, e in hosts.items() if nodes[h]["az"] == "az1" and h not in hot)[1]
    plan = registry.run(
        model,
        "thermal_optimization",
        strategy="outlet_temperature",
        params={"threshold": threshold, "aggregate_policy": "any"},
    )
    assert plan["efficacy"]["hot_nodes_before"] == len(hot)
    assert sorted(_moves(plan)) == sorted((h, coolest) for h in hot)
    # with the default aggregate policy the ssd hosts can only trade with each other: said, not forced
    plan = registry.run(model, "thermal_optimization", strategy="outlet_temperature", params={"threshold": threshold})
    assert _moves(plan) == [] and {w["resource"] for w in plan["warnings"]} == hot
    plan = registry.run(model, "thermal_optimization", strategy="outlet_temperature", params={"threshold": 60})
    assert plan["efficacy"]["hot_nodes_before"] == 0 and plan["actions"] == []


def test_workload_stabilization_unloads_the_busiest_host(env, measured):
    model = measured.task("metrics")["model"]
    hosts = _expected(env["twin"])[0]
    busiest = max((e["cpu"], h) for h, e in hosts.items())[1]
    plan = registry.run(model, "workload_balancing", strategy="workload_stabilization")
    moves = _moves(plan)
    assert moves and moves[0][0] == busiest == "compute-1"
    eff = plan["efficacy"]
    assert eff["cpu_standard_deviation_after"] < eff["cpu_standard_deviation_before"]
