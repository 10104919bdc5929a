"""Nova (compute API v2.1, microversions 2.1-2.96): servers, flavors, hypervisors, services,
aggregates, availability zones, server groups, migrations and instance actions, with live
and cold migrations that take time and move Placement allocations as Nova does.

Moves: the instance's allocation on the source is handed to the migration record (a
Placement consumer of its own) and the instance allocates on the destination; when the
move ends the migration's allocation is dropped (or, on failure, handed back). Placement
enforces capacity on every write, so a destination that cannot take the server answers
400 "No valid host" and the allocation-ratio violation count stays 0.

Deviation from Nova, on purpose: scheduling refusals (no valid host, disabled or down
destination, same host) are answered synchronously with 400 at every microversion, where
Nova >= 2.34 accepts a live migration (202) and fails it asynchronously. It makes tests and
plans fail fast with the reason; the migration record is not created.

Named faults (see twin/README.md): ``migration_fail`` (target: server id or name),
``migration_hang`` (target: server id or name), ``host_down`` (target: hostname),
``confirm_fail`` (target: server id or name).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import time
import uuid as uuidlib
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service, changes_since, migration_pace
from vigil_twin.services.placement import PlacementError
from vigil_twin.topology import SERVER_STATES, flavor_resources, stable_uuid, validate_topology

MIN_MV = (2, 1)
MAX_MV = (2, 96)
MAX_LIMIT = 1000
_PROJECT_SEGMENT = re.compile(r"^/v2(?:\.1)?/[0-9a-f]{32}(?=/|$)")

router = Router()

FAULT_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}

LIVE_ACTIVE = ("queued", "preparing", "running", "post-migrating")
MOVE_ACTIVE = (
    "queued",
    "preparing",
    "running",
    "pre-migrating",
    "migrating",
    "post-migrating",
    "finished",
    "confirming",
    "reverting",
)


def fault(status: int, message: str) -> HTTPError:
    return HTTPError(status, {FAULT_NAMES.get(status, "computeFault"): {"code": status, "message": message}})


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso_us() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _req_id() -> str:
    return f"req-{uuidlib.uuid4()}"


class ComputeStore:
    """Nova's state. `nodes` (hostname -> node) and `servers` (uuid -> server) follow TEAM.md.

    Anything that changes a server dict must call `touch(server_id)`: server views are
    cached as encoded JSON per microversion.
    """

    def __init__(self, cloud: Any, t: dict[str, Any]) -> None:
        self.cloud = cloud
        self.timing = t["timing"]
        self.nodes: dict[str, dict[str, Any]] = {}
        self.node_by_id: dict[str, dict[str, Any]] = {}  # hypervisor id (int as str, and uuid) -> node
        self.servers: dict[str, dict[str, Any]] = {}
        self.server_by_name: dict[str, str] = {}
        self.flavors: dict[str, dict[str, Any]] = {}
        self.flavor_by_name: dict[str, str] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.aggregates: dict[int, dict[str, Any]] = {}
        self.services: dict[str, dict[str, Any]] = {}  # service uuid -> service
        self.migrations: dict[int, dict[str, Any]] = {}
        self.actions: dict[str, list[dict[str, Any]]] = {}
        self.order: list[str] = []  # server ids, newest first (Nova's default sort)
        self.pos: dict[str, int] = {}
        self.by_host: dict[str, set[str]] = {}
        self.by_project: dict[str, set[str]] = {}
        self._cache: dict[tuple, dict[str, tuple[str, bytes]]] = {}
        self._next_migration = 1
        self.violations_seen = 0  # allocation-ratio violations observed after a move (must stay 0)
        self.refusals = 0

    @property
    def placement(self) -> Any:
        # looked up each time: a restore replaces the placement store
        return self.cloud.stores["placement"]

    # -- indexes and caches ------------------------------------------------------------
    def touch(self, server_id: str) -> None:
        """Forget cached views of a server (call after any change to its dict)."""
        server = self.servers[server_id]
        server["updated"] = now_iso()
        for cache in self._cache.values():
            cache.pop(server_id, None)

    def set_host(self, server: dict[str, Any], host: str | None) -> None:
        old = server["host"]
        if old is not None:
            self.by_host[old].discard(server["id"])
        server["host"] = host
        server["node"] = self.nodes[host]["hypervisor_hostname"] if host else None
        server["az"] = self.nodes[host]["az"] if host else server.get("az")
        if host is not None:
            self.by_host.setdefault(host, set()).add(server["id"])

    def node_state(self, node: dict[str, Any]) -> str:
        faults = self.cloud.faults
        if (
            node["state"] == "down"
            or node["forced_down"]
            or (faults is not None and faults.active("host_down", node["hostname"]))
        ):
            return "down"
        return "up"

    def find_server(self, ref: str) -> dict[str, Any] | None:
        if ref in self.servers:
            return self.servers[ref]
        sid = self.server_by_name.get(ref)
        return self.servers[sid] if sid else None

    def _fault_for(self, kind: str, server: dict[str, Any]) -> dict[str, Any] | None:
        faults = self.cloud.faults
        if faults is None:
            return None
        return faults.take(kind, server["id"]) or faults.take(kind, server["name"])

    def check_violations(self) -> None:
        found = self.placement.violations()
        if found:
            self.violations_seen += len(found)

    # -- instance actions --------------------------------------------------------------
    def actions_of(self, server: dict[str, Any]) -> list[dict[str, Any]]:
        """Instance actions of a server, starting with its 'create' (made on first use: 50k
        records at load would cost memory for nothing)."""
        recs = self.actions.get(server["id"])
        if not recs or recs[0]["action"] != "create":
            launched = server["created"].replace("Z", ".000000")
            event = {
                "event": "compute__do_build_and_run_instance",
                "start_time": launched,
                "finish_time": launched,
                "result": "Success",
                "traceback": None,
                "host": server["host"],
            }
            create = {
                "action": "create",
                "instance_uuid": server["id"],
                "request_id": f"req-{stable_uuid('create', server['id'])}",
                "user_id": server["user_id"],
                "project_id": server["project_id"],
                "start_time": launched,
                "updated_at": launched,
                "message": None,
                "events": [event],
            }
            recs = self.actions[server["id"]] = [create, *(recs or [])]
        return recs

    def record_action(
        self, server: dict[str, Any], action: str, ctx: dict[str, Any], event: str, host: str | None
    ) -> dict[str, Any]:
        rec = {
            "action": action,
            "instance_uuid": server["id"],
            "request_id": _req_id(),
            "user_id": ctx.get("user_id"),
            "project_id": ctx.get("project_id"),
            "start_time": now_iso_us(),
            "updated_at": now_iso_us(),
            "message": None,
            "events": [
                {
                    "event": event,
                    "start_time": now_iso_us(),
                    "finish_time": None,
                    "result": None,
                    "traceback": None,
                    "host": host,
                }
            ],
        }
        self.actions_of(server).append(rec)
        return rec

    @staticmethod
    def finish_action(rec: dict[str, Any] | None, ok: bool, message: str | None = None) -> None:
        if rec is None:
            return
        ev = rec["events"][-1]
        ev["finish_time"] = now_iso_us()
        ev["result"] = "Success" if ok else "Error"
        rec["updated_at"] = ev["finish_time"]
        if not ok:
            rec["message"] = message or "Error"
            ev["traceback"] = message

    # -- scheduling --------------------------------------------------------------------
    def resources_for(self, server: dict[str, Any], flavor: dict[str, Any] | None = None) -> dict[str, int]:
        return flavor_resources(flavor or server["flavor"], server["boot_from_volume"])

    def _group_ok(self, server: dict[str, Any], dest: str) -> bool:
        for gid in server["server_groups"]:
            group = self.groups[gid]
            others = [m for m in group["members"] if m != server["id"] and m in self.servers]
            hosts = [self.servers[m]["host"] for m in others]
            if group["policy"] == "anti-affinity":
                limit = group["rules"].get("max_server_per_host", 1)
                if hosts.count(dest) >= limit:
                    return False
            elif group["policy"] == "affinity":
                if any(h != dest for h in hosts if h is not None):
                    return False
        return True

    def candidates(self, server: dict[str, Any], resources: dict[str, int]) -> list[str]:
        src = self.nodes[server["host"]]
        out = []
        for host, node in self.nodes.items():
            if host == server["host"] or node["status"] != "enabled" or self.node_state(node) != "up":
                continue
            if node["az"] != src["az"] or not self._group_ok(server, host):
                continue
            try:
                self.placement.check({node["uuid"]: resources})
            except PlacementError:
                continue
            out.append(host)
        # RAMWeigher spreads: most free RAM first; name breaks ties so the choice is reproducible
        return sorted(
            out,
            key=lambda h: (
                self.placement.usages[self.nodes[h]["uuid"]].get("MEMORY_MB", 0)
                - self.placement.capacity(self.nodes[h]["uuid"], "MEMORY_MB"),
                h,
            ),
        )

    def select_destination(
        self, server: dict[str, Any], host: str | None, force: bool, resources: dict[str, int], same_host_msg: str
    ) -> str:
        """Pick or check a destination; raise 400 as Nova's conductor/scheduler refuse it."""
        src = server["host"]
        if self.node_state(self.nodes[src]) != "up":
            raise fault(400, f"Compute service of {src} is unavailable at this time.")
        if host is None:
            found = self.candidates(server, resources)
            if not found:
                raise fault(400, "No valid host was found. There are not enough hosts available.")
            return found[0]
        if host not in self.nodes:
            raise fault(400, f"Compute host {host} could not be found.")
        if host == src:
            raise fault(400, same_host_msg)
        node = self.nodes[host]
        if self.node_state(node) != "up":
            raise fault(400, f"Compute service of {host} is unavailable at this time.")
        if not force:
            if node["status"] != "enabled":
                raise fault(
                    400, f"No valid host was found. Host {host} is disabled ({node['disabled_reason'] or 'no reason'})."
                )
            if not self._group_ok(server, host):
                raise fault(
                    400, f"No valid host was found. Host {host} would break the server group policy of {server['id']}."
                )
        try:
            self.placement.check({node["uuid"]: resources})
        except PlacementError as exc:
            raise fault(400, f"No valid host was found. {exc.detail}") from None
        return host

    # -- moves -------------------------------------------------------------------------
    def _start_migration(
        self, server: dict[str, Any], dest: str, mtype: str, flavor: Any, resources: Any, kind: str, ctx: Any
    ) -> dict[str, Any]:
        """A migration record with its destination claimed in Placement, its duration (scaled with
        the server's memory, per ``kind``: live or cold) and the named faults that apply to it."""
        mig = self._new_migration(server, dest, mtype, flavor, ctx)
        try:
            self._claim(server, mig, dest, resources)
        except PlacementError as exc:
            del self.migrations[mig["id"]]
            raise fault(400, f"No valid host was found. {exc.detail}") from None
        gb = server["flavor"]["ram"] / 1024.0
        mig["duration"] = (
            self.timing[f"{kind}_migration_base_seconds"] + self.timing[f"{kind}_migration_seconds_per_gb"] * gb
        )
        mig["fail"] = self._fault_for("migration_fail", server) is not None
        mig["hang"] = self._fault_for("migration_hang", server) is not None
        return mig

    def _new_migration(
        self, server: dict[str, Any], dest: str, mtype: str, new_flavor: dict[str, Any], ctx: dict[str, Any]
    ) -> dict[str, Any]:
        mid = self._next_migration
        self._next_migration += 1
        src_node = self.nodes[server["host"]]
        dst_node = self.nodes[dest]
        mem = server["flavor"]["ram"] * 1024 * 1024
        mig = {
            "id": mid,
            "uuid": str(uuidlib.uuid4()),
            "server_uuid": server["id"],
            "source_compute": src_node["hostname"],
            "source_node": src_node["hypervisor_hostname"],
            "dest_compute": dst_node["hostname"],
            "dest_node": dst_node["hypervisor_hostname"],
            "dest_host": dst_node["host_ip"],
            "status": "queued" if mtype == "live-migration" else "pre-migrating",
            "migration_type": mtype,
            "old_flavor_id": server["flavor_id"],
            "new_flavor_id": new_flavor["id"],
            "created_at": now_iso_us(),
            "updated_at": None,
            "project_id": server["project_id"],
            "user_id": ctx.get("user_id") or server["user_id"],
            "memory_total_bytes": mem,
            "disk_total_bytes": server["flavor"]["disk"] * 1024**3,
            "started": time.monotonic(),
            "duration": 1.0,
            "old_status": server["status"],
            "hang": False,
            "fail": False,
        }
        self.migrations[mid] = mig
        return mig

    def _claim(self, server: dict[str, Any], mig: dict[str, Any], dest: str, resources: dict[str, int]) -> None:
        """Source allocation -> migration consumer; instance allocates on the destination."""
        p = self.placement
        p.move_allocations(server["id"], mig["uuid"])
        try:
            p.put_allocations(
                server["id"], {self.nodes[dest]["uuid"]: resources}, server["project_id"], server["user_id"]
            )
        except PlacementError:
            p.move_allocations(mig["uuid"], server["id"])
            raise
        self.check_violations()

    def _unclaim(self, server: dict[str, Any], mig: dict[str, Any]) -> None:
        """Failure/revert: the instance gets its source allocation back."""
        p = self.placement
        p.delete_allocations(server["id"])
        p.move_allocations(mig["uuid"], server["id"])
        self.check_violations()

    def _later(self, seconds: float, fn: Callable[[], None]) -> None:
        self.cloud.scheduler.call_later(self.cloud.clock.delay(seconds), fn)

    def _update_mig(self, mig: dict[str, Any], status: str) -> None:
        mig["status"] = status
        mig["updated_at"] = now_iso_us()

    def live_migrate(
        self, server: dict[str, Any], host: str | None, force: bool, ctx: dict[str, Any]
    ) -> dict[str, Any]:
        resources = self.resources_for(server)
        src = server["host"]
        dest = self.select_destination(
            server, host, force, resources, f"Unable to migrate instance ({server['id']}) to current host ({src})."
        )
        mig = self._start_migration(server, dest, "live-migration", server["flavor_ref"], resources, "live", ctx)
        server["status"] = "MIGRATING"
        server["task_state"] = "migrating"
        self.touch(server["id"])
        mig["action"] = self.record_action(server, "live-migration", ctx, "compute_live_migration", src)
        migration_pace.admit(self, mig)
        return mig

    def _live_step(self, mid: int, expect: str, status: str) -> None:
        mig = self.migrations.get(mid)
        if mig and mig["status"] == expect:
            self._update_mig(mig, status)

    def _live_finish(self, mid: int) -> None:
        mig = self.migrations.get(mid)
        if mig is None or mig["status"] not in ("queued", "preparing", "running"):
            return  # aborted meanwhile
        migration_pace.release(self, mid)
        server = self.servers[mig["server_uuid"]]
        dest_down = self.node_state(self.nodes[mig["dest_compute"]]) != "up"
        if mig["fail"] or dest_down:
            self._unclaim(server, mig)
            self._update_mig(mig, "error" if mig["fail"] or dest_down else "failed")
            self._end_move(server, mig["old_status"])
            self.finish_action(
                mig.get("action"), False, "Live migration failed" + (" (destination down)" if dest_down else "")
            )
            return
        self._update_mig(mig, "completed")
        self.placement.delete_allocations(mig["uuid"])
        self.set_host(server, mig["dest_compute"])
        self._end_move(server, mig["old_status"])
        self.finish_action(mig.get("action"), True)
        self.check_violations()

    def _end_move(self, server: dict[str, Any], status: str) -> None:
        server["status"] = status
        server["vm_state"], server["power_state"] = SERVER_STATES[status]
        server["task_state"] = None
        self.touch(server["id"])

    def abort_live(self, server: dict[str, Any], mig: dict[str, Any]) -> None:
        self._unclaim(server, mig)
        self._update_mig(mig, "cancelled")
        migration_pace.release(self, mig["id"])
        self._end_move(server, mig["old_status"])
        self.finish_action(mig.get("action"), False, "Live migration aborted")

    def cold_move(
        self, server: dict[str, Any], host: str | None, new_flavor: dict[str, Any] | None, ctx: dict[str, Any]
    ) -> dict[str, Any]:
        flavor = new_flavor or server["flavor_ref"]
        resources = self.resources_for(server, flavor)
        src = server["host"]
        same_msg = (
            "Cannot migrate to the same host"
            if new_flavor is None
            else f"No valid host was found. Resize to the same host {src} is not allowed."
        )
        dest = self.select_destination(server, host, False, resources, same_msg)
        mtype = "resize" if new_flavor is not None else "migration"
        mig = self._start_migration(server, dest, mtype, flavor, resources, "cold", ctx)
        mig["new_flavor"] = flavor
        server["status"] = "RESIZE"
        server["task_state"] = "resize_prep"
        self.touch(server["id"])
        mig["action"] = self.record_action(
            server, "resize" if new_flavor else "migrate", ctx, "compute_prep_resize", dest
        )
        d = mig["duration"]
        mid = mig["id"]
        self._later(0.1 * d, lambda: self._cold_step(mid, "pre-migrating", "migrating", "resize_migrating"))
        if not mig["hang"]:
            self._later(0.6 * d, lambda: self._cold_step(mid, "migrating", "post-migrating", "resize_migrated"))
            self._later(0.8 * d, lambda: self._cold_step(mid, "post-migrating", "post-migrating", "resize_finish"))
            self._later(d, lambda: self._cold_finish(mid))
        return mig

    def _cold_step(self, mid: int, expect: str, status: str, task: str) -> None:
        mig = self.migrations.get(mid)
        if mig is None or mig["status"] != expect:
            return
        self._update_mig(mig, status)
        server = self.servers[mig["server_uuid"]]
        server["task_state"] = task
        self.touch(server["id"])

    def _cold_finish(self, mid: int) -> None:
        mig = self.migrations.get(mid)
        if mig is None or mig["status"] != "post-migrating":
            return
        server = self.servers[mig["server_uuid"]]
        if mig["fail"] or self.node_state(self.nodes[mig["dest_compute"]]) != "up":
            self._unclaim(server, mig)
            self._update_mig(mig, "error")
            self._end_move(server, mig["old_status"])
            self.finish_action(mig.get("action"), False, "Migration failed")
            return
        self._update_mig(mig, "finished")
        self.set_host(server, mig["dest_compute"])
        self._set_flavor(server, mig["new_flavor"])
        server["status"] = "VERIFY_RESIZE"
        server["vm_state"] = "resized"
        server["power_state"] = SERVER_STATES[mig["old_status"]][1]
        server["task_state"] = None
        self.touch(server["id"])
        self.finish_action(mig.get("action"), True)

    def _set_flavor(self, server: dict[str, Any], flavor: dict[str, Any]) -> None:
        server["flavor_ref"] = flavor
        server["flavor_id"] = flavor["id"]
        server["flavor"] = embedded_flavor(flavor)

    def resize_migration(self, server: dict[str, Any]) -> dict[str, Any] | None:
        for mig in reversed(list(self.migrations.values())):
            if (
                mig["server_uuid"] == server["id"]
                and mig["migration_type"] in ("migration", "resize")
                and mig["status"] == "finished"
            ):
                return mig
        return None

    def confirm(self, server: dict[str, Any], mig: dict[str, Any], ctx: dict[str, Any]) -> None:
        self._update_mig(mig, "confirming")
        fail = self._fault_for("confirm_fail", server) is not None
        rec = self.record_action(server, "confirmResize", ctx, "compute_confirm_resize", mig["source_compute"])
        mid = mig["id"]

        def done() -> None:
            m = self.migrations[mid]
            if fail:
                self._update_mig(m, "error")
                server["status"] = "ERROR"
                server["vm_state"], server["power_state"] = "error", SERVER_STATES[m["old_status"]][1]
                server["task_state"] = None
                self.touch(server["id"])
                self.finish_action(rec, False, "Confirm resize failed")
                return
            self.placement.delete_allocations(m["uuid"])
            self._update_mig(m, "confirmed")
            self._end_move(server, m["old_status"])
            self.finish_action(rec, True)

        self._later(0.5, done)

    def revert(self, server: dict[str, Any], mig: dict[str, Any], ctx: dict[str, Any]) -> None:
        self._update_mig(mig, "reverting")
        server["status"] = "REVERT_RESIZE"
        server["task_state"] = "resize_reverting"
        self.touch(server["id"])
        rec = self.record_action(server, "revertResize", ctx, "compute_revert_resize", mig["dest_compute"])
        mid = mig["id"]

        def done() -> None:
            m = self.migrations[mid]
            self._unclaim(server, m)
            self.set_host(server, m["source_compute"])
            self._set_flavor(server, self.flavors[m["old_flavor_id"]])
            self._update_mig(m, "reverted")
            self._end_move(server, m["old_status"])
            self.finish_action(rec, True)

        self._later(max(1.0, 0.3 * mig["duration"]), done)

    def power(self, server: dict[str, Any], on: bool, ctx: dict[str, Any]) -> None:
        server["task_state"] = "powering-on" if on else "powering-off"
        self.touch(server["id"])
        rec = self.record_action(
            server,
            "start" if on else "stop",
            ctx,
            "compute_start_instance" if on else "compute_stop_instance",
            server["host"],
        )

        def done() -> None:
            self._end_move(server, "ACTIVE" if on else "SHUTOFF")
            self.finish_action(rec, True)

        self._later(self.timing["power_seconds"], done)

    def set_service_status(self, node: dict[str, Any], enabled: bool, reason: str | None) -> None:
        node["status"] = "enabled" if enabled else "disabled"
        node["disabled_reason"] = None if enabled else reason
        svc = self.services[node["service_uuid"]]
        svc["updated_at"] = now_iso_us()
        self.placement.set_trait(node["uuid"], "COMPUTE_STATUS_DISABLED", not enabled)


def embedded_flavor(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "vcpus": f["vcpus"],
        "ram": f["ram"],
        "disk": f["disk"],
        "ephemeral": f["ephemeral"],
        "swap": f["swap"],
        "original_name": f["name"],
        "extra_specs": dict(f["extra_specs"]),
    }


# -- microversions and request helpers -------------------------------------------------------
def _parse_mv(raw: str) -> tuple[int, int]:
    raw = raw.strip()
    if raw.lower() == "latest":
        return MAX_MV
    try:
        major, minor = (int(x) for x in raw.split("."))
    except ValueError:
        raise fault(
            400, f"API Version String {raw} is of invalid format. Must be of format MajorNum.MinorNum."
        ) from None
    return major, minor


def negotiate(request: Request) -> tuple[int, int]:
    raw = None
    header = request.header("openstack-api-version")
    if header:
        for part in header.split(","):
            bits = part.strip().split()
            if len(bits) == 2 and bits[0].lower() == "compute":
                raw = bits[1]
    if raw is None:
        raw = request.header("x-openstack-nova-api-version")
    if raw is None:
        return MIN_MV
    mv = _parse_mv(raw)
    if not MIN_MV <= mv <= MAX_MV:
        raise HTTPError(
            406,
            {
                "computeFault": {
                    "code": 406,
                    "message": f"Version {raw} is not supported by the API. Minimum is 2.1 and maximum is 2.96.",
                }
            },
        )
    return mv


def _store(request: Request) -> ComputeStore:
    return request.cloud.stores["compute"]


def _admin(request: Request, policy: str) -> None:
    if not request.context.get("is_admin"):
        raise fault(403, f"Policy doesn't allow {policy} to be performed.")


def _truthy(value: str | None) -> bool:
    return value is not None and value.lower() in ("1", "true", "yes", "on", "t", "y", "")


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.arg(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise fault(400, f"{name} param must be an integer") from None
    if value < 0:
        raise fault(400, f"{name} param must be positive")
    return value


def _server(request: Request, store: ComputeStore) -> dict[str, Any]:
    server = store.servers.get(request.params["server_id"])
    ctx = request.context
    if server is None or (not ctx.get("is_admin") and server["project_id"] != ctx.get("project_id")):
        raise fault(404, f"Instance {request.params['server_id']} could not be found.")
    return server


def route(method: str, pattern: str, min_mv: tuple[int, int] | None = None, max_mv: tuple[int, int] | None = None):
    """Register a v2.1 handler with microversion negotiation and Nova's version headers."""

    def deco(fn: Callable[[Request], Response]):
        def handler(request: Request) -> Response:
            mv = negotiate(request)
            request.context["mv"] = mv
            if (min_mv and mv < min_mv) or (max_mv and mv > max_mv):
                raise fault(404, "The resource could not be found.")
            try:
                with request.cloud.lock:  # scheduler callbacks and other requests mutate the same dicts
                    response = fn(request)
            except HTTPError as exc:
                exc.headers.update(_mv_headers(mv))
                raise
            response.headers.update(_mv_headers(mv))
            return response

        handler.__name__ = fn.__name__
        router.route(method, "/v2.1" + pattern)(handler)
        return fn

    return deco


def _mv_headers(mv: tuple[int, int]) -> dict[str, str]:
    text = f"{mv[0]}.{mv[1]}"
    return {
        "OpenStack-API-Version": f"compute {text}",
        "X-OpenStack-Nova-API-Version": text,
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
        "x-openstack-request-id": _req_id(),
    }


# -- version documents --------------------------------------------------------------------
def _v21_doc(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": f"{MAX_MV[0]}.{MAX_MV[1]}",
        "min_version": f"{MIN_MV[0]}.{MIN_MV[1]}",
        "updated": "2013-07-23T11:33:21Z",
        "links": [
            {"rel": "self", "href": f"{base}/v2.1/"},
            {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"},
        ],
        "media-types": [{"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}],
    }


@router.route("GET", "/")
def versions(request: Request) -> Response:
    return Response(200, {"versions": [_v21_doc(request.base_url)]})


@router.route("GET", "/v2.1")
def version_v21(request: Request) -> Response:
    return Response(200, {"version": _v21_doc(request.base_url)})


# -- servers -------------------------------------------------------------------------------
def render_server(
    store: ComputeStore, s: dict[str, Any], mv: tuple[int, int], admin: bool, host_status: str, base: str
) -> dict[str, Any]:
    sid = s["id"]
    links = [
        {"rel": "self", "href": f"{base}/v2.1/servers/{sid}"},
        {"rel": "bookmark", "href": f"{base}/servers/{sid}"},
    ]
    if mv >= (2, 47):
        flavor: dict[str, Any] = dict(s["flavor"], extra_specs=dict(s["flavor"]["extra_specs"]))
    else:
        flavor = {"id": s["flavor_id"], "links": [{"rel": "bookmark", "href": f"{base}/flavors/{s['flavor_id']}"}]}
    image: Any = (
        ""
        if not s["image"]
        else {"id": s["image"], "links": [{"rel": "bookmark", "href": f"{base}/images/{s['image']}"}]}
    )
    host_id = hashlib.sha224(f"{s['project_id']}{s['host']}".encode()).hexdigest() if s["host"] else ""
    v: dict[str, Any] = {
        "id": sid,
        "name": s["name"],
        "status": s["status"],
        "tenant_id": s["project_id"],
        "user_id": s["user_id"],
        "metadata": dict(s["metadata"]),
        "hostId": host_id,
        "image": image,
        "flavor": flavor,
        "created": s["created"],
        "updated": s["updated"],
        "addresses": s["addresses"],
        "accessIPv4": "",
        "accessIPv6": "",
        "links": links,
        "OS-DCF:diskConfig": "MANUAL",
        "OS-EXT-AZ:availability_zone": s["az"] or "",
        "config_drive": "",
        "key_name": s["key_name"],
        "OS-SRV-USG:launched_at": s["launched_at"],
        "OS-SRV-USG:terminated_at": None,
        "OS-EXT-STS:task_state": s["task_state"],
        "OS-EXT-STS:vm_state": s["vm_state"],
        "OS-EXT-STS:power_state": s["power_state"],
        "os-extended-volumes:volumes_attached": [
            {"id": vid, "delete_on_termination": False} if mv >= (2, 3) else {"id": vid} for vid in s["volumes"]
        ],
        "security_groups": [{"name": "default"}],
    }
    if s["status"] in ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"):
        v["progress"] = 0
    if admin:
        v["OS-EXT-SRV-ATTR:host"] = s["host"]
        v["OS-EXT-SRV-ATTR:hypervisor_hostname"] = s["node"]
        v["OS-EXT-SRV-ATTR:instance_name"] = s["instance_name"]
        if mv >= (2, 3):
            v["OS-EXT-SRV-ATTR:reservation_id"] = s["reservation_id"]
            v["OS-EXT-SRV-ATTR:launch_index"] = 0
            v["OS-EXT-SRV-ATTR:kernel_id"] = ""
            v["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
            v["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
            v["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda"
            v["OS-EXT-SRV-ATTR:user_data"] = None
    elif mv >= (2, 90):
        v["OS-EXT-SRV-ATTR:hostname"] = s["hostname"]
    if mv >= (2, 9):
        v["locked"] = s["locked"]
    if mv >= (2, 16) and admin:
        v["host_status"] = host_status
    if mv >= (2, 19):
        v["description"] = s["description"]
    if mv >= (2, 26):
        v["tags"] = list(s["tags"])
    if mv >= (2, 63):
        v["trusted_image_certificates"] = None
    if mv >= (2, 73):
        v["locked_reason"] = s["locked_reason"] if s["locked"] else None
    if mv >= (2, 96):
        v["pinned_availability_zone"] = None
    return v


def _host_status(store: ComputeStore, host: str | None, memo: dict[str | None, str]) -> str:
    if host not in memo:
        if host is None:
            memo[host] = ""
        else:
            node = store.nodes[host]
            if store.node_state(node) == "down":
                memo[host] = "DOWN"
            elif node["status"] == "disabled":
                memo[host] = "MAINTENANCE"
            else:
                memo[host] = "UP"
    return memo[host]


def _encoded(store: ComputeStore, request: Request, ids: list[str], memo: dict[str | None, str]) -> list[bytes]:
    mv = request.context["mv"]
    admin = bool(request.context.get("is_admin"))
    cache = store._cache.setdefault((mv, admin, request.base_url), {})
    out = []
    for sid in ids:
        server = store.servers[sid]
        hs = _host_status(store, server["host"], memo) if admin and mv >= (2, 16) else ""
        hit = cache.get(sid)
        if hit is None or hit[0] != hs:
            hit = (
                hs,
                json.dumps(
                    render_server(store, server, mv, admin, hs, request.base_url), separators=(",", ":")
                ).encode(),
            )
            cache[sid] = hit
        out.append(hit[1])
    return out


def _filter_servers(store: ComputeStore, request: Request) -> list[str]:
    ctx = request.context
    admin = bool(ctx.get("is_admin"))
    all_tenants = request.arg("all_tenants")
    all_projects = all_tenants is not None and _truthy(all_tenants)
    if all_projects and not admin:
        raise fault(403, "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed.")
    candidates: list[str] | None = None
    host = request.arg("host") if admin else None
    node = request.arg("node") if admin else None
    project = request.arg("project_id") or request.arg("tenant_id")
    if not admin or not all_projects:
        project_scope = project if (admin and project) else ctx.get("project_id")
    else:
        project_scope = project
    if host is not None:
        candidates = sorted(store.by_host.get(host, ()), key=store.pos.__getitem__)
    elif project_scope is not None:
        candidates = sorted(store.by_project.get(project_scope, ()), key=store.pos.__getitem__)
    else:
        candidates = store.order
    checks: list[Callable[[dict[str, Any]], bool]] = []
    if host is not None and project_scope is not None:
        checks.append(lambda s: s["project_id"] == project_scope)
    status = request.arg("status")
    if status:
        want = status.upper()
        checks.append(lambda s: s["status"] == want)
    if node:
        checks.append(lambda s: s["node"] == node)
    name = request.arg("name")
    if name:
        rx = re.compile(name)
        checks.append(lambda s: rx.search(s["name"]) is not None)
    flavor = request.arg("flavor")
    if flavor:
        checks.append(lambda s: s["flavor_id"] == flavor)
    image = request.arg("image")
    if image:
        checks.append(lambda s: s["image"] == image)
    az = request.arg("availability_zone")
    if az:
        checks.append(lambda s: s["az"] == az)
    for key in ("vm_state", "task_state", "key_name"):
        want_value = request.arg(key)
        if want_value:
            checks.append(lambda s, k=key, w=want_value: s[k] == w)
    uuid_arg = request.arg("uuid")
    if uuid_arg:
        checks.append(lambda s: s["id"] == uuid_arg)
    user = request.arg("user_id")
    if user:
        checks.append(lambda s: s["user_id"] == user)
    locked = request.arg("locked")
    if locked is not None and request.context["mv"] >= (2, 73):
        want_locked = _truthy(locked)
        checks.append(lambda s: s["locked"] == want_locked)
    tags = request.arg("tags")
    if tags and request.context["mv"] >= (2, 26):
        need = set(tags.split(","))
        checks.append(lambda s: need <= set(s["tags"]))
    if checks:
        candidates = [sid for sid in candidates if all(c(store.servers[sid]) for c in checks)]
    return changes_since.servers(store, request, candidates)


def _paginate(
    request: Request, ids: list[str], full: bool, store: ComputeStore, not_found_msg: str
) -> tuple[list[str], int]:
    limit = _int_arg(request, "limit")
    limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
    marker = request.arg("marker")
    start = 0
    if marker:
        if full and marker in store.pos:
            start = store.pos[marker] + 1
        else:
            try:
                start = ids.index(marker) + 1
            except ValueError:
                raise fault(400, not_found_msg.format(marker=marker)) from None
    return ids[start : start + limit], limit


def _next_href(request: Request, path: str, marker: str) -> str:
    from urllib.parse import urlencode

    query = [(k, v) for k, vs in request.query.items() for v in vs if k != "marker"]
    query.append(("marker", marker))
    return f"{request.base_url}/v2.1{path}?{urlencode(query)}"


def _list_servers(request: Request, detail: bool) -> Response:
    store = _store(request)
    with store.cloud.lock:
        ids = _filter_servers(store, request)
        page, limit = _paginate(request, ids, ids is store.order, store, "marker [{marker}] not found")
        if detail:
            parts = _encoded(store, request, page, {})
        else:
            base = request.base_url
            parts = [
                json.dumps(
                    {
                        "id": sid,
                        "name": store.servers[sid]["name"],
                        "links": [
                            {"rel": "self", "href": f"{base}/v2.1/servers/{sid}"},
                            {"rel": "bookmark", "href": f"{base}/servers/{sid}"},
                        ],
                    },
                    separators=(",", ":"),
                ).encode()
                for sid in page
            ]
    body = b'{"servers":[' + b",".join(parts) + b"]"
    if page and len(page) == limit:
        links = [{"rel": "next", "href": _next_href(request, "/servers/detail" if detail else "/servers", page[-1])}]
        body += b',"servers_links":' + json.dumps(links).encode()
    body += b"}"
    return Response(200, body, {"Content-Type": "application/json"})


@route("GET", "/servers")
def list_servers(request: Request) -> Response:
    return _list_servers(request, detail=False)


@route("GET", "/servers/detail")
def list_servers_detail(request: Request) -> Response:
    return _list_servers(request, detail=True)


@route("GET", "/servers/{server_id}")
def show_server(request: Request) -> Response:
    store = _store(request)
    with store.cloud.lock:
        server = _server(request, store)
        part = _encoded(store, request, [server["id"]], {})[0]
    return Response(200, b'{"server":' + part + b"}", {"Content-Type": "application/json"})


@route("GET", "/servers/{server_id}/os-volume_attachments")
def volume_attachments(request: Request) -> Response:
    store = _store(request)
    server = _server(request, store)
    mv = request.context["mv"]
    items = []
    for vid in server["volumes"]:
        item = {"id": vid, "volumeId": vid, "serverId": server["id"], "device": None}
        if mv >= (2, 70):
            item["tag"] = None
        if mv >= (2, 79):
            item["delete_on_termination"] = False
        if mv >= (2, 89):
            item.pop("id")
            item["attachment_id"] = stable_uuid("attachment", f"{server['id']}:{vid}")
            item["bdm_uuid"] = stable_uuid("bdm", f"{server['id']}:{vid}")
        items.append(item)
    return Response(200, {"volumeAttachments": items})


# -- server actions --------------------------------------------------------------------------
def _state_conflict(server: dict[str, Any], action: str) -> HTTPError:
    if server["task_state"]:
        return fault(409, f"Cannot '{action}' instance {server['id']} while it is in task_state {server['task_state']}")
    return fault(409, f"Cannot '{action}' instance {server['id']} while it is in vm_state {server['vm_state']}")


def _require_state(server: dict[str, Any], action: str, vm_states: tuple[str, ...]) -> None:
    if server["task_state"] is not None or server["vm_state"] not in vm_states:
        raise _state_conflict(server, action)


def _check_lock(request: Request, server: dict[str, Any]) -> None:
    if server["locked"] and not request.context.get("is_admin"):
        raise fault(409, f"Instance {server['id']} is locked")


def _bool_body(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no", "on", "off"):
        return value.lower() in ("true", "1", "yes", "on")
    raise fault(400, f"Invalid input for field/attribute {name}. Value: {value}. {value!r} is not of type 'boolean'")


@route("POST", "/servers/{server_id}/action")
def server_action(request: Request) -> Response:
    store = _store(request)
    body = request.json
    if not isinstance(body, dict) or len(body) != 1:
        raise fault(400, "Malformed request body: an action body has exactly one key")
    action, args = next(iter(body.items()))
    mv = request.context["mv"]
    ctx = request.context
    with store.cloud.lock:
        server = _server(request, store)
        if action == "os-migrateLive":
            _admin(request, "os_compute_api:os-migrate-server:migrate_live")
            args = args or {}
            if not isinstance(args, dict) or "host" not in args:
                raise fault(
                    400, "Invalid input for field/attribute os-migrateLive. Value: None. 'host' is a required property"
                )
            block = args.get("block_migration")
            if mv >= (2, 25):
                if block != "auto":
                    _bool_body(block, "block_migration")
            else:
                if block is None or block == "auto":
                    raise fault(
                        400,
                        "Invalid input for field/attribute block_migration. Value: auto. 'auto' is not of type 'boolean'",
                    )
                _bool_body(block, "block_migration")
            force = False
            if (2, 30) <= mv <= (2, 67):
                force = _bool_body(args.get("force", False), "force")
            elif mv < (2, 30):
                force = args.get("host") is not None  # before 2.30 a named host skipped the scheduler
            elif "force" in args:
                raise fault(400, "Additional properties are not allowed ('force' was unexpected)")
            _require_state(server, "os-migrateLive", ("active", "paused"))
            store.live_migrate(server, args.get("host"), force, ctx)
            return Response(202)
        if action == "migrate":
            _admin(request, "os_compute_api:os-migrate-server:migrate")
            host = None
            if args:
                if not isinstance(args, dict):
                    raise fault(400, "Invalid input for field/attribute migrate.")
                if "host" in args:
                    if mv < (2, 56):
                        raise fault(400, "Additional properties are not allowed ('host' was unexpected)")
                    host = args["host"]
            _require_state(server, "migrate", ("active", "stopped"))
            store.cold_move(server, host, None, ctx)
            return Response(202)
        if action == "resize":
            _check_lock(request, server)
            ref = (args or {}).get("flavorRef") if isinstance(args, dict) else None
            if not ref:
                raise fault(400, "Resize requires a flavor change.")
            fid = ref if ref in store.flavors else store.flavor_by_name.get(str(ref))
            if fid is None:
                raise fault(400, f"Flavor {ref} could not be found.")
            if fid == server["flavor_id"]:
                raise fault(400, "When resizing, instances must change flavor!")
            _require_state(server, "resize", ("active", "stopped"))
            store.cold_move(server, None, store.flavors[fid], ctx)
            return Response(202)
        if action in ("confirmResize", "revertResize"):
            _check_lock(request, server)
            if server["vm_state"] != "resized" or server["task_state"] is not None:
                raise _state_conflict(server, action)
            mig = store.resize_migration(server)
            if mig is None:
                raise fault(400, "Instance has not been resized.")
            if action == "confirmResize":
                store.confirm(server, mig, ctx)
                return Response(204)
            store.revert(server, mig, ctx)
            return Response(202)
        if action == "os-resetState":
            # Nova's reset-state: vm_state to active or error, task_state cleared, nothing else
            # (an operator's repair after a failed migration). Admin only; no instance action.
            _admin(request, "os_compute_api:os-admin-actions:reset_state")
            state = (args or {}).get("state") if isinstance(args, dict) else None
            if state not in ("active", "error"):
                raise fault(
                    400,
                    f"Invalid input for field/attribute state. Value: {state}. {state!r} is not one of ['active', 'error']",
                )
            server["vm_state"], server["status"], server["task_state"] = state, state.upper(), None
            store.touch(server["id"])
            return Response(202)
        if action == "os-stop":
            _check_lock(request, server)
            _require_state(server, "stop", ("active", "error"))
            store.power(server, False, ctx)
            return Response(202)
        if action == "os-start":
            _check_lock(request, server)
            _require_state(server, "start", ("stopped",))
            store.power(server, True, ctx)
            return Response(202)
        if action in ("lock", "unlock"):
            if (
                action == "unlock"
                and server["locked"]
                and not ctx.get("is_admin")
                and server.get("locked_by") == "admin"
            ):
                raise fault(
                    403, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed."
                )
            server["locked"] = action == "lock"
            server["locked_by"] = ("admin" if ctx.get("is_admin") else "owner") if action == "lock" else None
            server["locked_reason"] = (
                (args or {}).get("locked_reason")
                if action == "lock" and isinstance(args, dict) and mv >= (2, 73)
                else None
            )
            store.touch(server["id"])
            return Response(202)
    raise fault(400, f"There is no such action: {action}")


# -- server migrations and instance actions -------------------------------------------------
def _server_migration_view(mig: dict[str, Any], mv: tuple[int, int], base: str, store: ComputeStore) -> dict[str, Any]:
    total = mig["memory_total_bytes"]
    elapsed = store.cloud.clock.speed * (time.monotonic() - mig["started"])
    done = (
        0
        if mig["status"] in ("queued", "preparing")
        else min(total, int(total * min(1.0, elapsed / max(mig["duration"], 1e-6))))
    )
    if mig["hang"]:
        done = min(done, int(total * 0.9))
    v = {
        "id": mig["id"],
        "server_uuid": mig["server_uuid"],
        "source_compute": mig["source_compute"],
        "source_node": mig["source_node"],
        "dest_compute": mig["dest_compute"],
        "dest_node": mig["dest_node"],
        "dest_host": mig["dest_host"],
        "status": mig["status"],
        "created_at": mig["created_at"],
        "updated_at": mig["updated_at"],
        "memory_total_bytes": total,
        "memory_processed_bytes": done,
        "memory_remaining_bytes": total - done,
        "disk_total_bytes": mig["disk_total_bytes"],
        "disk_processed_bytes": 0,
        "disk_remaining_bytes": mig["disk_total_bytes"],
    }
    if mv >= (2, 59):
        v["uuid"] = mig["uuid"]
    if mv >= (2, 80):
        v["user_id"] = mig["user_id"]
        v["project_id"] = mig["project_id"]
    return v


@route("GET", "/servers/{server_id}/migrations", min_mv=(2, 23))
def list_server_migrations(request: Request) -> Response:
    _admin(request, "os_compute_api:servers:migrations:index")
    store = _store(request)
    server = _server(request, store)
    mv = request.context["mv"]
    items = [
        _server_migration_view(m, mv, request.base_url, store)
        for m in store.migrations.values()
        if m["server_uuid"] == server["id"] and m["migration_type"] == "live-migration" and m["status"] in LIVE_ACTIVE
    ]
    return Response(200, {"migrations": items})


def _server_migration(request: Request, store: ComputeStore, server: dict[str, Any]) -> dict[str, Any]:
    try:
        mid = int(request.params["migration_id"])
    except ValueError:
        raise fault(404, f"Migration {request.params['migration_id']} could not be found.") from None
    mig = store.migrations.get(mid)
    if mig is None or mig["server_uuid"] != server["id"]:
        raise fault(404, f"Migration {mid} could not be found.")
    return mig


@route("GET", "/servers/{server_id}/migrations/{migration_id}", min_mv=(2, 23))
def show_server_migration(request: Request) -> Response:
    _admin(request, "os_compute_api:servers:migrations:show")
    store = _store(request)
    server = _server(request, store)
    mig = _server_migration(request, store, server)
    if mig["migration_type"] != "live-migration" or mig["status"] not in LIVE_ACTIVE:
        raise fault(404, f"In-progress live migration {mig['id']} is not found for server {server['id']}.")
    return Response(200, {"migration": _server_migration_view(mig, request.context["mv"], request.base_url, store)})


@route("DELETE", "/servers/{server_id}/migrations/{migration_id}", min_mv=(2, 24))
def abort_server_migration(request: Request) -> Response:
    _admin(request, "os_compute_api:servers:migrations:delete")
    store = _store(request)
    mv = request.context["mv"]
    with store.cloud.lock:
        server = _server(request, store)
        mig = _server_migration(request, store, server)
        if mig["migration_type"] != "live-migration":
            raise fault(400, f"Migration {mig['id']} is not a live migration and cannot be aborted.")
        if server["task_state"] != "migrating":
            raise _state_conflict(server, "abort live migration")
        abortable = ("running", "queued", "preparing") if mv >= (2, 65) else ("running",)
        if mig["status"] not in abortable:
            raise fault(
                400,
                f"Migration {mig['id']} state of instance {server['id']} is {mig['status']}. Cannot abort while migration is in this state.",
            )
        store.abort_live(server, mig)
    return Response(202)


@route("POST", "/servers/{server_id}/migrations/{migration_id}/action", min_mv=(2, 22))
def force_complete(request: Request) -> Response:
    _admin(request, "os_compute_api:servers:migrations:force_complete")
    store = _store(request)
    with store.cloud.lock:
        server = _server(request, store)
        mig = _server_migration(request, store, server)
        if mig["status"] != "running":
            raise fault(
                400,
                f"Migration {mig['id']} state of instance {server['id']} is {mig['status']}. Cannot force_complete while migration is in this state.",
            )
        mig["hang"] = False
        store._later(0.5, lambda: store._live_finish(mig["id"]))
    return Response(202)


def _action_view(rec: dict[str, Any], mv: tuple[int, int], admin: bool, events: bool) -> dict[str, Any]:
    v = {k: rec[k] for k in ("action", "instance_uuid", "request_id", "user_id", "project_id", "start_time", "message")}
    if mv >= (2, 58):
        v["updated_at"] = rec["updated_at"]
    if events:
        evs = []
        for e in rec["events"]:
            ev = {k: e[k] for k in ("event", "start_time", "finish_time", "result")}
            if admin or mv < (2, 51):
                ev["traceback"] = e["traceback"]
            if admin and mv >= (2, 62):
                ev["host"] = e["host"]
            if mv >= (2, 62):
                ev["hostId"] = stable_uuid("hostid", str(e["host"])).replace("-", "")
            if mv >= (2, 84) and admin:
                ev["details"] = e["traceback"]
            evs.append(ev)
        v["events"] = evs
    return v


@route("GET", "/servers/{server_id}/os-instance-actions")
def list_instance_actions(request: Request) -> Response:
    store = _store(request)
    server = _server(request, store)
    mv = request.context["mv"]
    recs = list(reversed(store.actions_of(server)))
    return Response(
        200, {"instanceActions": [_action_view(r, mv, bool(request.context.get("is_admin")), False) for r in recs]}
    )


@route("GET", "/servers/{server_id}/os-instance-actions/{request_id}")
def show_instance_action(request: Request) -> Response:
    store = _store(request)
    server = _server(request, store)
    for rec in store.actions_of(server):
        if rec["request_id"] == request.params["request_id"]:
            return Response(
                200,
                {
                    "instanceAction": _action_view(
                        rec, request.context["mv"], bool(request.context.get("is_admin")), True
                    )
                },
            )
    raise fault(404, f"Action for request_id {request.params['request_id']} on instance {server['id']} not found")


def _migration_view(mig: dict[str, Any], mv: tuple[int, int], base: str, store: ComputeStore) -> dict[str, Any]:
    v = {
        "id": mig["id"],
        "source_node": mig["source_node"],
        "dest_node": mig["dest_node"],
        "source_compute": mig["source_compute"],
        "dest_compute": mig["dest_compute"],
        "dest_host": mig["dest_host"],
        "status": mig["status"],
        "instance_uuid": mig["server_uuid"],
        "old_instance_type_id": store.flavors[mig["old_flavor_id"]]["int_id"],
        "new_instance_type_id": store.flavors[mig["new_flavor_id"]]["int_id"],
        "created_at": mig["created_at"],
        "updated_at": mig["updated_at"],
    }
    if mv >= (2, 23):
        v["migration_type"] = mig["migration_type"]
        if mig["migration_type"] == "live-migration" and mig["status"] in LIVE_ACTIVE:
            v["links"] = [
                {"rel": "self", "href": f"{base}/v2.1/servers/{mig['server_uuid']}/migrations/{mig['id']}"},
                {"rel": "bookmark", "href": f"{base}/servers/{mig['server_uuid']}/migrations/{mig['id']}"},
            ]
    if mv >= (2, 59):
        v["uuid"] = mig["uuid"]
    if mv >= (2, 80):
        v["user_id"] = mig["user_id"]
        v["project_id"] = mig["project_id"]
    return v


@route("GET", "/os-migrations")
def list_migrations(request: Request) -> Response:
    _admin(request, "os_compute_api:os-migrations:index")
    store = _store(request)
    mv = request.context["mv"]
    migs = sorted(store.migrations.values(), key=lambda m: (m["created_at"], m["id"]), reverse=True)
    host = request.arg("host")
    if host:
        migs = [m for m in migs if host in (m["source_compute"], m["dest_compute"])]
    for key, field in (
        ("status", "status"),
        ("instance_uuid", "server_uuid"),
        ("migration_type", "migration_type"),
        ("source_compute", "source_compute"),
    ):
        want = request.arg(key)
        if want:
            migs = [m for m in migs if m[field] == want]
    if mv >= (2, 80):
        for key in ("user_id", "project_id"):
            want = request.arg(key)
            if want:
                migs = [m for m in migs if m[key] == want]
    migs = changes_since.migrations(request, migs)
    links = None
    if mv >= (2, 59):
        limit = _int_arg(request, "limit")
        limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
        marker = request.arg("marker")
        start = 0
        if marker:
            idx = next((i for i, m in enumerate(migs) if m["uuid"] == marker), None)
            if idx is None:
                raise fault(400, f"Marker {marker} could not be found.")
            start = idx + 1
        migs = migs[start : start + limit]
        if migs and len(migs) == limit:
            links = [{"rel": "next", "href": _next_href(request, "/os-migrations", migs[-1]["uuid"])}]
    body: dict[str, Any] = {"migrations": [_migration_view(m, mv, request.base_url, store) for m in migs]}
    if links:
        body["migrations_links"] = links
    return Response(200, body)


# -- flavors --------------------------------------------------------------------------------
def _flavor_view(f: dict[str, Any], mv: tuple[int, int], base: str, detail: bool) -> dict[str, Any]:
    links = [
        {"rel": "self", "href": f"{base}/v2.1/flavors/{f['id']}"},
        {"rel": "bookmark", "href": f"{base}/flavors/{f['id']}"},
    ]
    v: dict[str, Any] = {"id": f["id"], "name": f["name"], "links": links}
    if mv >= (2, 55):
        v["description"] = f["description"]
    if not detail:
        return v
    v.update(
        {
            "ram": f["ram"],
            "disk": f["disk"],
            "vcpus": f["vcpus"],
            "swap": f["swap"] if (f["swap"] or mv >= (2, 75)) else "",
            "OS-FLV-EXT-DATA:ephemeral": f["ephemeral"],
            "OS-FLV-DISABLED:disabled": False,
            "os-flavor-access:is_public": f["is_public"],
            "rxtx_factor": f["rxtx_factor"],
        }
    )
    if mv >= (2, 61):
        v["extra_specs"] = dict(f["extra_specs"])
    return v


@route("GET", "/flavors")
def list_flavors(request: Request) -> Response:
    store = _store(request)
    return Response(
        200,
        {"flavors": [_flavor_view(f, request.context["mv"], request.base_url, False) for f in store.flavors.values()]},
    )


@route("GET", "/flavors/detail")
def list_flavors_detail(request: Request) -> Response:
    store = _store(request)
    return Response(
        200,
        {"flavors": [_flavor_view(f, request.context["mv"], request.base_url, True) for f in store.flavors.values()]},
    )


def _flavor(request: Request, store: ComputeStore) -> dict[str, Any]:
    f = store.flavors.get(request.params["flavor_id"])
    if f is None:
        raise fault(404, f"Flavor {request.params['flavor_id']} could not be found.")
    return f


@route("GET", "/flavors/{flavor_id}")
def show_flavor(request: Request) -> Response:
    store = _store(request)
    return Response(
        200, {"flavor": _flavor_view(_flavor(request, store), request.context["mv"], request.base_url, True)}
    )


@route("GET", "/flavors/{flavor_id}/os-extra_specs")
def flavor_extra_specs(request: Request) -> Response:
    store = _store(request)
    return Response(200, {"extra_specs": dict(_flavor(request, store)["extra_specs"])})


@route("GET", "/flavors/{flavor_id}/os-extra_specs/{key}")
def flavor_extra_spec(request: Request) -> Response:
    store = _store(request)
    f = _flavor(request, store)
    key = request.params["key"]
    if key not in f["extra_specs"]:
        raise fault(404, f"Flavor {f['id']} has no extra specs with key {key}.")
    return Response(200, {key: f["extra_specs"][key]})


# -- hypervisors ----------------------------------------------------------------------------
def _hypervisor_view(
    store: ComputeStore, node: dict[str, Any], mv: tuple[int, int], detail: bool, with_servers: bool
) -> dict[str, Any]:
    new_ids = mv >= (2, 53)
    v: dict[str, Any] = {
        "id": node["uuid"] if new_ids else node["hypervisor_id"],
        "hypervisor_hostname": node["hypervisor_hostname"],
        "state": store.node_state(node),
        "status": node["status"],
    }
    if detail:
        v.update(
            {
                "host_ip": node["host_ip"],
                "hypervisor_type": node["hypervisor_type"],
                "hypervisor_version": 8002000,
                "service": {
                    "host": node["hostname"],
                    "id": node["service_uuid"] if new_ids else node["service_id"],
                    "disabled_reason": node["disabled_reason"],
                },
            }
        )
        if mv < (2, 88):
            usage = store.placement.usages[node["uuid"]]
            vcpus = node["vcpus"] + node["pcpus"]
            mem_used = usage.get("MEMORY_MB", 0) + node["reserved"]["memory_mb"]
            disk_used = usage.get("DISK_GB", 0) + node["reserved"]["disk_gb"]
            cpu_info: dict[str, Any] = {
                "arch": "x86_64",
                "model": node["cpu_model"],
                "vendor": "Intel",
                "features": ["avx2", "sse4.2"],
                "topology": {"cells": 2, "sockets": 1, "cores": max(1, vcpus // 4), "threads": 2},
            }
            v.update(
                {
                    "vcpus": vcpus,
                    "vcpus_used": usage.get("VCPU", 0) + usage.get("PCPU", 0),
                    "memory_mb": node["memory_mb"],
                    "memory_mb_used": mem_used,
                    "free_ram_mb": node["memory_mb"] - mem_used,
                    "local_gb": node["disk_gb"],
                    "local_gb_used": disk_used,
                    "free_disk_gb": node["disk_gb"] - disk_used,
                    "disk_available_least": node["disk_gb"] - disk_used,
                    "running_vms": len(store.by_host.get(node["hostname"], ())),
                    "current_workload": sum(
                        1 for sid in store.by_host.get(node["hostname"], ()) if store.servers[sid]["task_state"]
                    ),
                    "cpu_info": cpu_info if mv >= (2, 28) else json.dumps(cpu_info),
                }
            )
        else:
            v["uptime"] = " 10:00:00 up 42 days,  3:14,  0 users,  load average: 0.50, 0.40, 0.30"
    if with_servers:
        sids = sorted(store.by_host.get(node["hostname"], ()), key=store.pos.__getitem__)
        if sids or mv >= (2, 75):
            v["servers"] = [{"name": store.servers[s]["instance_name"], "uuid": s} for s in sids]
    return v


def _hypervisors(request: Request, detail: bool) -> Response:
    _admin(request, "os_compute_api:os-hypervisors:list-detail" if detail else "os_compute_api:os-hypervisors:list")
    store = _store(request)
    mv = request.context["mv"]
    nodes = list(store.nodes.values())
    with_servers = False
    if mv >= (2, 53):
        with_servers = _truthy(request.arg("with_servers")) if request.arg("with_servers") is not None else False
        pattern = request.arg("hypervisor_hostname_pattern")
        if pattern:
            nodes = [n for n in nodes if pattern in n["hypervisor_hostname"]]
            if not nodes:
                raise fault(404, f"No hypervisor matching '{pattern}' could be found.")
    links = None
    if mv >= (2, 33):
        limit = _int_arg(request, "limit")
        limit = MAX_LIMIT if limit is None else min(limit, MAX_LIMIT)
        marker = request.arg("marker")
        start = 0
        if marker:
            key = "uuid" if mv >= (2, 53) else "hypervisor_id"
            idx = next((i for i, n in enumerate(nodes) if str(n[key]) == marker), None)
            if idx is None:
                raise fault(400, f"marker [{marker}] not found")
            start = idx + 1
        nodes = nodes[start : start + limit]
        if nodes and len(nodes) == limit:
            last = nodes[-1]["uuid"] if mv >= (2, 53) else nodes[-1]["hypervisor_id"]
            links = [
                {
                    "rel": "next",
                    "href": _next_href(request, "/os-hypervisors/detail" if detail else "/os-hypervisors", str(last)),
                }
            ]
    with store.cloud.lock:
        body: dict[str, Any] = {"hypervisors": [_hypervisor_view(store, n, mv, detail, with_servers) for n in nodes]}
    if links:
        body["hypervisors_links"] = links
    return Response(200, body)


@route("GET", "/os-hypervisors")
def list_hypervisors(request: Request) -> Response:
    return _hypervisors(request, detail=False)


@route("GET", "/os-hypervisors/detail")
def list_hypervisors_detail(request: Request) -> Response:
    return _hypervisors(request, detail=True)


@route("GET", "/os-hypervisors/statistics", max_mv=(2, 87))
def hypervisor_statistics(request: Request) -> Response:
    _admin(request, "os_compute_api:os-hypervisors:statistics")
    store = _store(request)
    views = [_hypervisor_view(store, n, (2, 1), True, False) for n in store.nodes.values()]
    keys = (
        "vcpus",
        "vcpus_used",
        "memory_mb",
        "memory_mb_used",
        "free_ram_mb",
        "local_gb",
        "local_gb_used",
        "free_disk_gb",
        "disk_available_least",
        "running_vms",
        "current_workload",
    )
    stats = {k: sum(v[k] for v in views) for k in keys}
    stats["count"] = len(views)
    return Response(200, {"hypervisor_statistics": stats})


@route("GET", "/os-hypervisors/{hypervisor_id}")
def show_hypervisor(request: Request) -> Response:
    _admin(request, "os_compute_api:os-hypervisors:show")
    store = _store(request)
    mv = request.context["mv"]
    ref = request.params["hypervisor_id"]
    if mv >= (2, 53):
        if not _is_uuid(ref):
            raise fault(400, f"Invalid uuid {ref}")
        node = store.node_by_id.get(ref)
    else:
        node = store.node_by_id.get(ref) if ref.isdigit() else None
    if node is None:
        raise fault(404, f"Hypervisor with ID {ref} could not be found.")
    with_servers = mv >= (2, 53) and request.arg("with_servers") is not None and _truthy(request.arg("with_servers"))
    return Response(200, {"hypervisor": _hypervisor_view(store, node, mv, True, with_servers)})


@route("GET", "/os-hypervisors/{pattern}/servers", max_mv=(2, 52))
def hypervisor_servers(request: Request) -> Response:
    _admin(request, "os_compute_api:os-hypervisors:servers")
    store = _store(request)
    nodes = [n for n in store.nodes.values() if request.params["pattern"] in n["hypervisor_hostname"]]
    if not nodes:
        raise fault(404, f"No hypervisor matching '{request.params['pattern']}' could be found.")
    return Response(200, {"hypervisors": [_hypervisor_view(store, n, (2, 1), False, True) for n in nodes]})


@route("GET", "/os-hypervisors/{pattern}/search", max_mv=(2, 52))
def hypervisor_search(request: Request) -> Response:
    _admin(request, "os_compute_api:os-hypervisors:search")
    store = _store(request)
    nodes = [n for n in store.nodes.values() if request.params["pattern"] in n["hypervisor_hostname"]]
    if not nodes:
        raise fault(404, f"No hypervisor matching '{request.params['pattern']}' could be found.")
    return Response(200, {"hypervisors": [_hypervisor_view(store, n, (2, 1), False, False) for n in nodes]})


# -- services -------------------------------------------------------------------------------
def _service_view(store: ComputeStore, svc: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    node = store.nodes.get(svc["host"]) if svc["binary"] == "nova-compute" else None
    if node is not None:
        status, reason, state, forced = (
            node["status"],
            node["disabled_reason"],
            store.node_state(node),
            node["forced_down"],
        )
    else:
        status, reason, state, forced = "enabled", None, "up", False
    v = {
        "id": svc["uuid"] if mv >= (2, 53) else svc["id"],
        "binary": svc["binary"],
        "host": svc["host"],
        "zone": node["az"] if node is not None else "internal",
        "status": status,
        "state": state,
        "updated_at": svc["updated_at"],
        "disabled_reason": reason,
    }
    if mv >= (2, 11):
        v["forced_down"] = forced
    return v


@route("GET", "/os-services")
def list_services(request: Request) -> Response:
    _admin(request, "os_compute_api:os-services:list")
    store = _store(request)
    mv = request.context["mv"]
    items = list(store.services.values())
    for key in ("host", "binary"):
        want = request.arg(key)
        if want:
            items = [s for s in items if s[key] == want]
    return Response(200, {"services": [_service_view(store, s, mv) for s in items]})


def _compute_node_for(store: ComputeStore, host: Any, binary: Any) -> dict[str, Any]:
    if binary != "nova-compute":
        raise fault(400, f"Updating a {binary} service is not supported. Only nova-compute services can be updated.")
    node = store.nodes.get(host) if isinstance(host, str) else None
    if node is None:
        raise fault(404, f"Host '{host}' is not mapped to any cell" if host else "Service not found.")
    return node


def legacy_service_action(request: Request) -> Response:
    store = _store(request)
    action = request.params["service_id"]
    body = request.json or {}
    host, binary = body.get("host"), body.get("binary")
    with store.cloud.lock:
        node = _compute_node_for(store, host, binary)
        out: dict[str, Any] = {"host": host, "binary": binary}
        if action == "enable":
            store.set_service_status(node, True, None)
            out["status"] = "enabled"
        elif action == "disable":
            store.set_service_status(node, False, None)
            out["status"] = "disabled"
        elif action == "disable-log-reason":
            reason = body.get("disabled_reason")
            if not isinstance(reason, str) or not reason.strip() or len(reason) > 255:
                raise fault(
                    400,
                    "The string containing the reason for disabling the service contains invalid characters or is too long.",
                )
            store.set_service_status(node, False, reason)
            out["status"] = "disabled"
            out["disabled_reason"] = reason
        elif action == "force-down" and request.context["mv"] >= (2, 11):
            forced = _bool_body(body.get("forced_down"), "forced_down")
            node["forced_down"] = forced
            out["forced_down"] = forced
        else:
            raise fault(404, "Unknown action")
    return Response(200, {"service": out})


@route("PUT", "/os-services/{service_id}")
def update_service(request: Request) -> Response:
    """PUT /os-services/{uuid} from 2.53; before, PUT /os-services/{enable|disable|...}."""
    _admin(request, "os_compute_api:os-services:update")
    if request.context["mv"] < (2, 53):
        return legacy_service_action(request)
    store = _store(request)
    body = request.json or {}
    with store.cloud.lock:
        svc = store.services.get(request.params["service_id"])
        if svc is None:
            raise fault(404, f"Service {request.params['service_id']} not found.")
        allowed = {"status", "disabled_reason", "forced_down"}
        extra = set(body) - allowed
        if extra or not body:
            raise fault(400, f"Invalid input for field/attribute: {', '.join(sorted(extra)) or 'empty body'}")
        status = body.get("status")
        if status is not None and status not in ("enabled", "disabled"):
            raise fault(
                400,
                f"Invalid input for field/attribute status. Value: {status}. '{status}' is not one of ['enabled', 'disabled']",
            )
        reason = body.get("disabled_reason")
        if reason is not None and status != "disabled":
            raise fault(
                400,
                "Specifying 'disabled_reason' with status 'enabled' is invalid."
                if status
                else "'disabled_reason' is only supported when 'status' is 'disabled'",
            )
        if reason is not None and (not isinstance(reason, str) or len(reason) > 255):
            raise fault(400, "Invalid input for field/attribute disabled_reason.")
        node = _compute_node_for(store, svc["host"], svc["binary"])
        if status is not None:
            store.set_service_status(node, status == "enabled", reason)
        if "forced_down" in body:
            node["forced_down"] = _bool_body(body["forced_down"], "forced_down")
        view = _service_view(store, svc, request.context["mv"])
    return Response(200, {"service": view})


# -- aggregates, availability zones, server groups -------------------------------------------
def _aggregate_view(agg: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    v = {
        "id": agg["id"],
        "name": agg["name"],
        "availability_zone": agg["metadata"].get("availability_zone"),
        "hosts": list(agg["hosts"]),
        "metadata": dict(agg["metadata"]),
        "created_at": "2026-01-01T00:00:00.000000",
        "updated_at": None,
        "deleted_at": None,
        "deleted": False,
    }
    if mv >= (2, 41):
        v["uuid"] = agg["uuid"]
    return v


@route("GET", "/os-aggregates")
def list_aggregates(request: Request) -> Response:
    _admin(request, "os_compute_api:os-aggregates:index")
    store = _store(request)
    return Response(200, {"aggregates": [_aggregate_view(a, request.context["mv"]) for a in store.aggregates.values()]})


@route("GET", "/os-aggregates/{aggregate_id}")
def show_aggregate(request: Request) -> Response:
    _admin(request, "os_compute_api:os-aggregates:show")
    store = _store(request)
    ref = request.params["aggregate_id"]
    agg = next((a for a in store.aggregates.values() if str(a["id"]) == ref or a["uuid"] == ref), None)
    if agg is None:
        raise fault(404, f"Aggregate {ref} could not be found.")
    return Response(200, {"aggregate": _aggregate_view(agg, request.context["mv"])})


@route("GET", "/os-availability-zone")
def list_azs(request: Request) -> Response:
    store = _store(request)
    zones: dict[str, bool] = {}
    for node in store.nodes.values():
        if node["status"] == "enabled" and store.node_state(node) == "up":
            zones[node["az"]] = True
        else:
            zones.setdefault(node["az"], False)
    info = [{"zoneName": z, "zoneState": {"available": ok}, "hosts": None} for z, ok in zones.items()]
    return Response(200, {"availabilityZoneInfo": info})


@route("GET", "/os-availability-zone/detail")
def list_azs_detail(request: Request) -> Response:
    _admin(request, "os_compute_api:os-availability-zone:detail")
    store = _store(request)
    zones: dict[str, dict[str, Any]] = {}
    for svc in store.services.values():
        view = _service_view(store, svc, (2, 1))
        zone = zones.setdefault(
            view["zone"], {"zoneName": view["zone"], "zoneState": {"available": False}, "hosts": {}}
        )
        zone["hosts"].setdefault(svc["host"], {})[svc["binary"]] = {
            "available": view["state"] == "up",
            "active": view["status"] == "enabled",
            "updated_at": svc["updated_at"],
        }
        if view["state"] == "up" and view["status"] == "enabled":
            zone["zoneState"]["available"] = True
    return Response(200, {"availabilityZoneInfo": list(zones.values())})


def _group_view(store: ComputeStore, g: dict[str, Any], mv: tuple[int, int]) -> dict[str, Any]:
    v: dict[str, Any] = {
        "id": g["id"],
        "name": g["name"],
        "members": [m for m in g["members"] if m in store.servers],
        "project_id": g["project_id"],
    }
    if mv >= (2, 13):
        v["user_id"] = g["user_id"]
    if mv >= (2, 64):
        v["policy"] = g["policy"]
        v["rules"] = dict(g["rules"])
    else:
        v["policies"] = [g["policy"]]
        v["metadata"] = {}
    return v


@route("GET", "/os-server-groups")
def list_server_groups(request: Request) -> Response:
    store = _store(request)
    ctx = request.context
    all_projects = _truthy(request.arg("all_projects")) if request.arg("all_projects") is not None else False
    if all_projects and not ctx.get("is_admin"):
        raise fault(403, "Policy doesn't allow os_compute_api:os-server-groups:index:all_projects to be performed.")
    groups = [g for g in store.groups.values() if all_projects or g["project_id"] == ctx.get("project_id")]
    offset = _int_arg(request, "offset") or 0
    limit = _int_arg(request, "limit")
    groups = groups[offset : offset + limit if limit is not None else None]
    return Response(200, {"server_groups": [_group_view(store, g, request.context["mv"]) for g in groups]})


@route("GET", "/os-server-groups/{group_id}")
def show_server_group(request: Request) -> Response:
    store = _store(request)
    g = store.groups.get(request.params["group_id"])
    if g is None or (not request.context.get("is_admin") and g["project_id"] != request.context.get("project_id")):
        raise fault(404, f"Instance group {request.params['group_id']} could not be found.")
    return Response(200, {"server_group": _group_view(store, g, request.context["mv"])})


# -- project-id segment in old-style URLs: /v2.1/{project_id}/servers -> /v2.1/servers -------------
class _ComputeRouter(Router):
    def dispatch(self, request: Request) -> Response:
        m = _PROJECT_SEGMENT.match(request.path)
        if m:
            request.path = "/v2.1" + request.path[m.end() :]
        try:
            return super().dispatch(request)
        except HTTPError as exc:
            if exc.status in (404, 405) and isinstance(exc.body, dict) and "error" in exc.body:
                raise fault(
                    exc.status, "The resource could not be found." if exc.status == 404 else "Method not allowed"
                ) from None
            raise


_compute_router = _ComputeRouter()
_compute_router._routes = router._routes  # same table, with the rewrite in front


# -- load, snapshot, restore ----------------------------------------------------------------
def load(cloud: Any, topology: dict[str, Any]) -> ComputeStore:
    t = validate_topology(topology)
    store = ComputeStore(cloud, t)
    placement = store.placement
    for i, f in enumerate(t["flavors"]):
        store.flavors[f["id"]] = dict(f, int_id=i + 1)
        store.flavor_by_name[f["name"]] = f["id"]
    boot = "2026-01-01T00:00:00.000000"
    for i, n in enumerate(t["nodes"]):
        node = dict(n)
        node["hypervisor_id"] = i + 1
        node["service_id"] = i + 3  # 1 and 2 are the controller's scheduler and conductor
        node["service_uuid"] = stable_uuid("nova-compute", n["hostname"])
        node["rp_uuid"] = n["uuid"]
        node["hypervisor_uuid"] = n["uuid"]
        node["local_gb"] = n["disk_gb"]
        node["aggregates"] = list(n["aggregates"])
        store.nodes[node["hostname"]] = node
        store.node_by_id[str(node["hypervisor_id"])] = node
        store.node_by_id[node["uuid"]] = node
        store.by_host[node["hostname"]] = set()
    for sid, binary in ((1, "nova-scheduler"), (2, "nova-conductor")):
        svc_uuid = stable_uuid(binary, "controller")
        store.services[svc_uuid] = {
            "id": sid,
            "uuid": svc_uuid,
            "binary": binary,
            "host": "controller",
            "updated_at": boot,
        }
    for node in store.nodes.values():
        store.services[node["service_uuid"]] = {
            "id": node["service_id"],
            "uuid": node["service_uuid"],
            "binary": "nova-compute",
            "host": node["hostname"],
            "updated_at": boot,
        }
    for i, a in enumerate(t["aggregates"]):
        store.aggregates[i + 1] = {
            "id": i + 1,
            "uuid": a["uuid"],
            "name": a["name"],
            "metadata": dict(a["metadata"]),
            "hosts": list(a["hosts"]),
        }
    admin_user = next(u["id"] for u in t["identity"]["users"] if "admin" in u["roles"])
    group_by_name = {}
    for g in t["server_groups"]:
        store.groups[g["id"]] = dict(g, members=[], user_id=admin_user)
        group_by_name[g["name"]] = g["id"]
    # volumes attached through the volumes section (Cinder's): same ids as Cinder derives them
    attached: dict[str, list[str]] = {}
    for v in topology.get("volumes") or []:
        if isinstance(v, dict) and v.get("attached_to"):
            vid = v.get("id") or stable_uuid("volume", str(v.get("name")))
            attached.setdefault(str(v["attached_to"]), []).append(vid)
    for i, s in enumerate(t["servers"]):
        flavor = store.flavors[store.flavor_by_name[s["flavor"]]]
        vm_state, power_state = SERVER_STATES[s["status"]]
        vols = [v if _is_uuid(v) else stable_uuid("volume", v) for v in s["volumes"] if isinstance(v, str)]
        for vid in attached.get(s["name"], []) + attached.get(s["id"], []):
            if vid not in vols:
                vols.append(vid)
        server = {
            "id": s["id"],
            "name": s["name"],
            "host": None,
            "node": None,
            "az": None,
            "status": s["status"],
            "task_state": None,
            "vm_state": vm_state,
            "power_state": power_state,
            "flavor": embedded_flavor(flavor),
            "flavor_id": flavor["id"],
            "flavor_ref": flavor,
            "project_id": s["project_id"],
            "user_id": s["user_id"],
            "volumes": vols,
            "cpu_util_pct": s["cpu_util_pct"],
            "ram_util_pct": s["ram_util_pct"],
            "image": s["image"],
            "boot_from_volume": s["boot_from_volume"],
            "locked": s["locked"],
            "locked_reason": s["locked_reason"],
            "locked_by": "admin" if s["locked"] else None,
            "metadata": dict(s["metadata"]),
            "tags": list(s["tags"]),
            "created": s["created"],
            "updated": s["created"],
            "launched_at": s["created"].replace("Z", ".000000"),
            "server_groups": [group_by_name[g] for g in s["server_groups"]],
            "key_name": s["key_name"],
            "description": s["description"],
            "instance_name": f"instance-{i + 1:08x}",
            "reservation_id": f"r-{stable_uuid('reservation', s['id'])[:8]}",
            "hostname": re.sub(r"[^a-z0-9-]", "-", s["name"].lower())[:63],
            "addresses": s.get("addresses") or {},
            "ports": list(s["ports"]),
        }
        store.servers[server["id"]] = server
        store.server_by_name.setdefault(server["name"], server["id"])
        store.by_project.setdefault(server["project_id"], set()).add(server["id"])
        if s["host"] is not None:
            store.set_host(server, s["host"])
            placement.put_allocations(
                server["id"],
                {store.nodes[s["host"]]["uuid"]: store.resources_for(server)},
                server["project_id"],
                server["user_id"],
                check=False,
            )
        for gid in server["server_groups"]:
            store.groups[gid]["members"].append(server["id"])
    store.order = sorted(store.servers, key=lambda sid: (store.servers[sid]["created"], sid), reverse=True)
    store.pos = {sid: i for i, sid in enumerate(store.order)}
    store.check_violations()
    return store


def _is_uuid(value: str) -> bool:
    try:
        uuidlib.UUID(value)
    except ValueError:
        return False
    return True


_SNAP_SKIP = {"flavor_ref", "action"}


def snapshot(store: ComputeStore) -> dict[str, Any]:
    return {
        "nodes": copy.deepcopy(store.nodes),
        "servers": {
            sid: {k: v for k, v in s.items() if k not in _SNAP_SKIP} for sid, s in copy.deepcopy(store.servers).items()
        },
        "groups": copy.deepcopy(store.groups),
        "aggregates": copy.deepcopy(list(store.aggregates.values())),
        "migrations": [
            {k: v for k, v in m.items() if k not in ("action", "new_flavor", "started")}
            for m in store.migrations.values()
        ],
        "actions": {sid: [{k: v for k, v in r.items()} for r in recs] for sid, recs in store.actions.items()},
        "next_migration": store._next_migration,
    }


def restore(cloud: Any, store: ComputeStore, data: dict[str, Any]) -> ComputeStore:
    """Restore servers, nodes and records (placement is restored by its own service)."""
    store.nodes = copy.deepcopy(data["nodes"])
    store.node_by_id = {}
    for node in store.nodes.values():
        store.node_by_id[str(node["hypervisor_id"])] = node
        store.node_by_id[node["uuid"]] = node
    store.servers = {}
    store.by_host = {h: set() for h in store.nodes}
    store.by_project = {}
    for sid, s in copy.deepcopy(data["servers"]).items():
        s["flavor_ref"] = store.flavors[s["flavor_id"]]
        store.servers[sid] = s
        if s["host"] is not None:
            store.by_host.setdefault(s["host"], set()).add(sid)
        store.by_project.setdefault(s["project_id"], set()).add(sid)
    store.server_by_name = {}
    for sid, s in store.servers.items():
        store.server_by_name.setdefault(s["name"], sid)
    store.groups = copy.deepcopy(data["groups"])
    store.aggregates = {a["id"]: a for a in copy.deepcopy(data["aggregates"])}
    store.migrations = {}
    for m in copy.deepcopy(data["migrations"]):
        m["started"] = time.monotonic()
        m["new_flavor"] = store.flavors[m["new_flavor_id"]]
        store.migrations[m["id"]] = m
    store.actions = copy.deepcopy(data.get("actions") or {})
    store._next_migration = data.get("next_migration", len(store.migrations) + 1)
    store.order = sorted(store.servers, key=lambda sid: (store.servers[sid]["created"], sid), reverse=True)
    store.pos = {sid: i for i, sid in enumerate(store.order)}
    store._cache.clear()
    return store


SERVICE = Service(
    name="compute",
    prefix="/compute",
    router=_compute_router,
    load=load,
    service_type="compute",
    catalog_path="/v2.1",
    snapshot=snapshot,
    restore=restore,
    public_paths=("/", "/v2.1", r"/v2\.1/[0-9a-f]{32}"),
)
