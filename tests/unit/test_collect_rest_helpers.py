"""collect/rest.py paging and error classification, keystone scoping, ironic microversion
step-down: pure logic against a fake keystoneauth adapter."""

from urllib.parse import urlencode

import pytest
from keystoneauth1 import exceptions as ks

from ansible_collections.vigil.openstack.plugins.module_utils.collect import ironic, keystone, rest


class FakeResponse:
    def __init__(self, status, body):
        self.status_code = status
        self._body = body
        self.text = str(body)

    def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class FakeAdapter:
    """Serves pages of `items` by marker like Cinder/Ironic; records every call."""

    def __init__(self, items, key, links="cinder", endpoint="http://twin/volume/v3", max_version=None):
        self.items, self.key, self.links, self.endpoint = items, key, links, endpoint
        self.max_version = max_version
        self.calls = []

    def get_endpoint(self):
        return self.endpoint

    def get(self, path, params=None, microversion=None, **kwargs):
        params = dict(params or {})
        self.calls.append((path, params, microversion))
        if self.max_version and microversion and tuple(map(int, microversion.split("."))) > self.max_version:
            return FakeResponse(406, {"error_message": "version not supported"})
        limit = int(params.get("limit") or len(self.items) or 1)
        start = 0
        if "marker" in params:
            start = [i["id"] for i in self.items].index(params["marker"]) + 1
        page = self.items[start : start + limit]
        body = {self.key: page}
        if start + limit < len(self.items):
            href = "http://twin/x?" + urlencode({"limit": limit, "marker": page[-1]["id"]})
            if self.links == "cinder":
                body[self.key + "_links"] = [{"rel": "next", "href": href}]
            else:
                body["next"] = href
        return FakeResponse(200, body)


def test_paginate_follows_markers():
    ad = FakeAdapter([{"id": str(i)} for i in range(25)], "volumes")
    items = rest.paginate(ad, "/volumes/detail", "block-storage", "volumes", params={"all_tenants": "1"}, limit=10)
    assert [i["id"] for i in items] == [str(i) for i in range(25)]
    assert len(ad.calls) == 3
    assert ad.calls[1][1] == {"all_tenants": "1", "limit": 10, "marker": "9"}


def test_paginate_stops_on_repeated_marker():
    class Stuck(FakeAdapter):
        def get(self, path, params=None, microversion=None, **kwargs):
            self.calls.append(params)
            return FakeResponse(200, {"nodes": [{"id": "a"}], "next": "http://twin/v1/nodes?marker=a"})

    ad = Stuck([], "nodes")
    items = rest.paginate(ad, "/nodes", "baremetal", "nodes", links_key="next")
    assert len(items) == 2 and len(ad.calls) == 2


def test_next_marker_shapes():
    assert rest.next_marker([{"rel": "next", "href": "http://h/v?marker=abc&limit=2"}]) == "abc"
    assert rest.next_marker("http://h/v1/nodes?limit=2&marker=xyz") == "xyz"
    assert rest.next_marker([{"rel": "self", "href": "http://h/?marker=no"}]) is None
    assert rest.next_marker(None) is None


@pytest.mark.parametrize(
    "status, kind, words",
    [
        (401, "auth", "authentication failed"),
        (403, "forbidden", "insufficient role"),
        (404, "not_found", "not found"),
        (503, "server", "HTTP 503"),
        (406, "bad_response", "HTTP 406"),
    ],
)
def test_http_errors_are_classified(status, kind, words):
    class Err(FakeAdapter):
        def get(self, path, **kwargs):
            return FakeResponse(status, {"forbidden": {"code": status, "message": "Policy doesn't allow it"}})

    with pytest.raises(rest.CollectError) as exc:
        rest.get_json(Err([], "x"), "/scheduler-stats/get_pools", "block-storage")
    assert exc.value.kind == kind and exc.value.status == status
    assert words in exc.value.message and "block-storage /scheduler-stats/get_pools" in exc.value.message
    assert "\n" not in exc.value.message


def test_transport_errors_are_classified():
    assert rest.classify(ks.ConnectFailure("refused"), "compute").kind == "unreachable"
    assert rest.classify(ks.EndpointNotFound("no baremetal"), "baremetal").kind == "missing_service"
    assert rest.classify(ks.Unauthorized("bad token"), "identity").kind == "auth"
    assert rest.classify(KeyError("x")) is None


def test_optional_records_missing_services_only():
    skipped = []

    def missing():
        raise rest.CollectError("missing_service", "service baremetal is not in the catalog", "baremetal")

    assert rest.optional("baremetal", missing, skipped) is None
    assert skipped == [{"service": "baremetal", "reason": "service baremetal is not in the catalog"}]

    def forbidden():
        raise rest.CollectError("forbidden", "insufficient role", "baremetal", 403)

    with pytest.raises(rest.CollectError):
        rest.optional("baremetal", forbidden, skipped)


def test_ironic_steps_down_microversions():
    nodes = [{"id": str(i), "uuid": str(i)} for i in range(3)]
    ad = FakeAdapter(nodes, "nodes", links="ironic", endpoint="http://twin/baremetal", max_version=(1, 20))
    got = ironic.nodes(ad, page_size=2)
    assert [n["uuid"] for n in got] == ["0", "1", "2"]
    assert [c[2] for c in ad.calls] == ["1.46", "1.8", "1.8"]
    assert ad.calls[0][0] == "/v1/nodes"
    assert "conductor_group" not in ad.calls[1][1]["fields"]


IDENTITY = {
    "domains": [{"id": "default", "name": "Default"}, {"id": "d2", "name": "ops"}],
    "projects": [
        {"id": "p1", "name": "demo", "domain_id": "default"},
        {"id": "p2", "name": "web", "domain_id": "d2"},
        {"id": "p3", "name": "shared", "domain_id": "default"},
        {"id": "p4", "name": "shared", "domain_id": "d2"},
    ],
    "users": [{"id": "u1", "name": "alice", "domain_id": "d2"}, {"id": "u2", "name": "bob", "domain_id": "default"}],
}


def test_keystone_scope_union_and_exact_names():
    assert keystone.scope_project_ids(IDENTITY) is None
    assert keystone.scope_project_ids(IDENTITY, ["demo"], ["ops"]) == ["p1", "p2", "p4"]
    assert keystone.scope_project_ids(IDENTITY, ["p3"]) == ["p3"]
    with pytest.raises(ValueError, match="unknown project: dem"):
        keystone.scope_project_ids(IDENTITY, ["dem"])  # no prefix matching
    with pytest.raises(ValueError, match="give the id.*shared"):
        keystone.scope_project_ids(IDENTITY, ["shared"])


def test_keystone_scope_result():
    out = keystone.scope(IDENTITY, domains=["ops"])
    assert out["project_ids"] == ["p2", "p4"]
    assert out["domain_names"] == {"d2": "ops"}
    assert out["user_names"] == {"u1": "alice"}
    everything = keystone.scope(IDENTITY)
    assert len(everything["projects"]) == 4 and len(everything["users"]) == 2
