"""/traits[/{name}] (1.6+: list, show, create a custom trait, delete it) and
/resource_providers/{uuid}/traits (list, replace, delete all)."""

from __future__ import annotations

import re

from vigil_twin.http import Request, Response

from . import schemas
from .api import GENERATION_CHANGED, body, error, generation_check, provider, reply, route, store_of
from .store import STANDARD_TRAITS

INVALID_TRAIT = (
    'The trait is invalid. A valid trait must be no longer than 255 characters, start with the prefix "CUSTOM_" '
    'and use following characters: "A"-"Z", "0"-"9" and "_"'
)


@route("GET", "/traits", since=(1, 6))
def list_traits(request: Request) -> Response:
    store = store_of(request)
    unexpected = sorted(set(request.query) - {"name", "associated"})
    if unexpected:
        raise error(
            400,
            f"Invalid query string parameters: Additional properties are not allowed ('{unexpected[0]}' was unexpected)",
        )
    traits = sorted(store.traits)
    name = request.arg("name")
    if name:
        if name.startswith("startswith:"):
            traits = [t for t in traits if t.startswith(name[len("startswith:") :])]
        elif name.startswith("in:"):
            wanted = set(name[3:].split(","))
            traits = [t for t in traits if t in wanted]
        else:
            raise error(
                400,
                "Badly formatted name parameter. Expected name query string parameter in form: "
                f'?name=[in|startswith]:[name1,name2|prefix]. Got: "{name}"',
            )
    associated = request.arg("associated")
    if associated is not None:
        if associated.lower() not in ("true", "false"):
            raise error(400, 'The query parameter "associated" only accepts "true" or "false"')
        used = set().union(*(rp["traits"] for rp in store.providers.values()))
        traits = [t for t in traits if (t in used) == (associated.lower() == "true")]
    return reply(request, 200, {"traits": traits})


@route("GET", "/traits/{name}", since=(1, 6))
def show_trait(request: Request) -> Response:
    name = request.params["name"]
    if name not in store_of(request).traits:
        raise error(404, f"No such trait(s): {name}.")
    return reply(request, 204)


@route("PUT", "/traits/{name}", since=(1, 6), json_body=False)
def put_trait(request: Request) -> Response:
    store = store_of(request)
    name = request.params["name"]
    if len(name) > 255 or not re.fullmatch(schemas.CUSTOM_PATTERN, name):
        raise error(400, INVALID_TRAIT)
    existed = name in store.traits
    store.traits.add(name)
    resp = reply(request, 204 if existed else 201)
    resp.headers["Location"] = f"{request.base_url}/traits/{name}"
    return resp


@route("DELETE", "/traits/{name}", since=(1, 6))
def delete_trait(request: Request) -> Response:
    store = store_of(request)
    name = request.params["name"]
    if name not in store.traits:
        raise error(404, f"No such trait(s): {name}.")
    if name in STANDARD_TRAITS:
        raise error(400, f"Cannot delete standard trait {name}.")
    if any(name in rp["traits"] for rp in store.providers.values()):
        raise error(409, f"The trait {name} is in use by a resource provider.")
    store.traits.discard(name)
    return reply(request, 204)


def _traits_body(rp) -> dict:
    return {"traits": sorted(rp["traits"]), "resource_provider_generation": rp["generation"]}


@route("GET", "/resource_providers/{uuid}/traits", since=(1, 6))
def provider_traits(request: Request) -> Response:
    return reply(request, 200, _traits_body(provider(request, store_of(request))))


@route("PUT", "/resource_providers/{uuid}/traits", since=(1, 6))
def put_provider_traits(request: Request) -> Response:
    store = store_of(request)
    data = body(request, schemas.PUT_PROVIDER_TRAITS)
    rp = provider(request, store)
    generation_check(rp, data, GENERATION_CHANGED)
    unknown = sorted(set(data["traits"]) - store.traits)
    if unknown:
        raise error(400, f"No such trait {', '.join(unknown)}")
    rp["traits"] = set(data["traits"])
    rp["generation"] += 1
    return reply(request, 200, _traits_body(rp))


@route("DELETE", "/resource_providers/{uuid}/traits", since=(1, 6))
def delete_provider_traits(request: Request) -> Response:
    rp = provider(request, store_of(request))
    rp["traits"] = set()
    rp["generation"] += 1
    return reply(request, 204)
