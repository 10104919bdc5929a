# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""numpy and pandas, or None where they are not installed: the one guarded import of both.

module_utils must import without them (ansible-test's import test, a controller without the
data libraries); what needs them reports the missing library where it is used
(strategy_support/registry.run, model/frame.py, the filters and modules).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

__all__ = ["np", "pd"]

try:
    import numpy as np
except ImportError:  # pragma: no cover - reported where it is used
    np = None

try:
    import pandas as pd
except ImportError:  # pragma: no cover - reported where it is used
    pd = None
