# Apache License 2.0 (see LICENSE)
"""Bench-only callback: wall time of each task, as JSON lines in $VIGIL_TASK_TIMES."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: task_times
type: aggregate
short_description: write each task's wall time to $VIGIL_TASK_TIMES (benchmarks)
description: [Used by bench/load.py to split a playbook's wall time by task.]
"""

import json  # noqa: E402 - DOCUMENTATION comes first in plugins
import os  # noqa: E402
import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_times"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._current = None

    def _close(self):
        path = os.environ.get("VIGIL_TASK_TIMES")
        if self._current and path:
            name, start = self._current
            with open(path, "a") as fh:
                fh.write(json.dumps({"task": name, "seconds": round(time.perf_counter() - start, 3)}) + "\n")
        self._current = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close()
        self._current = (task.get_name(), time.perf_counter())

    def v2_playbook_on_stats(self, stats):
        self._close()
