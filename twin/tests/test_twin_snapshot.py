"""Serving a vigil model snapshot: the twin rebuilds the cloud from the model's tables."""

from __future__ import annotations

import gzip
import json

import openstack
import pytest

from vigil_twin.testing import running_twin, write_clouds_yaml
from vigil_twin.topology import TopologyError, load_topology


def split(rows: list[dict]) -> dict:
    cols = list(rows[0])
    return {"columns": cols, "data": [[r[c] for c in cols] for r in rows]}


def node(host: str, **kw) -> dict:
    row = {"hostname": host, "rp_uuid": None, "status": "enabled", "state": "up", "disabled_reason": None, "forced_down": False,
           "az": "az1", "aggregates": ["az1"], "traits": [], "vcpu_total": 16, "vcpu_reserved": 0, "vcpu_allocation_ratio": 4.0,
           "memory_mb_total": 65536, "memory_mb_reserved": 512, "memory_mb_allocation_ratio": 1.0, "disk_gb_total": 500,
           "disk_gb_reserved": 0, "disk_gb_allocation_ratio": 1.0, "pcpu_total": 0}  # fmt: skip
    row.update(kw)
    return row


def inst(uuid: str, name: str, host: str, **kw) -> dict:
    row = {"uuid": uuid, "name": name, "project_id": "p" * 32, "user_id": "u" * 32, "host": host, "status": "ACTIVE", "locked": False,
           "flavor_name": "m1.small", "vcpus": 1, "memory_mb": 2048, "disk_gb": 20, "ephemeral_gb": 0, "swap_mb": 0, "extra_specs": {},
           "image_id": None, "boot_from_volume": False, "metadata": {}, "tags": []}  # fmt: skip
    row.update(kw)
    return row


MODEL = {
    "nodes": split([node("compute-1"), node("compute-2", status="disabled", disabled_reason="fan")]),
    "instances": split(
        [
            inst("11111111-1111-1111-1111-111111111111", "web", "compute-1"),
            inst("22222222-2222-2222-2222-222222222222", "web", "compute-2"),
            inst("33333333-3333-3333-3333-333333333333", "db", "compute-1", flavor_name="m1.small", memory_mb=4096),
        ]
    ),
    "server_groups": split(
        [
            {
                "id": "99999999-9999-9999-9999-999999999999",
                "name": "g",
                "policy": "anti-affinity",
                "max_server_per_host": 1,
                "members": ["11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"],
                "project_id": "p" * 32,
            }
        ]
    ),  # fmt: skip
    "metrics": split(
        [
            {
                "resource_type": "instance",
                "resource_id": "33333333-3333-3333-3333-333333333333",
                "metric": "cpu_util_pct",
                "aggregate": "mean",
                "period_s": 3600,
                "value": 42.0,
            }
        ]
    ),  # fmt: skip
    "meta": {"digest": "sha256:x", "collected": "2026-01-01T00:00:00Z", "cloud": "prod", "skipped": []},
}


def test_snapshot_file_becomes_a_topology(tmp_path):
    path = tmp_path / "snap.json.gz"
    with gzip.open(path, "wb") as gz:
        gz.write(json.dumps({"vigil_snapshot": 1, "model": MODEL}).encode())
    t = load_topology(path)
    servers = {s["id"]: s for s in t["servers"]}
    assert servers["11111111-1111-1111-1111-111111111111"]["name"] == "web~11111111"  # duplicate names made unique
    assert servers["33333333-3333-3333-3333-333333333333"]["cpu_util_pct"] == 42.0
    assert {f["name"] for f in t["flavors"]} == {"m1.small", "m1.small~2"}  # same name, other size
    assert t["nodes"][1]["status"] == "disabled" and t["nodes"][1]["disabled_reason"] == "fan"
    assert servers["22222222-2222-2222-2222-222222222222"]["server_groups"] == ["g"]
    with running_twin(t) as twin:
        compute = twin.cloud.stores["compute"]
        assert compute.servers["33333333-3333-3333-3333-333333333333"]["host"] == "compute-1"
        assert compute.servers["33333333-3333-3333-3333-333333333333"]["project_id"] == "p" * 32


def test_bad_snapshot_names_the_table(tmp_path):
    path = tmp_path / "bad.json"
    bad = dict(MODEL, instances={"columns": ["uuid"], "data": [["a", "b"]]})
    path.write_text(json.dumps(bad))
    with pytest.raises(TopologyError, match=r"model.instances.data\[0\]: expected 1 values"):
        load_topology(path)


def test_round_trip_through_the_collector(twin, clouds_yaml, tmp_path):
    compute_model = pytest.importorskip(
        "ansible_collections.vigil.openstack.plugins.module_utils.collect.compute_model"
    )
    frame = pytest.importorskip("ansible_collections.vigil.openstack.plugins.module_utils.model.frame")
    conn = openstack.connect(cloud="vigil-twin")
    tables, meta = compute_model.collect(conn)
    model = {k: frame.to_split(v) for k, v in tables.items()}
    model["meta"] = meta
    frame.save_snapshot(str(tmp_path / "snap.json.gz"), model)
    original = {s["id"]: s["host"] for s in twin.cloud.stores["compute"].servers.values()}
    with running_twin(tmp_path / "snap.json.gz") as copy:
        assert {s["id"]: s["host"] for s in copy.cloud.stores["compute"].servers.values()} == original
        src, dst = twin.cloud.stores["placement"], copy.cloud.stores["placement"]
        assert {u: dict(v) for u, v in src.usages.items()} == {u: dict(v) for u, v in dst.usages.items()}
        # the hosts' aggregate metadata (what Nova's aggregate filters read) survives the copy
        config = openstack.config.OpenStackConfig(config_files=[write_clouds_yaml(copy, tmp_path / "copy.yaml")])
        copied, _meta = compute_model.collect(openstack.connection.Connection(config=config.get_one("vigil-twin")))

        def metadata(t):
            return dict(zip(t["nodes"]["hostname"], t["nodes"]["aggregate_metadata"]))

        assert metadata(copied) == metadata(tables)
        assert metadata(tables)["compute-1"]["storage"] == ["ssd"]


def test_aggregates_rebuilt_give_each_host_its_merged_metadata():
    from vigil_twin.snapshot import _aggregates_with_metadata

    rows = [
        node("h1", aggregates=["az1", "a"], aggregate_metadata={"ssd": ["true"], "availability_zone": ["az1"]}),
        node("h2", aggregates=["az1", "a", "b"], aggregate_metadata={"ssd": ["false", "true"], "rack": ["r2"]}),
        node("h3", aggregates=["az1"], aggregate_metadata={"availability_zone": ["az1"]}),
    ]
    aggs = {a["name"]: a["metadata"] for a in _aggregates_with_metadata(rows)}
    assert aggs == {"a": {"ssd": "true"}, "b": {"rack": "r2", "ssd": "false,true"}}
