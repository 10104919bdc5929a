"""The plan report: figures computed from a hand-built model and plan, escaping, no assets,
the operator's sections, templates (the collection's and a user's)."""

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from modelgen import random_model

from ansible_collections.vigil.openstack.plugins.filter.optimize import optimize
from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils import planner, report
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, schema


def _split(table, rows):
    cols = schema.columns(table)
    return {"columns": cols, "data": [[row.get(c) for c in cols] for row in rows]}


def _node(name, vcpus=16, ram=65536):
    return {
        "hostname": name, "status": "enabled", "state": "up",
        "vcpu_total": vcpus, "vcpu_reserved": 0, "vcpu_allocation_ratio": 2.0,
        "memory_mb_total": ram, "memory_mb_reserved": 0, "memory_mb_allocation_ratio": 1.0,
    }  # fmt: skip


def _server(uuid, name, host, vcpus, ram, migratable="live", reason=""):
    return {
        "uuid": uuid,
        "name": name,
        "host": host,
        "vcpus": vcpus,
        "memory_mb": ram,
        "migratable": migratable,
        "migratable_reason": reason,
    }


def build():
    model = {
        "nodes": _split("nodes", [_node("compute-1"), _node("compute-10"), _node("compute-2")]),
        "instances": _split(
            "instances",
            [
                _server("u1", "web-1", "compute-1", 4, 8192),
                _server("u2", "db-<1>", "compute-10", 8, 16384),
                _server("u3", "pinned", "compute-10", 2, 4096, "no", "pinned CPUs (hw:cpu_policy=dedicated)"),
            ],
        ),
    }
    actions = [
        planlib.migrate_action("a1", "u2", "compute-10", "compute-1", "live", "ACTIVE"),
        planlib.compute_service_action("a2", "compute-10", "disabled", "vigil: emptied", parents=["a1"]),
    ]
    plan = planlib.new_plan(
        "server_consolidation",
        "node_resource_consolidation",
        actions=actions,
        efficacy={"released_compute_nodes_count": 1},
    )
    return model, plan


def test_figures_follow_the_moves():
    model, plan = build()
    data = report.report_data(model, plan, planner.plan_waves(plan))
    hosts = {h["hostname"]: h for h in data["hosts"]}
    # compute-1: 8 GiB of 64 GiB before, 24 GiB after; vCPU capacity 32 (ratio 2)
    assert hosts["compute-1"]["before"] == {"vcpu_pct": 12.5, "ram_pct": 12.5, "instances": 1}
    assert hosts["compute-1"]["after"] == {"vcpu_pct": 37.5, "ram_pct": 37.5, "instances": 2}
    # exact host matching: compute-10 keeps only the pinned server
    assert hosts["compute-10"]["after"]["instances"] == 1
    assert data["memory_moved_gb"] == 16.0
    assert [h["hostname"] for h in data["hosts"]] == ["compute-1", "compute-2", "compute-10"]  # natural order
    assert [[r["id"] for r in w["actions"]] for w in data["waves"]] == [["a1"], ["a2"]]
    assert [s["reason"] for s in data["staying"]] == ["stays on compute-10: pinned CPUs (hw:cpu_policy=dedicated)"]


def test_markdown_and_html():
    model, plan = build()
    data = report.report_data(model, plan, planner.plan_waves(plan))
    md = report.to_markdown(data)
    assert "| released_compute_nodes_count | 1 |" in md
    assert "### Wave 2" in md and "compute-10 disabled (vigil: emptied)" in md
    page = report.to_html(data)
    assert "db-&lt;1&gt;" in page and "db-<1>" not in page  # cloud strings are escaped
    assert not re.search(r"(src|href)=|<script|<link", page)  # standalone: no assets, no scripts
    assert '<span id="memory-moved">16</span>' in page

    class Check(HTMLParser):
        opened = []

        def handle_starttag(self, tag, attrs):
            self.opened.append(tag)

    parser = Check()
    parser.feed(page)
    assert parser.opened.count("svg") == 1 and parser.opened.count("rect") == 6


def test_empty_plan_says_so():
    model, _unused = build()
    plan = planlib.new_plan("server_consolidation", "node_resource_consolidation")
    data = report.report_data(model, plan, [])
    assert "nothing to do" in report.to_markdown(data)
    assert all(h["before"] == h["after"] for h in data["hosts"])


def _operator_case():
    """Four hosts in two aggregates: the plan empties compute-1 (a live move inside `ssd` and
    a cold move to `hdd`), disables it, fills compute-3 to 93.75 % RAM; one server is
    pinned (the model says so) and the plan also warns about it; one is locked."""
    nodes = [dict(_node(n), aggregates=aggs) for n, aggs in
             (("compute-1", ["ssd"]), ("compute-2", ["ssd"]), ("compute-3", ["hdd"]), ("compute-4", ["hdd"]))]  # fmt: skip
    servers = [
        _server("u1", "web|1", "compute-1", 2, 8192),
        _server("u2", "<script>x</script>", "compute-1", 2, 16384),
        _server("u3", "pinned", "compute-2", 2, 4096, "no", "pinned CPUs"),
        _server("u4", "db\n2", "compute-3", 2, 45056),
    ]
    model = {"nodes": _split("nodes", nodes), "instances": _split("instances", servers)}
    actions = [
        planlib.migrate_action("a1", "u1", "compute-1", "compute-2", "live", "ACTIVE"),
        planlib.migrate_action("a2", "u2", "compute-1", "compute-3", "cold", "ACTIVE"),
        planlib.compute_service_action("a3", "compute-1", "disabled", "vigil: emptied", parents=["a1", "a2"]),
    ]
    plan = planlib.new_plan("server_consolidation", "node_resource_consolidation", actions=actions,
                            efficacy={"released_compute_nodes_count": 1})  # fmt: skip
    plan["warnings"] = [
        {"resource": "u3", "message": "stays on compute-2: cannot be live-migrated"},
        {"resource": "u4", "message": "stays on compute-3: locked"},
        {"resource": "u4", "message": "stays on compute-3: locked"},
        {"resource": None, "message": "3 servers had no flavor"},
    ]
    return model, plan


def test_operator_sections_freed_disabled_service_after_staying_and_risks():
    model, plan = _operator_case()
    data = report.report_data(model, plan, planner.plan_waves(plan))
    assert data["freed_hosts"] == ["compute-1"] and data["disabled_hosts"] == ["compute-1"]
    assert {h["hostname"]: h["status_after"] for h in data["hosts"]} == {
        "compute-1": "disabled", "compute-2": "enabled", "compute-3": "enabled", "compute-4": "enabled"}  # fmt: skip
    # one line per server, the plan's reason first, each warning about a server told once
    assert [(s["uuid"], s["reason"]) for s in data["staying"]] == [
        ("u3", "stays on compute-2: cannot be live-migrated"),
        ("u4", "stays on compute-3: locked"),
    ]
    assert data["warnings"] == [{"resource": None, "message": "3 servers had no flavor"}]
    risks = data["risks"]
    assert [m["uuid"] for m in risks["cold_migrations"]] == ["u2"]
    assert [(h["hostname"], h["after"]["ram_pct"]) for h in risks["near_full"]] == [("compute-3", 93.8)]
    assert [(m["uuid"], m["source_aggregates"], m["destination_aggregates"]) for m in risks["cross_aggregate"]] == [
        ("u2", ["ssd"], ["hdd"])
    ]
    md = report.to_markdown(data)
    assert "- hosts freed (1): compute-1\n- hosts disabled (1): compute-1\n" in md
    assert md.count("stays on compute-3: locked") == 1 and "3 servers had no flavor" in md
    assert "\n- db 2 (u4) stays on compute-3: locked\n" in md  # one line per server, even with a newline in its name
    assert "- <script>x</script> (u2): compute-1 -> compute-3" in md  # cold-migrated
    assert "- compute-3: vCPU 12.5 %, RAM 93.8 %" in md
    assert "| web\\|1 |" in md  # a pipe in a name stays inside its cell
    assert "| compute-1 | enabled/up | disabled (freed) |" in md
    page = report.to_html(data)
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt; (u2): compute-1 &rarr; compute-3" in page
    assert '<span id="freed-hosts">compute-1</span>' in page and 'data-service-after="disabled"' in page
    assert page.count("stays on compute-3: locked") == 1
    assert "compute-1 [ssd] &rarr; compute-3 [hdd]" in page


def test_no_risk_is_said_in_both_formats():
    model, plan = build()
    data = report.report_data(model, plan, planner.plan_waves(plan), near_full_pct=99)
    assert data["risks"] == {"cold_migrations": [], "near_full": [], "cross_aggregate": []}
    assert "None found: no cold migration, no destination left at 99 %" in report.to_markdown(data)
    assert '<p id="no-risk">None found' in report.to_html(data)


def test_a_real_plan_names_the_hosts_it_frees():
    """On a generated cloud, the freed hosts are exactly those a replay of the plan's moves
    leaves empty that held servers, as many as the strategy says it emptied."""
    model = frame.dump_model(random_model(seed=3, hosts=12, instances=80, fill=0.4), {})
    plan = optimize(model, goal="server_consolidation")
    data = report.report_data(model, plan, planner.plan_waves(plan))
    cols = model["instances"]["columns"]
    where = {row[cols.index("uuid")]: row[cols.index("host")] for row in model["instances"]["data"]}
    before = set(where.values())
    for a in plan["actions"]:
        if a["type"] == "migrate":
            where[a["resource"]] = a["input"]["destination_node"]
    emptied = sorted(before - set(where.values()), key=report.natural_key)
    assert emptied and data["freed_hosts"] == emptied
    assert len(emptied) == plan["efficacy"]["emptied_compute_nodes_count"]
    assert "- hosts freed (%d): %s\n" % (len(emptied), ", ".join(emptied)) in report.to_markdown(data)
    assert '<span id="freed-hosts">%s</span>' % ", ".join(emptied) in report.to_html(data)


def test_a_user_template_renders_and_its_mistakes_name_it():
    model, plan = build()
    data = report.report_data(model, plan, planner.plan_waves(plan))
    assert report.to_html(data, "{{ staying[0].name }} {{ '<i>' | safe }}", "mine.j2") == "pinned <i>"
    assert report.to_markdown(data, "{{ 1.50 | num }} {{ '<i>' }}") == "1.5 <i>"  # no escaping in Markdown
    with pytest.raises(report.TemplateError, match=r"report template mine.j2, line 2: .*"):
        report.to_markdown(data, "ok\n{% for %}", "mine.j2")
    with pytest.raises(report.TemplateError, match="report template mine.j2: 'nope' is undefined"):
        report.to_markdown(data, "{{ nope }}", "mine.j2")


def test_report_functions_stay_short():
    """Formatting lives in the templates: no function of report.py grows past 80 lines."""
    tree = ast.parse(Path(report.__file__).read_text())
    long = [(f.name, f.end_lineno - f.lineno + 1) for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and f.end_lineno - f.lineno + 1 > 80]  # fmt: skip
    assert long == []
