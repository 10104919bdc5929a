# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Keystone collector: domains, projects, users, to scope audits and name things in reports.

Three requests (one per collection; Keystone pages only when ``list_limit`` truncates,
and then the ``links.next`` URL is followed).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "identity"

DOMAIN_FIELDS = ("id", "name", "enabled", "description")
PROJECT_FIELDS = ("id", "name", "domain_id", "parent_id", "is_domain", "enabled", "description", "tags")
USER_FIELDS = ("id", "name", "domain_id", "default_project_id", "enabled", "email", "description")


def _list(proxy, path, key, params=None):
    # Keystone ignores limit unless list_limit is set; it pages with links.next when it does.
    path = endpoint.versioned(proxy, path, "v3")
    return rest.paginate(proxy, path, SERVICE, key, params=params, limit=None, links_key="links")


def _pick(items, fields):
    return [dict((f, item.get(f)) for f in fields) for item in items]


def domains(proxy):
    return _pick(_list(proxy, "/domains", "domains"), DOMAIN_FIELDS)


def projects(proxy):
    # Keystone lists domains-as-projects only with is_domain=true; a plain list gives projects.
    return _pick(_list(proxy, "/projects", "projects"), PROJECT_FIELDS)


def users(proxy):
    return _pick(_list(proxy, "/users", "users"), USER_FIELDS)


def collect(conn, with_users=True):
    """``{"domains", "projects", "users"}`` as lists of dicts (``users`` None when not asked)."""
    proxy = endpoint.adapter(conn, SERVICE)
    return {
        "domains": domains(proxy),
        "projects": projects(proxy),
        "users": users(proxy) if with_users else None,
    }


def resolve(items, wanted, kind):
    """Ids of ``items`` whose id or name is in ``wanted`` (exact match, never substring).

    Raises ValueError naming what matched nothing, and what matched more than once by
    name (two projects of the same name in different domains: pass the id).
    """
    by_id = dict((i["id"], i) for i in items)
    by_name = {}
    for item in items:
        by_name.setdefault(item.get("name"), []).append(item["id"])
    ids, missing, ambiguous = [], [], []
    for w in wanted or []:
        if w in by_id:
            ids.append(w)
        elif len(by_name.get(w, ())) == 1:
            ids.append(by_name[w][0])
        elif w in by_name:
            ambiguous.append(w)
        else:
            missing.append(w)
    problems = []
    if missing:
        problems.append("unknown %s: %s" % (kind, ", ".join(sorted(missing))))
    if ambiguous:
        problems.append("%s names matching several %s (give the id): %s" % (kind, kind, ", ".join(sorted(ambiguous))))
    if problems:
        raise ValueError("; ".join(problems))
    return ids


def scope_project_ids(identity, projects=None, domains=None):
    """Project ids selected by project ids/names and/or domain ids/names (union).

    None when neither is given (no scoping). ``identity`` is what `collect` returns.
    """
    if not projects and not domains:
        return None
    selected = set(resolve(identity["projects"], projects, "project")) if projects else set()
    if domains:
        domain_ids = set(resolve(identity["domains"], domains, "domain"))
        selected.update(p["id"] for p in identity["projects"] if p.get("domain_id") in domain_ids)
    return sorted(selected)


def scope(identity, projects=None, domains=None):
    """What identity_info returns: domains, projects, users narrowed to a scope, with
    id -> name maps. Without a scope everything is returned."""
    selected = scope_project_ids(identity, projects, domains)
    all_projects = identity["projects"]
    users_list = identity.get("users") or []
    if selected is None:
        picked, doms, usr = all_projects, identity["domains"], users_list
    else:
        keep = set(selected)
        picked = [p for p in all_projects if p["id"] in keep]
        domain_ids = set(p.get("domain_id") for p in picked)
        if domains:
            domain_ids.update(resolve(identity["domains"], domains, "domain"))
        doms = [d for d in identity["domains"] if d["id"] in domain_ids]
        usr = [u for u in users_list if u.get("domain_id") in domain_ids]
    return {
        "domains": doms,
        "projects": picked,
        "users": usr,
        "project_ids": sorted(p["id"] for p in picked),
        "project_names": dict((p["id"], p.get("name")) for p in picked),
        "domain_names": dict((d["id"], d.get("name")) for d in doms),
        "user_names": dict((u["id"], u.get("name")) for u in usr),
    }
