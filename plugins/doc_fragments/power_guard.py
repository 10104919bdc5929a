# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The power hysteresis options of the modules that power hosts (node_power, plan_apply):
    # storm_guard.power_guard_options() is their argument spec.
    DOCUMENTATION = r"""
options:
  power_hysteresis:
    description:
      - Seconds after a power-on during which a power-off of the same host is refused with the
        reason, and changes nothing - no flapping, as VMware DPM does. C(0) turns the hysteresis
        off.
      - Every power-on through M(vigil.openstack.node_power), M(vigil.openstack.plan_apply) or
        M(vigil.openstack.storm_guard) (C(decision=power_on)) starts the window. The times are
        kept in the storm guard ledger C(<guard_dir>/guard-<cloud>.json), so the window holds
        between runs.
      - In M(vigil.openstack.node_power) the host is I(hostname), or the node id when no
        I(hostname) is given; I(force) does not lift the refusal; C(reboot) is neither refused nor
        recorded. In M(vigil.openstack.plan_apply) the host is the action's C(input.hostname) and
        a refused action ends FAILED with C(refused - ... power hysteresis ...).
    type: int
    default: 1800
  guard_dir:
    description:
      - Directory of the storm guard ledger (shared with M(vigil.openstack.storm_guard)). The
        ledger is per cloud - I(cloud) when it is a C(clouds.yaml) name, else C(default).
      - Defaults to the environment variable C(VIGIL_GUARD_DIR), else C(~/vigil/guard).
    type: path
"""
