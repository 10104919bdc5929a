# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Plan reports: the figures people review before approving a plan, as Markdown and HTML.

`report_data(model, plan, waves)` computes everything once (per-host utilisation before and
after, migrations by wave, memory moved, warnings); `to_markdown` and `to_html` only format
it. The HTML page is standalone: inline CSS and SVG, no scripts, no external assets, every
cloud-provided string escaped.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import html
import re

SHOWN_UNMOVABLE = 50  # keep reports readable on big clouds; the count is always exact


def _table(model, name):
    t = model.get(name) or {}
    cols = t.get("columns") or []
    return [dict(zip(cols, row)) for row in t.get("data") or []]


def _capacity(node, rc):
    total = node.get(rc + "_total") or 0
    reserved = node.get(rc + "_reserved") or 0
    ratio = node.get(rc + "_allocation_ratio") or 1.0
    return max((total - reserved) * ratio, 0)


def _moves(plan):
    """server uuid -> destination hostname, for migrate actions with a named destination."""
    out = {}
    for a in plan.get("actions") or []:
        if a.get("type") == "migrate":
            dest = (a.get("input") or {}).get("destination_node")
            if dest:
                out[a.get("resource")] = dest
    return out


def natural_key(name):
    """compute-2 sorts before compute-10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name or "")]


def host_utilisation(model, plan):
    """Rows per host: allocated vCPU and RAM as % of allocatable capacity, before and after."""
    nodes = _table(model, "nodes")
    instances = _table(model, "instances")
    moves = _moves(plan)
    used = {}
    for n in nodes:
        used[n["hostname"]] = {"before": [0.0, 0.0, 0], "after": [0.0, 0.0, 0]}
    for i in instances:
        for phase, host in (("before", i.get("host")), ("after", moves.get(i.get("uuid"), i.get("host")))):
            if host in used:
                u = used[host][phase]
                u[0] += i.get("vcpus") or 0
                u[1] += i.get("memory_mb") or 0
                u[2] += 1
    rows = []
    for n in nodes:
        cap_cpu, cap_ram = _capacity(n, "vcpu"), _capacity(n, "memory_mb")
        row = {"hostname": n["hostname"], "status": n.get("status"), "state": n.get("state")}
        for phase in ("before", "after"):
            cpu, ram, count = used[n["hostname"]][phase]
            row[phase] = {
                "vcpu_pct": round(100.0 * cpu / cap_cpu, 1) if cap_cpu else 0.0,
                "ram_pct": round(100.0 * ram / cap_ram, 1) if cap_ram else 0.0,
                "instances": count,
            }
        rows.append(row)
    rows.sort(key=lambda r: natural_key(r["hostname"]))
    return rows


def report_data(model, plan, waves):
    """Everything a report shows. `waves` is a list of lists of action ids (planner.plan_waves)."""
    actions = dict((a["id"], a) for a in plan.get("actions") or [])
    instances = dict((i["uuid"], i) for i in _table(model, "instances"))
    wave_rows = []
    memory_moved_mb = 0
    for number, ids in enumerate(waves, 1):
        rows = []
        for action_id in ids:
            a = actions[action_id]
            inp = a.get("input") or {}
            inst = instances.get(a.get("resource"), {})
            if a["type"] == "migrate":
                memory_moved_mb += inst.get("memory_mb") or 0
            rows.append(
                {
                    "id": action_id,
                    "type": a["type"],
                    "resource": a.get("resource"),
                    "name": inst.get("name") or inp.get("hostname") or inp.get("host") or "",
                    "detail": _describe(a["type"], inp),
                    "memory_mb": inst.get("memory_mb") if a["type"] == "migrate" else None,
                }
            )
        wave_rows.append({"wave": number, "actions": rows})
    unmovable = [
        {"uuid": i["uuid"], "name": i.get("name"), "host": i.get("host"), "reason": i.get("migratable_reason") or ""}
        for i in instances.values()
        if i.get("migratable") == "no"
    ]
    counts = {}
    for a in actions.values():
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
        "actions_total": len(actions),
        "memory_moved_gb": round(memory_moved_mb / 1024.0, 2),
        "waves": wave_rows,
        "hosts": host_utilisation(model, plan),
        "warnings": list(plan.get("warnings") or []),
        "unmovable": sorted(unmovable, key=lambda u: (u["host"] or "", u["name"] or "")),
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


def _fmt(value):
    if isinstance(value, float):
        return ("%.2f" % value).rstrip("0").rstrip(".")
    return "%s" % (value,)


def to_markdown(data):
    out = [
        "# vigil plan report",
        "",
        "- plan: `%s` (%s)" % (data["plan_id"], data["created"]),
        "- goal / strategy: **%s** / **%s**" % (data["goal"], data["strategy"]),
        "- model: `%s`" % data["model_digest"],
        "- actions: %d (%s); memory moved: %s GB"
        % (
            data["actions_total"],
            ", ".join("%s %d" % kv for kv in sorted(data["action_counts"].items())) or "none",
            _fmt(data["memory_moved_gb"]),
        ),
        "",
        "## Efficacy",
        "",
        "| indicator | value |",
        "|---|---|",
    ]
    out += ["| %s | %s |" % (k, _fmt(v)) for k, v in sorted(data["efficacy"].items())]
    out += [
        "",
        "## Hosts before / after",
        "",
        "| host | status | vCPU % before | vCPU % after | RAM % before | RAM % after | servers before | servers after |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for h in data["hosts"]:
        b, a = h["before"], h["after"]
        out.append(
            "| %s | %s/%s | %s | %s | %s | %s | %d | %d |"
            % (
                h["hostname"],
                h["status"],
                h["state"],
                _fmt(b["vcpu_pct"]),
                _fmt(a["vcpu_pct"]),
                _fmt(b["ram_pct"]),
                _fmt(a["ram_pct"]),
                b["instances"],
                a["instances"],
            )
        )
    out += ["", "## Actions by wave", ""]
    if not data["waves"]:
        out.append("The plan has no actions: nothing to do.")
    for w in data["waves"]:
        out += ["### Wave %d" % w["wave"], "", "| id | type | resource | what |", "|---|---|---|---|"]
        out += [
            "| %s | %s | %s | %s |" % (r["id"], r["type"], r["name"] or r["resource"], r["detail"])
            for r in w["actions"]
        ]
        out.append("")
    out += ["", "## Warnings", ""]
    if not data["warnings"] and not data["unmovable"]:
        out.append("None.")
    out += [
        "- %s: %s" % (w.get("resource", "plan"), w.get("message", w)) if isinstance(w, dict) else "- %s" % w
        for w in data["warnings"]
    ]
    if data["unmovable"]:
        out.append("- %d servers cannot be migrated:" % len(data["unmovable"]))
        out += [
            "  - %s (%s) on %s: %s" % (u["name"], u["uuid"], u["host"], u["reason"])
            for u in data["unmovable"][:SHOWN_UNMOVABLE]
        ]
        if len(data["unmovable"]) > SHOWN_UNMOVABLE:
            out.append("  - ... and %d more" % (len(data["unmovable"]) - SHOWN_UNMOVABLE))
    return "\n".join(out) + "\n"


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccd;padding:.25rem .5rem;text-align:left}
th{background:#f2f4f8}.num{text-align:right}.warn{color:#8a3b00}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
"""


def _bars_svg(hosts):
    """Grouped horizontal bars per host: RAM % before (grey) and after (blue)."""
    row_h, label_w, bar_w = 22, 160, 360
    height = row_h * len(hosts) + 30
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="RAM allocation per host before and after">'
        % (label_w + bar_w + 60, height)
    ]
    for pct in (0, 50, 100):
        x = label_w + bar_w * pct / 100.0
        parts.append('<line x1="%.1f" y1="0" x2="%.1f" y2="%d" stroke="#dde"/>' % (x, x, height - 20))
        parts.append('<text x="%.1f" y="%d" font-size="10" text-anchor="middle">%d%%</text>' % (x, height - 6, pct))
    for k, h in enumerate(hosts):
        y = k * row_h + 4
        before, after = min(h["before"]["ram_pct"], 100.0), min(h["after"]["ram_pct"], 100.0)
        parts.append('<text x="0" y="%d" font-size="11">%s</text>' % (y + 13, html.escape(h["hostname"])))
        parts.append(
            '<rect x="%d" y="%d" width="%.1f" height="8" fill="#b8bec9"><title>before %s%%</title></rect>'
            % (label_w, y, bar_w * before / 100.0, _fmt(h["before"]["ram_pct"]))
        )
        parts.append(
            '<rect x="%d" y="%d" width="%.1f" height="8" fill="#2f6fdb"><title>after %s%%</title></rect>'
            % (label_w, y + 9, bar_w * after / 100.0, _fmt(h["after"]["ram_pct"]))
        )
        parts.append(
            '<text x="%.1f" y="%d" font-size="10">%s%%</text>'
            % (label_w + bar_w + 4, y + 16, _fmt(h["after"]["ram_pct"]))
        )
    parts.append("</svg>")
    return "".join(parts)


def to_html(data):
    e = html.escape
    p = [
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>vigil plan %s</title><style>%s</style></head><body>'
        % (e("%s" % data["plan_id"]), _CSS)
    ]
    p.append("<h1>vigil plan report</h1>")
    p.append(
        "<p>Plan <code>%s</code> created %s &mdash; goal <b>%s</b>, strategy <b>%s</b>.<br>Model <code>%s</code>.</p>"
        % (
            e("%s" % data["plan_id"]),
            e("%s" % data["created"]),
            e("%s" % data["goal"]),
            e("%s" % data["strategy"]),
            e("%s" % data["model_digest"]),
        )
    )
    p.append(
        '<p id="summary"><span id="actions-total">%d</span> actions; memory moved <span id="memory-moved">%s</span> GB.</p>'
        % (data["actions_total"], _fmt(data["memory_moved_gb"]))
    )
    p.append('<h2>Efficacy</h2><table id="efficacy"><tr><th>indicator</th><th>value</th></tr>')
    p += [
        '<tr><td>%s</td><td class="num" data-indicator="%s">%s</td></tr>' % (e(k), e(k), e(_fmt(v)))
        for k, v in sorted(data["efficacy"].items())
    ]
    p.append("</table>")
    p.append(
        '<h2>RAM allocation per host</h2><p class="legend"><span style="background:#b8bec9"></span>before<span style="background:#2f6fdb"></span>after</p>'
    )
    p.append(_bars_svg(data["hosts"]))
    heads = (
        "host",
        "service",
        "vCPU % before",
        "vCPU % after",
        "RAM % before",
        "RAM % after",
        "servers before",
        "servers after",
    )
    p.append('<table id="hosts"><tr>%s</tr>' % "".join("<th>%s</th>" % e(t) for t in heads))
    row = (
        '<tr data-host="%s"><td>%s</td><td>%s/%s</td>'
        + '<td class="num">%s</td>' * 4
        + '<td class="num">%d</td>' * 2
        + "</tr>"
    )
    for h in data["hosts"]:
        b, a = h["before"], h["after"]
        p.append(
            row
            % (
                e(h["hostname"]),
                e(h["hostname"]),
                e("%s" % h["status"]),
                e("%s" % h["state"]),
                _fmt(b["vcpu_pct"]),
                _fmt(a["vcpu_pct"]),
                _fmt(b["ram_pct"]),
                _fmt(a["ram_pct"]),
                b["instances"],
                a["instances"],
            )
        )
    p.append("</table><h2>Actions by wave</h2>")
    if not data["waves"]:
        p.append("<p>The plan has no actions: nothing to do.</p>")
    for w in data["waves"]:
        p.append(
            '<h3>Wave %d</h3><table class="wave"><tr><th>id</th><th>type</th><th>resource</th><th>what</th></tr>'
            % w["wave"]
        )
        p += [
            "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
            % (e(r["id"]), e(r["type"]), e("%s" % (r["name"] or r["resource"])), e(r["detail"]))
            for r in w["actions"]
        ]
        p.append("</table>")
    p.append('<h2>Warnings</h2><ul id="warnings">')
    for w in data["warnings"]:
        text = "%s: %s" % (w.get("resource", "plan"), w.get("message", "")) if isinstance(w, dict) else "%s" % w
        p.append('<li class="warn">%s</li>' % e(text))
    if data["unmovable"]:
        p.append('<li class="warn">%d servers cannot be migrated<ul>' % len(data["unmovable"]))
        p += [
            "<li>%s (%s) on %s: %s</li>" % (e("%s" % u["name"]), e(u["uuid"]), e("%s" % u["host"]), e(u["reason"]))
            for u in data["unmovable"][:SHOWN_UNMOVABLE]
        ]
        p.append("</ul></li>")
    if not data["warnings"] and not data["unmovable"]:
        p.append("<li>None.</li>")
    p.append("</ul></body></html>\n")
    return "".join(p)
