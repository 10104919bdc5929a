"""Keystone v3: password/token auth with project, domain or system scope, token validation
and expiry, the service catalog, and read APIs for domains, projects, users, roles and role
assignments (admin only, except a user's own records).

Every other service with ``requires_token`` gets `IdentityStore.authenticate` called on
its requests by the server. The named fault ``token_expire`` (optional ``target``: a user
name) expires every token of that user issued before the fault was first noticed.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timezone
from typing import Any

from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.topology import stable_hex, validate_topology

router = Router()
V3_UPDATED = "2024-04-01T00:00:00Z"
V3_VERSION = "v3.14"


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def _error(status: int, title: str, message: str) -> HTTPError:
    return HTTPError(status, {"error": {"code": status, "title": title, "message": message}})


def unauthorized(message: str = "The request you have made requires authentication.") -> HTTPError:
    return _error(401, "Unauthorized", message)


def forbidden(action: str) -> HTTPError:
    return _error(403, "Forbidden", f"You are not authorized to perform the requested action: {action}.")


def not_found(kind: str, ident: str) -> HTTPError:
    return _error(404, "Not Found", f"Could not find {kind}: {ident}.")


class IdentityStore:
    def __init__(self, cloud: Any, ident: dict[str, Any]) -> None:
        self.cloud = cloud
        self.region = ident["region"]
        self.token_lifetime = float(ident["token_lifetime"])
        self.domains = {d["id"]: dict(d) for d in ident["domains"]}
        self.roles = {
            stable_hex("role", name): {"id": stable_hex("role", name), "name": name} for name in ident["roles"]
        }
        self.role_ids = {r["name"]: r["id"] for r in self.roles.values()}
        self.projects = {p["id"]: dict(p) for p in ident["projects"]}
        self.project_by_name = {p["name"]: p["id"] for p in self.projects.values()}
        self.users = {u["id"]: dict(u) for u in ident["users"]}
        self.user_by_name = {u["name"]: u["id"] for u in self.users.values()}
        self.tokens: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def domain_ref(self, domain_id: str) -> dict[str, str]:
        """``{id, name}`` of a domain, as Keystone nests it with ``include_names``."""
        domain = self.domains.get(domain_id)
        return {"id": domain_id, "name": domain["name"] if domain else domain_id}

    # -- lookups other services use ------------------------------------------------------
    def project_id(self, ref: str) -> str | None:
        """Project id from a name or an id (None if unknown)."""
        return ref if ref in self.projects else self.project_by_name.get(ref)

    def user_id(self, ref: str) -> str | None:
        return ref if ref in self.users else self.user_by_name.get(ref)

    # -- tokens ------------------------------------------------------------------------
    def _roles_on(self, user: dict[str, Any], scope: dict[str, Any]) -> list[str] | None:
        """Role names the user holds on a scope, None when it has no access."""
        admin = "admin" in user["roles"]
        if "project" in scope:
            if scope["project"]["id"] == user["project_id"] or admin:
                return list(user["roles"])
            return None
        if "domain" in scope or "system" in scope:
            return list(user["roles"]) if admin else None
        return []

    def issue(self, user: dict[str, Any], scope: dict[str, Any], methods: list[str]) -> tuple[str, dict[str, Any]]:
        roles = self._roles_on(user, scope)
        if roles is None:
            what = next(iter(scope))
            raise unauthorized(f"User {user['id']} has no access to {what} {scope[what].get('id', 'all')}")
        now = time.time()
        token_id = "gAAAAA" + secrets.token_urlsafe(48)
        record = {
            "id": token_id,
            "user": user,
            "scope": scope,
            "roles": roles,
            "methods": methods,
            "issued": now,
            "expires": now + self.token_lifetime,
            "audit_id": secrets.token_urlsafe(16)[:22],
        }
        with self._lock:
            self.tokens[token_id] = record
        return token_id, record

    def _expired_by_fault(self, record: dict[str, Any]) -> bool:
        faults = self.cloud.faults
        if faults is None:
            return False
        for spec in faults.state()["named"]:
            if spec["kind"] != "token_expire" or spec.get("target") not in (None, record["user"]["name"]):
                continue
            since = spec.setdefault("since", time.time())
            if record["issued"] <= since:
                return True
        return False

    def lookup(self, token_id: str | None) -> dict[str, Any]:
        if not token_id:
            raise unauthorized()
        with self._lock:
            record = self.tokens.get(token_id)
        if record is None:
            raise unauthorized("The request you have made requires authentication.")
        if time.time() >= record["expires"] or self._expired_by_fault(record):
            with self._lock:
                self.tokens.pop(token_id, None)
            raise unauthorized("The token has expired.")
        return record

    def authenticate(self, request: Request) -> dict[str, Any]:
        """Validate X-Auth-Token and set ``request.context`` (TEAM.md contract)."""
        record = self.lookup(request.header("x-auth-token"))
        scope = record["scope"]
        request.context = {
            "token": record["id"],
            "user_id": record["user"]["id"],
            "user_name": record["user"]["name"],
            "project_id": scope["project"]["id"] if "project" in scope else None,
            "domain_id": scope["domain"]["id"] if "domain" in scope else None,
            "system": "system" in scope,
            "roles": list(record["roles"]),
            "is_admin": "admin" in record["roles"],
        }
        return request.context

    # -- bodies ------------------------------------------------------------------------
    def catalog(self) -> list[dict[str, Any]]:
        base = self.cloud.base_url
        entries = []
        for service in self.cloud.services:
            if not service.service_type:
                continue
            url = f"{base}{service.prefix}{service.catalog_path}"
            sid = stable_hex("service", service.name)
            entries.append(
                {
                    "id": sid,
                    "type": service.service_type,
                    "name": service.name,
                    "endpoints": [
                        {
                            "id": stable_hex("endpoint", f"{service.name}:{iface}"),
                            "interface": iface,
                            "region": self.region,
                            "region_id": self.region,
                            "url": url,
                        }
                        for iface in ("public", "internal", "admin")
                    ],
                }
            )
        return entries

    def token_body(self, record: dict[str, Any], nocatalog: bool = False) -> dict[str, Any]:
        user = record["user"]
        dom = self.domains[user["domain_id"]]
        body: dict[str, Any] = {
            "methods": record["methods"],
            "user": {
                "id": user["id"],
                "name": user["name"],
                "domain": {"id": dom["id"], "name": dom["name"]},
                "password_expires_at": None,  # nosec B105 # an expiry date (null), not a password
            },
            "audit_ids": [record["audit_id"]],
            "issued_at": _ts(record["issued"]),
            "expires_at": _ts(record["expires"]),
        }
        scope = record["scope"]
        if "project" in scope:
            project = self.projects[scope["project"]["id"]]
            pdom = self.domains[project["domain_id"]]
            body["project"] = {
                "id": project["id"],
                "name": project["name"],
                "domain": {"id": pdom["id"], "name": pdom["name"]},
            }
            body["is_domain"] = False
        elif "domain" in scope:
            d = self.domains[scope["domain"]["id"]]
            body["domain"] = {"id": d["id"], "name": d["name"]}
        elif "system" in scope:
            body["system"] = {"all": True}
        if scope:
            body["roles"] = [{"id": self.role_ids[r], "name": r} for r in record["roles"]]
            if not nocatalog:
                body["catalog"] = self.catalog()
        return {"token": body}

    # -- request parsing -----------------------------------------------------------------
    def _domain_ref(self, ref: dict[str, Any] | None) -> str:
        if not ref:
            return "default"
        if "id" in ref:
            if ref["id"] not in self.domains:
                raise unauthorized(f"Could not find domain: {ref['id']}.")
            return ref["id"]
        for d in self.domains.values():
            if d["name"] == ref.get("name"):
                return d["id"]
        raise unauthorized(f"Could not find domain: {ref.get('name')}.")

    def resolve_scope(self, scope: Any) -> dict[str, Any]:
        if not scope:
            return {}
        if not isinstance(scope, dict):
            raise _error(400, "Bad Request", "Invalid scope")
        if "project" in scope:
            ref = scope["project"] or {}
            pid = ref.get("id")
            if pid is None:
                dom = self._domain_ref(ref.get("domain"))
                pid = next(
                    (p["id"] for p in self.projects.values() if p["name"] == ref.get("name") and p["domain_id"] == dom),
                    None,
                )
            if pid not in self.projects:
                raise unauthorized(f"Could not find project: {ref.get('id') or ref.get('name')}.")
            return {"project": {"id": pid}}
        if "domain" in scope:
            return {"domain": {"id": self._domain_ref(scope["domain"])}}
        if "system" in scope:
            return {"system": {"all": True}}
        raise _error(400, "Bad Request", "Invalid scope")


def _store(request: Request) -> IdentityStore:  # noqa: N802
    return request.cloud.stores["identity"]


def _version(base_url: str) -> dict[str, Any]:
    return {
        "id": V3_VERSION,
        "status": "stable",
        "updated": V3_UPDATED,
        "links": [{"rel": "self", "href": f"{base_url}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.identity-v3+json"}],
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(300, {"versions": {"values": [_version(request.base_url)]}})


@router.route("GET", "/v3")
def version_v3(request: Request) -> Response:
    return Response(200, {"version": _version(request.base_url)})


@router.route("POST", "/v3/auth/tokens")
def issue_token(request: Request) -> Response:
    store = _store(request)
    body = request.json or {}
    auth = body.get("auth") if isinstance(body, dict) else None
    if not isinstance(auth, dict) or not isinstance(auth.get("identity"), dict):
        raise _error(400, "Bad Request", "Expecting to find identity in auth.")
    ident = auth["identity"]
    methods = ident.get("methods") or []
    user = None
    if "password" in methods:
        pw = (ident.get("password") or {}).get("user") or {}
        uid = pw.get("id")
        if uid is None:
            dom = store._domain_ref(pw.get("domain"))
            uid = next(
                (u["id"] for u in store.users.values() if u["name"] == pw.get("name") and u["domain_id"] == dom), None
            )
        user = store.users.get(uid or "")
        if user is None or not user["enabled"] or pw.get("password") != user["password"]:
            raise unauthorized("The request you have made requires authentication.")
    elif "token" in methods:
        old = store.lookup((ident.get("token") or {}).get("id"))
        user = old["user"]
    else:
        raise unauthorized("Unsupported authentication method")
    scope = store.resolve_scope(auth.get("scope"))
    token_id, record = store.issue(user, scope, methods)
    nocatalog = request.arg("nocatalog") is not None
    return Response(201, store.token_body(record, nocatalog), {"X-Subject-Token": token_id})


def _validate_subject(request: Request) -> tuple[IdentityStore, dict[str, Any]]:
    store = _store(request)
    store.authenticate(request)
    subject = request.header("x-subject-token")
    try:
        record = store.lookup(subject)
    except HTTPError as exc:
        raise not_found("token", subject or "") from exc
    if record["user"]["id"] != request.context["user_id"] and not request.context["is_admin"]:
        raise forbidden("identity:validate_token")
    return store, record


@router.route("GET", "/v3/auth/tokens")
def validate_token(request: Request) -> Response:
    store, record = _validate_subject(request)
    return Response(
        200, store.token_body(record, request.arg("nocatalog") is not None), {"X-Subject-Token": record["id"]}
    )


@router.route("HEAD", "/v3/auth/tokens")
def check_token(request: Request) -> Response:
    _validate_subject(request)
    return Response(200)


@router.route("DELETE", "/v3/auth/tokens")
def revoke_token(request: Request) -> Response:
    store, record = _validate_subject(request)
    with store._lock:
        store.tokens.pop(record["id"], None)
    return Response(204)


@router.route("GET", "/v3/auth/catalog")
def auth_catalog(request: Request) -> Response:
    store = _store(request)
    store.authenticate(request)
    return Response(200, {"catalog": store.catalog(), "links": {"self": f"{request.base_url}/v3/auth/catalog"}})


def _project_view(store: IdentityStore, p: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": p["id"],
        "name": p["name"],
        "domain_id": p["domain_id"],
        "description": p["description"],
        "enabled": p["enabled"],
        "is_domain": False,
        "parent_id": p["domain_id"],
        "tags": [],
        "options": {},
        "links": {"self": f"{base}/v3/projects/{p['id']}"},
    }


def _user_view(u: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": u["id"],
        "name": u["name"],
        "domain_id": u["domain_id"],
        "default_project_id": u["project_id"],
        "enabled": u["enabled"],
        "email": u["email"],
        "password_expires_at": None,  # nosec B105 # an expiry date (null), not a password
        "options": {},
        "links": {"self": f"{base}/v3/users/{u['id']}"},
    }


def _domain_view(d: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": d["id"],
        "name": d["name"],
        "description": "",
        "enabled": True,
        "tags": [],
        "options": {},
        "links": {"self": f"{base}/v3/domains/{d['id']}"},
    }


def _collection(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    for name in ("name", "domain_id", "enabled"):
        want = request.arg(name)
        if want is not None:
            items = [i for i in items if str(i.get(name)).lower() == want.lower() or i.get(name) == want]
    return Response(
        200, {key: items, "links": {"self": f"{request.base_url}/v3/{key}", "next": None, "previous": None}}
    )


def _admin_only(request: Request, action: str) -> IdentityStore:
    store = _store(request)
    store.authenticate(request)
    if not request.context["is_admin"]:
        raise forbidden(action)
    return store


@router.route("GET", "/v3/auth/projects")
def auth_projects(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    user = store.users[ctx["user_id"]]
    allowed = [p for p in store.projects.values() if "admin" in user["roles"] or p["id"] == user["project_id"]]
    return _collection(request, "projects", [_project_view(store, p, request.base_url) for p in allowed])


@router.route("GET", "/v3/auth/domains")
def auth_domains(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    doms = list(store.domains.values()) if ctx["is_admin"] else []
    return _collection(request, "domains", [_domain_view(d, request.base_url) for d in doms])


@router.route("GET", "/v3/auth/system")
def auth_system(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    return Response(
        200,
        {"system": [{"all": True}] if ctx["is_admin"] else [], "links": {"self": f"{request.base_url}/v3/auth/system"}},
    )


@router.route("GET", "/v3/domains")
def list_domains(request: Request) -> Response:
    store = _admin_only(request, "identity:list_domains")
    return _collection(request, "domains", [_domain_view(d, request.base_url) for d in store.domains.values()])


@router.route("GET", "/v3/domains/{domain_id}")
def show_domain(request: Request) -> Response:
    store = _admin_only(request, "identity:get_domain")
    d = store.domains.get(request.params["domain_id"])
    if d is None:
        raise not_found("domain", request.params["domain_id"])
    return Response(200, {"domain": _domain_view(d, request.base_url)})


@router.route("GET", "/v3/projects")
def list_projects(request: Request) -> Response:
    store = _admin_only(request, "identity:list_projects")
    return _collection(
        request, "projects", [_project_view(store, p, request.base_url) for p in store.projects.values()]
    )


@router.route("GET", "/v3/projects/{project_id}")
def show_project(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    p = store.projects.get(request.params["project_id"])
    if p is None:
        raise not_found("project", request.params["project_id"])
    if not ctx["is_admin"] and ctx["project_id"] != p["id"]:
        raise forbidden("identity:get_project")
    return Response(200, {"project": _project_view(store, p, request.base_url)})


@router.route("GET", "/v3/users")
def list_users(request: Request) -> Response:
    store = _admin_only(request, "identity:list_users")
    return _collection(request, "users", [_user_view(u, request.base_url) for u in store.users.values()])


@router.route("GET", "/v3/users/{user_id}")
def show_user(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    u = store.users.get(request.params["user_id"])
    if u is None:
        raise not_found("user", request.params["user_id"])
    if not ctx["is_admin"] and ctx["user_id"] != u["id"]:
        raise forbidden("identity:get_user")
    return Response(200, {"user": _user_view(u, request.base_url)})


@router.route("GET", "/v3/users/{user_id}/projects")
def user_projects(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    u = store.users.get(request.params["user_id"])
    if u is None:
        raise not_found("user", request.params["user_id"])
    if not ctx["is_admin"] and ctx["user_id"] != u["id"]:
        raise forbidden("identity:list_user_projects")
    allowed = [p for p in store.projects.values() if "admin" in u["roles"] or p["id"] == u["project_id"]]
    return _collection(request, "projects", [_project_view(store, p, request.base_url) for p in allowed])


@router.route("GET", "/v3/roles")
def list_roles(request: Request) -> Response:
    store = _store(request)
    store.authenticate(request)
    roles = [
        dict(r, domain_id=None, description=None, options={}, links={"self": f"{request.base_url}/v3/roles/{r['id']}"})
        for r in store.roles.values()
    ]
    return _collection(request, "roles", roles)


@router.route("GET", "/v3/roles/{role_id}")
def show_role(request: Request) -> Response:
    store = _store(request)
    store.authenticate(request)
    r = store.roles.get(request.params["role_id"])
    if r is None:
        raise not_found("role", request.params["role_id"])
    return Response(
        200,
        {
            "role": dict(
                r,
                domain_id=None,
                description=None,
                options={},
                links={"self": f"{request.base_url}/v3/roles/{r['id']}"},
            )
        },
    )


@router.route("GET", "/v3/role_assignments")
def role_assignments(request: Request) -> Response:
    store = _store(request)
    ctx = store.authenticate(request)
    want_user = request.arg("user.id")
    if not ctx["is_admin"] and want_user != ctx["user_id"]:
        raise forbidden("identity:list_role_assignments")
    names = request.arg("include_names") is not None
    want_project = request.arg("scope.project.id")
    want_role = request.arg("role.id")
    out = []
    for u in store.users.values():
        if want_user and u["id"] != want_user:
            continue
        scopes: list[dict[str, Any]] = [{"project": {"id": u["project_id"]}}]
        if "admin" in u["roles"]:
            scopes.append({"system": {"all": True}})
            scopes.append({"domain": {"id": u["domain_id"]}})
        for scope in scopes:
            if want_project and scope.get("project", {}).get("id") != want_project:
                continue
            for role in u["roles"]:
                rid = store.role_ids[role]
                if want_role and rid != want_role:
                    continue
                entry: dict[str, Any] = {
                    "role": {"id": rid},
                    "user": {"id": u["id"]},
                    "scope": {k: dict(v) for k, v in scope.items()},
                    "links": {"assignment": f"{request.base_url}/v3/role_assignments"},
                }
                if names:  # Keystone names the role, the user, the scope and their domains
                    entry["role"]["name"] = role
                    entry["user"].update(name=u["name"], domain=store.domain_ref(u["domain_id"]))
                    if "project" in scope:
                        project = store.projects[u["project_id"]]
                        entry["scope"]["project"].update(
                            name=project["name"], domain=store.domain_ref(project["domain_id"])
                        )
                    if "domain" in scope:
                        entry["scope"]["domain"] = store.domain_ref(scope["domain"]["id"])
                out.append(entry)
    return Response(
        200,
        {
            "role_assignments": out,
            "links": {"self": f"{request.base_url}/v3/role_assignments", "next": None, "previous": None},
        },
    )


@router.route("GET", "/v3/services")
def list_services(request: Request) -> Response:
    store = _admin_only(request, "identity:list_services")
    items = [
        {"id": e["id"], "type": e["type"], "name": e["name"], "enabled": True, "links": {}} for e in store.catalog()
    ]
    return _collection(request, "services", items)


@router.route("GET", "/v3/services/{service_id}")
def show_service(request: Request) -> Response:
    store = _admin_only(request, "identity:get_service")
    for e in store.catalog():
        if e["id"] == request.params["service_id"]:
            view = {"id": e["id"], "type": e["type"], "name": e["name"], "enabled": True}
            view["links"] = {"self": f"{request.base_url}/v3/services/{e['id']}"}
            return Response(200, {"service": view})
    raise not_found("service", request.params["service_id"])


@router.route("GET", "/v3/endpoints")
def list_endpoints(request: Request) -> Response:
    store = _admin_only(request, "identity:list_endpoints")
    items = []
    for e in store.catalog():
        for ep in e["endpoints"]:
            items.append(dict(ep, service_id=e["id"], enabled=True, links={}))
    want = request.arg("interface")
    if want:
        items = [i for i in items if i["interface"] == want]
    return Response(
        200, {"endpoints": items, "links": {"self": f"{request.base_url}/v3/endpoints", "next": None, "previous": None}}
    )


@router.route("GET", "/v3/regions")
def list_regions(request: Request) -> Response:
    store = _store(request)
    store.authenticate(request)
    return Response(
        200, {"regions": [{"id": store.region, "description": "", "parent_region_id": None, "links": {}}], "links": {}}
    )


def load(cloud: Any, topology: dict[str, Any]) -> IdentityStore:
    t = validate_topology(topology)
    store = IdentityStore(cloud, t["identity"])
    return store


SERVICE = Service(
    name="identity",
    prefix="/identity",
    router=router,
    load=load,
    service_type="identity",
    catalog_path="/v3",
    requires_token=False,  # handlers authenticate themselves: token issuance needs none
)
