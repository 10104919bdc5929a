"""Nova's ``changes-since`` filter: servers (``GET /servers[/detail]``) and migrations
(``GET /os-migrations``, 2.59+) whose ``updated_at`` is at or after the given time.

What a poller uses to watch many servers in one request. As in Nova, a record never updated
since its creation has no ``updated_at`` and is not listed (a live migration's row is updated
as soon as it is queued on its source); a timestamp that is not ISO 8601 is a 400. Kept out of compute.py: one call per route there.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from vigil_twin.http import HTTPError, Request

PARAM = "changes-since"


def since(request: Request) -> datetime | None:
    raw = request.arg(PARAM)
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError:
        message = f"Invalid input for query parameters {PARAM}. Value: {raw}. '{raw}' is not a 'date-time'"
        raise HTTPError(400, {"badRequest": {"code": 400, "message": message}}) from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _updated(text: str | None) -> datetime | None:
    if not text:
        return None
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def servers(store: Any, request: Request, ids: list[str]) -> list[str]:
    when = since(request)
    if when is None:
        return ids
    return [sid for sid in ids if (_updated(store.servers[sid].get("updated")) or when) >= when]


def migrations(request: Request, migs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if request.context["mv"] < (2, 59):
        return migs
    when = since(request)
    if when is None:
        return migs
    return [m for m in migs if (_updated(m["updated_at"]) or datetime.min.replace(tzinfo=timezone.utc)) >= when]
