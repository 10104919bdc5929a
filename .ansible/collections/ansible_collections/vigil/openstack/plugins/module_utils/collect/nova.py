# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Nova collector: hypervisors, compute services, aggregates, servers (all projects),
server groups and recent migrations, read in bulk.

Requests for H hypervisors and S servers (page size P, Nova's max_limit caps it; a full
last page costs one more, empty, request): ceil(H/P) hypervisors + 1 aggregates +
ceil(S/P) servers + ceil(G/P) server groups, and only when needed 1 services, 1
migrations, 1 flavors (see `collect`). Availability zones are aggregates in Nova
(``availability_zone`` metadata, else the default zone ``nova``), so
os-availability-zone is not read. Microversions are pinned (no discovery request):

- hypervisors 2.53: uuid ids, ``service`` embedded, capacity statistics (removed in 2.88);
- servers 2.47: flavor embedded with extra_specs (no flavor list needed), tags, locked;
- server groups 2.64: ``policy`` and ``rules`` (max_server_per_host);
- migrations 2.59: paging and ``changes-since``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "compute"
PAGE_SIZE = 1000
MV_HYPERVISORS = "2.53"
MV_SERVERS = "2.47"
MV_SERVER_GROUPS = "2.64"
MV_MIGRATIONS = "2.59"


def hypervisors(ad, page_size=PAGE_SIZE):
    return rest.paginate(
        ad, "/os-hypervisors/detail", SERVICE, "hypervisors", microversion=MV_HYPERVISORS, limit=page_size
    )


def services(ad):
    body = rest.get_json(ad, "/os-services", SERVICE, params={"binary": "nova-compute"}, microversion=MV_HYPERVISORS)
    return body.get("services") or []


def aggregates(ad):
    return rest.get_json(ad, "/os-aggregates", SERVICE, microversion=MV_HYPERVISORS).get("aggregates") or []


def servers(ad, all_projects=True, page_size=PAGE_SIZE, filters=None):
    params = dict(filters or {})
    if all_projects:
        params["all_tenants"] = "1"
    return rest.paginate(
        ad, "/servers/detail", SERVICE, "servers", params=params, microversion=MV_SERVERS, limit=page_size
    )


def server_groups(ad, all_projects=True, page_size=PAGE_SIZE):
    """os-server-groups pages with limit/offset (no marker, no next link)."""
    out = []
    offset = 0
    while True:
        params = {"limit": page_size, "offset": offset}
        if all_projects:
            params["all_projects"] = "True"
        page = (
            rest.get_json(ad, "/os-server-groups", SERVICE, params=params, microversion=MV_SERVER_GROUPS).get(
                "server_groups"
            )
            or []
        )
        out.extend(page)
        if len(page) < page_size:
            return out
        offset += len(page)


def migrations(ad, since_hours=24, page_size=PAGE_SIZE):
    """Migrations changed in the last `since_hours` (in-progress ones are among them:
    Nova updates a migration's row at every status change)."""
    since = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=since_hours)
    params = {"changes-since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return rest.paginate(
        ad, "/os-migrations", SERVICE, "migrations", params=params, microversion=MV_MIGRATIONS, limit=page_size
    )


def flavors(ad):
    return (
        rest.get_json(ad, "/flavors/detail", SERVICE, params={"is_public": "None"}, microversion="2.61").get("flavors")
        or []
    )


# Server states and tasks that mean a migration or resize is under way.
MOVING_STATUS = frozenset(["MIGRATING", "RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE"])


def _moving(server):
    task = server.get("OS-EXT-STS:task_state") or ""
    return server.get("status") in MOVING_STATUS or "migrat" in task or task.startswith("resize")


def collect(conn, all_projects=True, page_size=PAGE_SIZE, with_migrations=True, with_services="auto"):
    """Raw Nova payloads: ``{"hypervisors", "services", "aggregates", "servers",
    "server_groups", "migrations", "flavors"}``.

    Reads that other payloads make redundant are skipped (``None``/``[]``):

    - ``services`` (``with_services="auto"``): hypervisors at 2.53 already carry the service's
      status, state and disabled_reason, and availability zones are aggregates; os-services
      adds only ``forced_down``, so it is read when a hypervisor is down.
    - ``migrations``: read only when a server is migrating or resizing.
    - ``flavors``: read only when servers do not embed their flavor.
    """
    ad = endpoint.adapter(conn, SERVICE)
    out = {
        "hypervisors": hypervisors(ad, page_size),
        "aggregates": aggregates(ad),
        "servers": servers(ad, all_projects, page_size),
        "server_groups": server_groups(ad, all_projects, page_size),
        "services": None,
        "migrations": [],
        "flavors": [],
    }
    need_services = with_services is True or (
        with_services == "auto"
        and any(h.get("state") != "up" or "status" not in h or not h.get("service") for h in out["hypervisors"])
    )
    if need_services:
        out["services"] = services(ad)
    if with_migrations and any(_moving(s) for s in out["servers"]):
        out["migrations"] = migrations(ad, page_size=page_size)
    if any("vcpus" not in (s.get("flavor") or {}) for s in out["servers"]):
        out["flavors"] = flavors(ad)
    return out
