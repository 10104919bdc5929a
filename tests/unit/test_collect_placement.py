"""Placement summary mode on recorded payloads: which hosts it reads, and how the ones it
leaves out are modelled (issue 15: a guessed capacity must never become a destination)."""

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import constraints
from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, placement
from ansible_collections.vigil.openstack.plugins.module_utils.model import compute

RECORDED = Path(__file__).parent / "fixtures" / "compute" / "twin_demo.json"


class CandidatesAdapter:
    """GET /allocation_candidates as Placement answers it (1.29): the providers that can give
    every requested amount, each summarised with all its classes and traits."""

    def __init__(self, inventories, usages, traits):
        self.inventories, self.usages, self.traits = inventories, usages, traits
        self.calls = []

    def capacity(self, uuid, rc):
        inv = self.inventories[uuid][rc]
        return (inv["total"] - inv["reserved"]) * inv["allocation_ratio"]

    def get(self, path, params=None, microversion=None, **kwargs):
        self.calls.append((path, dict(params or {}), microversion))
        assert path == "/allocation_candidates", path
        wanted = dict((rc, int(n)) for rc, n in (x.split(":") for x in params["resources"].split(",")))

        def fits(uuid):
            inv = self.inventories[uuid]
            return all(
                rc in inv and self.usages[uuid].get(rc, 0) + n <= self.capacity(uuid, rc) for rc, n in wanted.items()
            )

        summaries = dict(
            (
                uuid,
                {
                    "resources": dict(
                        (rc, {"capacity": int(self.capacity(uuid, rc)), "used": self.usages[uuid].get(rc, 0)})
                        for rc in inv
                    ),
                    "traits": self.traits[uuid],
                },
            )
            for uuid, inv in self.inventories.items()
            if fits(uuid)
        )
        return _Response({"allocation_requests": [], "provider_summaries": summaries})


class _Response:
    status_code = 200

    def __init__(self, body):
        self._body = body

    def json(self):
        return self._body


@pytest.fixture
def cloud(monkeypatch):
    """The recorded demo cloud with compute-7 filled to its last vCPU (ratio 2.0, not Nova's
    default 4.0) and compute-2 to its last MiB of memory, both as Placement would count them."""
    rec = json.loads(RECORDED.read_text())
    pl = copy.deepcopy(rec["placement"])
    uuid = dict((p["name"], p["uuid"]) for p in pl["resource_providers"])
    ad = CandidatesAdapter(pl["inventories"], pl["usages"], pl["traits"])
    assert pl["inventories"][uuid["compute-7"]]["VCPU"]["allocation_ratio"] == 2.0
    for host, rc in (("compute-7", "VCPU"), ("compute-2", "MEMORY_MB")):
        pl["usages"][uuid[host]][rc] = int(ad.capacity(uuid[host], rc))
    monkeypatch.setattr(endpoint, "adapter", lambda conn, service: ad)
    return rec, ad, uuid


def _summary_model(rec, raw):
    nova = rec["nova"]
    instances = compute.build_instances(nova["servers"], server_groups=nova["server_groups"])
    nodes = compute.build_nodes(
        nova["hypervisors"],
        nova["services"],
        nova["aggregates"],
        usages=raw["usages"],
        traits=raw["traits"],
        instances=instances,
        capacities=raw["capacities"],
        full=raw["unsummarized"],
    )
    return {"nodes": nodes, "instances": instances}


def test_summary_reads_vcpu_full_hosts_exactly_and_takes_memory_full_ones_as_full(cloud):
    rec, ad, uuid = cloud
    hosts = sorted(uuid.values())
    raw = placement.collect(None, detail="auto", provider_count=60, provider_uuids=hosts)
    # one request, on the class every server needs
    assert ad.calls == [("/allocation_candidates", {"resources": "MEMORY_MB:1"}, "1.29")]
    assert raw["detail"] == "summary" and raw["unsummarized"] == [uuid["compute-2"]]

    model = _summary_model(rec, raw)
    nodes = model["nodes"].set_index("hostname")
    pl = constraints.Placement(model)
    cap = dict(zip(pl.hostnames, pl.cap))
    free = dict(zip(pl.hostnames, pl.free))
    # the vCPU-full host: its real ratio, no vCPU free
    assert nodes.loc["compute-7", "vcpu_allocation_ratio"] == 2.0
    assert cap["compute-7"][0] == ad.capacity(uuid["compute-7"], "VCPU") and free["compute-7"][0] == 0
    # the host left out: as full as what its servers use, on every class
    assert (free["compute-2"] == 0).all() and cap["compute-2"][2] == nodes.loc["compute-2", "disk_gb_used"]
    assert nodes.loc["compute-2", "traits"] == []
    # every other host: Placement's capacity
    for host, rp in uuid.items():
        if host != "compute-2":
            for r, rc in enumerate(constraints.RCS):
                want = ad.capacity(rp, rc) if rc in ad.inventories[rp] else 0
                assert abs(cap[host][r] - want) < 1e-6, (host, rc)
    # no server can be sent to either full host
    for i in range(pl.N):
        if pl.movable[i]:
            assert not pl.candidates(i)[[pl.host_index["compute-7"], pl.host_index["compute-2"]]].any()
