"""POST /servers/{id}/action: one handler per action, dispatched by a table as Nova's API does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vigil_twin.http import HTTPError, Request, Response
from vigil_twin.services.compute.api import body_bool, compute_store, fault, require_admin, route, server_or_404
from vigil_twin.services.compute.store import ComputeStore


def state_conflict(server: dict[str, Any], action: str) -> HTTPError:
    if server["task_state"]:
        return fault(409, f"Cannot '{action}' instance {server['id']} while it is in task_state {server['task_state']}")
    return fault(409, f"Cannot '{action}' instance {server['id']} while it is in vm_state {server['vm_state']}")


def _require_state(server: dict[str, Any], action: str, vm_states: tuple[str, ...]) -> None:
    if server["task_state"] is not None or server["vm_state"] not in vm_states:
        raise state_conflict(server, action)


def _check_lock(request: Request, server: dict[str, Any]) -> None:
    if server["locked"] and not request.context.get("is_admin"):
        raise fault(409, f"Instance {server['id']} is locked")


# Each handler: (request, store, server, args) -> Response. Called with the cloud lock held and the
# server visible to the caller; `args` is the value under the action's key in the body.
ActionHandler = Callable[[Request, ComputeStore, dict[str, Any], Any], Response]
ACTIONS: dict[str, ActionHandler] = {}


def action(name: str) -> Callable[[ActionHandler], ActionHandler]:
    def deco(fn: ActionHandler) -> ActionHandler:
        ACTIONS[name] = fn
        return fn

    return deco


@route("POST", "/servers/{server_id}/action")
def server_action(request: Request) -> Response:
    store = compute_store(request)
    body = request.json
    if not isinstance(body, dict) or len(body) != 1:
        raise fault(400, "Malformed request body: an action body has exactly one key")
    name, args = next(iter(body.items()))
    with store.cloud.lock:
        server = server_or_404(request, store)
        handler = ACTIONS.get(name)
        if handler is None:
            raise fault(400, f"There is no such action: {name}")
        return handler(request, store, server, args)


@action("os-migrateLive")
def live_migrate(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    require_admin(request, "os_compute_api:os-migrate-server:migrate_live")
    mv = request.context["mv"]
    args = args or {}
    if not isinstance(args, dict) or "host" not in args:
        raise fault(400, "Invalid input for field/attribute os-migrateLive. Value: None. 'host' is a required property")
    block = args.get("block_migration")
    if mv >= (2, 25):
        if block != "auto":
            body_bool(block, "block_migration")
    else:
        if block is None or block == "auto":
            raise fault(
                400,
                "Invalid input for field/attribute block_migration. Value: auto. 'auto' is not of type 'boolean'",
            )
        body_bool(block, "block_migration")
    force = False
    if (2, 30) <= mv <= (2, 67):
        force = body_bool(args.get("force", False), "force")
    elif mv < (2, 30):
        force = args.get("host") is not None  # before 2.30 a named host skipped the scheduler
    elif "force" in args:
        raise fault(400, "Additional properties are not allowed ('force' was unexpected)")
    _require_state(server, "os-migrateLive", ("active", "paused"))
    store.live_migrate(server, args.get("host"), force, request.context)
    return Response(202)


@action("migrate")
def cold_migrate(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    require_admin(request, "os_compute_api:os-migrate-server:migrate")
    host = None
    if args:
        if not isinstance(args, dict):
            raise fault(400, "Invalid input for field/attribute migrate.")
        if "host" in args:
            if request.context["mv"] < (2, 56):
                raise fault(400, "Additional properties are not allowed ('host' was unexpected)")
            host = args["host"]
    _require_state(server, "migrate", ("active", "stopped"))
    store.cold_move(server, host, None, request.context)
    return Response(202)


@action("resize")
def resize(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    _check_lock(request, server)
    ref = args.get("flavorRef") if isinstance(args, dict) else None
    if not ref:
        raise fault(400, "Resize requires a flavor change.")
    fid = ref if ref in store.flavors else store.flavor_by_name.get(str(ref))
    if fid is None:
        raise fault(400, f"Flavor {ref} could not be found.")
    if fid == server["flavor_id"]:
        raise fault(400, "When resizing, instances must change flavor!")
    _require_state(server, "resize", ("active", "stopped"))
    store.cold_move(server, None, store.flavors[fid], request.context)
    return Response(202)


def _resized(request: Request, store: ComputeStore, server: dict[str, Any], name: str) -> dict[str, Any]:
    """The finished migration a confirm or revert acts on; 409 / 400 as Nova when there is none."""
    _check_lock(request, server)
    if server["vm_state"] != "resized" or server["task_state"] is not None:
        raise state_conflict(server, name)
    mig = store.resize_migration(server)
    if mig is None:
        raise fault(400, "Instance has not been resized.")
    return mig


@action("confirmResize")
def confirm_resize(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    store.confirm(server, _resized(request, store, server, "confirmResize"), request.context)
    return Response(204)


@action("revertResize")
def revert_resize(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    store.revert(server, _resized(request, store, server, "revertResize"), request.context)
    return Response(202)


@action("os-resetState")
def reset_state(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    """vm_state to active or error, task_state cleared, nothing else (an operator's repair after a
    failed migration). Admin only; no instance action."""
    require_admin(request, "os_compute_api:os-admin-actions:reset_state")
    state = args.get("state") if isinstance(args, dict) else None
    if state not in ("active", "error"):
        raise fault(
            400,
            f"Invalid input for field/attribute state. Value: {state}. {state!r} is not one of ['active', 'error']",
        )
    server["vm_state"], server["status"], server["task_state"] = state, state.upper(), None
    store.touch(server["id"])
    return Response(202)


@action("os-stop")
def stop(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    _check_lock(request, server)
    _require_state(server, "stop", ("active", "error"))
    store.power(server, False, request.context)
    return Response(202)


@action("os-start")
def start(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    _check_lock(request, server)
    _require_state(server, "start", ("stopped",))
    store.power(server, True, request.context)
    return Response(202)


@action("lock")
def lock(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    admin = bool(request.context.get("is_admin"))
    server["locked"] = True
    server["locked_by"] = "admin" if admin else "owner"
    server["locked_reason"] = (
        args.get("locked_reason") if isinstance(args, dict) and request.context["mv"] >= (2, 73) else None
    )
    store.touch(server["id"])
    return Response(202)


@action("unlock")
def unlock(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    if server["locked"] and not request.context.get("is_admin") and server.get("locked_by") == "admin":
        raise fault(403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.")
    server["locked"] = False
    server["locked_by"] = None
    server["locked_reason"] = None
    store.touch(server["id"])
    return Response(202)


def _group_name(args: Any, action: str) -> str:
    name = args.get("name") if isinstance(args, dict) else None
    if not isinstance(name, str) or not name:
        raise fault(400, f"Invalid input for field/attribute {action}. 'name' is a required property")
    if name != "default":  # the twin's Neutron has one group per project, ``default`` (network_project.py)
        raise fault(404, f"Security group {name} not found for project.")
    return name


@action("addSecurityGroup")
def add_security_group(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    name = _group_name(args, "addSecurityGroup")
    groups = server.setdefault("security_groups", ["default"])
    if name not in groups:
        groups.append(name)
        store.touch(server["id"])
    return Response(202)


@action("removeSecurityGroup")
def remove_security_group(request: Request, store: ComputeStore, server: dict[str, Any], args: Any) -> Response:
    name = _group_name(args, "removeSecurityGroup")
    groups = server.setdefault("security_groups", ["default"])
    if name not in groups:
        raise fault(404, f"Security group {name} not in instance.")
    groups.remove(name)
    store.touch(server["id"])
    return Response(202)
