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
attributes:
  check_mode:
    support: full
    description: In check mode the report is computed and returned but no file is written; C(changed) says whether a real run would write one.
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
markdown:
  description: The Markdown report text.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils import planner, report
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import makedirs_private


def _current(path):
    """The file's text, or None when there is no file."""
    if not os.path.exists(path):
        return None
    with open(path) as fh:
        return fh.read()


def main():
    module = AnsibleModule(
        argument_spec=dict(
            model=dict(type="dict", required=True),
            plan=dict(type="dict", required=True),
            dest=dict(type="path", required=True),
            basename=dict(type="str"),
            formats=dict(type="list", elements="str", choices=["markdown", "html"], default=["markdown", "html"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    plan = p["plan"]
    try:
        data = report.report_data(p["model"], plan, planner.plan_waves(plan))
    except (KeyError, TypeError, ValueError) as exc:
        module.fail_json(msg="cannot build the report: the model or plan is malformed (%s)" % exc)
    markdown = report.to_markdown(data)
    basename = p["basename"] or "report-%s" % plan.get("id", "plan")
    outputs = []
    if "markdown" in p["formats"]:
        outputs.append((os.path.join(p["dest"], basename + ".md"), markdown))
    if "html" in p["formats"]:
        outputs.append((os.path.join(p["dest"], basename + ".html"), report.to_html(data)))
    # what the run changes is the same question in check mode and for real: which file differs
    stale = [(path, text) for path, text in outputs if _current(path) != text]
    if stale and not module.check_mode:
        if not os.path.isdir(p["dest"]):
            makedirs_private(p["dest"])
        for path, text in stale:
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
            os.replace(path + ".tmp", path)
    changed = bool(stale)
    stats = {
        "vigil_plan_id": data["plan_id"],
        "vigil_goal": data["goal"],
        "vigil_strategy": data["strategy"],
        "vigil_actions_total": data["actions_total"],
        "vigil_memory_moved_gb": data["memory_moved_gb"],
        "vigil_efficacy": data["efficacy"],
    }
    module.exit_json(changed=changed, files=[path for path, _unused in outputs], stats=stats, markdown=markdown)


if __name__ == "__main__":
    main()
