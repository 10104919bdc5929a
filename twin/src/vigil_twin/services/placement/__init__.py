"""Placement (microversions 1.0-1.39): resource providers and their trees, inventories, usages,
allocations per consumer, traits, resource classes, aggregates and allocation candidates, one
module per resource family on the shared helpers of `api.py`, state in `store.py`.

Answers follow Placement 16.0.0: request bodies checked against its schemas (`schemas.py`),
409 on generation conflicts and inventory violations, its error texts. What the twin does not
serve is listed in docs/twin-fidelity.md.
"""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services import Service

# importing the route modules registers their handlers on `router`
from . import aggregates, allocations, candidates, inventories, providers, resource_classes, traits, usages  # noqa: F401
from .api import MAX_VERSION, MIN_VERSION, negotiate, reply, router
from .store import STANDARD_CLASSES, STANDARD_TRAITS, PlacementError, PlacementStore, load, restore, snapshot

__all__ = ["SERVICE", "STANDARD_CLASSES", "STANDARD_TRAITS", "PlacementError", "PlacementStore"]


def _version_doc() -> dict[str, Any]:
    return {
        "id": "v1.0",
        "max_version": MAX_VERSION,
        "min_version": MIN_VERSION,
        "status": "CURRENT",
        "links": [{"rel": "self", "href": ""}],
    }


@router.route("GET", "/")
def root(request: Request) -> Response:
    """The version document, public; it still negotiates (406/400 on a bad version header)."""
    request.context["mv"] = negotiate(request)
    return reply(request, 200, {"versions": [_version_doc()]})


SERVICE = Service(
    name="placement",
    prefix="/placement",
    router=router,
    load=load,
    service_type="placement",
    catalog_path="",
    snapshot=snapshot,
    restore=restore,
    public_paths=("/",),
)
