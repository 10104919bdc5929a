"""Keystone twin: scopes, token checks, expiry, faults, policy."""

from __future__ import annotations

import time

import requests
from twin_api import Api, token


def test_scopes(twin):
    proj = token(twin)
    assert proj.status_code == 201 and proj.json()["token"]["project"]["name"] == "admin"
    assert {e["type"] for e in proj.json()["token"]["catalog"]} >= {"identity", "compute", "placement"}
    system = token(twin, scope={"system": {"all": True}})
    assert system.status_code == 201 and system.json()["token"]["system"] == {"all": True}
    dom = token(twin, scope={"domain": {"name": "Default"}})
    assert dom.json()["token"]["domain"]["id"] == "default"
    unscoped = token(twin, project=None)
    assert "catalog" not in unscoped.json()["token"] and "roles" not in unscoped.json()["token"]
    # a member cannot take a system scope or another project
    assert token(twin, "demo", scope={"system": {"all": True}}).status_code == 401
    assert token(twin, "demo", project="analytics").status_code == 401
    assert token(twin, "demo", password="wrong").status_code == 401


def test_system_token_is_admin_on_compute(twin):
    tok = token(twin, scope={"system": {"all": True}}).headers["X-Subject-Token"]
    r = requests.get(f"{twin.url}/compute/v2.1/os-hypervisors", headers={"X-Auth-Token": tok}, timeout=10)
    assert r.status_code == 200


def test_validate_and_revoke(twin):
    api = Api(twin)
    other = token(twin, "demo", project="demo").headers["X-Subject-Token"]
    r = api.get("/auth/tokens", service="identity", headers={"X-Subject-Token": other})
    assert r.status_code == 200 and r.json()["token"]["user"]["name"] == "demo"
    assert api.call("HEAD", "/auth/tokens", service="identity", headers={"X-Subject-Token": other}).status_code == 200
    assert api.delete("/auth/tokens", service="identity", headers={"X-Subject-Token": other}).status_code == 204
    assert api.get("/auth/tokens", service="identity", headers={"X-Subject-Token": other}).status_code == 404
    assert (
        requests.get(f"{twin.url}/compute/v2.1/servers", headers={"X-Auth-Token": other}, timeout=10).status_code == 401
    )


def test_token_lifetime(twin_factory):
    short = twin_factory({"identity": {"token_lifetime": 1}})
    tok = token(short).headers["X-Subject-Token"]
    url = f"{short.url}/compute/v2.1/flavors"
    assert requests.get(url, headers={"X-Auth-Token": tok}, timeout=10).status_code == 200
    time.sleep(1.1)
    r = requests.get(url, headers={"X-Auth-Token": tok}, timeout=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == 401


def test_token_expire_fault(twin):
    tok = token(twin).headers["X-Subject-Token"]
    member = token(twin, "demo", project="demo").headers["X-Subject-Token"]
    url = f"{twin.url}/compute/v2.1/flavors"
    requests.put(f"{twin.url}/admin/faults", json={"named": [{"kind": "token_expire", "target": "admin"}]}, timeout=10)
    assert requests.get(url, headers={"X-Auth-Token": tok}, timeout=10).status_code == 401
    assert requests.get(url, headers={"X-Auth-Token": member}, timeout=10).status_code == 200
    fresh = token(twin).headers["X-Subject-Token"]  # tokens issued after the fault work
    assert requests.get(url, headers={"X-Auth-Token": fresh}, timeout=10).status_code == 200


def test_admin_only_identity_calls(twin):
    member = Api(twin, user="demo", project="demo")
    r = member.get("/users", service="identity")
    assert r.status_code == 403 and r.json()["error"]["code"] == 403
    me = twin.cloud.stores["identity"].user_by_name["demo"]
    assert member.get(f"/users/{me}", service="identity").status_code == 200
    assert [p["name"] for p in member.get("/auth/projects", service="identity").json()["projects"]] == ["demo"]
    admin = Api(twin)
    assigned = admin.get("/role_assignments?include_names=1", service="identity").json()["role_assignments"]
    assert any(a["user"]["name"] == "demo" and a["role"]["name"] == "member" for a in assigned)
    assert any("system" in a["scope"] for a in assigned)


def test_services_show_and_role_assignment_names(twin):
    api = Api(twin)
    services = api.get("/services", service="identity").json()["services"]
    for svc in services:
        shown = api.get(f"/services/{svc['id']}", service="identity").json()["service"]
        assert (shown["id"], shown["type"], shown["name"]) == (svc["id"], svc["type"], svc["name"])
    assert api.get("/services/nope", service="identity").status_code == 404
    assignments = api.get("/role_assignments?include_names", service="identity").json()["role_assignments"]
    project_scoped = [a for a in assignments if "project" in a["scope"]]
    assert project_scoped and all(a["scope"]["project"]["domain"]["name"] == "Default" for a in project_scoped)
    assert all(a["user"]["domain"] == {"id": "default", "name": "Default"} for a in assignments)
    domain_scoped = [a for a in assignments if "domain" in a["scope"]]
    assert domain_scoped and all(a["scope"]["domain"]["name"] == "Default" for a in domain_scoped)
