# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What the plan_apply module does besides Ansible's plumbing: read the plan file, name the
state file, log progress, turn job-stopping signals into a cancel, build the executor.

Kept free of Ansible imports: `module` is used only through ``log``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import signal
import threading

from ansible_collections.vigil.openstack.plugins.module_utils.actions.runner import connect_retrying, make_ctx
from ansible_collections.vigil.openstack.plugins.module_utils.actions.server_watch import ServerWatch
from ansible_collections.vigil.openstack.plugins.module_utils.connection import connect, connect_maas
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutionError, PlanExecutor
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import (
    UnsafeFile,
    open_private,
    prepare_private_path,
)
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import state_path_for_id

CANCEL_SIGNALS = ("SIGTERM", "SIGINT", "SIGHUP")


def load_plan_file(path):
    try:
        with open(path) as handle:
            text = handle.read()
    except OSError as exc:
        raise PlanExecutionError("cannot read plan file %s: %s" % (path, exc.strerror)) from None
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with ansible-core
        raise PlanExecutionError("plan file %s is not JSON and PyYAML is missing" % path) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanExecutionError(
            "plan file %s is neither JSON nor YAML: %s" % (path, str(exc).splitlines()[0])
        ) from None


def default_state_file(params, plan):
    if params["state_file"]:
        return params["state_file"]
    if params["plan_file"]:
        return params["plan_file"] + ".state.json"
    # The plan id names the file: one such as ../x must not land outside state_dir.
    return state_path_for_id(params["state_dir"], plan.get("id", "plan"))


def progress_logger(module, path, plan_id, check_mode=False):
    """The executor's log: timestamped lines appended to ``path`` and to the module log.

    The file is opened once, before the run (never in check mode), so a symlink or a
    foreign file under its name is refused before anything happens.
    """
    lock = threading.Lock()
    handle = None
    if not check_mode:
        try:
            prepare_private_path(path)
            handle = os.fdopen(open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "a")
        except UnsafeFile as exc:
            raise PlanExecutionError(str(exc)) from None

    def log(msg):
        stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        if handle is not None:
            with lock:
                handle.write("%s %s\n" % (stamp, msg))
                handle.flush()  # tail -f sees each line as it happens
        module.log("vigil plan %s: %s" % (plan_id, msg))

    return log


def cancel_on_signals(executor):
    """Turn the signals that stop a job into a clean cancel of the run (module notes)."""

    def handler(signum, _frame):
        executor.cancel(signal.Signals(signum).name)

    for name in CANCEL_SIGNALS:
        signal.signal(getattr(signal, name), handler)


def read_plan(params):
    plan = params["plan"] if params["plan"] is not None else load_plan_file(params["plan_file"])
    if not isinstance(plan, dict):
        raise PlanExecutionError("the plan must be a mapping, got %s" % type(plan).__name__)
    return plan


def build_executor(module, params, plan, state_file, progress_file):
    """A PlanExecutor for the module's parameters; its worker threads build their own clients."""
    connect_retrying(connect, params)  # fail fast, in one line, on bad credentials
    has_maas = any(
        a.get("type") == "node_power" and (a.get("input") or {}).get("backend") == "maas"
        for a in plan.get("actions") or []
        if isinstance(a, dict)
    )
    maas = (lambda: connect_maas(params)) if has_maas else None
    log = progress_logger(module, progress_file, plan.get("id"), check_mode=module.check_mode)
    interval = float(params.get("poll_interval") or 1.0)
    # One poller for every server the run moves (its own client), instead of one per action.
    watch = ServerWatch(lambda: connect_retrying(connect, params), min_interval=interval, log=log)

    def thread_ctx():
        # Called in each worker thread: every thread gets its own clients, built on first use.
        ctx = make_ctx(params, lambda: connect_retrying(connect, params), maas=maas)
        ctx["server_watch"] = watch
        return ctx

    return PlanExecutor(
        plan,
        log=log,
        state_path=state_file,
        make_ctx=thread_ctx,
        on_stale=params["on_stale"],
        on_failure=params["on_failure"],
        limits=params["concurrency"],
        model_digest=params["model_digest"],
        only=params["only"],
        retry_failed=params["retry_failed"],
        on_drift=params["on_drift"],
        plan_lock_dir=params["state_dir"],
    )
