# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # What every action module shares: the poll option that actions/runner.py adds (POLL_SPEC)
    # and full check and diff mode. A module overrides an entry it says more about.
    DOCUMENTATION = r"""
options:
  poll_interval:
    description:
      - Seconds between the first polls; later polls back off up to 5 s (or this value when larger).
    type: float
    default: 1.0
attributes:
  check_mode:
    support: full
    description: Reads the current state and reports what would be done; nothing is changed.
  diff_mode:
    support: full
    description: Shows the state before and after.
"""
