# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Controller side of plan_report: send the report templates to where the module runs.

Ansible ships a module with the Python files it imports, not the collection's other files,
so the templates - the collection's own (roles/report/templates/) or the user's
`template_dir`, looked up like ansible.builtin.template's `src` - are found here, copied
into the task's temporary directory, and the module reads them there (`template_dir`).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.action import ActionBase

from ansible_collections.vigil.openstack.plugins.module_utils import report


class ActionModule(ActionBase):
    TRANSFERS_FILES = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        local = self._templates(args.get("template_dir"))
        shell = self._connection._shell
        # both names are fixed and distinct, so the copies sit in the task's temporary directory
        remote = dict((path, shell.join_path(shell.tmpdir, os.path.basename(path))) for path in local.values())
        try:
            for path, dest in remote.items():
                self._transfer_file(path, dest)
            self._fixup_perms2([shell.tmpdir] + list(remote.values()))
            args["template_dir"] = shell.tmpdir
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
        finally:
            self._remove_tmp_path(shell.tmpdir)
        if result.get("msg"):  # name the templates the user knows, not their temporary copies
            for path, dest in remote.items():
                result["msg"] = result["msg"].replace(dest, path)
        return result

    def _templates(self, template_dir):
        """format -> template path on the controller: the user's where `template_dir` has one,
        the collection's otherwise; a `template_dir` holding neither file is a mistake."""
        if not template_dir:
            return dict((fmt, report.default_template_path(fmt)) for fmt in report.TEMPLATE_NAMES)
        try:
            found = self._find_needle("templates", template_dir)
        except AnsibleError as exc:
            raise AnsibleActionFail("plan_report: template_dir %s: %s" % (template_dir, exc)) from exc
        if not os.path.isdir(found):
            raise AnsibleActionFail("plan_report: template_dir %s is not a directory" % found)
        out = dict((fmt, report.template_path(fmt, found)) for fmt in report.TEMPLATE_NAMES)
        if all(out[fmt] == report.default_template_path(fmt) for fmt in out):
            names = " nor ".join(sorted(report.TEMPLATE_NAMES.values()))
            raise AnsibleActionFail("plan_report: template_dir %s holds neither %s" % (found, names))
        return out
