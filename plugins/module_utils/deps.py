# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Third-party imports in one place, guarded.

Modules must load (for ``ansible-doc``, argument-spec introspection and ansible-test's import
check) even where pandas, numpy, openstacksdk or python-libmaas are missing; they then fail
with a message naming the missing library instead of a traceback. Library code imports
``np``/``pd``/``openstack``/``maas_client`` from here; modules call ``require(module, ...)``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import traceback

try:
    import numpy as np
    import pandas as pd
except ImportError:
    np = pd = None
    PANDAS_ERROR = traceback.format_exc()
else:
    PANDAS_ERROR = None

try:
    import openstack
except ImportError:
    openstack = None
    OPENSTACK_ERROR = traceback.format_exc()
else:
    OPENSTACK_ERROR = None

try:
    import maas.client as maas_client
except ImportError:
    maas_client = None
    MAAS_ERROR = traceback.format_exc()
else:
    MAAS_ERROR = None

_LIBS = {
    "pandas": ("pandas and numpy", lambda: PANDAS_ERROR),
    "openstack": ("openstacksdk", lambda: OPENSTACK_ERROR),
    "maas": ("python-libmaas", lambda: MAAS_ERROR),
}


def missing(*names):
    """[(pip name, traceback)] of the named libraries that failed to import."""
    out = []
    for name in names:
        pip_name, error = _LIBS[name]
        if error():
            out.append((pip_name, error()))
    return out


def require(module, *names):
    """fail_json on an AnsibleModule when a named library ('pandas', 'openstack', 'maas') is missing."""
    from ansible.module_utils.basic import missing_required_lib

    gone = missing(*names)
    if gone:
        module.fail_json(msg=missing_required_lib(gone[0][0]), exception=gone[0][1])
