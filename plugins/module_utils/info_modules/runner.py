# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The one ``main()`` of the ``*_info`` modules: options, run, one-line failures, warnings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect.metrics_common import MetricsError
from ansible_collections.vigil.openstack.plugins.module_utils.collect.rest import CollectError
from ansible_collections.vigil.openstack.plugins.module_utils.connection import VigilConnectionError, module_kwargs


def bad_input(message):
    """The error of an option the module refuses before (or instead of) reading anything."""
    return CollectError("bad_input", message)


def run_info_module(module_class, argument_spec, run, **kwargs):
    """Build ``module_class`` (AnsibleModule) with ``argument_spec`` plus the connection options
    (``kwargs`` as ``connection.module_kwargs`` takes them), call ``run(params) -> (result,
    warnings)`` and end the module: ``changed: false`` and the result, or a failure whose ``msg``
    is one line and whose ``kind`` says what went wrong (``connection``, ``bad_input``, or the
    collector's kind). Nothing is changed either way: info modules only read."""
    module = module_class(**module_kwargs(argument_spec, **kwargs))
    try:
        result, warnings = run(module.params)
    except VigilConnectionError as exc:
        module.fail_json(msg=str(exc), kind="connection")
    except (CollectError, MetricsError) as exc:
        module.fail_json(msg=exc.message, kind=exc.kind)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


def check_page_size(params):
    if params["page_size"] < 1:
        raise bad_input("page_size must be at least 1, got %d" % params["page_size"])


def skipped_warnings(skipped):
    """One warning naming every service that was skipped, or none."""
    return ["skipped: " + "; ".join(s["reason"] for s in skipped)] if skipped else []
