# -*- coding: utf-8 -*-
"""The plan referee: replays a plan row by row in plain Python, sharing no code with the strategies.

``check(model, plan)`` walks the plan's actions in list order over a copy of the model held in
dicts and lists, and reports every rule a step breaks (docs/strategies/benchmarks.md lists
them). ``lower_bound(model)`` is the bound on hosts in use that the benchmarks quote. Nothing
here imports plugins/module_utils/strategies (a test checks it): a wrong rule there is not
repeated here.

Rules, for each migrate action (in plan order):
  parents   every parent is an earlier action of the plan
  server    the server exists; it is on ``source_node`` at that point of the replay
  state     live: ACTIVE, not locked, no task, not pinned/PCI/vGPU, migratable 'live', live
            not disabled by the plan; cold: migratable 'live' or 'cold', not locked, no task,
            cold not disabled, and SHUTOFF, or ACTIVE when ACTIVE servers may go cold
            (allow_cold_active or disable_live_migration) and it cannot go live
  target    the destination exists, differs from the source, is enabled (after the plan's
            earlier compute_service actions), up, not forced down, powered on (after earlier
            node_power actions), its network agent up; the plan never disables it
  zone      same AZ unless allow_cross_az; same aggregate set with aggregate_policy 'same'
            (the 'metadata' policy, Nova's aggregate filters, is not refereed here)
  traits    the destination has every trait the server requires
  capacity  after the move, per resource class: used <= (total - reserved) * allocation_ratio
  groups    anti-affinity: at most max_server_per_host members on the destination; affinity:
            every other member is on the destination; soft-* count as hard unless
            soft_policies is 'ignore'
and for node_power off: the host holds no server at that point. Moves with no destination
(the Nova scheduler picks) are checked for server, state and source only, and counted.
"""

import math

RCS = ("vcpu", "memory_mb", "disk_gb", "pcpu")
EPS = 1e-6


def _rows(table):
    """A table (DataFrame or {columns, data}) as a list of dicts; [] when absent."""
    if table is None:
        return []
    if isinstance(table, dict):
        return [dict(zip(table["columns"], row)) for row in table.get("data") or []]
    return table.to_dict("records")


def _missing(v):
    return v is None or (isinstance(v, float) and math.isnan(v))


def _text(v):
    return "" if _missing(v) else str(v)


def _num(v):
    return 0.0 if _missing(v) else float(v)


def _list(v):
    if _missing(v) or isinstance(v, str):
        return [v] if isinstance(v, str) and v else []
    return list(v)


class Cloud:
    """The model as plain dicts: hosts, servers (with where they are), server groups."""

    def __init__(self, model):
        self.hosts = {}
        for r in _rows(model.get("nodes")):
            cap, used = [], []
            for rc in RCS:
                total, reserved = _num(r.get(rc + "_total")), _num(r.get(rc + "_reserved"))
                ratio = r.get(rc + "_allocation_ratio")
                cap.append((total - reserved) * (1.0 if _missing(ratio) else float(ratio)))
                used.append(_num(r.get(rc + "_used")))
            agent = r.get("network_agent_up")
            self.hosts[_text(r["hostname"])] = {
                "az": _text(r.get("az")),
                "aggregates": sorted(str(a) for a in _list(r.get("aggregates"))),
                "traits": set(_list(r.get("traits"))),
                "enabled": _text(r.get("status")) == "enabled",
                "up": _text(r.get("state")) == "up"
                and not bool(r.get("forced_down"))
                and (_missing(agent) or bool(agent)),
                "powered": _text(r.get("power_state")) != "off",
                "cap": cap,
                "used": used,
                "has_pcpu": _num(r.get("pcpu_total")) > 0,
            }
        self.servers = {}
        for r in _rows(model.get("instances")):
            status = _text(r.get("status")).upper()
            self.servers[_text(r["uuid"])] = {
                "host": _text(r.get("host")) or None,
                "status": status,
                "locked": bool(r.get("locked")),
                "task": _text(r.get("task_state")) not in ("", "None", "none"),
                "special": any(bool(r.get(k)) for k in ("pinned", "pci", "vgpu")),
                "pinned": bool(r.get("pinned")),
                "migratable": _text(r.get("migratable")) or "live",
                "vcpus": _num(r.get("vcpus")),
                "memory_mb": _num(r.get("memory_mb")),
                "disk_gb": (0.0 if r.get("boot_from_volume") is True else _num(r.get("disk_gb")))
                + _num(r.get("ephemeral_gb"))
                + math.ceil(_num(r.get("swap_mb")) / 1024.0),
                "traits": set(_list(r.get("required_traits"))),
                "groups": [str(g) for g in _list(r.get("server_groups"))],
            }
        self.groups = {}
        for r in _rows(model.get("server_groups")):
            gid = _text(r["id"])
            mx = r.get("max_server_per_host")
            self.groups[gid] = {
                "policy": _text(r.get("policy")),
                "max": int(mx) if not _missing(mx) and int(mx) > 0 else 1,
                "members": set(str(m) for m in _list(r.get("members"))),
            }
        for uuid, s in self.servers.items():  # membership from either side
            for g in s["groups"]:
                if g in self.groups:
                    self.groups[g]["members"].add(uuid)
        for gid, g in self.groups.items():
            for m in g["members"]:
                if m in self.servers and gid not in self.servers[m]["groups"]:
                    self.servers[m]["groups"].append(gid)

    def demand(self, uuid, host):
        """What the server allocates on ``host``: pinned CPUs count as PCPU where the host has some."""
        s = self.servers[uuid]
        pcpu = s["pinned"] and self.hosts[host]["has_pcpu"]
        return [0.0 if pcpu else s["vcpus"], s["memory_mb"], s["disk_gb"], s["vcpus"] if pcpu else 0.0]

    def hosts_in_use(self):
        return len({s["host"] for s in self.servers.values() if s["host"] in self.hosts})


class Options:
    """The plan parameters the rules read (names as docs/strategies/README.md)."""

    def __init__(self, params=None):
        p = params or {}
        self.cross_az = bool(p.get("allow_cross_az", False))
        self.aggregate_policy = p.get("aggregate_policy", "same")
        self.soft = p.get("soft_policies", "hard") != "ignore"
        self.live = not p.get("disable_live_migration", False)
        self.cold = not p.get("disable_cold_migration", False)
        # host_maintenance's disable_live_migration sends ACTIVE servers cold
        self.cold_active = bool(p.get("allow_cold_active", False)) or not self.live


def can_live(s, opts):
    return (
        opts.live
        and s["status"] == "ACTIVE"
        and not (s["locked"] or s["task"] or s["special"])
        and s["migratable"] == "live"
    )


def can_cold(s, opts):
    if not opts.cold or s["locked"] or s["task"] or s["migratable"] not in ("live", "cold"):
        return False
    if s["status"] == "SHUTOFF":
        return True
    return s["status"] == "ACTIVE" and opts.cold_active and not can_live(s, opts)


def movable(s, opts):
    return can_live(s, opts) or can_cold(s, opts)


class Verdict:
    """What the replay found: violations, and the figures measured on the final placement."""

    def __init__(self):
        self.violations = []
        self.migrations = 0
        self.unplaced = 0  # moves left to the scheduler: not refereed beyond state and source
        self.memory_moved_gb = 0.0
        self.hosts_in_use_before = 0
        self.hosts_in_use_after = 0
        self.placement = {}


def check(model, plan):
    """Replay ``plan`` over ``model``; a Verdict (violations == [] when every rule holds)."""
    cloud, opts, v = Cloud(model), Options(plan.get("parameters")), Verdict()
    v.hosts_in_use_before = cloud.hosts_in_use()
    actions = plan.get("actions") or []
    seen = set()
    disabled_later = {}  # host -> index of the last compute_service disable
    for n, a in enumerate(actions):
        if a.get("type") == "compute_service" and (a.get("input") or {}).get("state") == "disabled":
            disabled_later[(a.get("input") or {}).get("host") or a.get("resource")] = n
    for n, a in enumerate(actions):
        aid = a.get("id", "#%d" % n)
        for p in a.get("parents") or []:
            if p not in seen:
                v.violations.append("%s: parent %s is not an earlier action" % (aid, p))
        seen.add(aid)
        kind, inp = a.get("type"), a.get("input") or {}
        if kind == "compute_service":
            h = inp.get("host") or a.get("resource")
            if h in cloud.hosts:
                cloud.hosts[h]["enabled"] = inp.get("state") == "enabled"
        elif kind == "node_power":
            h = inp.get("hostname")
            if h in cloud.hosts:
                if inp.get("state") == "off":
                    held = sorted(u for u, s in cloud.servers.items() if s["host"] == h)
                    if held:
                        v.violations.append("%s: powers off %s, which holds %s" % (aid, h, ", ".join(held[:3])))
                    cloud.hosts[h]["powered"] = False
                elif inp.get("state") == "on":
                    cloud.hosts[h]["powered"] = True
        elif kind == "migrate":
            _migrate(cloud, opts, v, aid, n, a, disabled_later)
    v.hosts_in_use_after = cloud.hosts_in_use()
    v.placement = {u: s["host"] for u, s in cloud.servers.items()}
    return v


def violations(model, plan):
    return check(model, plan).violations


def _migrate(cloud, opts, v, aid, n, a, disabled_later):
    inp = a.get("input") or {}
    uuid, src, dst = a.get("resource"), inp.get("source_node"), inp.get("destination_node")
    bad = v.violations
    s = cloud.servers.get(uuid)
    if s is None:
        bad.append("%s: unknown server %s" % (aid, uuid))
        return
    v.migrations += 1
    v.memory_moved_gb += s["memory_mb"] / 1024.0
    if s["host"] != src:
        bad.append("%s: %s is on %s, not on the source %s" % (aid, uuid, s["host"], src))
    mtype = inp.get("migration_type")
    if mtype == "live" and not can_live(s, opts):
        bad.append("%s: live migration of %s (%s, %s)" % (aid, uuid, s["status"], _why_not(s)))
    elif mtype == "cold" and not can_cold(s, opts):
        bad.append("%s: cold migration of %s (%s, %s)" % (aid, uuid, s["status"], _why_not(s)))
    elif mtype not in ("live", "cold"):
        bad.append("%s: migration type %r" % (aid, mtype))
    if dst is None:
        v.unplaced += 1
        s["host"] = None
        return
    h = cloud.hosts.get(dst)
    if h is None:
        bad.append("%s: unknown destination %s" % (aid, dst))
        return
    here = s["host"] if s["host"] in cloud.hosts else None
    if dst == here:
        bad.append("%s: %s is already on %s" % (aid, uuid, dst))
    if not h["enabled"]:
        bad.append("%s: destination %s is disabled" % (aid, dst))
    if not (h["up"] and h["powered"]):
        bad.append("%s: destination %s is down or powered off" % (aid, dst))
    if disabled_later.get(dst, -1) > n:
        bad.append("%s: the plan disables %s, which receives %s" % (aid, dst, uuid))
    if here is not None:
        o = cloud.hosts[here]
        if not opts.cross_az and o["az"] != h["az"]:
            bad.append("%s: %s leaves AZ %s for %s" % (aid, uuid, o["az"], h["az"]))
        if opts.aggregate_policy == "same" and o["aggregates"] != h["aggregates"]:
            bad.append("%s: %s changes aggregates %s -> %s" % (aid, uuid, o["aggregates"], h["aggregates"]))
    if not s["traits"] <= h["traits"]:
        bad.append("%s: %s lacks traits %s" % (aid, dst, sorted(s["traits"] - h["traits"])))
    need = cloud.demand(uuid, dst)
    for r, rc in enumerate(RCS):
        if need[r] and h["used"][r] + need[r] > h["cap"][r] + EPS:
            bad.append(
                "%s: %s over %s capacity (%g + %g > %g)" % (aid, dst, rc.upper(), h["used"][r], need[r], h["cap"][r])
            )
    for gid in s["groups"]:
        g = cloud.groups.get(gid)
        if g is None or (g["policy"].startswith("soft-") and not opts.soft):
            continue
        others = [cloud.servers[m]["host"] for m in g["members"] if m != uuid and m in cloud.servers]
        if "anti-affinity" in g["policy"]:
            if others.count(dst) + 1 > g["max"]:
                bad.append("%s: anti-affinity group %s would have %d on %s" % (aid, gid, others.count(dst) + 1, dst))
        elif any(o is not None and o != dst for o in others):
            bad.append("%s: affinity group %s has members off %s" % (aid, gid, dst))
    # apply the move, whatever was found, so later steps see the plan's own state
    if here is not None:
        freed = cloud.demand(uuid, here)
        cloud.hosts[here]["used"] = [u - f for u, f in zip(cloud.hosts[here]["used"], freed)]
    h["used"] = [u + d for u, d in zip(h["used"], need)]
    s["host"] = dst


def _why_not(s):
    if s["locked"]:
        return "locked"
    if s["task"]:
        return "task in flight"
    if s["special"]:
        return "pinned/PCI/vGPU"
    return "migratable %s" % s["migratable"]


def model_violations(model):
    """Rules broken before any plan: hosts over capacity, server groups not holding."""
    cloud, bad = Cloud(model), []
    for name, h in cloud.hosts.items():
        for r, rc in enumerate(RCS):
            if h["used"][r] > h["cap"][r] + EPS:
                bad.append("%s over %s capacity" % (name, rc.upper()))
    for gid, g in cloud.groups.items():
        where = [cloud.servers[m]["host"] for m in g["members"] if m in cloud.servers]
        if "anti-affinity" in g["policy"] and any(where.count(h) > g["max"] for h in set(where)):
            bad.append("anti-affinity group %s broken" % gid)
        if g["policy"].endswith("affinity") and "anti" not in g["policy"] and len(set(where)) > 1:
            bad.append("affinity group %s spread" % gid)
    return bad


def lower_bound(model, params=None):
    """Fewest hosts in use any valid plan can reach (docs/strategies/benchmarks.md).

    Per zone (an AZ; the whole cloud with allow_cross_az) and per resource class r:
    forced F = hosts holding a server that cannot move; capacity c_r(h) = (total - reserved)
    * ratio for a host that can receive, its current usage for one that cannot (disabled,
    down, powered off: it can only shrink); demand D_r = the zone's usage. Then
    L_zone,r = |F| + the fewest other hosts, largest c_r first, covering D_r - sum_F c_r;
    L_zone = max_r L_zone,r; L = sum over zones. Returns {"bound": L, "zones": {...}}.
    """
    cloud, opts = Cloud(model), Options(params)
    forced = {s["host"] for s in cloud.servers.values() if s["host"] in cloud.hosts and not movable(s, opts)}
    zones = {}
    for name, h in cloud.hosts.items():
        zones.setdefault("" if opts.cross_az else h["az"], []).append(name)
    out = {"bound": 0, "zones": {}}
    for z, names in sorted(zones.items()):
        f = [n for n in names if n in forced]
        best, per_rc = len(f), {}
        for r, rc in enumerate(RCS):
            usable = {
                n: (h["cap"][r] if h["enabled"] and h["up"] and h["powered"] else h["used"][r])
                for n, h in ((n, cloud.hosts[n]) for n in names)
            }
            need = sum(cloud.hosts[n]["used"][r] for n in names) - sum(usable[n] for n in f)
            extra = 0
            for c in sorted((usable[n] for n in names if n not in forced), reverse=True):
                if need <= EPS:
                    break
                need -= c
                extra += 1
            per_rc[rc] = len(f) + extra
            best = max(best, per_rc[rc])
        out["zones"][z] = {"bound": best, "forced": len(f), "hosts": len(names), "per_resource": per_rc}
        out["bound"] += best
    return out


def migration_lower_bound(model, hosts_kept, params=None):
    """Fewest migrations any valid plan needs to end with at most ``hosts_kept`` hosts in use.

    Whatever the algorithm, a host that holds servers now and none at the end had each of its
    servers migrated, and a host holding a server that cannot move stays in use. Per zone (as
    `lower_bound`), let n be the hosts in use now and L_zone the bound: ending with k hosts in
    use empties at least n - k of them, none of them forced, so it costs at least the servers
    on the n - k movable-only hosts holding the fewest, and k < L_zone is impossible.
    ``hosts_kept``: {zone: k}, or a total, then split over the zones as cheaply as possible
    (the cheapest hosts over all zones, at most n - L_zone of them per zone: each zone's
    choice is then its cheapest hosts, so the sum is the least over every split).
    Returns {"bound": migrations, "zones": {zone: {"hosts_in_use", "emptied", "migrations"}}},
    or None when no valid plan keeps that few hosts.
    """
    cloud, opts = Cloud(model), Options(params)
    bounds = lower_bound(model, params)["zones"]
    per_host, pinned, zone_of = {}, set(), {}
    for s in cloud.servers.values():
        if s["host"] in cloud.hosts:
            per_host[s["host"]] = per_host.get(s["host"], 0) + 1
            if not movable(s, opts):
                pinned.add(s["host"])
    for name, h in cloud.hosts.items():
        zone_of[name] = "" if opts.cross_az else h["az"]
    costs = {}  # zone -> servers on each host that may be emptied, fewest first, at most n - L
    in_use = {}
    for name, count in per_host.items():
        z = zone_of[name]
        in_use[z] = in_use.get(z, 0) + 1
        if name not in pinned:
            costs.setdefault(z, []).append(count)
    for z in in_use:
        room = max(0, in_use[z] - bounds[z]["bound"])
        costs[z] = sorted(costs.get(z, []))[:room]
    if isinstance(hosts_kept, dict):
        empty = {z: max(0, n - int(hosts_kept.get(z, n))) for z, n in in_use.items()}
        if any(empty[z] > len(costs[z]) for z in in_use):
            return None
    else:
        total = max(0, sum(in_use.values()) - int(hosts_kept))
        pool = sorted((c, z) for z in in_use for c in costs[z])
        if total > len(pool):
            return None
        empty = dict.fromkeys(in_use, 0)
        for _count, z in pool[:total]:
            empty[z] += 1
    out = {"bound": 0, "zones": {}}
    for z in sorted(in_use):
        cost = sum(costs[z][: empty[z]])
        out["zones"][z] = {"hosts_in_use": in_use[z], "emptied": empty[z], "migrations": cost}
        out["bound"] += cost
    return out
