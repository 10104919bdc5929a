# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Glue between a thin action module and its executor: context, check/diff mode, errors.

Kept free of Ansible imports: `module` is used only through ``params``, ``check_mode``,
``_diff``, ``exit_json`` and ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    ActionError,
    Poller,
    RefusedAction,
    StaleAction,
    TransientError,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.registry import executor_for
from ansible_collections.vigil.openstack.plugins.module_utils.connection import (
    connect,
    maas_argument_spec,
    openstack_argument_spec,
)
from ansible_collections.vigil.openstack.plugins.module_utils.errors import one_line

# Options every action module adds to the connection options.
POLL_SPEC = dict(poll_interval=dict(type="float", default=1.0))


def start_action_module(module_class, options, maas=False, **kwargs):
    """``(module, conn)`` for an action module: ``module_class`` (AnsibleModule) built with the
    connection options (and MAAS ones), the poll options and the module's own, check mode
    supported; then a connection, or the module ends with the one-line reason."""
    spec = openstack_argument_spec()
    if maas:
        spec.update(maas_argument_spec())
    spec.update(POLL_SPEC)
    spec.update(options)
    module = module_class(argument_spec=spec, supports_check_mode=True, **kwargs)
    try:
        conn = connect_retrying(connect, module.params)
    except Exception as exc:  # noqa: BLE001 - one line for the user
        module.fail_json(msg=str(exc))
    return module, conn


def connect_retrying(connect, params, attempts=5):
    """``connect(params)``, retried with backoff while the failure is transient (5xx, connection).

    Also makes sure Nova's version discovery answered: when it fails (a 5xx), openstacksdk
    silently falls back to microversion 2.1 and to other API paths for the same call.
    """

    def attempt():
        conn = connect(params)
        _check_compute_discovery(conn)
        return conn

    return Poller(interval=1.0, factor=2.0, max_interval=8.0).retry(attempt, "connect", attempts=attempts)


def _check_compute_discovery(conn):
    try:
        data = conn.compute.get_endpoint_data()
    except Exception as exc:  # noqa: BLE001 - no compute service in the catalog: nothing to check
        if type(exc).__name__ in ("EndpointNotFound", "ServiceDisabledException"):
            return
        raise
    if data is not None and not data.max_microversion:
        raise TransientError("compute version discovery did not answer")


def make_ctx(params, conn, maas=None, log=None, stop=None):
    """Executor context from module params. `conn`/`maas` are clients or zero-argument factories;
    `stop` (threading.Event) cancels the executors' waits."""
    interval = float(params.get("poll_interval") or 1.0)
    ctx = {
        "conn": conn,
        "poller": Poller(interval=interval, max_interval=max(5.0, interval), stop=stop),
        "timeout": params.get("timeout"),
        "wait": params.get("wait", True),
        "force": params.get("force", False),
        "log": log,
    }
    if maas is not None:
        ctx["maas"] = maas
    return ctx


def run_module_action(module, action, ctx, result_key=None):
    """Run one action for a module and exit with its result (never returns)."""
    executor = None
    try:
        executor = executor_for(action, ctx)
        result = executor.run(check_mode=module.check_mode)
    except StaleAction as exc:
        module.fail_json(msg="precondition failed: %s" % exc, changed=False, action=action)
    except RefusedAction as exc:
        module.fail_json(msg=str(exc), changed=False, action=action)
    except ActionError as exc:
        module.fail_json(msg=str(exc), changed=bool(getattr(executor, "executed", False)), action=action)
    except Exception as exc:  # noqa: BLE001 - connection/SDK errors: one line, no traceback
        module.fail_json(msg="%s: %s" % (type(exc).__name__, one_line(exc)), changed=False, action=action)
    out = dict(
        changed=result["changed"], msg=result["msg"], action=action, before=result["before"], after=result["after"]
    )
    if result_key:
        out[result_key] = _first_value(result.get("state"))
    if getattr(module, "_diff", False):
        out["diff"] = {"before": result["before"], "after": result["after"]}
    module.exit_json(**out)


def _first_value(state):
    """The executor state dict holds one main object (server, volume, node, service)."""
    if not isinstance(state, dict):
        return state
    for key in ("server", "volume", "node", "service"):
        if key in state:
            return state[key]
    return state
