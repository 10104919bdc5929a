"""GET /allocation_candidates (1.10+): the unnumbered request group, each candidate one root
provider alone (the twin's compute nodes are root providers; nested and sharing providers are not
combined, and the parameters that need them are refused with 400, see docs/twin-fidelity.md)."""

from __future__ import annotations

import re
from typing import Any

from vigil_twin.http import Request, Response

from .api import error, reply, route, store_of
from .query import aggregate_match, fits, required_traits, trait_match, wanted_resources

# GET /allocation_candidates: query parameters by the microversion that added them (Placement's
# schema refuses any other, and these before their version)
CANDIDATE_PARAMS = {
    "resources": (1, 10), "limit": (1, 16), "required": (1, 17), "member_of": (1, 21), "group_policy": (1, 25),
    "in_tree": (1, 31), "root_required": (1, 35), "same_subtree": (1, 36),
}  # fmt: skip
TWIN_REFUSES = ("in_tree", "root_required", "same_subtree")
GROUP_KEY = re.compile(r"^(resources|required|member_of|in_tree)([A-Za-z0-9_-]{1,64})$")


def _candidate_query(request: Request) -> None:
    mv = request.context["mv"]
    for key, values in request.query.items():
        group = GROUP_KEY.match(key)
        if group and mv >= (1, 25) and (mv >= (1, 33) or group[2].isdigit()):
            raise error(400, f"Granular request groups ({key}) are not supported by the twin")
        since = CANDIDATE_PARAMS.get(key)
        if since is None or mv < since:
            raise error(
                400, f"Invalid query string parameters: Additional properties are not allowed ('{key}' was unexpected)"
            )
        if key in TWIN_REFUSES:
            raise error(400, f"Query parameter '{key}' is not supported by the twin")
        if key == "limit" and not re.fullmatch(r"[1-9][0-9]*", values[-1]):
            raise error(400, f"Invalid query string parameters: '{values[-1]}' does not match '^[1-9][0-9]*$'")
        if key == "group_policy" and values[-1] not in ("none", "isolate"):
            raise error(400, f"Invalid query string parameters: '{values[-1]}' is not one of ['none', 'isolate']")
    if "resources" in request.query:
        return
    if mv < (1, 25):
        raise error(400, "Invalid query string parameters: 'resources' is a required property")
    orphan = next((k for k in ("required", "member_of") if k in request.query), None)
    if orphan and mv < (1, 36):
        kind = "traits" if orphan == "required" else "member_of"
        raise error(
            400,
            f"All {kind} parameters must be associated with resources. Found the following orphaned {kind} keys: {orphan}",
        )
    raise error(400, "There must be at least one resources or resources[$S] parameter.")


@route("GET", "/allocation_candidates", since=(1, 10))
def allocation_candidates(request: Request) -> Response:
    """The unnumbered request group only, each candidate one root provider alone: the twin's
    compute nodes are root providers, nested and sharing providers are not combined."""
    _candidate_query(request)
    store = store_of(request)
    mv = request.context["mv"]
    wanted = wanted_resources(store, request.arg("resources") or "")
    any_of, forbidden = required_traits(request)
    conflicts = [g for g in any_of if g <= forbidden] if mv >= (1, 22) else []
    if conflicts:
        keys = ", ".join(f"required: ({', '.join(sorted(g))})" for g in conflicts)
        raise error(400, f"Conflicting required and forbidden traits found in the following traits keys: {keys}")
    in_aggs = aggregate_match(request)
    has_traits = trait_match(store, any_of, forbidden)
    found = [
        rp
        for rp in store.providers.values()
        if rp["parent_provider_uuid"] is None and fits(store, rp, wanted) and has_traits(rp) and in_aggs(rp)
    ]
    if "limit" in request.query:
        found = found[: int(request.arg("limit"))]
    requests, summaries = [], {}
    for rp in found:
        uuid = rp["uuid"]
        if mv >= (1, 12):
            req: dict[str, Any] = {"allocations": {uuid: {"resources": dict(wanted)}}}
            if mv >= (1, 34):
                req["mappings"] = {"": [uuid]}
        else:
            req = {"allocations": [{"resource_provider": {"uuid": uuid}, "resources": dict(wanted)}]}
        requests.append(req)
        # the requested classes only before 1.27, the whole inventory from then
        classes = rp["inventories"] if mv >= (1, 27) else wanted
        summary: dict[str, Any] = {
            "resources": {
                rc: {"capacity": store.capacity(uuid, rc), "used": store.usages[uuid].get(rc, 0)} for rc in classes
            }
        }
        if mv >= (1, 17):
            summary["traits"] = sorted(rp["traits"])
        if mv >= (1, 29):
            summary["parent_provider_uuid"] = rp["parent_provider_uuid"]
            summary["root_provider_uuid"] = rp["root_provider_uuid"]
        summaries[uuid] = summary
    return reply(request, 200, {"allocation_requests": requests, "provider_summaries": summaries})
