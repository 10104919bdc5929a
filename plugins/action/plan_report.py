# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of plan_report: find the report templates and hand their text to the module.

The module runs where the task's Python is and receives only what Ansible ships (Python
files), so the templates - the collection's own, in roles/report/templates/, or the user's
`template_dir`, looked up like ansible.builtin.template's `src` - are read here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.vigil.openstack.plugins.module_utils import report


class ActionModule(ActionBase):
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        args = dict(self._task.args)
        if "_templates" in args:
            raise AnsibleActionFail("_templates is set by the plan_report action plugin, not by tasks")
        try:
            args["_templates"] = self._templates(args.get("template_dir"))
        except (AnsibleError, report.TemplateError) as exc:
            raise AnsibleActionFail("plan_report: %s" % exc) from exc
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result

    def _templates(self, template_dir):
        """format -> {name, source}: the user's template where `template_dir` has one, the
        collection's otherwise; a `template_dir` holding neither file is a mistake, not a default."""
        found = None
        if template_dir:
            found = self._find_needle("templates", template_dir)
            if not os.path.isdir(found):
                raise AnsibleActionFail("plan_report: template_dir %s is not a directory" % found)
        out = {}
        for fmt, name in report.TEMPLATE_NAMES.items():
            path = os.path.join(found, name) if found else None
            if path and os.path.isfile(path):
                out[fmt] = {"name": path, "source": report.read_template(path), "default": False}
            else:
                path, source = report.default_template(fmt)
                out[fmt] = {"name": path, "source": source, "default": True}
        if found and all(t["default"] for t in out.values()):
            raise AnsibleActionFail(
                "plan_report: template_dir %s holds neither %s"
                % (found, " nor ".join(sorted(report.TEMPLATE_NAMES.values())))
            )
        return out
