"""What every Cinder route shares: errors as Cinder shapes them, microversions, the router."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from vigil_twin.http import HTTPError, Request, Response
from vigil_twin.services._support import PrefixRouter, cloud_of, is_admin, looks_like_id, microversion

if TYPE_CHECKING:
    from vigil_twin.services.volume.store import VolumeStore


MIN_VERSION, MAX_VERSION = "3.0", "3.71"
MAX_LIMIT = 1000
POOL_NAME = re.compile(r"^(?P<host>[^@#\s]+)@(?P<backend>[^@#\s]+)#(?P<pool>[^@#\s]+)$")
VOLUME_STATUSES = {"available", "in-use", "error", "creating", "maintenance", "reserved", "error_deleting"}
USER_FILTERS = {"name", "status", "metadata", "bootable", "migration_status", "availability_zone", "group_id", "size"}


# -- errors as Cinder shapes them --------------------------------------------------------
_FAULT_NAMES = {400: "badRequest", 403: "forbidden", 404: "itemNotFound", 406: "notAcceptable", 409: "conflict"}


def err(status: int, message: str) -> HTTPError:
    return HTTPError(status, {_FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}})


def policy_error(action: str) -> HTTPError:
    return err(403, f"Policy doesn't allow {action} to be performed.")


# -- routes ------------------------------------------------------------------------------
_COLLECTIONS = {
    "volumes",
    "types",
    "scheduler-stats",
    "os-services",
    "attachments",
    "snapshots",
    "backups",
    "limits",
    "extensions",
}


def _strip_project(request: Request) -> None:
    """/v3/{project_id}/volumes -> /v3/volumes (Cinder accepts both since 3.67). Only an id is taken
    for a project: any other unknown segment stays, and the router answers 404 as Cinder does."""
    parts = request.path.split("/")
    if len(parts) > 2 and parts[1] == "v3" and looks_like_id(parts[2]) and parts[2] not in _COLLECTIONS:
        request.context["url_project_id"] = parts[2]
        request.path = "/".join(parts[:2] + parts[3:])


router = PrefixRouter(_strip_project)


def negotiate(request: Request) -> tuple[int, int]:
    return microversion(request, "volume", None, MIN_VERSION, MAX_VERSION, MIN_VERSION, err)


def respond(request: Request, status: int, body: Any, mv: tuple[int, int]) -> Response:
    return Response(
        status,
        body,
        {"OpenStack-API-Version": f"volume {mv[0]}.{mv[1]}", "Vary": "OpenStack-API-Version"},
    )


def _version_doc(base: str) -> dict[str, Any]:
    return {
        "id": "v3.0",
        "status": "CURRENT",
        "version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "updated": "2023-08-31T00:00:00Z",
        "links": [{"rel": "self", "href": f"{base}/v3/"}],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.volume+json;version=3"}],
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(300, {"versions": [_version_doc(request.base_url)]})


@router.route("GET", "/v3")
def version_v3(request: Request) -> Response:
    return Response(200, {"versions": [_version_doc(request.base_url)]})


def volume_store(request: Request) -> VolumeStore:
    return cloud_of(request, "/volume").stores["volume"]


def visible(request: Request, store: VolumeStore, vol: dict[str, Any]) -> bool:
    return is_admin(request) or vol["project_id"] == request.context.get("project_id")
