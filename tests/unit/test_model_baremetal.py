"""Baremetal builder on recorded Ironic and MAAS payloads; exact compute-host linking."""

import json
from pathlib import Path

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.model import baremetal, frame, schema

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def payloads():
    return json.loads((FIXTURES / "baremetal_payloads.json").read_text())


@pytest.fixture(scope="module")
def table(payloads):
    return baremetal.build(payloads["ironic"], payloads["maas"], payloads["compute_hosts"], payloads["hypervisors"])


def test_columns_and_rows(table):
    assert list(table.columns) == schema.columns("baremetal")
    assert len(table) == 8
    assert table["backend"].tolist() == ["ironic"] * 4 + ["maas"] * 4
    assert str(table["maintenance"].dtype) == "bool"


def test_power_and_provision_states(table):
    by_name = table.set_index("name")
    assert by_name.loc["bm-a", "power_state"] == "on"
    assert by_name.loc["bm-b", "power_state"] == "off"
    assert by_name.loc["compute-10", "power_state"] == "unknown"  # Ironic power_state null
    assert by_name.loc["compute-2", "power_state"] == "on"
    assert by_name.loc["node-3", "power_state"] == "off"
    assert by_name.loc["compute-2-old", "power_state"] == "unknown"  # MAAS "error"
    assert by_name.loc["bm-b", "provision_state"] == "available"
    assert by_name.loc["node-3", "provision_state"] == "Ready"
    assert bool(by_name.loc["bm-b", "maintenance"]) and bool(by_name.loc["node-3", "maintenance"])
    assert not by_name.loc["bm-a", "maintenance"]


def test_zone_and_pool(table):
    by_name = table.set_index("name")
    assert by_name.loc["bm-b", "zone"] == "rack-2"  # Ironic conductor group
    assert by_name.loc["bm-b", "pool"] == ""
    assert by_name.loc["compute-2", "zone"] == "default"
    assert by_name.loc["compute-2", "pool"] == "compute"
    assert by_name.loc["compute-2-old", "zone"] == "default"  # plain name in the payload
    assert by_name.loc["compute-2-old", "pool"] == ""


def test_exact_linking_with_nova_hosts(table):
    links = dict(zip(table["name"], table["hostname"]))
    assert links == {
        "bm-a": "compute-1",  # extra.compute_hostname
        "bm-b": "compute-11",  # extra.compute_node_id -> hypervisor
        "compute-10": "compute-10",  # node name is exactly a compute host
        "compute-1x": "",  # declared compute-99 is not a host; never compute-1 by prefix
        "compute-2": "compute-2",  # MAAS hostname
        "node-3": "compute-3",  # MAAS fqdn
        "compute-2-old": "",  # declared compute-99 is not a host; never compute-2 by substring
        "rack9-u12": "compute-4",  # MAAS owner_data.compute_hostname
    }


def test_linking_without_nova(payloads):
    df = baremetal.build(payloads["ironic"], payloads["maas"], None, payloads["hypervisors"])
    links = dict(zip(df["name"], df["hostname"]))
    assert links["bm-a"] == "compute-1"
    assert links["bm-b"] == "compute-11"
    assert links["compute-10"] == ""  # a bare node name is not a declaration
    assert links["compute-1x"] == "compute-99"  # declared, unchecked
    assert links["compute-2-old"] == "compute-99"  # declared, unchecked
    assert links["node-3"] == "node-3"


def test_compute_1_never_matches_compute_10():
    nodes = [{"uuid": "u1", "name": "n1", "extra": {"compute_hostname": "compute-1"}}]
    df = baremetal.build(nodes, [], compute_hosts=["compute-10", "compute-11"])
    assert df["hostname"].tolist() == [""]
    machines = [{"system_id": "s1", "hostname": "compute-10", "fqdn": "compute-10.maas"}]
    df = baremetal.build([], machines, compute_hosts=["compute-1", "compute-100"])
    assert df["hostname"].tolist() == [""]


def test_extra_hostvars_order(payloads):
    extras = baremetal.extra_hostvars(payloads["ironic"], payloads["maas"])
    assert len(extras) == 8
    assert extras[1]["driver"] == "redfish"
    assert extras[4]["tags"] == ["virtual", "ssd"]
    assert extras[4]["fqdn"] == "compute-2.maas"
    assert extras[6]["tags"] == []


def test_empty_and_round_trip(payloads, table):
    assert len(baremetal.build()) == 0
    model = frame.dump_model({"baremetal": table})
    back = frame.load_model(json.loads(json.dumps(model)))["baremetal"]
    assert back["hostname"].tolist() == table["hostname"].tolist()


def test_link_nodes_exact(table):
    nodes = frame.from_columns(
        "nodes",
        {
            "hostname": ["compute-1", "compute-10", "compute-2", "compute-5"],
            "power_backend": ["none"] * 4,
            "power_node_id": [None] * 4,
            "power_state": ["unknown"] * 4,
        },
    )
    out = baremetal.link_nodes(nodes, table).set_index("hostname")
    assert out.loc["compute-1", "power_backend"] == "ironic"
    assert out.loc["compute-1", "power_node_id"] == "1b000000-0000-4000-8000-000000000001"
    assert out.loc["compute-1", "power_state"] == "on"
    assert out.loc["compute-10", "power_node_id"] == "1b000000-0000-4000-8000-000000000003"
    assert out.loc["compute-10", "power_state"] == "unknown"
    assert out.loc["compute-2", "power_backend"] == "maas" and out.loc["compute-2", "power_node_id"] == "abc123"
    assert out.loc["compute-5", "power_backend"] == "none" and out["power_node_id"].isna().sum() == 1
    assert list(nodes["power_backend"]) == ["none"] * 4  # input untouched


def test_backends_read_names_what_the_model_holds():
    assert baremetal.backends_read({"baremetal": {"backends": ["ironic", "maas"]}}) == (
        "bare-metal backends read: ironic, maas"
    )
    assert baremetal.backends_read({"digest": "x"}) == "no bare-metal backend was read"
    assert baremetal.backends_read(None) == "no bare-metal backend was read"
