# Test-only callback: writes every task result as JSON lines to $VIGIL_TEST_RESULTS so
# integration tests assert on real module results instead of parsing console output.
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: record_results
type: aggregate
short_description: record task results for vigil's integration tests
description: Appends one JSON object per task result to the file named by VIGIL_TEST_RESULTS.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("VIGIL_TEST_RESULTS")
        if not path:
            return
        row = {
            "task": result.task_name if hasattr(result, "task_name") else result._task.get_name(),
            "host": result._host.get_name(),
            "status": status,
            "result": result._result,
        }
        with open(path, "a") as fh:
            fh.write(json.dumps(row, default=str) + "\n")

    def v2_runner_on_ok(self, result, **kwargs):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False, **kwargs):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result, **kwargs):
        self._record(result, "skipped")
