"""GET /usages?project_id=[&user_id=][&consumer_type=] (1.9+; by consumer type from 1.38)."""

from __future__ import annotations

from vigil_twin.http import Request, Response

from . import schemas
from .api import query, reply, route, store_of


def _schema(mv: tuple[int, int]) -> dict:
    props = {"project_id": schemas.ID_255, "user_id": schemas.ID_255}
    if mv >= (1, 38):
        props["consumer_type"] = {"type": "string", "pattern": "^[A-Z0-9_]+$|^all$|^unknown$", "maxLength": 255}
    return {"type": "object", "properties": props, "required": ["project_id"], "additionalProperties": False}


@route("GET", "/usages", since=(1, 9))
def project_usages(request: Request) -> Response:
    store = store_of(request)
    mv = request.context["mv"]
    args = query(request, _schema(mv))
    project, user, consumer_type = args["project_id"], args.get("user_id"), args.get("consumer_type")
    by_type: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for record in store.allocations.values():
        if record["project_id"] != project or (user and record["user_id"] != user):
            continue
        ctype = record.get("consumer_type") or "unknown"
        if consumer_type not in (None, "all", ctype):
            continue
        bucket = by_type.setdefault(ctype, {"consumer_count": 0})
        bucket["consumer_count"] += 1
        for res in record["allocations"].values():
            for rc, n in res.items():
                totals[rc] = totals.get(rc, 0) + n
                bucket[rc] = bucket.get(rc, 0) + n
    if mv >= (1, 38):
        # from 1.38 usages are keyed by consumer type; "all" (the sum) only when asked for with
        # consumer_type=all, and then alone (as Placement 16.0.0 answers)
        if consumer_type == "all" and by_type:
            all_bucket = {"consumer_count": sum(b["consumer_count"] for b in by_type.values()), **totals}
            return reply(request, 200, {"usages": {"all": all_bucket}})
        return reply(request, 200, {"usages": by_type})
    return reply(request, 200, {"usages": totals})
