"""Volume types, their extra specs and encryption."""

from __future__ import annotations

from vigil_twin.http import Request, Response
from vigil_twin.services._support import is_admin
from vigil_twin.services.volume.api import err, negotiate, policy_error, respond, router, volume_store


@router.route("GET", "/v3/types")
def types_list(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    items = [store.type_view(t, request) for t in store.types.values() if t["is_public"] or is_admin(request)]
    return respond(request, 200, {"volume_types": items}, mv)


@router.route("GET", "/v3/types/{type_id}")
def type_show(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    t = store.type_by_name_or_id(request.params["type_id"])
    if t is None:
        raise err(404, f"Volume type {request.params['type_id']} could not be found.")
    return respond(request, 200, {"volume_type": store.type_view(t, request)}, mv)


@router.route("GET", "/v3/types/{type_id}/extra_specs")
def type_extra_specs(request: Request) -> Response:
    store = volume_store(request)
    mv = negotiate(request)
    t = store.type_by_name_or_id(request.params["type_id"])
    if t is None:
        raise err(404, f"Volume type {request.params['type_id']} could not be found.")
    if not is_admin(request):
        raise policy_error("volume_extension:types_extra_specs:index")
    return respond(request, 200, {"extra_specs": dict(t["extra_specs"])}, mv)


@router.route("GET", "/v3/types/{type_id}/encryption")
def type_encryption(request: Request) -> Response:
    """No type is encrypted in the twin: Cinder answers an unencrypted type with an empty object."""
    store = volume_store(request)
    mv = negotiate(request)
    if store.type_by_name_or_id(request.params["type_id"]) is None:
        raise err(404, f"Volume type {request.params['type_id']} could not be found.")
    return respond(request, 200, {}, mv)
