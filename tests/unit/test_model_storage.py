"""Storage builders (volumes, pools) on recorded Cinder payloads."""

import json
import math
from pathlib import Path

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema, storage

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def cinder():
    return json.loads((FIXTURES / "cinder_payloads.json").read_text())


def test_volumes_columns_and_dtypes(cinder):
    df = storage.volumes(cinder["volumes"])
    assert list(df.columns) == schema.columns("volumes")
    for col, dtype in schema.dtypes("volumes").items():
        assert str(df[col].dtype) == dtype if dtype != "string" else str(df[col].dtype).startswith("string"), col
    assert len(df) == 4


def test_volumes_values(cinder):
    df = storage.volumes(cinder["volumes"]).set_index("id")
    v1 = df.loc["0a1b2c3d-0000-4000-8000-000000000001"]
    assert v1["host"] == "storage-1@lvm#lvm-1"
    assert v1["pool"] == "storage-1@lvm#lvm-1"  # the join key: pools.name
    assert v1["size_gb"] == 100
    assert v1["project_id"] == "11111111111111111111111111111111"
    assert v1["attachments"] == ["5e000000-0000-4000-8000-000000000001"]
    assert not v1["bootable"]
    v2 = df.loc["0a1b2c3d-0000-4000-8000-000000000002"]
    assert v2["name"] == ""
    assert bool(v2["bootable"]) is True
    assert v2["migration_status"] == "migrating"  # from os-vol-mig-status-attr:migstat
    assert v2["az"] == "az2"
    v3 = df.loc["0a1b2c3d-0000-4000-8000-000000000003"]
    assert v3["attachments"] == ["5e000000-0000-4000-8000-000000000002", "5e000000-0000-4000-8000-000000000003"]
    assert v3["migration_status"] == "success"
    v4 = df.loc["0a1b2c3d-0000-4000-8000-000000000004"]
    assert v4["host"] == "" and v4["pool"] == "" and v4["volume_type"] == ""


def test_volumes_project_scope(cinder):
    df = storage.volumes(cinder["volumes"], project_ids=["11111111111111111111111111111111"])
    assert sorted(df["name"]) == ["db-data", "shared"]
    assert list(df.index) == [0, 1]
    assert len(storage.volumes(cinder["volumes"], project_ids=[])) == 0


def test_volumes_host_joins_pools(cinder):
    vols = storage.volumes(cinder["volumes"])
    pools = storage.pools(cinder["pools"], cinder["volume_types"])
    placed = vols[vols["pool"] != ""]
    assert set(placed["pool"]) <= set(pools["name"])
    assert (placed["pool"] == placed["host"]).all()


def test_pools_capacities(cinder):
    df = storage.pools(cinder["pools"], cinder["volume_types"]).set_index("name")
    assert list(df.reset_index().columns) == schema.columns("pools")
    lvm = df.loc["storage-1@lvm#lvm-1"]
    assert lvm["backend"] == "lvm"
    assert lvm["total_capacity_gb"] == 1000.0
    assert lvm["free_capacity_gb"] == 400.5
    assert lvm["allocated_capacity_gb"] == 600.0
    assert lvm["max_over_subscription_ratio"] == 1.0
    assert not lvm["thin_provisioning"]
    assert lvm["reserved_percentage"] == 5.0
    ceph = df.loc["storage-1@ceph#rbd"]
    assert ceph["total_capacity_gb"] == storage.INFINITE_GB and ceph["free_capacity_gb"] == storage.INFINITE_GB
    assert ceph["thin_provisioning"]
    # auto with an infinite total: Cinder's default ratio
    assert ceph["max_over_subscription_ratio"] == storage.DEFAULT_OVER_SUBSCRIPTION


def test_pools_auto_ratio_and_fallbacks(cinder):
    df = storage.pools(cinder["pools"], cinder["volume_types"]).set_index("name")
    nfs = df.loc["storage-2@nfs#share"]
    assert nfs["backend"] == "nfs"  # from the pool name, no volume_backend_name reported
    assert math.isnan(nfs["free_capacity_gb"])  # "unknown"
    assert nfs["allocated_capacity_gb"] == 1200.0  # provisioned_capacity_gb fallback
    assert nfs["thin_provisioning"]  # "True" string
    # auto: 1 + provisioned / (total - free + 1), free unknown -> NaN propagates
    assert math.isnan(nfs["max_over_subscription_ratio"])
    thin = df.loc["storage-3@thin#p1"]
    assert thin["max_over_subscription_ratio"] == storage.DEFAULT_OVER_SUBSCRIPTION  # thin, unset
    assert thin["reserved_percentage"] == 10.0


def test_auto_ratio_formula():
    caps = {"max_over_subscription_ratio": "auto", "provisioned_capacity_gb": 300, "thin_provisioning_support": True}
    assert storage._over_subscription(caps, 100.0, 49.0, 300.0) == pytest.approx(1 + 300 / 52.0)


def test_pools_volume_types(cinder):
    df = storage.pools(cinder["pools"], cinder["volume_types"]).set_index("name")
    assert df.loc["storage-1@lvm#lvm-1", "volume_types"] == ["lvm-standard", "__DEFAULT__"]
    assert df.loc["storage-1@ceph#rbd", "volume_types"] == ["ceph-fast", "ceph-private", "__DEFAULT__"]
    assert df.loc["storage-2@nfs#share", "volume_types"] == ["__DEFAULT__"]


def test_empty_payloads_give_typed_empty_tables():
    vols = storage.volumes([])
    pools = storage.pools([], [])
    assert len(vols) == 0 and list(vols.columns) == schema.columns("volumes")
    assert len(pools) == 0 and list(pools.columns) == schema.columns("pools")
    assert str(vols["size_gb"].dtype) == "int64"


def test_split_round_trip(cinder):
    tables = {
        "volumes": storage.volumes(cinder["volumes"]),
        "pools": storage.pools(cinder["pools"], cinder["volume_types"]),
    }
    model = frame.dump_model(tables, {"cloud": "test"})
    json.dumps(model, allow_nan=False)  # JSON-safe: inf/NaN must not leak
    back = frame.load_model(model)
    assert back["volumes"]["size_gb"].tolist() == tables["volumes"]["size_gb"].tolist()
    assert back["pools"]["name"].tolist() == tables["pools"]["name"].tolist()
