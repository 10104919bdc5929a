# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Migratability: whether a server may move at all, and how (live or cold).

Live only when ACTIVE and neither pinned, PCI, vGPU nor marked not live-migratable; cold when
SHUTOFF, or ACTIVE with ``allow_cold_active`` (a reboot for the user); never when locked, with
a task in flight, on a host outside the model, or out of scope. Sets ``status``, ``mig_type``
('live', 'cold' or ''), ``movable`` and ``reason`` (why not, per server).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.constraints.tables import bool_col, str_col
from ansible_collections.vigil.openstack.plugins.module_utils.optional_libs import np

NAME = "migratability"


def setup(p, opts):
    inst = p.instances
    st = np.char.upper(str_col(inst, "status").astype(str)).astype(object)
    p.status = st
    task = str_col(inst, "task_state")
    task = np.where(np.isin(task, ("", "None", "none", "nan", "<NA>")), "", task)
    migr = str_col(inst, "migratable")
    migr = np.where(migr == "", "live", migr)
    no_live = bool_col(inst, "pinned") | bool_col(inst, "pci") | bool_col(inst, "vgpu") | (migr != "live")
    can_cold = np.isin(migr, ("live", "cold"))
    allow_cold = opts["allow_cold"]
    live = (st == "ACTIVE") & ~no_live & opts["allow_live"]
    cold_active = (st == "ACTIVE") & ~live & can_cold & allow_cold & opts["allow_cold_active"]
    cold_off = (st == "SHUTOFF") & can_cold & allow_cold
    p.mig_type = np.full(p.N, "", dtype=object)
    p.mig_type[live] = "live"
    p.mig_type[cold_active | cold_off] = "cold"
    locked = bool_col(inst, "locked")
    p.mig_type[locked | (task != "") | (p.orig_host < 0) | ~p.inst_in_scope] = ""
    p.movable = p.mig_type != ""
    # later assignments win: the reason a person can act on last
    why = np.full(p.N, "", dtype=object)
    why[(st != "ACTIVE") & (st != "SHUTOFF")] = "status does not allow migration"
    why[(st == "ACTIVE") & no_live & ~cold_active] = "cannot be live-migrated"
    why[(st == "SHUTOFF") & ~cold_off] = "cannot be cold-migrated"
    why[task != ""] = "task in progress"
    why[locked] = "locked"
    why[p.orig_host < 0] = "host not in the model"
    why[~p.inst_in_scope] = "out of scope"
    p.reason = np.where(p.movable, "", why)


def mask(p, i, src, m):
    return bool(p.movable[i])


def reason(p, i, src, h):
    if not p.movable[i]:
        return "instance %s: %s" % (p.uuids[i], p.reason[i] or "not movable")
    return ""
