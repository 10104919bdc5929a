"""Placement twin: filters, generations, capacity, microversions."""

from __future__ import annotations

from twin_api import Api


def _rp(twin, host):
    return twin.cloud.stores["compute"].nodes[host]["uuid"]


def test_filters(twin):
    api = Api(twin)
    names = lambda r: sorted(p["name"] for p in r.json()["resource_providers"])  # noqa: E731
    assert len(api.get("/resource_providers", service="placement").json()["resource_providers"]) == 9
    assert names(api.get("/resource_providers?name=compute-1", service="placement")) == ["compute-1"]
    # resources= needs 1.4: ignored before, honoured after
    big = "/resource_providers?resources=MEMORY_MB:150000"
    assert len(names(api.get(big, service="placement", mv="1.3"))) == 9
    assert names(api.get(big, service="placement", mv="1.4")) == ["compute-10"]
    assert names(api.get("/resource_providers?resources=PCPU:4", service="placement", mv="1.4")) == ["compute-5"]
    # required traits (1.18), negative traits
    sriov = names(api.get("/resource_providers?required=HW_NIC_SRIOV", service="placement", mv="1.18"))
    assert sriov == ["compute-3", "compute-5"]
    disabled = names(api.get("/resource_providers?required=COMPUTE_STATUS_DISABLED", service="placement", mv="1.18"))
    assert disabled == ["compute-6"]
    assert (
        len(names(api.get("/resource_providers?required=!COMPUTE_STATUS_DISABLED", service="placement", mv="1.22")))
        == 8
    )
    # member_of an aggregate (ssd: compute-1, compute-2)
    ssd = next(a for a in twin.cloud.stores["compute"].aggregates.values() if a["name"] == "ssd")["uuid"]
    assert names(api.get(f"/resource_providers?member_of={ssd}", service="placement", mv="1.3")) == [
        "compute-1",
        "compute-2",
    ]
    assert names(api.get(f"/resource_providers?member_of=in:{ssd}", service="placement", mv="1.3")) == [
        "compute-1",
        "compute-2",
    ]
    # in_tree (1.14)
    rp = _rp(twin, "compute-4")
    tree = api.get(f"/resource_providers?in_tree={rp}", service="placement", mv="1.14").json()["resource_providers"]
    assert [p["uuid"] for p in tree] == [rp] and tree[0]["root_provider_uuid"] == rp
    assert api.get("/resource_providers?required=NOT_A_TRAIT", service="placement", mv="1.18").status_code == 400


def test_usages_match_nova(twin):
    api = Api(twin)
    hyps = api.get("/os-hypervisors/detail", mv="2.87").json()["hypervisors"]
    for h in hyps:
        rp = _rp(twin, h["service"]["host"])
        usages = api.get(f"/resource_providers/{rp}/usages", service="placement").json()["usages"]
        assert usages.get("VCPU", 0) + usages.get("PCPU", 0) == h["vcpus_used"]
        assert usages["MEMORY_MB"] + 512 + (3584 if h["service"]["host"] == "compute-5" else 0) == h["memory_mb_used"]


def test_generation_conflict(twin):
    api = Api(twin)
    rp = _rp(twin, "compute-8")
    inv = api.get(f"/resource_providers/{rp}/inventories", service="placement").json()
    gen = inv["resource_provider_generation"]
    body = {"resource_provider_generation": gen, "inventories": inv["inventories"]}
    body["inventories"]["VCPU"]["allocation_ratio"] = 8.0
    ok = api.put(f"/resource_providers/{rp}/inventories", body, service="placement")
    assert ok.status_code == 200 and ok.json()["resource_provider_generation"] == gen + 1
    stale = api.put(f"/resource_providers/{rp}/inventories", body, service="placement")
    assert stale.status_code == 409
    assert stale.json()["errors"][0]["code"] == "placement.concurrent_update"
    traits = api.get(f"/resource_providers/{rp}/traits", service="placement", mv="1.6").json()
    r = api.put(
        f"/resource_providers/{rp}/traits",
        {"traits": ["CUSTOM_NOPE"], "resource_provider_generation": traits["resource_provider_generation"]},
        service="placement",
        mv="1.6",
    )
    assert r.status_code == 400
    assert api.put("/traits/CUSTOM_GOLD", service="placement", mv="1.6").status_code == 201
    r = api.put(
        f"/resource_providers/{rp}/traits",
        {"traits": ["CUSTOM_GOLD"], "resource_provider_generation": traits["resource_provider_generation"] - 1},
        service="placement",
        mv="1.6",
    )
    assert r.status_code == 409


def test_allocations_capacity_and_consumer_generation(twin):
    api = Api(twin)
    rp = _rp(twin, "compute-8")
    consumer = "11111111-2222-3333-4444-555555555555"
    pid = twin.cloud.stores["identity"].project_by_name["demo"]
    body = {
        "allocations": {rp: {"resources": {"MEMORY_MB": 1024}}},
        "project_id": pid,
        "user_id": "u",
        "consumer_generation": None,
    }
    assert api.put(f"/allocations/{consumer}", body, service="placement", mv="1.28").status_code == 204
    got = api.get(f"/allocations/{consumer}", service="placement", mv="1.28").json()
    assert got["consumer_generation"] == 0 and got["allocations"][rp]["resources"] == {"MEMORY_MB": 1024}
    assert (
        api.put(f"/allocations/{consumer}", body, service="placement", mv="1.28").status_code == 409
    )  # stale generation
    too_much = dict(body, consumer_generation=0, allocations={rp: {"resources": {"MEMORY_MB": 10**6}}})
    r = api.put(f"/allocations/{consumer}", too_much, service="placement", mv="1.28")
    assert r.status_code == 400  # beyond max_unit
    too_much["allocations"][rp]["resources"]["MEMORY_MB"] = 130000
    r = api.put(f"/allocations/{consumer}", too_much, service="placement", mv="1.28")
    assert r.status_code == 409 and "exceed the capacity" in r.json()["errors"][0]["detail"]
    allocs = api.get(f"/resource_providers/{rp}/allocations", service="placement").json()["allocations"]
    assert consumer in allocs
    # a write before 1.38 carries no consumer type: Placement files it under "unknown"
    usage = api.get(f"/usages?project_id={pid}", service="placement", mv="1.38").json()["usages"]
    assert usage["unknown"]["MEMORY_MB"] >= 1024 and "all" not in usage
    usage = api.get(f"/usages?project_id={pid}&consumer_type=all", service="placement", mv="1.38").json()["usages"]
    assert set(usage) == {"all"} and usage["all"]["consumer_count"] >= 1
    assert api.delete(f"/allocations/{consumer}", service="placement").status_code == 204
    assert api.delete(f"/allocations/{consumer}", service="placement").status_code == 404


def test_microversion_header(twin):
    api = Api(twin)
    r = api.get("/resource_providers", service="placement", mv="1.20")
    assert r.headers["OpenStack-API-Version"] == "placement 1.20"
    assert api.get("/resource_providers", service="placement", mv="1.99").status_code == 406
    assert api.get("/traits", service="placement", mv="1.5").status_code == 404


def test_member_is_forbidden(twin):
    member = Api(twin, user="demo", project="demo")
    assert member.get("/resource_providers", service="placement").status_code == 403
