"""Invariants checked after every reliability scenario, from the twin's own state and request log.

    base = capture(twin)                 # before the scenario
    ... run plan_apply, inject faults, kill it, re-run ...
    assert_invariants(twin, base, plan=plan, state_file=path, allow_error={"vm3"})

What is checked (each a list of problems; empty = fine):
- no server lost or deleted; none left in ERROR (unless a fault made it so: ``allow_error``),
  none mid-task (MIGRATING, RESIZE, VERIFY_RESIZE, a task_state) and each in the status it
  started in; no migration record still in flight;
- every server on a host that satisfies it: Placement capacity with allocation ratios (the
  twin's violation counters, and each server's allocations on its own host only, no leftover
  migration consumers), its anti-affinity/affinity group, the availability zone it started in;
- no mutating call of an action repeated: per action, successful mutating requests (Nova
  instance actions for servers; PUT/POST on the resource for services, Ironic, MAAS, Cinder)
  at most what one execution needs, and none for SKIPPED/CANCELLED actions;
- no host powered off (Ironic or MAAS) while it runs servers;
- the state file consistent with the cloud: nothing PENDING/ONGOING after a finished run,
  every SUCCEEDED action's post-condition true in the cloud.
"""

from __future__ import annotations

from ansible_collections.vigil.openstack.plugins.module_utils import state_file as state_file_lib

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
BUSY = ("MIGRATING", "RESIZE", "VERIFY_RESIZE", "REVERT_RESIZE", "BUILD", "REBUILD")
MIGRATION_DONE = ("completed", "confirmed", "reverted", "error", "failed", "cancelled", "done")


class Baseline:
    """What the cloud looked like before the scenario."""

    def __init__(self, twin):
        cloud = twin.cloud
        with cloud.lock:
            compute = cloud.stores["compute"]
            self.servers = {
                sid: {"name": s["name"], "host": s["host"], "status": s["status"], "az": s.get("az")}
                for sid, s in compute.servers.items()
            }
            # per server, how many instance actions of each kind (the 'create' record is made lazily)
            self.nova_actions = {sid: _kinds(compute.actions.get(sid, [])) for sid in compute.servers}
            self.groups_ok = {gid: not _group_problems(compute, g) for gid, g in compute.groups.items()}
        self.log_start = len(cloud.requests.log)


def _kinds(records):
    out = {}
    for r in records:
        out[r["action"]] = out.get(r["action"], 0) + 1
    return out


def nova_actions_since(twin, base, server_id):
    """Instance actions (kind -> count) a server got since the baseline."""
    now = _kinds(twin.cloud.stores["compute"].actions.get(server_id, []))
    before = base.nova_actions.get(server_id, {})
    return {k: n - before.get(k, 0) for k, n in now.items() if k != "create" and n > before.get(k, 0)}


def capture(twin):
    return Baseline(twin)


def _group_problems(compute, group):
    hosts = [compute.servers[m]["host"] for m in group["members"] if m in compute.servers]
    hosts = [h for h in hosts if h]
    if group["policy"] == "anti-affinity":
        limit = (group.get("rules") or {}).get("max_server_per_host", 1)
        crowded = sorted({h for h in hosts if hosts.count(h) > limit})
        return (
            ["anti-affinity group %s has more than %d member(s) on %s" % (group["name"], limit, crowded)]
            if crowded
            else []
        )
    if group["policy"] == "affinity" and len(set(hosts)) > 1:
        return ["affinity group %s spread over %s" % (group["name"], sorted(set(hosts)))]
    return []


def new_requests(twin, base):
    return list(twin.cloud.requests.log[base.log_start :])


def mutating_requests(twin, base, ok_only=True):
    """Mutating requests to cloud services since the baseline (token requests excluded)."""
    return [
        e
        for e in new_requests(twin, base)
        if e["method"] in MUTATING and e["service"] not in ("identity", "admin") and (not ok_only or e["status"] < 400)
    ]


# -- the checks ------------------------------------------------------------------------------------
def server_problems(twin, base, allow_error=()):
    out = []
    with twin.cloud.lock:
        compute = twin.cloud.stores["compute"]
        allowed = {sid for sid, s in base.servers.items() if s["name"] in allow_error or sid in allow_error}
        for sid, before in base.servers.items():
            srv = compute.servers.get(sid)
            name = before["name"]
            if srv is None:
                out.append("server %s was lost (deleted)" % name)
                continue
            if srv["status"] == "ERROR" and sid not in allowed:
                out.append("server %s left in ERROR" % name)
            if srv["status"] in BUSY or srv.get("task_state"):
                out.append("server %s left mid-task: %s/%s" % (name, srv["status"], srv.get("task_state")))
            elif srv["status"] != before["status"] and sid not in allowed:
                out.append("server %s is %s, was %s" % (name, srv["status"], before["status"]))
            if not srv["host"]:
                out.append("server %s has no host" % name)
        for mig in compute.migrations.values():
            if mig["status"] not in MIGRATION_DONE:
                out.append(
                    "migration %s of %s still %s"
                    % (mig["id"], base.servers.get(mig["server_uuid"], {}).get("name"), mig["status"])
                )
    return out


def placement_problems(twin, base, allow_error=()):
    out = []
    allowed = {sid for sid, s in base.servers.items() if s["name"] in allow_error or sid in allow_error}
    violations = twin.violations()
    if violations["count"]:
        out.append("allocation-ratio violations: %s" % violations)
    with twin.cloud.lock:
        compute = twin.cloud.stores["compute"]
        placement = twin.cloud.stores["placement"]
        rp_name = {u: p["name"] for u, p in placement.providers.items()}
        for consumer, record in placement.allocations.items():
            providers = sorted(rp_name.get(u, u) for u in record["allocations"])
            srv = compute.servers.get(consumer)
            if srv is None:
                mig = next((m for m in compute.migrations.values() if m["uuid"] == consumer), None)
                if mig is not None and mig["server_uuid"] in allowed:
                    continue  # Nova leaks the source allocation of a failed confirm: the fault's doing
                if record.get("consumer_type") == "MIGRATION":
                    out.append("leftover migration allocation %s on %s" % (consumer, providers))
                continue
            if srv["host"] and providers != [srv["node"]]:
                out.append("server %s allocated on %s but runs on %s" % (srv["name"], providers, srv["host"]))
        for gid, group in compute.groups.items():
            if base.groups_ok.get(gid, True):
                out += _group_problems(compute, group)
        for sid, before in base.servers.items():
            srv = compute.servers.get(sid)
            if srv is not None and before["az"] and srv.get("az") != before["az"]:
                out.append("server %s moved from AZ %s to %s" % (before["name"], before["az"], srv.get("az")))
    return out


def power_problems(twin):
    """No host powered off (Ironic or MAAS) while it runs servers."""
    out = []
    with twin.cloud.lock:
        by_host = twin.cloud.stores["compute"].by_host
        for node in twin.cloud.stores["baremetal"].nodes.values():
            host = (node.get("extra") or {}).get("compute_hostname")
            if host and node["power_state"] == "power off" and by_host.get(host):
                out.append(
                    "Ironic node %s is off while %s runs %d server(s)" % (node["name"], host, len(by_host[host]))
                )
        for machine in twin.cloud.stores["maas"].machines.values():
            host = (machine.get("owner_data") or {}).get("compute_hostname", machine["hostname"])
            if machine["power_state"] == "off" and by_host.get(host):
                out.append(
                    "MAAS machine %s is off while %s runs %d server(s)"
                    % (machine["hostname"], host, len(by_host[host]))
                )
    return out


def action_calls(twin, base, action):
    """Successful mutating calls an action made since the baseline (count)."""
    inp = action.get("input") or {}
    rid = action["resource"]
    if action["type"] == "migrate":
        kinds = nova_actions_since(twin, base, rid)
        if inp.get("migration_type", "live") == "live":
            return kinds.get("live-migration", 0)
        # cold: the migrate, then one confirm (or one revert): each at most once
        return max(kinds.get(k, 0) for k in ("migrate", "confirmResize", "revertResize"))
    calls = mutating_requests(twin, base)
    if action["type"] == "compute_service":
        node = twin.cloud.stores["compute"].nodes.get(inp.get("host") or rid) or {}
        svc = node.get("service_uuid") or "-"
        return sum(1 for c in calls if "/os-services" in c["path"] and c["path"].endswith(svc))
    if action["type"] == "node_power":
        return sum(1 for c in calls if ("/" + (inp.get("node_id") or rid) + "/") in c["path"] + "/")
    return sum(1 for c in calls if rid in c["path"])


def repeat_problems(twin, base, plan, state, extra_allowed=None):
    """At most one execution's worth of mutating calls per action; none for SKIPPED/CANCELLED."""
    out = []
    extra_allowed = extra_allowed or {}
    for action in plan["actions"]:
        aid = action["id"]
        n = action_calls(twin, base, action)
        final = state.get(aid, {}).get("state") if state else None
        limit = 1 + extra_allowed.get(aid, 0)
        if final in ("SKIPPED", "CANCELLED", "PENDING"):
            limit = extra_allowed.get(aid, 0)
        if n > limit:
            out.append(
                "action %s (%s, %s) made %d mutating call(s), at most %d allowed"
                % (aid, action["type"], final, n, limit)
            )
    return out


def postcondition_problems(twin, action):
    """Why the SUCCEEDED action's post-condition does not hold in the cloud now (or None)."""
    inp = action.get("input") or {}
    post = action.get("postcondition") or {}
    rid = action["resource"]
    with twin.cloud.lock:
        stores = twin.cloud.stores
        if action["type"] == "migrate":
            srv = stores["compute"].servers.get(rid)
            want_host = inp.get("destination_node") or post.get("host")
            if srv is None:
                return "server gone"
            if want_host and srv["host"] != want_host:
                return "server on %s, not %s" % (srv["host"], want_host)
            if not want_host and srv["host"] == inp.get("source_node"):
                return "server still on its source %s" % srv["host"]
            if post.get("status") and srv["status"] != post["status"]:
                return "server %s, expected %s" % (srv["status"], post["status"])
        elif action["type"] == "compute_service":
            node = stores["compute"].nodes.get(inp.get("host") or rid)
            if node is None or node["status"] != inp.get("state", post.get("status")):
                return "service is %s" % (node or {}).get("status")
        elif action["type"] == "node_power":
            want = "off" if inp.get("state") == "off" else "on"
            if inp.get("backend") == "maas":
                machine = stores["maas"].machines.get(inp["node_id"])
                got = machine and machine["power_state"]
            else:
                node = stores["baremetal"].nodes.get(inp["node_id"])
                got = node and node["power_state"].replace("power ", "")
            if got != want:
                return "power state %s, expected %s" % (got, want)
        elif action["type"] == "volume_migrate":
            vol = stores["volume"].volumes.get(rid)
            want = inp.get("destination_pool") or post.get("host")
            if vol is None:
                return "volume gone"
            if want and vol["pool"] != want:
                return "volume on %s, not %s" % (vol["pool"], want)
            if inp.get("destination_type") and vol["volume_type"] != inp["destination_type"]:
                return "volume type %s, not %s" % (vol["volume_type"], inp["destination_type"])
    return None


def state_file_problems(twin, plan, state, finished=True):
    out = []
    if state is None:
        return ["no state file"]
    if state.get("plan_id") != plan["id"]:
        out.append("state file belongs to plan %s" % state.get("plan_id"))
    for action in plan["actions"]:
        entry = state.get("actions", {}).get(action["id"])
        if entry is None:
            out.append("action %s missing from the state file" % action["id"])
            continue
        if finished and entry["state"] in ("PENDING", "ONGOING"):
            out.append("action %s still %s after the run" % (action["id"], entry["state"]))
        if entry["state"] == "SUCCEEDED":
            problem = postcondition_problems(twin, action)
            if problem:
                out.append("action %s SUCCEEDED but %s" % (action["id"], problem))
    return out


def read_state(state_file):
    """The state as a re-run would see it: the snapshot plus its journal (mid-run too)."""
    if state_file is None:
        return None
    return state_file_lib.read_state(state_file) or None


def problems(twin, base, plan=None, state_file=None, allow_error=(), extra_allowed=None, finished=True):
    out = server_problems(twin, base, allow_error) + placement_problems(twin, base, allow_error) + power_problems(twin)
    if plan is not None:
        state = read_state(state_file)
        out += repeat_problems(twin, base, plan, (state or {}).get("actions"), extra_allowed)
        if state_file is not None:
            out += state_file_problems(twin, plan, state, finished)
    return out


def assert_invariants(twin, base, **kw):
    found = problems(twin, base, **kw)
    assert not found, "invariants broken:\n- " + "\n- ".join(found)


def assert_unchanged(twin, base):
    """Bad input: nothing mutating was even sent, and the cloud is as it was."""
    calls = mutating_requests(twin, base, ok_only=False)
    assert not calls, "mutating requests were sent: %s" % calls[:5]
    with twin.cloud.lock:
        servers = twin.cloud.stores["compute"].servers
        now = {sid: (s["host"], s["status"]) for sid, s in servers.items()}
    assert now == {sid: (s["host"], s["status"]) for sid, s in base.servers.items()}
    assert_invariants(twin, base)
