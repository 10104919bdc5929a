"""Keypairs (os-keypairs), read-only: the key names the topology's servers use, each owned by the
server's user, with a stable public key and fingerprint."""

from __future__ import annotations

import hashlib
from typing import Any

from vigil_twin.http import Request, Response
from vigil_twin.services.compute.api import compute_store, fault, route
from vigil_twin.services.compute.store import ComputeStore


def keypair_record(user_id: str, name: str, created: str) -> dict[str, Any]:
    digest = hashlib.md5(f"{user_id}:{name}".encode(), usedforsecurity=False).hexdigest()
    return {
        "name": name,
        "user_id": user_id,
        "type": "ssh",
        "public_key": f"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{digest} {name}",
        "fingerprint": ":".join(digest[i : i + 2] for i in range(0, 32, 2)),
        "created_at": created,
    }


def _view(kp: dict[str, Any], mv: tuple[int, int], detail: bool) -> dict[str, Any]:
    v = {k: kp[k] for k in ("name", "public_key", "fingerprint")}
    if mv >= (2, 2):
        v["type"] = kp["type"]
    if detail:
        v.update(user_id=kp["user_id"], created_at=kp["created_at"], deleted=False, deleted_at=None, updated_at=None)
        v["id"] = int(hashlib.md5(v["fingerprint"].encode(), usedforsecurity=False).hexdigest()[:6], 16)
    return v


def _owner(request: Request) -> str:
    """The user whose keypairs are asked for: the caller, or (admins, 2.10+) ``user_id``."""
    want = request.arg("user_id")
    if want and request.context["mv"] >= (2, 10):
        if not request.context.get("is_admin") and want != request.context.get("user_id"):
            raise fault(403, "Policy doesn't allow os_compute_api:os-keypairs:index to be performed.")
        return want
    return request.context.get("user_id") or ""


def _of(store: ComputeStore, user_id: str) -> list[dict[str, Any]]:
    return [kp for (user, _), kp in sorted(store.keypairs.items()) if user == user_id]


@route("GET", "/os-keypairs")
def list_keypairs(request: Request) -> Response:
    mv = request.context["mv"]
    items = _of(compute_store(request), _owner(request))
    return Response(200, {"keypairs": [{"keypair": _view(kp, mv, False)} for kp in items]})


@route("GET", "/os-keypairs/{name}")
def show_keypair(request: Request) -> Response:
    store = compute_store(request)
    kp = store.keypairs.get((_owner(request), request.params["name"]))
    if kp is None:
        raise fault(404, f"Keypair {request.params['name']} not found for user {_owner(request)}")
    return Response(200, {"keypair": _view(kp, request.context["mv"], True)})
