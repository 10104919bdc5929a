"""/resource_providers/{uuid}/aggregates (1.1+; generation in the body from 1.19)."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request, Response

from . import schemas
from .api import GENERATION_CHANGED, body, generation_check, normal_uuid, provider, reply, route, store_of


def _aggregates_body(request: Request, rp: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"aggregates": sorted(rp["aggregates"])}
    if request.context["mv"] >= (1, 19):
        out["resource_provider_generation"] = rp["generation"]
    return out


@route("GET", "/resource_providers/{uuid}/aggregates", since=(1, 1))
def provider_aggregates(request: Request) -> Response:
    return reply(request, 200, _aggregates_body(request, provider(request, store_of(request))))


@route("PUT", "/resource_providers/{uuid}/aggregates", since=(1, 1))
def put_provider_aggregates(request: Request) -> Response:
    rp = provider(request, store_of(request))
    if request.context["mv"] >= (1, 19):
        data = body(request, schemas.PUT_AGGREGATES_1_19)
        generation_check(rp, data, GENERATION_CHANGED)
        aggregates = data["aggregates"]
    else:
        aggregates = body(request, schemas.AGGREGATE_LIST)
    # the generation moves from 1.19 only (before, aggregates were not versioned with the provider)
    rp["aggregates"] = {normal_uuid(a) for a in aggregates}
    if request.context["mv"] >= (1, 19):
        rp["generation"] += 1
    return reply(request, 200, _aggregates_body(request, rp))
