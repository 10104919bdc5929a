"""The plan report: figures computed from a hand-built model and plan, escaping, no assets."""

import re
from html.parser import HTMLParser

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils import planner, report
from ansible_collections.vigil.openstack.plugins.module_utils.model import schema


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
    assert data["unmovable"][0]["reason"].startswith("pinned CPUs")


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
