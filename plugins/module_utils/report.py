# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Plan reports: the figures people review before approving a plan, as Markdown and HTML.

`report_data(model, plan, waves)` computes everything once (per-host utilisation and service
state before and after, the hosts the plan frees and disables, why servers stay, the risks,
migrations by wave); `render` only formats it, through a Jinja2 template. The default
templates ship in the collection (``roles/report/templates/``); the ``plan_report`` action
plugin finds them (or the user's) on the controller and copies them to where the module
runs, which never needs the collection's other files there. HTML is rendered with
autoescape on: every cloud-provided string is escaped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

SHOWN_UNMOVABLE = 50  # keep reports readable on big clouds; the count is always exact
NEAR_FULL_PCT = 90.0
TEMPLATE_NAMES = {"markdown": "plan_report.md.j2", "html": "plan_report.html.j2"}
# where the default templates live, relative to this file, in the collection tree
DEFAULT_TEMPLATE_DIR = os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "roles", "report", "templates"
)


class TemplateError(ValueError):
    """A report template cannot be read or rendered; the message names the template."""


def _table(model, name):
    t = model.get(name) or {}
    cols = t.get("columns") or []
    return [dict(zip(cols, row)) for row in t.get("data") or []]


def _capacity(node, rc):
    total = node.get(rc + "_total") or 0
    reserved = node.get(rc + "_reserved") or 0
    ratio = node.get(rc + "_allocation_ratio") or 1.0
    return max((total - reserved) * ratio, 0)


def _migrations(plan):
    """Migrate actions with a named destination: server uuid -> the action's input."""
    out = {}
    for a in plan.get("actions") or []:
        inp = a.get("input") or {}
        if a.get("type") == "migrate" and inp.get("destination_node"):
            out[a.get("resource")] = inp
    return out


def _service_after(plan):
    """hostname -> the compute service state the plan's last compute_service action leaves."""
    out = {}
    for a in plan.get("actions") or []:
        if a.get("type") == "compute_service":
            inp = a.get("input") or {}
            out[inp.get("host") or a.get("resource")] = inp.get("state")
    return out


def natural_key(name):
    """compute-2 sorts before compute-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name or "")]


def _pct(used, capacity):
    return round(100.0 * used / capacity, 1) if capacity else 0.0


def host_utilisation(model, plan):
    """Rows per host: allocated vCPU and RAM as % of allocatable capacity and the compute
    service state, before and after; `freed` when the plan empties a host that held servers."""
    nodes = _table(model, "nodes")
    moves = _migrations(plan)
    services = _service_after(plan)
    used = dict((n["hostname"], {"before": [0.0, 0.0, 0], "after": [0.0, 0.0, 0]}) for n in nodes)
    for i in _table(model, "instances"):
        after = (moves.get(i.get("uuid")) or {}).get("destination_node", i.get("host"))
        for phase, host in (("before", i.get("host")), ("after", after)):
            if host in used:
                u = used[host][phase]
                u[0] += i.get("vcpus") or 0
                u[1] += i.get("memory_mb") or 0
                u[2] += 1
    rows = []
    for n in nodes:
        cap_cpu, cap_ram = _capacity(n, "vcpu"), _capacity(n, "memory_mb")
        row = {
            "hostname": n["hostname"],
            "status": n.get("status"),
            "state": n.get("state"),
            "status_after": services.get(n["hostname"], n.get("status")),
            "aggregates": sorted("%s" % a for a in n.get("aggregates") or []),
        }
        for phase in ("before", "after"):
            cpu, ram, count = used[n["hostname"]][phase]
            row[phase] = {"vcpu_pct": _pct(cpu, cap_cpu), "ram_pct": _pct(ram, cap_ram), "instances": count}
        row["freed"] = row["before"]["instances"] > 0 and row["after"]["instances"] == 0
        rows.append(row)
    rows.sort(key=lambda r: natural_key(r["hostname"]))
    return rows


def _stay_reason(message, host):
    """A strategy's warning already says where the server stays; the model's reason does not."""
    return message if message.startswith("stays on") else "stays on %s: %s" % (host, message)


def staying_servers(instances, warnings):
    """One line per server that stays where it is and why, from the plan's warnings about
    servers and the servers the model marks unmovable; a server named twice is listed once,
    with the plan's reason (it says why *this* plan leaves it)."""
    out = {}
    for w in warnings:
        uuid = w.get("resource") if isinstance(w, dict) else None
        if uuid in instances and uuid not in out:
            inst = instances[uuid]
            out[uuid] = {"uuid": uuid, "name": inst.get("name"), "host": inst.get("host"),
                         "reason": _stay_reason("%s" % w.get("message", ""), inst.get("host"))}  # fmt: skip
    for uuid, inst in instances.items():
        if inst.get("migratable") == "no" and uuid not in out:
            reason = inst.get("migratable_reason") or "cannot be migrated"
            out[uuid] = {"uuid": uuid, "name": inst.get("name"), "host": inst.get("host"),
                         "reason": _stay_reason(reason, inst.get("host"))}  # fmt: skip
    return sorted(out.values(), key=lambda s: (natural_key(s["host"]), s["name"] or "", s["uuid"]))


def risks(instances, hosts, plan, near_full_pct):
    """What an approver should weigh: cold migrations (the server stops), destinations left at
    or above `near_full_pct` of vCPU or RAM, and moves between hosts in different aggregates."""
    moves = _migrations(plan)
    by_host = dict((h["hostname"], h) for h in hosts)
    cold, crossing = [], []
    for uuid, inp in sorted(moves.items(), key=lambda kv: natural_key(kv[0])):
        inst = instances.get(uuid, {})
        src, dst = inp.get("source_node") or inst.get("host"), inp["destination_node"]
        move = {"uuid": uuid, "name": inst.get("name"), "source": src, "destination": dst}
        if inp.get("migration_type") == "cold":
            cold.append(move)
        src_aggs = (by_host.get(src) or {}).get("aggregates") or []
        dst_aggs = (by_host.get(dst) or {}).get("aggregates") or []
        if src in by_host and dst in by_host and src_aggs != dst_aggs:
            crossing.append(dict(move, source_aggregates=src_aggs, destination_aggregates=dst_aggs))
    receiving = set(inp["destination_node"] for inp in moves.values())
    near_full = [
        h
        for h in hosts
        if h["hostname"] in receiving and max(h["after"]["vcpu_pct"], h["after"]["ram_pct"]) >= near_full_pct
    ]
    return {"cold_migrations": cold, "near_full": near_full, "cross_aggregate": crossing}


def _wave_rows(plan, waves, instances):
    actions = dict((a["id"], a) for a in plan.get("actions") or [])
    rows, memory_moved_mb = [], 0
    for number, ids in enumerate(waves, 1):
        wave = []
        for action_id in ids:
            a = actions[action_id]
            inp = a.get("input") or {}
            inst = instances.get(a.get("resource"), {})
            if a["type"] == "migrate":
                memory_moved_mb += inst.get("memory_mb") or 0
            wave.append({
                "id": action_id, "type": a["type"], "resource": a.get("resource"),
                "name": inst.get("name") or inp.get("hostname") or inp.get("host") or "",
                "detail": _describe(a["type"], inp),
                "memory_mb": inst.get("memory_mb") if a["type"] == "migrate" else None,
            })  # fmt: skip
        rows.append({"wave": number, "actions": wave})
    return rows, memory_moved_mb


def _hosts_by_action(plan, action_type, state):
    """Host names a plan's actions of one type put in `state` (disabled, off...), sorted."""
    names = set()
    for a in plan.get("actions") or []:
        inp = a.get("input") or {}
        if a.get("type") == action_type and inp.get("state") == state:
            names.add(inp.get("host") or inp.get("hostname") or a.get("resource"))
    return sorted(names, key=natural_key)


def report_data(model, plan, waves, near_full_pct=NEAR_FULL_PCT):
    """Everything a report shows. `waves` is a list of lists of action ids (planner.plan_waves)."""
    instances = dict((i["uuid"], i) for i in _table(model, "instances"))
    wave_rows, memory_moved_mb = _wave_rows(plan, waves, instances)
    hosts = host_utilisation(model, plan)
    warnings = list(plan.get("warnings") or [])
    staying = staying_servers(instances, warnings)
    counts = {}
    for a in plan.get("actions") or []:
        counts[a["type"]] = counts.get(a["type"], 0) + 1
    return {
        "plan_id": plan.get("id"),
        "created": plan.get("created"),
        "goal": plan.get("goal"),
        "strategy": plan.get("strategy"),
        "parameters": plan.get("parameters") or {},
        "model_digest": plan.get("model_digest"),
        "efficacy": plan.get("efficacy") or {},
        "action_counts": counts,
        "actions_total": sum(counts.values()),
        "memory_moved_gb": round(memory_moved_mb / 1024.0, 2),
        "waves": wave_rows,
        "hosts": hosts,
        "freed_hosts": [h["hostname"] for h in hosts if h["freed"]],
        "disabled_hosts": _hosts_by_action(plan, "compute_service", "disabled"),
        "enabled_hosts": _hosts_by_action(plan, "compute_service", "enabled"),
        "powered_off_hosts": _hosts_by_action(plan, "node_power", "off"),
        "powered_on_hosts": _hosts_by_action(plan, "node_power", "on"),
        # warnings about a server are told once, in `staying`
        "warnings": [w for w in warnings if not (isinstance(w, dict) and w.get("resource") in instances)],
        "staying": staying,
        "near_full_pct": near_full_pct,
        "risks": risks(instances, hosts, plan, near_full_pct),
        "shown_max": SHOWN_UNMOVABLE,
    }


def _describe(action_type, inp):
    if action_type == "migrate":
        return "%s %s -> %s" % (
            inp.get("migration_type", "live"),
            inp.get("source_node"),
            inp.get("destination_node") or "(scheduler)",
        )
    if action_type == "compute_service":
        reason = inp.get("disabled_reason")
        return "%s %s%s" % (inp.get("host"), inp.get("state"), " (%s)" % reason if reason else "")
    if action_type == "volume_migrate":
        return "%s -> %s" % (inp.get("source_pool"), inp.get("destination_pool") or inp.get("destination_type"))
    if action_type == "node_power":
        return "%s power %s via %s" % (inp.get("hostname"), inp.get("state"), inp.get("backend"))
    if action_type == "resize":
        return "to flavor %s" % inp.get("flavor")
    return ", ".join("%s=%s" % kv for kv in sorted(inp.items()))


def fmt_number(value):
    """2 decimals at most, no trailing zeros: 16.0 -> 16, 12.50 -> 12.5."""
    if isinstance(value, float):
        return ("%.2f" % value).rstrip("0").rstrip(".")
    return "%s" % (value,)


def md_cell(value):
    """A cloud string inside a Markdown table cell: a pipe or a newline would break the row."""
    return ("%s" % (value,)).replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def default_template_path(fmt):
    """The template shipped in the collection for `fmt` (found where the collection is on disk:
    on the controller; the module gets copies from the action plugin)."""
    return os.path.normpath(os.path.join(DEFAULT_TEMPLATE_DIR, TEMPLATE_NAMES[fmt]))


def template_path(fmt, template_dir=None):
    """The template file for `fmt`: `template_dir`'s when it has one, else the collection's."""
    if template_dir:
        path = os.path.join(template_dir, TEMPLATE_NAMES[fmt])
        if os.path.isfile(path):
            return path
    return default_template_path(fmt)


def read_template(path):
    try:
        with open(path) as fh:
            return fh.read()
    except OSError as exc:
        raise TemplateError("cannot read report template %s: %s" % (path, exc)) from exc


def render(data, fmt, source=None, name=None):
    """The report text in `fmt` (``markdown`` or ``html``) from a Jinja2 template source
    (default: the collection's). HTML autoescapes; errors name the template and the line."""
    try:
        import jinja2
        from jinja2.sandbox import SandboxedEnvironment
    except ImportError as exc:
        raise TemplateError("rendering a report needs jinja2 where the module runs: %s" % exc) from exc
    if source is None:
        name = template_path(fmt)
        source = read_template(name)
    env = SandboxedEnvironment(
        autoescape=(fmt == "html"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = fmt_number
    env.filters["md"] = md_cell
    try:
        return env.from_string(source).render(data)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError("report template %s, line %s: %s" % (name or fmt, exc.lineno, exc.message)) from exc
    except jinja2.TemplateError as exc:
        raise TemplateError("report template %s: %s" % (name or fmt, exc)) from exc


def to_markdown(data, source=None, name=None):
    return render(data, "markdown", source, name)


def to_html(data, source=None, name=None):
    return render(data, "html", source, name)


def stale_outputs(outputs):
    """The (path, text) pairs whose file is missing or holds other text: what a run rewrites."""
    stale = []
    for path, text in outputs:
        try:
            with open(path, encoding="utf-8") as fh:
                same = fh.read() == text
        except FileNotFoundError:
            same = False
        if not same:
            stale.append((path, text))
    return stale
