"""Glance v2 (catalog type ``image``): images with their properties, read-only.

Custom properties (``hw_*``, ``trait:CUSTOM_*``, ``os_distro`` ...) appear as top-level keys of
the image, as Glance shows them. Images named in the topology's ``images`` section keep the
id ``stable_uuid("image", name)`` that Nova's servers use; an image a server refers to but
the section does not define is served as a plain placeholder so joins never dangle.
"""

from __future__ import annotations

import copy
from typing import Any

from vigil_twin.errors import TopologyError
from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.services._support import (
    cloud_of,
    compute_servers,
    field,
    int_arg,
    is_admin,
    page,
    project_id,
    section,
    uid,
    unique_ids,
)
from vigil_twin.topology import BASE_TIME

RESERVED = {
    "id", "name", "status", "visibility", "protected", "os_hidden", "checksum", "os_hash_algo", "os_hash_value",
    "size", "virtual_size", "min_disk", "min_ram", "disk_format", "container_format", "created_at", "updated_at",
    "tags", "owner", "self", "file", "schema", "direct_url", "locations",
}  # fmt: skip
MAX_LIMIT = 1000


def err(status: int, message: str) -> HTTPError:
    titles = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}
    return HTTPError(
        status,
        f"{status} {titles.get(status, 'Error')}\n\n{message}\n\n   ",
        {"Content-Type": "text/plain; charset=UTF-8"},
    )


class ImageStore:
    def __init__(self) -> None:
        self.images: dict[str, dict[str, Any]] = {}

    def view(self, img: dict[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in img.items() if not k.startswith("_")}
        body["tags"] = list(img["tags"])
        body["self"] = f"/v2/images/{img['id']}"
        body["file"] = f"/v2/images/{img['id']}/file"
        body["schema"] = "/v2/schemas/image"
        return body


def _load(cloud: Any, topology: dict[str, Any]) -> ImageStore:
    store = ImageStore()
    entries = section(topology, "images")
    unique_ids(entries, "images", "image")
    created = BASE_TIME.strftime("%Y-%m-%dT%H:%M:%SZ")
    for i, e in enumerate(entries):
        where = f"images[{i}]"
        name = field(e, where, "name", str)
        props = field(e, where, "properties", dict, {})
        for key in props:
            if key in RESERVED:
                raise TopologyError(f"{where}.properties.{key}: reserved Glance attribute, set it on the image itself")
        owner = project_id(cloud, field(e, where, "owner", str, "admin"))
        if owner is None:
            raise TopologyError(f"{where}.owner: unknown project '{e.get('owner')}'")
        visibility = field(e, where, "visibility", str, "public")
        if visibility not in ("public", "private", "shared", "community"):
            raise TopologyError(f"{where}.visibility: '{visibility}' is not public, private, shared or community")
        size = field(e, where, "size", int, 21430272)
        img = _image(field(e, where, "id", str, uid("image", name)), name, owner, created)
        img.update(
            {
                "visibility": visibility,
                "size": size,
                "virtual_size": field(e, where, "virtual_size", int, size),
                "min_disk": field(e, where, "min_disk", int, 0),
                "min_ram": field(e, where, "min_ram", int, 0),
                "disk_format": field(e, where, "disk_format", str, "qcow2"),
                "container_format": field(e, where, "container_format", str, "bare"),
                "status": field(e, where, "status", str, "active"),
                "tags": list(field(e, where, "tags", list, [])),
                "protected": bool(field(e, where, "protected", bool, False)),
            }
        )
        for key, value in props.items():
            img[key] = (
                value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
            )
        store.images[img["id"]] = img
    admin = project_id(cloud, "admin") or uid("project", "admin")
    if uid("image", "cirros") not in store.images and not any(img["name"] == "cirros" for img in store.images.values()):
        store.images[uid("image", "cirros")] = _image(uid("image", "cirros"), "cirros", admin, created)
    # images deleted while servers still use them: Glance no longer lists them
    deleted = {uid("image", n) if not _is_id(n) else n for n in field(topology, "topology", "deleted_images", list, [])}
    for server in compute_servers(cloud).values():
        ref = server.get("image")
        ref = ref.get("id") if isinstance(ref, dict) else ref
        if ref and ref not in store.images and ref not in deleted:
            store.images[ref] = _image(ref, f"image-{ref[:8]}", admin, created)
    return store


def _is_id(ref: str) -> bool:
    return len(ref) == 36 and ref.count("-") == 4


def _image(iid: str, name: str, owner: str, created: str) -> dict[str, Any]:
    return {
        "id": iid,
        "name": name,
        "status": "active",
        "visibility": "public",
        "protected": False,
        "os_hidden": False,
        "checksum": uid("checksum", iid).replace("-", ""),
        "os_hash_algo": "sha512",
        "os_hash_value": (uid("hash", iid) + uid("hash2", iid)).replace("-", "")[:128],
        "size": 21430272,
        "virtual_size": 117440512,
        "min_disk": 0,
        "min_ram": 0,
        "disk_format": "qcow2",
        "container_format": "bare",
        "owner": owner,
        "tags": [],
        "created_at": created,
        "updated_at": created,
    }


def _snapshot(store: ImageStore) -> dict[str, Any]:
    return {"images": copy.deepcopy(store.images)}


def _restore(cloud: Any, old: ImageStore, data: dict[str, Any]) -> ImageStore:
    store = ImageStore()
    store.images = copy.deepcopy(data["images"])
    return store


router = Router()


def _store(request: Request) -> ImageStore:
    return cloud_of(request).stores["image"]


def _versions(base: str) -> dict[str, Any]:
    return {
        "versions": [
            {
                "id": f"v2.{m}",
                "status": "CURRENT" if m == 16 else "SUPPORTED",
                "links": [{"rel": "self", "href": f"{base}/v2/"}],
            }
            for m in range(16, -1, -1)
        ]
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(300, _versions(request.base_url))


@router.route("GET", "/versions")
def versions_list(request: Request) -> Response:
    return Response(200, _versions(request.base_url))


def _visible(request: Request, img: dict[str, Any]) -> bool:
    return (
        is_admin(request)
        or img["visibility"] in ("public", "community")
        or img["owner"] == request.context.get("project_id")
    )


@router.route("GET", "/v2/images")
def images_list(request: Request) -> Response:
    store = _store(request)
    rows = [img for img in store.images.values() if _visible(request, img)]
    for key in ("name", "status", "visibility", "owner", "disk_format", "container_format", "id"):
        wanted = request.arg(key)
        if wanted is not None and wanted.startswith("in:") and key != "visibility":
            # Glance's "in" operator (API 2.5): any of a comma-separated list
            rows = [img for img in rows if str(img.get(key)) in wanted[3:].split(",")]
        elif wanted is not None:
            rows = [img for img in rows if str(img.get(key)) == wanted]
    for tag in request.query.get("tag", []):
        rows = [img for img in rows if tag in img["tags"]]
    rows.sort(key=lambda img: (img["created_at"], img["id"]), reverse=True)
    limit = int_arg(request, "limit", err)
    chunk, more = page(
        rows, limit, request.arg("marker"), MAX_LIMIT, lambda m: err(400, f"marker {m} could not be found.")
    )
    body: dict[str, Any] = {
        "images": [store.view(img) for img in chunk],
        "first": "/v2/images",
        "schema": "/v2/schemas/images",
    }
    if more and chunk:
        body["next"] = f"/v2/images?marker={chunk[-1]['id']}" + (f"&limit={limit}" if limit else "")
    return Response(200, body)


@router.route("GET", "/v2/images/{image_id}")
def image_show(request: Request) -> Response:
    store = _store(request)
    img = store.images.get(request.params["image_id"])
    if img is None or not _visible(request, img):
        raise err(404, f"No image found with ID {request.params['image_id']}")
    return Response(200, store.view(img))


SERVICE = Service(
    name="image",
    prefix="/image",
    router=router,
    load=_load,
    service_type="image",
    catalog_path="",
    requires_token=True,
    snapshot=_snapshot,
    restore=_restore,
    public_paths=("/", "/versions"),
)
