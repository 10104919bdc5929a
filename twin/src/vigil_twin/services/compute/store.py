"""Nova's state (`ComputeStore`) and what changes it: scheduling, moves, power, service status."""

from __future__ import annotations

import re
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any

from vigil_twin.services import host_fit, migration_pace
from vigil_twin.services.compute.api import fault, now_iso, now_iso_us, request_id
from vigil_twin.services.placement import PlacementError
from vigil_twin.topology import SERVER_STATES, flavor_resources, stable_uuid


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
        self.keypairs: dict[tuple[str, str], dict[str, Any]] = {}  # (user id, name) -> keypair
        self.next_instance = 1  # instance-%08x names of servers booted through the API follow the topology's
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

    def add_server(self, server: dict[str, Any], newest: bool = False) -> None:
        """Index a server (name, project, host, groups); `newest`: first in Nova's default order."""
        self.servers[server["id"]] = server
        self.server_by_name.setdefault(server["name"], server["id"])
        self.by_project.setdefault(server["project_id"], set()).add(server["id"])
        if server["host"] is not None:
            self.by_host.setdefault(server["host"], set()).add(server["id"])
        for gid in server["server_groups"]:
            self.groups[gid]["members"].append(server["id"])
        if newest:
            self.order.insert(0, server["id"])
            self.pos = {sid: i for i, sid in enumerate(self.order)}

    def remove_server(self, server: dict[str, Any]) -> None:
        sid = server["id"]
        self.set_host(server, None)
        del self.servers[sid]
        if self.server_by_name.get(server["name"]) == sid:
            del self.server_by_name[server["name"]]
            other = next((k for k, s in self.servers.items() if s["name"] == server["name"]), None)
            if other:
                self.server_by_name[server["name"]] = other
        self.by_project.get(server["project_id"], set()).discard(sid)
        for gid in server["server_groups"]:
            members = self.groups[gid]["members"]
            if sid in members:
                members.remove(sid)
        self.actions.pop(sid, None)
        for cache in self._cache.values():
            cache.pop(sid, None)
        self.order.remove(sid)
        self.pos = {k: i for i, k in enumerate(self.order)}

    def key_names(self) -> set[str]:
        return {name for _, name in self.keypairs}

    def addresses(self, server: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """From the Neutron ports bound to the server, as Nova's network info cache has them."""
        network = self.cloud.stores.get("network")
        return network.addresses(server["id"]) if network is not None else server["addresses"]

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
        # servers booted through the API start with an empty list and record their own create
        if recs is None or (recs and recs[0]["action"] != "create"):
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
            "request_id": request_id(),
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
        """Hosts a server could move to: its own AZ, not its own host, offering what it needs."""
        need = host_fit.needs(self.cloud, server)
        found = self.hosts_for(server, resources, self.nodes[server["host"]]["az"], server["host"])
        return [host for host in found if not host_fit.unmet(self.cloud, need, host)]

    def hosts_for(
        self, server: dict[str, Any], resources: dict[str, int], az: str | None, exclude: str | None = None
    ) -> list[str]:
        """Enabled, up hosts (in `az` when given) that keep the server's group policy and fit
        `resources` in Placement, best first."""
        out = []
        for host, node in self.nodes.items():
            if host == exclude or node["status"] != "enabled" or self.node_state(node) != "up":
                continue
            if (az is not None and node["az"] != az) or not self._group_ok(server, host):
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
        unmet = host_fit.unmet(self.cloud, host_fit.needs(self.cloud, server), host)
        if unmet:  # checked even for a forced move: stricter than Nova for traits (docs/twin-fidelity.md)
            raise fault(400, f"No valid host was found. {unmet}")
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

    # -- boot and delete -------------------------------------------------------------
    def boot(self, server: dict[str, Any], az: str | None, networks: list[str | None]) -> None:
        """Schedule a new server as Nova's scheduler does (enabled, up hosts in its AZ that keep its
        group's policy and fit in Placement; most free RAM first), claim its allocation, bind a port
        per network and let it spawn. No host: the server goes to ERROR with Nova's fault."""
        self.add_server(server, newest=True)
        self.actions[server["id"]] = []
        owner = {"user_id": server["user_id"], "project_id": server["project_id"]}
        rec = self.record_action(server, "create", owner, "compute__do_build_and_run_instance", None)
        resources = self.resources_for(server)
        hosts = self.hosts_for(server, resources, az)
        if not hosts:
            self._fail_build(server, rec, "No valid host was found. There are not enough hosts available.")
            return
        node = self.nodes[hosts[0]]
        self.placement.put_allocations(server["id"], {node["uuid"]: resources}, server["project_id"], server["user_id"])
        self.set_host(server, hosts[0])
        network = self.cloud.stores.get("network")
        if network is not None:
            for net_id in networks:
                network.bind_new_port(server, net_id)
        self.touch(server["id"])
        sid = server["id"]

        def spawned() -> None:
            current = self.servers.get(sid)
            if current is None or current["status"] != "BUILD":
                return  # deleted meanwhile
            current["launched_at"] = now_iso_us()
            self._end_move(current, "ACTIVE")
            self.finish_action(rec, True)

        self._later(self.timing["boot_seconds"], spawned)

    def _fail_build(self, server: dict[str, Any], rec: dict[str, Any], message: str) -> None:
        server["status"] = "ERROR"
        server["vm_state"], server["power_state"] = SERVER_STATES["ERROR"]
        server["task_state"] = None
        server["fault"] = {"code": 500, "created": now_iso(), "message": message}
        self.finish_action(rec, False, message)
        self.touch(server["id"])

    def delete(self, server: dict[str, Any]) -> None:
        """Nova's delete: allocations freed (the server's and a finished resize's), ports it
        created deleted and others unbound, volumes detached, the server gone from every list."""
        for mig in self.migrations.values():
            if mig["server_uuid"] == server["id"] and mig["status"] == "finished":
                self.placement.delete_allocations(mig["uuid"])
                self._update_mig(mig, "confirmed")
        self.placement.delete_allocations(server["id"])
        network = self.cloud.stores.get("network")
        if network is not None:
            network.release_ports(server["id"])
        volume = self.cloud.stores.get("volume")
        if volume is not None:
            volume.detach_server(server["id"])
        self.remove_server(server)

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


def server_record(
    s: dict[str, Any], flavor: dict[str, Any], group_ids: list[str], volumes: list[str], index: int
) -> dict[str, Any]:
    """A server's dict in the store from its topology entry (`s`, validated), for load and boot alike."""
    vm_state, power_state = SERVER_STATES[s["status"]] if s["status"] in SERVER_STATES else ("building", 0)
    return {
        "id": s["id"],
        "name": s["name"],
        "host": None,
        "node": None,
        "az": None,
        "status": s["status"],
        "task_state": None if s["status"] in SERVER_STATES else "spawning",
        "vm_state": vm_state,
        "power_state": power_state,
        "flavor": embedded_flavor(flavor),
        "flavor_id": flavor["id"],
        "flavor_ref": flavor,
        "project_id": s["project_id"],
        "user_id": s["user_id"],
        "volumes": list(volumes),
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
        "server_groups": list(group_ids),
        "key_name": s["key_name"],
        "description": s["description"],
        "instance_name": f"instance-{index:08x}",
        "reservation_id": f"r-{stable_uuid('reservation', s['id'])[:8]}",
        "hostname": re.sub(r"[^a-z0-9-]", "-", s["name"].lower())[:63],
        "addresses": s.get("addresses") or {},
        "ports": list(s["ports"]),
        "security_groups": list(s.get("security_groups") or ["default"]),
    }
