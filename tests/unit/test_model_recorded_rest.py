"""Storage and baremetal builders on payloads recorded from the twin (record_collect_rest.py)."""

import json
from collections import Counter
from pathlib import Path

from ansible_collections.vigil.openstack.plugins.module_utils.model import baremetal, storage

FIXTURES = Path(__file__).parent / "fixtures"


def load(name):
    return json.loads((FIXTURES / name).read_text())


def test_recorded_cinder_tables_agree():
    raw = load("twin_cinder.json")
    vols = storage.volumes(raw["volumes"])
    pools = storage.pools(raw["pools"], raw["volume_types"])
    assert len(vols) == 27 and len(pools) == 3
    # the pool statistics Cinder reports equal the sum of the volumes placed on each pool
    sizes = Counter()
    for pool, size in zip(vols["pool"], vols["size_gb"]):
        sizes[pool] += int(size)
    for name, allocated in zip(pools["name"], pools["allocated_capacity_gb"]):
        assert allocated == sizes[name]
    attached = vols[vols["attachments"].map(len) > 0]
    assert sorted(attached["name"]) == ["db-data", "web-data"]
    assert {a["volume_id"] for a in raw["attachments"]} == set(attached["id"])


def test_recorded_baremetal_table():
    raw = load("twin_baremetal.json")
    df = baremetal.build(raw["ironic"], raw["maas"], raw["compute_hosts"], raw["hypervisors"])
    links = dict(zip(df["name"], df["hostname"]))
    assert links == {
        "bm-compute-1": "compute-1",
        "bm-compute-10": "compute-10",
        "bm-spare": "",
        "compute-2": "compute-2",
        "rack9-u12": "compute-3",
        "compute-11x": "",
    }
    assert dict(zip(df["name"], df["power_state"]))["compute-11x"] == "unknown"
