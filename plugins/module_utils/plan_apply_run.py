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

from ansible_collections.vigil.openstack.plugins.module_utils.actions.runner import (
    POLL_SPEC,
    connect_retrying,
    make_ctx,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.server_watch import ServerWatch
from ansible_collections.vigil.openstack.plugins.module_utils.connection import (
    connect,
    connect_maas,
    maas_argument_spec,
    openstack_argument_spec,
)
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutionError, PlanExecutor
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import (
    UnsafeFile,
    open_private,
    prepare_private_path,
)
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import state_path_for_id
from ansible_collections.vigil.openstack.plugins.module_utils.storm_guard import (
    GuardError,
    power_guard,
    power_guard_options,
)

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
    power = [a for a in plan.get("actions") or [] if isinstance(a, dict) and a.get("type") == "node_power"]
    if power:
        try:
            power_guard(params)  # a bad power_hysteresis or cloud name fails before anything is read
        except GuardError as exc:
            raise PlanExecutionError(str(exc)) from None
    connect_retrying(connect, params)  # fail fast, in one line, on bad credentials
    has_maas = any((a.get("input") or {}).get("backend") == "maas" for a in power)
    maas = (lambda: connect_maas(params)) if has_maas else None
    log = progress_logger(module, progress_file, plan.get("id"), check_mode=module.check_mode)
    interval = float(params.get("poll_interval") or 1.0)
    # One poller for every server the run moves (its own client), instead of one per action.
    watch = ServerWatch(lambda: connect_retrying(connect, params), min_interval=interval, log=log)

    def thread_ctx():
        # Called in each worker thread: every thread gets its own clients, built on first use.
        ctx = make_ctx(params, lambda: connect_retrying(connect, params), maas=maas)
        ctx["server_watch"] = watch
        ctx["power_guard"] = params  # node_power: the power hysteresis ledger (storm_guard.py)
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


def argument_spec():
    """plan_apply's options (its DOCUMENTATION describes them)."""
    spec = openstack_argument_spec()
    spec.update(maas_argument_spec())
    spec.update(POLL_SPEC)
    spec.update(
        plan=dict(type="dict"),
        plan_file=dict(type="path"),
        state_file=dict(type="path"),
        progress_file=dict(type="path"),
        state_dir=dict(type="path", default="~/.vigil/state"),
        on_failure=dict(type="str", choices=["stop", "continue_independent"], default="stop"),
        on_stale=dict(type="str", choices=["skip", "stop"], default="skip"),
        concurrency=dict(type="dict", default={}),
        model_digest=dict(type="str"),
        only=dict(type="list", elements="str"),
        retry_failed=dict(type="bool", default=False),
        on_drift=dict(type="str", choices=["stop", "rerun"], default="stop"),
        timeout=dict(type="int"),
    )
    spec.update(power_guard_options())
    return spec


def exit_with(module, result):
    """Warn about skipped actions; fail on a cancel or a failed action; else exit."""
    warnings = ["%s skipped: %s" % (a["id"], a["error"]) for a in result.get("actions", []) if a["state"] == "SKIPPED"]
    for warning in warnings[:20]:
        module.warn(warning)
    if result.get("cancelled"):
        counts = result["counts"]
        module.fail_json(
            msg="cancelled by %s: %d action(s) left ONGOING for the next run to re-check, %d CANCELLED"
            % (result["cancelled"], counts["ONGOING"], counts["CANCELLED"]),
            **result,
        )
    if result["failed_actions"]:
        first = next(a for a in result["actions"] if a["id"] == result["failed_actions"][0])
        module.fail_json(
            msg="%d action(s) failed, first %s: %s" % (len(result["failed_actions"]), first["id"], first["error"]),
            **result,
        )
    module.exit_json(**result)
