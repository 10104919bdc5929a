"""Metrics twin: /metrics exposition consistent with the compute store, moving with migrations and
power, and the OpenMetrics history file (checked with promtool when it is installed)."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import pytest
import requests
from rest_twin import Rest, load_stores, topology, wait_for

from vigil_twin.errors import TopologyError
from vigil_twin.services.metrics import write_history

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (\d+))?$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """A small parser of the text exposition: name -> [(labels, value)]; every family has a TYPE."""
    families: dict[str, list[tuple[dict[str, str], float]]] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"unparsable line: {line!r}"
        name, labels, value = m.group(1), dict(LABEL.findall(m.group(2) or "")), float(m.group(3))
        assert name in typed or name.removesuffix("_total") in typed, f"{name} has no TYPE"
        families.setdefault(name, []).append((labels, value))
    return families


def scrape(twin) -> dict[str, list[tuple[dict[str, str], float]]]:
    return scrape_stamped(twin)[0]


def scrape_stamped(twin) -> tuple[dict[str, list[tuple[dict[str, str], float]]], float]:
    """The families and the one time (s) every sample is stamped with, which lies within the request."""
    sent = time.time()
    resp = requests.get(f"{twin.url}/metrics", timeout=10)
    answered = time.time()
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    stamps = {m.group(4) for m in map(SAMPLE.match, resp.text.splitlines()) if m}
    assert len(stamps) == 1 and None not in stamps, stamps
    stamp = int(stamps.pop()) / 1000
    assert sent - 0.001 <= stamp <= answered
    return parse(resp.text), stamp


def one(families, name: str, **labels: str) -> float:
    found = [v for lab, v in families.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, (name, labels, found)
    return found[0]


def busy_per_cpu(families, host: str) -> float:
    return sum(
        v
        for lab, v in families["node_cpu_seconds_total"]
        if lab["fqdn"] == host and lab["cpu"] == "0" and lab["mode"] != "idle"
    )


def total_per_cpu(families, host: str) -> float:
    return sum(v for lab, v in families["node_cpu_seconds_total"] if lab["fqdn"] == host and lab["cpu"] == "0")


@pytest.fixture
def cloud(twin_factory):
    return twin_factory(topology(metrics={"diurnal_amplitude": 0}), speed=50)


def test_bad_metrics_config_names_the_field():
    with pytest.raises(TopologyError, match=re.escape("metrics.diurnal_amplitude")):
        load_stores(topology(metrics={"diurnal_amplitude": 3}))
    with pytest.raises(TopologyError, match=re.escape("metrics.max_cpus_per_host")):
        load_stores(topology(metrics={"max_cpus_per_host": 0}))


def test_exposition_shape(cloud):
    fams = scrape(cloud)
    cpu = fams["node_cpu_seconds_total"]
    assert {lab["fqdn"] for lab, _ in cpu} == {"cmp-1", "cmp-2", "cmp-3"}
    assert {lab["mode"] for lab, _ in cpu} == {"idle", "user", "system", "iowait"}
    assert {lab["cpu"] for lab, _ in cpu if lab["fqdn"] == "cmp-1"} == {"0", "1", "2", "3"}
    assert one(fams, "node_memory_MemTotal_bytes", fqdn="cmp-1") == 131072 * 1024 * 1024
    servers = cloud.cloud.stores["compute"].servers
    assert {lab["resource"] for lab, _ in fams["ceilometer_cpu"]} == set(servers)
    assert {lab["resource"] for lab, _ in fams["ceilometer_memory_usage"]} == set(servers)
    temps = {lab["name"] for lab, _ in fams["ipmi_temperature_celsius"]}
    assert temps == {"Inlet Temp", "Outlet Temp"}
    assert one(fams, "ipmi_dcmi_power_consumption_watts", fqdn="cmp-1") > 120
    assert one(fams, "ipmi_airflow_cfm", fqdn="cmp-1") > 40


def test_values_follow_utilisation(cloud):
    compute = cloud.cloud.stores["compute"]
    vm1, vm2 = compute.server_by_name["vm-1"], compute.server_by_name["vm-2"]
    node = compute.nodes["cmp-1"]
    before, t0 = scrape_stamped(cloud)
    time.sleep(1.0)
    after, t1 = scrape_stamped(cloud)
    # the samples' stamps are when the counters were computed, so rates over them are exact
    # (to the stamps' millisecond), however late a busy machine served the scrape
    elapsed = t1 - t0
    # per CPU, all modes together advance one second per second
    assert total_per_cpu(after, "cmp-1") - total_per_cpu(before, "cmp-1") == pytest.approx(elapsed, abs=0.002)
    # host busy = (vm-1: 4 vCPU at 50 % + vm-2: 4 vCPU at 80 %) / 32 CPUs + 2 % overhead
    busy = (busy_per_cpu(after, "cmp-1") - busy_per_cpu(before, "cmp-1")) / elapsed
    assert busy == pytest.approx((4 * 0.5 + 4 * 0.8) / 32 + 0.02, rel=0.003)
    # ceilometer_cpu: cumulative ns, rate / 1e9 = cores used
    rate = (one(after, "ceilometer_cpu", resource=vm1) - one(before, "ceilometer_cpu", resource=vm1)) / elapsed
    assert rate / 1e9 == pytest.approx(4 * 0.5, rel=0.003)
    assert one(after, "ceilometer_memory_usage", resource=vm2) == pytest.approx(8192 * 0.4)
    used_mb = node["reserved"]["memory_mb"] + 8192 * 0.6 + 8192 * 0.4
    available = one(after, "node_memory_MemAvailable_bytes", fqdn="cmp-1")
    assert available == pytest.approx((131072 - used_mb) * 1024 * 1024, rel=1e-6)


def test_migration_moves_the_load(cloud):
    compute = cloud.cloud.stores["compute"]
    vm2 = compute.server_by_name["vm-2"]
    first = scrape(cloud)
    avail1 = one(first, "node_memory_MemAvailable_bytes", fqdn="cmp-1")
    avail2 = one(first, "node_memory_MemAvailable_bytes", fqdn="cmp-2")
    api = Rest(cloud)
    body = {"os-migrateLive": {"host": "cmp-2", "block_migration": "auto"}}
    resp = api("POST", f"/compute/v2.1/servers/{vm2}/action", body, headers={"X-OpenStack-Nova-API-Version": "2.96"})
    assert resp.status_code == 202, resp.text
    wait_for(
        lambda: compute.servers[vm2]["host"] == "cmp-2" and compute.servers[vm2]["status"] == "ACTIVE", "migration"
    )
    before, t0 = scrape(cloud), time.time()
    time.sleep(1.0)
    after, t1 = scrape(cloud), time.time()
    moved = 8192 * 0.4 * 1024 * 1024
    assert one(after, "node_memory_MemAvailable_bytes", fqdn="cmp-1") == pytest.approx(avail1 + moved, rel=1e-6)
    assert one(after, "node_memory_MemAvailable_bytes", fqdn="cmp-2") == pytest.approx(avail2 - moved, rel=1e-6)
    elapsed = t1 - t0
    busy1 = (busy_per_cpu(after, "cmp-1") - busy_per_cpu(before, "cmp-1")) / elapsed
    busy2 = (busy_per_cpu(after, "cmp-2") - busy_per_cpu(before, "cmp-2")) / elapsed
    assert busy1 == pytest.approx(4 * 0.5 / 32 + 0.02, rel=0.1)
    assert busy2 == pytest.approx((1 * 0.1 + 4 * 0.8) / 32 + 0.02, rel=0.1)
    # the server's own counter carries on across the move
    assert one(after, "ceilometer_cpu", resource=vm2) > one(first, "ceilometer_cpu", resource=vm2)


def test_powered_off_host_stops_exporting(cloud):
    api = Rest(cloud)
    resp = api("PUT", "/baremetal/v1/nodes/bm-1/states/power", {"target": "power off"})
    assert resp.status_code == 202
    wait_for(lambda: cloud.cloud.stores["baremetal"].find("bm-1")["power_state"] == "power off", "power off")
    fams = scrape(cloud)
    assert not [lab for lab, _ in fams["node_cpu_seconds_total"] if lab["fqdn"] == "cmp-1"]
    assert one(fams, "ipmi_dcmi_power_consumption_watts", fqdn="cmp-1") < 20


def test_history_file(cloud, tmp_path):
    path = tmp_path / "history.om"
    end = time.time()
    samples = write_history(cloud.cloud, str(path), hours=1, step=60, end=end)
    text = path.read_text()
    assert text.endswith("# EOF\n")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == samples
    stamps = {int(line.rsplit(" ", 1)[1]) for line in lines}
    assert min(stamps) == int(end) - 3600 and max(stamps) == int(end), "timestamps in seconds"
    assert len(stamps) == 61
    assert "# TYPE node_cpu_seconds counter" in text
    families = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(families) == len(set(families)), "each family appears once"
    # a counter only grows along the history
    series = [
        float(line.split()[1])
        for line in lines
        if line.startswith('node_cpu_seconds_total{cpu="0",fqdn="cmp-1",mode="idle"}')
    ]
    assert len(series) == 61 and series == sorted(series)


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")
def test_history_backfills_with_promtool(cloud, tmp_path):
    path = tmp_path / "history.om"
    write_history(cloud.cloud, str(path), hours=1, step=300)
    out = subprocess.run(
        ["promtool", "tsdb", "create-blocks-from", "openmetrics", str(path), str(tmp_path / "tsdb")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / "tsdb").iterdir()), "promtool wrote at least one block"


def test_history_cli(tmp_path, capsys):
    import json

    import yaml

    from vigil_twin.cli import main

    topo = tmp_path / "topo.yaml"
    topo.write_text(yaml.safe_dump(topology()))
    out = tmp_path / "h.om"
    args = ["history", "--topology", str(topo), "--hours", "1", "--step", "600", "--end", "1800000000"]
    assert main([*args, "--label", "job=twin", "-o", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    text = out.read_text()
    assert report["samples"] == len([line for line in text.splitlines() if not line.startswith("#")])
    assert text.endswith("# EOF\n")
    assert " 1800000000\n" in text and " 1799996400\n" in text
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert samples and all('job="twin"' in line for line in samples)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(topology(metrics={"diurnal_amplitude": -1})))
    assert main(["history", "--topology", str(bad), "-o", str(tmp_path / "x.om")]) == 2
    assert "metrics.diurnal_amplitude" in capsys.readouterr().err
