#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: plan_report
short_description: Write a plan report as Markdown and standalone HTML
version_added: "0.1.0"
description:
  - Renders the figures reviewers need before approving a vigil plan - efficacy indicators
    and the lower bound, per-host allocation before and after, the actions grouped by wave,
    the memory that live migrations will move, and warnings such as servers that cannot be
    migrated and why.
  - For the approver, the report lists the hosts the plan frees (servers before, none after)
    and the hosts it disables, the compute service state of every host after the plan, why
    each server that stays cannot move (one line per server), and the risks - servers that
    will be cold-migrated (they stop while they move), destinations left near full, and moves
    between hosts of different aggregates.
  - Both files come from Jinja2 templates shipped in the collection
    (C(roles/report/templates/plan_report.md.j2) and C(plan_report.html.j2)); O(template_dir)
    replaces either. The HTML template is rendered with autoescape on, so every string read
    from the cloud is escaped. The action plugin finds the templates on the controller and
    copies them to where the module runs; the module renders them there, which needs C(jinja2)
    on that host (ansible-core brings it to the controller).
  - The HTML page is standalone (inline CSS and SVG, no scripts, no external assets), so it can
    be attached to an AWX job or a pull request as is.
  - Makes no API calls; it reads the model and the plan it is given. Files are created with
    mode 0600 in a directory created with mode 0700.
author:
  - vigil contributors (@vigil-openstack)
options:
  model:
    description:
      - The cluster model the plan was computed from, as returned by
        M(vigil.openstack.compute_model_info) (tables in pandas C(split) orientation).
    type: dict
    required: true
  plan:
    description:
      - The plan, as returned by the P(vigil.openstack.optimize#filter) filter or loaded from a plan file.
    type: dict
    required: true
  dest:
    description:
      - Directory to write the report files into.
    type: path
    required: true
  basename:
    description:
      - File name without extension. Defaults to C(report-<plan id>).
    type: str
  formats:
    description:
      - Which files to write.
    type: list
    elements: str
    choices: [markdown, html]
    default: [markdown, html]
  template_dir:
    description:
      - A directory on the controller with your own C(plan_report.md.j2) and/or
        C(plan_report.html.j2); a format whose file is absent there uses the collection's
        template. A relative path is looked up as M(ansible.builtin.template) looks up C(src)
        (the role's C(templates/), then the playbook's).
      - Start from a copy of the collection's templates; docs/report.md lists the variables
        they receive. Two filters are available besides Jinja2's own - C(num) (at most two
        decimals) and C(md) (a value safe inside a Markdown table cell).
      - A directory holding neither file, a template that does not parse or that uses an
        undefined variable fails the task, naming the template, and writes nothing.
    type: path
  near_full_pct:
    description:
      - A host that receives servers and ends at or above this percentage of its allocatable
        vCPU or RAM is listed under the report's risks as left near full. Above 0, at most 100.
    type: float
    default: 90
attributes:
  action:
    support: full
    description: An action plugin on the controller finds the templates and copies them to where the module runs.
  check_mode:
    support: full
    description: >-
      In check mode the report is computed and returned but no file is written; C(changed)
      says whether a real run would write (a file is missing or its content differs).
  diff_mode:
    support: none
    description: The report is new content each time; there is no before/after to show.
"""

EXAMPLES = r"""
- name: Report on a plan next to it
  vigil.openstack.plan_report:
    model: "{{ cluster.model }}"
    plan: "{{ plan }}"
    dest: /var/lib/vigil/reports
  register: report

- name: Report with the site's own HTML template (templates/site/plan_report.html.j2)
  vigil.openstack.plan_report:
    model: "{{ cluster.model }}"
    plan: "{{ plan }}"
    dest: /var/lib/vigil/reports
    template_dir: site
    formats: [html]

- name: Publish the key figures to AWX
  ansible.builtin.set_stats:
    data: "{{ report.stats }}"
"""

RETURN = r"""
files:
  description: Paths of the files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [/var/lib/vigil/reports/report-6f1c.md, /var/lib/vigil/reports/report-6f1c.html]
stats:
  description: Key figures, suitable for M(ansible.builtin.set_stats).
  returned: always
  type: dict
  sample:
    vigil_plan_id: 6f1c0e9e-1d7b-4c5e-9a51-0d1c7a1e2f11
    vigil_goal: server_consolidation
    vigil_actions_total: 12
    vigil_memory_moved_gb: 96.0
    vigil_efficacy: {released_compute_nodes_count: 3}
    vigil_freed_hosts: [compute-7, compute-9, compute-12]
    vigil_disabled_hosts: [compute-7, compute-9, compute-12]
markdown:
  description: The Markdown report text.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils import planner, report
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import makedirs_private, replace_private

SUFFIX = {"markdown": ".md", "html": ".html"}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            model=dict(type="dict", required=True),
            plan=dict(type="dict", required=True),
            dest=dict(type="path", required=True),
            basename=dict(type="str"),
            formats=dict(type="list", elements="str", choices=["markdown", "html"], default=["markdown", "html"]),
            template_dir=dict(type="path"),
            near_full_pct=dict(type="float", default=90.0),
        ),
        supports_check_mode=True,
    )
    p = module.params
    plan = p["plan"]
    if not 0 < p["near_full_pct"] <= 100:
        module.fail_json(msg="near_full_pct must be above 0 and at most 100, got %s" % p["near_full_pct"])
    try:
        data = report.report_data(p["model"], plan, planner.plan_waves(plan), near_full_pct=p["near_full_pct"])
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg="cannot build the report: the model or plan is malformed (%s)" % exc)
    basename = p["basename"] or "report-%s" % plan.get("id", "plan")
    texts = {}
    try:
        for fmt in set(p["formats"]) | {"markdown"}:  # the Markdown text is always returned
            path = report.template_path(fmt, p["template_dir"])
            texts[fmt] = report.render(data, fmt, report.read_template(path), path)
    except report.TemplateError as exc:
        module.fail_json(msg="cannot render the report: %s" % exc)
    outputs = [(os.path.join(p["dest"], basename + SUFFIX[fmt]), texts[fmt]) for fmt in p["formats"]]
    stale = report.stale_outputs(outputs)
    if stale and not module.check_mode:
        if not os.path.isdir(p["dest"]):
            makedirs_private(p["dest"])
        for path, text in stale:
            replace_private(path, text.encode("utf-8"))
    stats = {
        "vigil_plan_id": data["plan_id"],
        "vigil_goal": data["goal"],
        "vigil_strategy": data["strategy"],
        "vigil_actions_total": data["actions_total"],
        "vigil_memory_moved_gb": data["memory_moved_gb"],
        "vigil_efficacy": data["efficacy"],
        "vigil_freed_hosts": data["freed_hosts"],
        "vigil_disabled_hosts": data["disabled_hosts"],
    }
    module.exit_json(
        changed=bool(stale), files=[path for path, _unused in outputs], stats=stats, markdown=texts["markdown"]
    )


if __name__ == "__main__":
    main()
