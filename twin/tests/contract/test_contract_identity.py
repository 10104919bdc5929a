"""Keystone through openstacksdk: token issue, 401 on a wrong password, admin vs member."""

from __future__ import annotations

import openstack
import pytest
import requests


def test_admin_token_and_catalog(conn):
    token = conn.authorize()
    assert token
    types = {e["type"] for e in conn.config.get_service_catalog().catalog}
    assert {"identity", "compute", "placement"} <= types


def test_wrong_password_is_401(cloud_name):
    cfg = openstack.config.OpenStackConfig().get_one(cloud=cloud_name)
    auth = dict(cfg.auth, password="definitely-wrong")
    bad = openstack.connect(auth=auth, auth_type="password", region_name=cfg.region_name, identity_api_version="3")
    with pytest.raises(openstack.exceptions.SDKException, match=r"HTTP 401"):
        bad.authorize()
    # and on the wire: Keystone answers 401 with its error body
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": auth["username"], "domain": {"name": "Default"}, "password": "nope"}},
            }
        }
    }
    base = auth["auth_url"].rstrip("/")
    base = base if base.endswith("/v3") else base + "/v3"
    resp = requests.post(base + "/auth/tokens", json=body, timeout=10)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401


def test_member_forbidden_on_admin_calls(member_conn):
    assert member_conn.authorize()
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(member_conn.compute.hypervisors())
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(member_conn.identity.users())
    with pytest.raises(openstack.exceptions.ForbiddenException):
        list(member_conn.compute.servers(all_projects=True))


def test_member_sees_only_its_project(conn, member_conn):
    project = member_conn.current_project_id
    mine = list(member_conn.compute.servers())
    assert mine, "the member's project has servers"
    assert all(s.project_id == project for s in mine)
    everything = list(conn.compute.servers(all_projects=True))
    assert len(everything) > len(mine)


def test_identity_lists_for_admin(conn):
    projects = {p.name for p in conn.identity.projects()}
    users = list(conn.identity.users())
    roles = {r.name for r in conn.identity.roles()}
    assert projects and users
    assert "admin" in roles
    assignments = list(conn.identity.role_assignments())
    assert any(a.role["id"] for a in assignments)
