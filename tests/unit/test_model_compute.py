"""Compute builders on recorded payloads: nodes, instances, server groups, migratability."""

import json
from pathlib import Path

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils.model import compute, schema

FIX = Path(__file__).parent / "fixtures" / "compute"


@pytest.fixture(scope="module")
def payloads():
    nova = json.loads((FIX / "nova.json").read_text())
    placement = json.loads((FIX / "placement.json").read_text())
    other = json.loads((FIX / "glance_neutron.json").read_text())
    return nova, placement, other


@pytest.fixture(scope="module")
def instances(payloads):
    nova, other = payloads[0], payloads[2]
    return compute.build_instances(
        nova["servers"],
        server_groups=nova["server_groups"],
        images=dict((i["id"], i) for i in other["images"]),
        ports=other["ports"],
        migrations=nova["migrations"],
    )


@pytest.fixture(scope="module")
def nodes(payloads, instances):
    nova, pl, other = payloads
    return compute.build_nodes(
        nova["hypervisors"],
        nova["services"],
        nova["aggregates"],
        providers=pl["resource_providers"],
        inventories=pl["inventories"],
        usages=pl["usages"],
        traits=pl["traits"],
        instances=instances,
        dead_l2_hosts=["compute-2"],
    )


def test_tables_have_exactly_the_schema_columns_and_dtypes(nodes, instances, payloads):
    groups = compute.build_server_groups(payloads[0]["server_groups"])
    for table, df in (("nodes", nodes), ("instances", instances), ("server_groups", groups)):
        assert list(df.columns) == schema.columns(table)
        assert dict((c, str(t)) for c, t in df.dtypes.items()) == schema.dtypes(table)


def test_nodes_join_by_exact_host_and_read_placement(nodes):
    assert list(nodes["hostname"]) == ["compute-1", "compute-10", "compute-2"]
    n1 = nodes.set_index("hostname").loc["compute-1"]
    n10 = nodes.set_index("hostname").loc["compute-10"]
    assert n1["rp_uuid"] == "a1b2c3d4-0000-4000-8000-000000000001"
    assert n1["hypervisor_hostname"] == "compute-1.example.org"
    # compute-1 is in aggregate ssd only; compute-10 in ssd and gpu: no substring leakage.
    assert n1["aggregates"] == ["ssd"]
    assert n10["aggregates"] == ["gpu", "ssd"]
    assert (n1["vcpu_total"], n1["vcpu_allocation_ratio"], n1["pcpu_total"]) == (28, 4.0, 4)
    assert (n10["vcpu_reserved"], n10["memory_mb_allocation_ratio"]) == (2, 1.5)
    assert (n1["vcpu_used"], n1["pcpu_used"], n1["memory_mb_used"], n1["disk_gb_used"]) == (5, 2, 14848, 31)
    # compute-1 runs web-1, db-1, pinned-1, locked-1; compute-10 runs sriov-1, paused-1, vgpu-1
    assert (n1["instance_count"], n10["instance_count"]) == (4, 3)
    assert n10["status"] == "disabled" and n10["disabled_reason"] == "maintenance"
    assert n1["traits"] == ["COMPUTE_NODE", "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F"]
    n2 = nodes.set_index("hostname").loc["compute-2"]
    assert (n2["state"], n2["forced_down"], n2["az"], n2["network_agent_up"]) == ("down", True, "az2", False)
    assert n1["network_agent_up"]


def test_placement_usages_equal_instance_sums(payloads, instances):
    # The fixture's Placement usages are what Nova allocates for the instances: the
    # instance-derived fallback must agree (BFV has no DISK_GB, swap rounds up to GiB, pinned uses PCPU).
    pl = payloads[1]
    sums = compute.instance_usage(instances)
    for host, rp in (
        ("compute-1", "a1b2c3d4-0000-4000-8000-000000000001"),
        ("compute-10", "a1b2c3d4-0000-4000-8000-000000000010"),
    ):
        placement = pl["usages"][rp]
        for rc in schema.RESOURCE_CLASSES:
            assert sums[host].get(rc, 0) == placement.get(rc, 0), (host, rc)


def test_nodes_without_placement_fall_back_to_hypervisor_stats(payloads, instances):
    nova = payloads[0]
    df = compute.build_nodes(nova["hypervisors"], nova["services"], nova["aggregates"], instances=instances).set_index(
        "hostname"
    )
    assert df.loc["compute-1", "vcpu_total"] == 32  # hypervisor vcpus
    assert df.loc["compute-1", "vcpu_allocation_ratio"] == 8.0  # aggregate ssd metadata
    assert df.loc["compute-2", "vcpu_allocation_ratio"] == compute.DEFAULT_ALLOCATION_RATIOS["VCPU"]
    assert df.loc["compute-1", "vcpu_used"] == 5  # from instances
    assert df.loc["compute-1", "traits"] == []
    # no provider list: a compute node's provider has the compute node's (hypervisor's) uuid
    assert df.loc["compute-1", "rp_uuid"] == "a1b2c3d4-0000-4000-8000-000000000001"


def test_provider_matching_is_exact_on_names():
    hyps = [
        {"id": 1, "hypervisor_hostname": "compute-1", "service": {"host": "compute-1"}},
        {"id": 10, "hypervisor_hostname": "compute-10", "service": {"host": "compute-10"}},
    ]
    providers = [{"uuid": "rp-10", "name": "compute-10"}, {"uuid": "rp-1", "name": "compute-1"}]
    inv = {
        "rp-1": {"VCPU": {"total": 1, "reserved": 0, "allocation_ratio": 1.0}},
        "rp-10": {"VCPU": {"total": 10, "reserved": 0, "allocation_ratio": 1.0}},
    }
    df = compute.build_nodes(hyps, providers=providers, inventories=inv).set_index("hostname")
    assert df.loc["compute-1", "rp_uuid"] == "rp-1"
    assert df.loc["compute-1", "vcpu_total"] == 1
    assert df.loc["compute-10", "vcpu_total"] == 10


def test_instances_columns(instances):
    df = instances.set_index("name")
    assert len(instances) == 8
    assert list(instances["uuid"]) == sorted(instances["uuid"])
    assert df.loc["web-1", "required_traits"] == ["HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F"]  # flavor + image
    assert df.loc["db-1", "boot_from_volume"] and df.loc["db-1", "disk_gb"] == 0
    assert df.loc["db-1", "block_migration"]  # swap is local
    assert not df.loc["pinned-1", "block_migration"] or df.loc["pinned-1", "image_id"] == "img-plain"
    assert df.loc["web-1", "server_groups"] == ["9a000000-0000-4000-8000-000000000001"]
    assert df.loc["web-1", "metadata"] == {"role": "web"} and df.loc["web-1", "tags"] == ["prod"]
    assert df.loc["pinned-1", "pinned"] and not df.loc["web-1", "pinned"]
    assert df.loc["sriov-1", "pci"] and not df.loc["web-1", "pci"]
    assert df.loc["vgpu-1", "vgpu"]
    assert df.loc["error-1", "host"] is None or str(df.loc["error-1", "host"]) == "<NA>"


@pytest.mark.parametrize(
    "name,kind,reason",
    [
        ("web-1", "live", ""),
        ("db-1", "cold", "SHUTOFF"),
        ("pinned-1", "cold", "pinned CPUs"),
        ("sriov-1", "cold", "SR-IOV"),
        ("paused-1", "no", "PAUSED"),
        ("locked-1", "no", "locked"),
        ("vgpu-1", "no", "task in progress: migrating"),
        ("error-1", "no", "not on a host"),
    ],
)
def test_migratability(instances, name, kind, reason):
    row = instances.set_index("name").loc[name]
    assert row["migratable"] == kind
    assert reason in row["migratable_reason"]
    if kind == "live":
        assert row["migratable_reason"] == ""


def test_vgpu_without_task_is_cold_and_migration_in_progress_blocks():
    base = {
        "status": "ACTIVE",
        "OS-EXT-SRV-ATTR:host": "h",
        "flavor": {"vcpus": 1, "ram": 1, "disk": 1, "extra_specs": {"resources:VGPU": "1"}},
        "image": {"id": "i"},
    }
    servers = [
        dict(base, id="a", name="a"),
        dict(base, id="b", name="b", flavor={"vcpus": 1, "ram": 1, "disk": 1, "extra_specs": {}}),
    ]
    df = compute.build_instances(servers, migrations=[{"instance_uuid": "b", "status": "running"}]).set_index("uuid")
    assert df.loc["a", "migratable"] == "cold" and "vGPU" in df.loc["a", "migratable_reason"]
    assert df.loc["b", "migratable"] == "no" and "migration is in progress" in df.loc["b", "migratable_reason"]


def test_flavor_from_flavor_list_for_old_microversions():
    servers = [
        {
            "id": "s",
            "name": "s",
            "status": "ACTIVE",
            "OS-EXT-SRV-ATTR:host": "h",
            "flavor": {"id": "42"},
            "image": {"id": "i"},
        }
    ]
    flavors = [
        {
            "id": "42",
            "name": "m1.x",
            "vcpus": 3,
            "ram": 300,
            "disk": 30,
            "OS-FLV-EXT-DATA:ephemeral": 0,
            "swap": "",
            "extra_specs": {"hw:cpu_policy": "dedicated"},
        }
    ]
    row = compute.build_instances(servers, flavors=flavors).iloc[0]
    assert (row["flavor_name"], row["vcpus"], row["memory_mb"], row["disk_gb"], row["swap_mb"], row["pinned"]) == (
        "m1.x",
        3,
        300,
        30,
        0,
        True,
    )


def test_server_groups(payloads):
    df = compute.build_server_groups(payloads[0]["server_groups"]).set_index("name")
    assert df.loc["web-aa", "policy"] == "anti-affinity" and df.loc["web-aa", "max_server_per_host"] == 2
    assert df.loc["db-aff", "max_server_per_host"] == 1
    legacy = compute.build_server_groups([{"id": "g", "name": "g", "policies": ["soft-anti-affinity"], "members": []}])
    assert legacy.iloc[0]["policy"] == "soft-anti-affinity"


def test_empty_payloads_give_empty_tables():
    assert len(compute.build_nodes([])) == 0
    assert list(compute.build_instances([]).columns) == schema.columns("instances")
    assert len(compute.build_server_groups(None)) == 0


def test_builders_scale_linearly():
    # 20 000 servers build in one pass (no per-row DataFrame work); a smoke check of shape, not a timer.
    servers = [
        {"id": "%06d" % i, "name": "s%d" % i, "status": "ACTIVE", "tenant_id": "p", "OS-EXT-SRV-ATTR:host": "compute-%d" % (i % 1000),
         "flavor": {"vcpus": 1, "ram": 512, "disk": 1, "ephemeral": 0, "swap": 0, "extra_specs": {}}, "image": {"id": "i"}}
        for i in range(20000)
    ]  # fmt: skip
    df = compute.build_instances(servers)
    assert len(df) == 20000 and (df["migratable"] == "live").all()
    usage = compute.instance_usage(df)
    assert usage["compute-1"]["VCPU"] == 20 and "compute-1" in usage and "compute-10" in usage


@pytest.fixture(scope="module")
def recorded():
    """Payloads the collectors read from the twin's demo cloud (tests/unit/fixtures/compute/twin_demo.json)."""
    return json.loads((FIX / "twin_demo.json").read_text())


def _recorded_tables(rec):
    nova, pl = rec["nova"], rec["placement"]
    instances = compute.build_instances(
        nova["servers"],
        server_groups=nova["server_groups"],
        images=rec["glance"]["images"],
        ports=rec["neutron"]["ports"],
        migrations=nova["migrations"],
    )
    nodes = compute.build_nodes(
        nova["hypervisors"],
        nova["services"],
        nova["aggregates"],
        pl["resource_providers"],
        pl["inventories"],
        pl["usages"],
        pl["traits"],
        instances,
    )
    return nodes, instances


def test_recorded_twin_payloads_nova_and_placement_agree(recorded):
    nodes, instances = _recorded_tables(recorded)
    assert len(nodes) == 9 and len(instances) == 30
    sums = compute.instance_usage(instances)
    usages = recorded["placement"]["usages"]
    for row in nodes.itertuples():
        for rc in schema.RESOURCE_CLASSES:
            assert sums.get(row.hostname, {}).get(rc, 0) == usages[row.rp_uuid].get(rc, 0), (row.hostname, rc)
    # exact names: compute-1 and compute-10 are distinct rows with their own servers
    counts = instances["host"].value_counts()
    assert nodes.set_index("hostname").loc["compute-1", "instance_count"] == counts["compute-1"]
    assert nodes.set_index("hostname").loc["compute-10", "instance_count"] == counts["compute-10"]


def test_recorded_twin_payloads_instances(recorded):
    instances = _recorded_tables(recorded)[1]
    df = instances.set_index("name")
    assert (df.loc["rt-1", "pinned"], df.loc["rt-1", "migratable"]) == (True, "cold")
    assert (df.loc["nfv-1", "pci"], df.loc["nfv-1", "migratable"]) == (True, "cold")
    assert df.loc["nfv-1", "required_traits"] == ["HW_NIC_SRIOV"]
    assert (df.loc["etl-1", "migratable"], df.loc["etl-1", "migratable_reason"]) == ("no", "server is locked")
    assert df.loc["old-report", "migratable"] == "cold"
    assert df.loc["boot-vol-1", "boot_from_volume"] and df.loc["boot-vol-1", "disk_gb"] == 0
    assert len(df.loc["web-1", "server_groups"]) == 1


def test_recorded_summary_mode_derives_reserved_memory_and_disk(recorded):
    # Without Placement inventories, reserved memory/disk come from the hypervisor's *_used
    # minus the instances' flavors; the twin reports them as Nova does, so they must equal
    # Placement's inventory reserved.
    nova, pl = recorded["nova"], recorded["placement"]
    instances = compute.build_instances(nova["servers"], server_groups=nova["server_groups"])
    nodes = compute.build_nodes(nova["hypervisors"], nova["services"], nova["aggregates"], instances=instances)
    for row in nodes.itertuples():
        inv = pl["inventories"][row.rp_uuid]
        assert row.memory_mb_reserved == inv["MEMORY_MB"]["reserved"], row.hostname
        assert row.disk_gb_reserved == inv["DISK_GB"]["reserved"], row.hostname
        assert row.vcpu_reserved == 0


def test_recorded_summary_with_provider_summaries_equals_full_capacity(recorded):
    # GET /allocation_candidates provider summaries carry capacity = (total - reserved) x ratio
    # and used per class; built from the recorded inventories they must give every host the
    # capacity full mode reads, with Nova's totals and the reserved estimate kept.
    nova, pl = recorded["nova"], recorded["placement"]
    full, instances = _recorded_tables(recorded)
    capacities = dict(
        (uuid, dict((rc, int((i["total"] - i["reserved"]) * i["allocation_ratio"])) for rc, i in inv.items()))
        for uuid, inv in pl["inventories"].items()
    )
    summary = compute.build_nodes(
        nova["hypervisors"],
        nova["services"],
        nova["aggregates"],
        usages=pl["usages"],
        traits=pl["traits"],
        instances=instances,
        capacities=capacities,
    )
    full, summary = full.set_index("hostname"), summary.set_index("hostname")
    for rc in ("vcpu", "memory_mb", "disk_gb", "pcpu"):
        cap_full = (full[rc + "_total"] - full[rc + "_reserved"]) * full[rc + "_allocation_ratio"]
        cap_summary = (summary[rc + "_total"] - summary[rc + "_reserved"]) * summary[rc + "_allocation_ratio"]
        assert (cap_full - cap_summary).abs().max() < 1e-6, rc
        assert summary[rc + "_used"].tolist() == full[rc + "_used"].tolist(), rc
    assert summary["vcpu_allocation_ratio"].tolist() == full["vcpu_allocation_ratio"].tolist()
    assert summary["traits"].tolist() == full["traits"].tolist()
    assert (full["pcpu_total"] > 0).any()  # the demo has dedicated CPUs, which summary now sees


@pytest.mark.parametrize(
    ("capacity", "total", "reserved", "expected"),
    [
        (128, 32, 0, (32, 0, 4.0)),
        (130048, 131072, 1024, (131072, 1024, 1.0)),
        (48, 32, 0, (32, 0, 1.5)),
        (100, 3, 0, (3, 0, 100 / 3)),  # not a short decimal: exact quotient kept
        (16, 0, 0, (16, 0, 1.0)),  # Nova gave no total (2.88+): the capacity itself
        (0, 32, 0, (0, 0, 1.0)),  # the provider has no inventory of the class
    ],
)
def test_totals_from_capacity(capacity, total, reserved, expected):
    got = compute._from_capacity(capacity, total, reserved)
    assert got[:2] == expected[:2] and abs(got[2] - expected[2]) < 1e-12
    assert abs((got[0] - got[1]) * got[2] - capacity) < 1e-6
