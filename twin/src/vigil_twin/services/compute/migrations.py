"""Migrations: a server's live migrations (show, abort, force-complete) and /os-migrations."""

from __future__ import annotations

import time
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services import changes_since
from vigil_twin.services.compute.api import (
    LIVE_ACTIVE,
    compute_store,
    fault,
    page_of,
    require_admin,
    route,
    server_or_404,
)
from vigil_twin.services.compute.server_actions import state_conflict
from vigil_twin.services.compute.store import ComputeStore


# -- server migrations and instance actions -------------------------------------------------
def _with_ids(view: dict[str, Any], mig: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    """The ids both migration views add by microversion: uuid (2.59), user and project (2.80)."""
    if mv >= (2, 59):
        view["uuid"] = mig["uuid"]
    if mv >= (2, 80):
        view["user_id"] = mig["user_id"]
        view["project_id"] = mig["project_id"]
    return view


def _server_migration_view(mig: dict[str, Any], mv: tuple[int, int], base: str, store: ComputeStore) -> dict[str, Any]:
    total = mig["memory_total_bytes"]
    elapsed = store.cloud.clock.speed * (time.monotonic() - mig["started"])
    done = (
        0
        if mig["status"] in ("queued", "preparing")
        else min(total, int(total * min(1.0, elapsed / max(mig["duration"], 1e-6))))
    )
    if mig["hang"]:
        done = min(done, int(total * 0.9))
    v = {
        "id": mig["id"],
        "server_uuid": mig["server_uuid"],
        "source_compute": mig["source_compute"],
        "source_node": mig["source_node"],
        "dest_compute": mig["dest_compute"],
        "dest_node": mig["dest_node"],
        "dest_host": mig["dest_host"],
        "status": mig["status"],
        "created_at": mig["created_at"],
        "updated_at": mig["updated_at"],
        "memory_total_bytes": total,
        "memory_processed_bytes": done,
        "memory_remaining_bytes": total - done,
        "disk_total_bytes": mig["disk_total_bytes"],
        "disk_processed_bytes": 0,
        "disk_remaining_bytes": mig["disk_total_bytes"],
    }
    return _with_ids(v, mig, mv)


@route("GET", "/servers/{server_id}/migrations", min_mv=(2, 23))
def list_server_migrations(request: Request) -> Response:
    require_admin(request, "os_compute_api:servers:migrations:index")
    store = compute_store(request)
    server = server_or_404(request, store)
    mv = request.context["mv"]
    items = [
        _server_migration_view(m, mv, request.base_url, store)
        for m in store.migrations.values()
        if m["server_uuid"] == server["id"] and m["migration_type"] == "live-migration" and m["status"] in LIVE_ACTIVE
    ]
    return Response(200, {"migrations": items})


def _server_migration(request: Request, store: ComputeStore) -> tuple[dict[str, Any], dict[str, Any]]:
    """The server of the path and its migration ``{migration_id}`` (404 for either)."""
    server = server_or_404(request, store)
    try:
        mid = int(request.params["migration_id"])
    except ValueError:
        raise fault(404, f"Migration {request.params['migration_id']} could not be found.") from None
    mig = store.migrations.get(mid)
    if mig is None or mig["server_uuid"] != server["id"]:
        raise fault(404, f"Migration {mid} could not be found.")
    return server, mig


@route("GET", "/servers/{server_id}/migrations/{migration_id}", min_mv=(2, 23))
def show_server_migration(request: Request) -> Response:
    require_admin(request, "os_compute_api:servers:migrations:show")
    store = compute_store(request)
    server, mig = _server_migration(request, store)
    if mig["migration_type"] != "live-migration" or mig["status"] not in LIVE_ACTIVE:
        raise fault(404, f"In-progress live migration {mig['id']} is not found for server {server['id']}.")
    return Response(200, {"migration": _server_migration_view(mig, request.context["mv"], request.base_url, store)})


@route("DELETE", "/servers/{server_id}/migrations/{migration_id}", min_mv=(2, 24))
def abort_server_migration(request: Request) -> Response:
    require_admin(request, "os_compute_api:servers:migrations:delete")
    store = compute_store(request)
    mv = request.context["mv"]
    with store.cloud.lock:
        server, mig = _server_migration(request, store)
        if mig["migration_type"] != "live-migration":
            raise fault(400, f"Migration {mig['id']} is not a live migration and cannot be aborted.")
        if server["task_state"] != "migrating":
            raise state_conflict(server, "abort live migration")
        abortable = ("running", "queued", "preparing") if mv >= (2, 65) else ("running",)
        if mig["status"] not in abortable:
            raise fault(
                400,
                f"Migration {mig['id']} state of instance {server['id']} is {mig['status']}. Cannot abort while migration is in this state.",
            )
        store.abort_live(server, mig)
    return Response(202)


@route("POST", "/servers/{server_id}/migrations/{migration_id}/action", min_mv=(2, 22))
def force_complete(request: Request) -> Response:
    require_admin(request, "os_compute_api:servers:migrations:force_complete")
    store = compute_store(request)
    with store.cloud.lock:
        server, mig = _server_migration(request, store)
        if mig["status"] != "running":
            raise fault(
                400,
                f"Migration {mig['id']} state of instance {server['id']} is {mig['status']}. Cannot force_complete while migration is in this state.",
            )
        mig["hang"] = False
        store._later(0.5, lambda: store._live_finish(mig["id"]))
    return Response(202)


def _migration_view(mig: dict[str, Any], mv: tuple[int, int], base: str, store: ComputeStore) -> dict[str, Any]:
    v = {
        "id": mig["id"],
        "source_node": mig["source_node"],
        "dest_node": mig["dest_node"],
        "source_compute": mig["source_compute"],
        "dest_compute": mig["dest_compute"],
        "dest_host": mig["dest_host"],
        "status": mig["status"],
        "instance_uuid": mig["server_uuid"],
        "old_instance_type_id": store.flavors[mig["old_flavor_id"]]["int_id"],
        "new_instance_type_id": store.flavors[mig["new_flavor_id"]]["int_id"],
        "created_at": mig["created_at"],
        "updated_at": mig["updated_at"],
    }
    if mv >= (2, 23):
        v["migration_type"] = mig["migration_type"]
        if mig["migration_type"] == "live-migration" and mig["status"] in LIVE_ACTIVE:
            v["links"] = [
                {"rel": "self", "href": f"{base}/v2.1/servers/{mig['server_uuid']}/migrations/{mig['id']}"},
                {"rel": "bookmark", "href": f"{base}/servers/{mig['server_uuid']}/migrations/{mig['id']}"},
            ]
    return _with_ids(v, mig, mv)


@route("GET", "/os-migrations")
def list_migrations(request: Request) -> Response:
    require_admin(request, "os_compute_api:os-migrations:index")
    store = compute_store(request)
    mv = request.context["mv"]
    migs = sorted(store.migrations.values(), key=lambda m: (m["created_at"], m["id"]), reverse=True)
    host = request.arg("host")
    if host:
        migs = [m for m in migs if host in (m["source_compute"], m["dest_compute"])]
    for key, field in (
        ("status", "status"),
        ("instance_uuid", "server_uuid"),
        ("migration_type", "migration_type"),
        ("source_compute", "source_compute"),
    ):
        want = request.arg(key)
        if want:
            migs = [m for m in migs if m[field] == want]
    if mv >= (2, 80):
        for key in ("user_id", "project_id"):
            want = request.arg(key)
            if want:
                migs = [m for m in migs if m[key] == want]
    migs = changes_since.migrations(request, migs)
    links = None
    if mv >= (2, 59):
        migs, links = page_of(
            request, migs, lambda m: m["uuid"], "/os-migrations", "Marker {marker} could not be found."
        )
    body: dict[str, Any] = {"migrations": [_migration_view(m, mv, request.base_url, store) for m in migs]}
    if links:
        body["migrations_links"] = links
    return Response(200, body)
