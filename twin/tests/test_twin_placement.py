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
    # resources= needs 1.4: refused before (Placement's query schema has no such key), honoured after
    big = "/resource_providers?resources=MEMORY_MB:150000"
    assert api.get(big, service="placement", mv="1.3").status_code == 400
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
    # Placement creates the consumer at generation 0 and the write bumps it: a new consumer reads 1
    assert got["consumer_generation"] == 1 and got["allocations"][rp]["resources"] == {"MEMORY_MB": 1024}
    assert (
        api.put(f"/allocations/{consumer}", body, service="placement", mv="1.28").status_code == 409
    )  # stale generation
    too_much = dict(body, consumer_generation=1, allocations={rp: {"resources": {"MEMORY_MB": 10**6}}})
    r = api.put(f"/allocations/{consumer}", too_much, service="placement", mv="1.28")
    assert r.status_code == 409 and "violate inventory constraints" in r.json()["errors"][0]["detail"]  # max_unit
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


def _candidates(api, query, mv):
    return api.get(f"/allocation_candidates?{query}", service="placement", mv=mv)


def test_allocation_candidates_summaries(twin):
    api = Api(twin)
    store = twin.cloud.stores["placement"]
    body = _candidates(api, "resources=MEMORY_MB:1", "1.29").json()
    assert len(body["allocation_requests"]) == len(body["provider_summaries"]) == 9
    assert body["allocation_requests"][0] == {"allocations": {_rp(twin, "compute-1"): {"resources": {"MEMORY_MB": 1}}}}
    for uuid, summary in body["provider_summaries"].items():
        rp = store.providers[uuid]
        assert set(summary["resources"]) == set(rp["inventories"])  # every class from 1.27
        for rc, inv in rp["inventories"].items():
            cap = int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])
            assert summary["resources"][rc] == {"capacity": cap, "used": store.usages[uuid].get(rc, 0)}
        assert summary["traits"] == sorted(rp["traits"])
        assert summary["parent_provider_uuid"] is None and summary["root_provider_uuid"] == uuid
    c5 = body["provider_summaries"][_rp(twin, "compute-5")]["resources"]
    assert c5["MEMORY_MB"]["capacity"] == 131072 - 4096 and c5["PCPU"]["used"] == 4  # reserved, dedicated CPUs
    # 1.26: only the requested classes, no tree uuids; 1.27 brings the whole inventory
    old = _candidates(api, "resources=MEMORY_MB:1,VCPU:1", "1.26").json()["provider_summaries"]
    assert all(set(s["resources"]) == {"MEMORY_MB", "VCPU"} and "root_provider_uuid" not in s for s in old.values())
    new = _candidates(api, "resources=MEMORY_MB:1,VCPU:1", "1.27").json()["provider_summaries"]
    assert set(new[_rp(twin, "compute-5")]["resources"]) == {"VCPU", "MEMORY_MB", "DISK_GB", "PCPU"}
    # traits from 1.17; the list-of-lists allocation requests before 1.12; mappings from 1.34
    v10 = _candidates(api, "resources=DISK_GB:10", "1.10").json()
    assert all("traits" not in s for s in v10["provider_summaries"].values())
    first = v10["allocation_requests"][0]["allocations"]
    assert first == [{"resource_provider": {"uuid": _rp(twin, "compute-1")}, "resources": {"DISK_GB": 10}}]
    assert all(
        "traits" in s for s in _candidates(api, "resources=DISK_GB:1", "1.17").json()["provider_summaries"].values()
    )
    v34 = _candidates(api, "resources=VCPU:1", "1.34").json()["allocation_requests"]
    assert all(r["mappings"] == {"": list(r["allocations"])} for r in v34)
    assert "mappings" not in _candidates(api, "resources=VCPU:1", "1.33").json()["allocation_requests"][0]


def test_allocation_candidates_filters(twin):
    api = Api(twin)
    store = twin.cloud.stores["placement"]
    hosts = lambda r: sorted(store.providers[u]["name"] for u in r.json()["provider_summaries"])  # noqa: E731
    # room: only compute-10 has 150 GB of memory free; PCPU only on compute-5
    assert hosts(_candidates(api, "resources=MEMORY_MB:150000", "1.29")) == ["compute-10"]
    assert hosts(_candidates(api, "resources=PCPU:4,MEMORY_MB:1024", "1.29")) == ["compute-5"]
    # a full host is no candidate
    c8 = _rp(twin, "compute-8")
    free = store.capacity(c8, "MEMORY_MB") - store.usages[c8].get("MEMORY_MB", 0)
    store.put_allocations("99999999-0000-0000-0000-000000000001", {c8: {"MEMORY_MB": free}}, "p", "u")
    assert "compute-8" not in hosts(_candidates(api, "resources=MEMORY_MB:1", "1.29"))
    assert len(hosts(_candidates(api, "resources=MEMORY_MB:1", "1.29"))) == 8
    # max_unit and step_size are honoured
    store.providers[c8]["inventories"]["DISK_GB"]["step_size"] = 10
    assert "compute-8" not in hosts(_candidates(api, "resources=DISK_GB:15", "1.29"))
    assert "compute-8" in hosts(_candidates(api, "resources=DISK_GB:20", "1.29"))
    assert hosts(_candidates(api, "resources=DISK_GB:1500", "1.29")) == ["compute-10"]
    # required (1.17) and forbidden (1.22) traits, any-of (1.39)
    assert hosts(_candidates(api, "resources=VCPU:1&required=HW_NIC_SRIOV", "1.17")) == ["compute-3", "compute-5"]
    enabled = hosts(_candidates(api, "resources=VCPU:1&required=!COMPUTE_STATUS_DISABLED", "1.22"))
    assert len(enabled) == 8 and "compute-6" not in enabled
    both = "resources=VCPU:1&required=in:HW_NIC_SRIOV,HW_CPU_X86_AVX512F"
    assert hosts(_candidates(api, both, "1.39")) == ["compute-10", "compute-3", "compute-5"]
    # member_of (1.21)
    ssd = next(a for a in twin.cloud.stores["compute"].aggregates.values() if a["name"] == "ssd")["uuid"]
    assert hosts(_candidates(api, f"resources=VCPU:1&member_of={ssd}", "1.21")) == ["compute-1", "compute-2"]
    assert len(hosts(_candidates(api, f"resources=VCPU:1&member_of=!{ssd}", "1.32"))) == 7
    # limit (1.16): the first N requests and only their providers' summaries
    limited = _candidates(api, "resources=VCPU:1&limit=2", "1.16").json()
    assert len(limited["allocation_requests"]) == 2
    assert set(limited["provider_summaries"]) == {u for r in limited["allocation_requests"] for u in r["allocations"]}


def test_allocation_candidates_refusals(twin):
    api = Api(twin)
    assert _candidates(api, "resources=VCPU:1", "1.9").status_code == 404
    r = _candidates(api, "resources=VCPU:1", "1.15")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-cache"
    bad = [
        ("", "1.10"),  # resources is required
        ("resources=", "1.29"),
        ("resources=VCPU", "1.29"),
        ("resources=VCPU:0", "1.29"),
        ("resources=VCPU:x", "1.29"),
        ("resources=NOT_A_CLASS:1", "1.29"),
        ("resources=VCPU:1&required=HW_NIC_SRIOV", "1.16"),  # required arrives in 1.17
        ("resources=VCPU:1&required=!HW_NIC_SRIOV", "1.21"),  # forbidden traits in 1.22
        ("resources=VCPU:1&required=NOT_A_TRAIT", "1.29"),
        ("resources=VCPU:1&required=HW_NIC_SRIOV,!HW_NIC_SRIOV", "1.29"),
        ("resources=VCPU:1&required=in:HW_NIC_SRIOV", "1.38"),
        ("resources=VCPU:1&limit=2", "1.15"),
        ("resources=VCPU:1&limit=0", "1.29"),
        ("resources=VCPU:1&member_of=not-a-uuid", "1.29"),
        ("resources=VCPU:1&member_of=00000000-0000-0000-0000-000000000001", "1.20"),
        ("resources=VCPU:1&resources1=MEMORY_MB:1", "1.29"),  # granular groups: not in the twin
        ("resources=VCPU:1&bogus=1", "1.29"),
        ("required=HW_NIC_SRIOV", "1.29"),
    ]
    for query, mv in bad:
        r = _candidates(api, query, mv)
        assert r.status_code == 400, (query, mv, r.text)
    assert "not supported by the twin" in _candidates(api, "resources=VCPU:1&resources1=VCPU:1", "1.29").text
    counted = {(r["service"], r["path"]): r["count"] for r in twin.cloud.requests.summary()["requests"]}
    assert counted[("placement", "/placement/allocation_candidates")] == 3 + len(bad)


# -- issue 16: what a writer sees, as Placement 16.0.0 answers ------------------------------
def _p(api, method, path, mv="1.39", body=None, **kw):
    return api.call(method, path, mv=mv, service="placement", body=body, **kw)


def test_parent_set_and_changed_from_1_14_rename_keeps_generation(twin):
    api = Api(twin)
    root = _p(api, "POST", "/resource_providers", body={"name": "root-a"}).json()
    other = _p(api, "POST", "/resource_providers", body={"name": "root-b"}).json()
    child = _p(api, "POST", "/resource_providers", body={"name": "child"}).json()
    # 1.14+: a root gets a parent; the answer and a later read show the tree
    r = _p(
        api, "PUT", f"/resource_providers/{child['uuid']}", body={"name": "child", "parent_provider_uuid": root["uuid"]}
    )
    assert r.status_code == 200 and r.json()["parent_provider_uuid"] == root["uuid"]
    got = _p(api, "GET", f"/resource_providers/{child['uuid']}").json()
    assert (got["parent_provider_uuid"], got["root_provider_uuid"]) == (root["uuid"], root["uuid"])
    # re-parenting is refused before 1.37 and allowed from it; the subtree follows its new root
    body = {"name": "child", "parent_provider_uuid": other["uuid"]}
    r = _p(api, "PUT", f"/resource_providers/{child['uuid']}", mv="1.36", body=body)
    assert r.status_code == 400 and "re-parenting a provider is not currently allowed" in r.text
    assert _p(api, "PUT", f"/resource_providers/{child['uuid']}", mv="1.37", body=body).status_code == 200
    assert _p(api, "GET", f"/resource_providers/{child['uuid']}").json()["root_provider_uuid"] == other["uuid"]
    # a loop is refused; before 1.14 the field is not part of the schema
    r = _p(
        api,
        "PUT",
        f"/resource_providers/{other['uuid']}",
        body={"name": "root-b", "parent_provider_uuid": child["uuid"]},
    )
    assert r.status_code == 400 and "creating loop" in r.text
    r = _p(api, "PUT", f"/resource_providers/{child['uuid']}", mv="1.13", body=body)
    assert r.status_code == 400 and "JSON does not validate" in r.text
    # a rename or re-parent does not move the generation (Placement bumps it for inventory,
    # traits, aggregates and allocations only)
    r = _p(api, "PUT", f"/resource_providers/{child['uuid']}", body={"name": "renamed"})
    assert r.json()["generation"] == child["generation"] == 0 and r.json()["name"] == "renamed"


def test_inventory_and_allocation_statuses(twin):
    api = Api(twin)
    rp = _p(api, "POST", "/resource_providers", body={"name": "inv-rp"}).json()["uuid"]
    # single-inventory create (POST), with Placement's defaults (max_unit: 2**31 - 1)
    r = _p(
        api,
        "POST",
        f"/resource_providers/{rp}/inventories",
        body={"resource_class": "VCPU", "total": 8, "step_size": 2},
    )
    assert r.status_code == 201 and r.headers["Location"].endswith(f"/resource_providers/{rp}/inventories/VCPU")
    assert r.json()["max_unit"] == 2147483647 and r.json()["resource_provider_generation"] == 1
    # an unknown resource class is 400 (inventory and allocation), inventory violations 409
    r = _p(api, "POST", f"/resource_providers/{rp}/inventories", body={"resource_class": "CUSTOM_NOPE", "total": 1})
    assert r.status_code == 400 and "No such resource class CUSTOM_NOPE" in r.text
    consumer = "22222222-3333-4444-5555-666666666666"
    base = {"project_id": "p", "user_id": "u", "consumer_generation": None, "consumer_type": "INSTANCE"}

    def alloc(resources):
        return _p(api, "PUT", f"/allocations/{consumer}", body=dict(base, allocations={rp: {"resources": resources}}))

    assert alloc({"CUSTOM_NOPE": 1}).status_code == 400
    assert alloc({"MEMORY_MB": 1}).status_code == 409  # no such inventory on the provider
    for bad in ({"VCPU": 3}, {"VCPU": 10}):  # step_size, capacity
        assert alloc(bad).status_code == 409, bad
    assert alloc({"VCPU": 2}).status_code == 204
    # the dashless form of a consumer uuid is the same consumer
    got = _p(api, "GET", f"/allocations/{consumer.replace('-', '')}").json()
    assert got["consumer_generation"] == 1 and got["allocations"][rp]["resources"] == {"VCPU": 2}
    # delete-all inventories (1.5+) refused while in use, 405 before 1.5
    assert _p(api, "DELETE", f"/resource_providers/{rp}/inventories", mv="1.4").status_code == 405
    r = _p(api, "DELETE", f"/resource_providers/{rp}/inventories")
    assert r.status_code == 409 and r.json()["errors"][0]["code"] == "placement.inventory.inuse"
    assert _p(api, "DELETE", f"/allocations/{consumer}").status_code == 204
    assert _p(api, "DELETE", f"/resource_providers/{rp}/inventories").status_code == 204
    assert _p(api, "GET", f"/resource_providers/{rp}/inventories").json()["inventories"] == {}


def test_malformed_bodies_are_400_not_500(twin):
    api = Api(twin)
    rp = _rp(twin, "compute-8")
    consumer = "33333333-4444-5555-6666-777777777777"
    for body in (
        {"allocations": [{"resource_provider": {}, "resources": {"VCPU": 1}}]},  # no uuid
        {"allocations": [{"resources": {"VCPU": 1}}]},  # no provider
        {"allocations": [{"resource_provider": {"uuid": rp}, "resources": {"VCPU": "1"}}]},
        {"allocations": {rp: {"resources": {"VCPU": 1}}}},  # 1.12 form at 1.10
        {"allocations": []},
    ):
        r = _p(api, "PUT", f"/allocations/{consumer}", mv="1.10", body=body)
        assert r.status_code == 400 and "JSON does not validate" in r.json()["errors"][0]["detail"], body
    r = _p(api, "POST", "/resource_providers", body={"name": "x", "colour": "blue"})
    assert r.status_code == 400 and "Additional properties are not allowed" in r.text
    r = api.call("PUT", f"/allocations/{consumer}", service="placement", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    r = _p(api, "PUT", "/allocations/not-a-uuid", body={"allocations": []})
    assert r.status_code == 400 and "Malformed consumer_uuid" in r.text


def test_standard_traits_and_classes_are_openstacks_custom_ones_come_and_go(twin):
    import os_resource_classes
    import os_traits

    api = Api(twin)
    traits = set(_p(api, "GET", "/traits").json()["traits"])
    assert set(os_traits.get_traits()) <= traits and "MISC_SHARES_VIA_AGGREGATE" in traits
    classes = [c["name"] for c in _p(api, "GET", "/resource_classes").json()["resource_classes"]]
    assert classes == list(os_resource_classes.STANDARDS)
    # custom resource classes: POST, PUT (1.7 create-or-confirm), DELETE; standard ones stay
    assert _p(api, "POST", "/resource_classes", body={"name": "CUSTOM_GPU"}).status_code == 201
    assert _p(api, "POST", "/resource_classes", body={"name": "CUSTOM_GPU"}).status_code == 409
    assert _p(api, "PUT", "/resource_classes/CUSTOM_FPGA").status_code == 201
    assert _p(api, "PUT", "/resource_classes/CUSTOM_FPGA").status_code == 204
    assert _p(api, "DELETE", "/resource_classes/CUSTOM_GPU").status_code == 204
    assert _p(api, "DELETE", "/resource_classes/VCPU").status_code == 400
    assert _p(api, "GET", "/resource_classes/CUSTOM_GPU").status_code == 404
    # resource classes are 1.2+: before, the route is unknown
    assert _p(api, "GET", "/resource_classes", mv="1.1").status_code == 404
    # traits: delete a custom one (404 when gone, 409 in use, 400 standard)
    rp = _rp(twin, "compute-8")
    assert _p(api, "PUT", "/traits/CUSTOM_RACK_A").status_code == 201
    gen = _p(api, "GET", f"/resource_providers/{rp}/traits").json()["resource_provider_generation"]
    mine = _p(api, "GET", f"/resource_providers/{rp}/traits").json()["traits"]
    body = {"traits": [*mine, "CUSTOM_RACK_A", "MISC_SHARES_VIA_AGGREGATE"], "resource_provider_generation": gen}
    assert _p(api, "PUT", f"/resource_providers/{rp}/traits", body=body).status_code == 200
    assert _p(api, "DELETE", "/traits/CUSTOM_RACK_A").status_code == 409
    assert _p(api, "DELETE", "/traits/COMPUTE_NODE").status_code == 400
    body = {"traits": mine, "resource_provider_generation": gen + 1}
    assert _p(api, "PUT", f"/resource_providers/{rp}/traits", body=body).status_code == 200
    assert _p(api, "DELETE", "/traits/CUSTOM_RACK_A").status_code == 204
    assert _p(api, "GET", "/traits/CUSTOM_RACK_A").status_code == 404


def test_provider_uuid_normalised_and_unknown_route_answers_as_placement(twin):
    api = Api(twin)
    dashed = "2290d4af-9e6e-400b-9d65-1ee01376f71a"
    assert (
        _p(api, "POST", "/resource_providers", body={"name": "d", "uuid": dashed.replace("-", "")}).json()["uuid"]
        == dashed
    )
    r = _p(api, "POST", "/resource_providers", body={"name": "e", "uuid": dashed})
    assert r.status_code == 409 and f"uuid: {dashed} already exists" in r.text
    r = _p(api, "POST", "/reshaper", body={})
    assert r.status_code == 404 and r.json()["errors"][0]["title"] == "Not Found"
    assert r.headers["OpenStack-API-Version"] == "placement 1.39"
    r = _p(api, "PATCH", f"/resource_providers/{dashed}")
    assert r.status_code == 405 and set(r.headers["Allow"].split(", ")) == {"GET", "PUT", "DELETE"}
