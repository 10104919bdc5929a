# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Guards that keep a storm of events from becoming a storm of plans (docs/events.md).

One ledger per cloud, ``<state_dir>/guard-<cloud>.json``, shared by every process that starts
audits or plans for that cloud (rulebook runs, AWX schedules, people). It holds:

- ``lease``: the one plan allowed at a time per cloud (holder, taken, expires). A lease that
  outlived its ``expires`` belongs to a run that died; the next taker replaces it, saying so.
- ``audits``: when each goal's last admitted audit started (minimum interval between two).
- ``power_on``: when each host was last powered on (no power-off within the hysteresis).
- ``alerts``: when each alert fingerprint was last admitted (repeats in the window are dropped).

Every decision, allowed or not, is appended with its reason to ``<state_dir>/guard-<cloud>.log``
(one JSON line each), so an operator can tell why an alert did or did not start an audit.
Read-modify-write of the ledger happens under ``take_lock`` on ``guard-<cloud>.lock``, the
same cross-process lock the state files use; the lock is held for milliseconds, not for a run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import re
import time

from ansible_collections.vigil.openstack.plugins.module_utils.private_files import (
    UnsafeFile,
    append_private,
    open_private,
    prepare_private_path,
    replace_private,
)
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import PlanExecutionError, take_lock

SAFE_CLOUD = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$")
LOCK_WAIT = 10.0  # seconds to wait for another process's ledger update (milliseconds in practice)
GUARD_DIR_ENV = "VIGIL_GUARD_DIR"
DEFAULT_GUARD_DIR = "~/vigil/guard"
DEFAULT_POWER_HYSTERESIS = 1800  # seconds: half an hour without a power-off after a power-on


# What the storm_guard module's ``decision`` option names, and the method that decides it.
DECISIONS = {
    "alert": "admit_alert",
    "audit": "admit_audit",
    "power_on": "record_power_on",
    "power_off": "admit_power_off",
    "acquire_plan": "acquire_plan",
    "release_plan": "release_plan",
}


def guard_dir(value=None):
    """The ledger directory: the option, else ``$VIGIL_GUARD_DIR``, else ``~/vigil/guard``."""
    return value or os.environ.get(GUARD_DIR_ENV) or DEFAULT_GUARD_DIR


def ledger_cloud(cloud):
    """The ledger's cloud name: the clouds.yaml name, or ``default`` when the connection comes
    from ``OS_*`` variables or an inline mapping (as event_audit.yml's ``vigil_guard_cloud``)."""
    return cloud if isinstance(cloud, str) and cloud else "default"


def power_guard_options():
    """The options of the modules that power hosts (node_power, plan_apply): docs in each module."""
    return dict(
        power_hysteresis=dict(type="int", default=DEFAULT_POWER_HYSTERESIS),
        guard_dir=dict(type="path"),
    )


def power_guard(params, dry_run=False):
    """The guard that holds the power hysteresis for a module's ``cloud``, ``guard_dir`` and
    ``power_hysteresis``; None when the hysteresis is 0 (off). Raises GuardError on bad values."""
    seconds = params.get("power_hysteresis")
    if seconds == 0 or seconds is None:
        return None
    return StormGuard(
        guard_dir(params.get("guard_dir")),
        ledger_cloud(params.get("cloud")),
        power_hysteresis=seconds,
        dry_run=dry_run,
    )


class GuardError(Exception):
    """The guard cannot decide (unsafe path, damaged ledger, lock never free); nothing was changed."""


class Decision:
    """What a guard decided and why; truthy when allowed."""

    __slots__ = ("allowed", "reason", "kind", "subject")

    def __init__(self, kind, subject, allowed, reason):
        self.kind, self.subject, self.allowed, self.reason = kind, subject, allowed, reason

    def __bool__(self):
        return self.allowed

    def as_dict(self):
        return {"kind": self.kind, "subject": self.subject, "allowed": self.allowed, "reason": self.reason}


class StormGuard:
    """The guards of one cloud. Times are seconds; ``clock`` is injectable for tests."""

    def __init__(
        self,
        state_dir,
        cloud,
        min_audit_interval=900,
        power_hysteresis=1800,
        dedup_window=300,
        lease_ttl=3600,
        clock=time.time,
        dry_run=False,
    ):
        if not isinstance(cloud, str) or not SAFE_CLOUD.match(cloud):
            raise GuardError(
                "cloud name %r cannot name a guard file (letters, digits, '.', '_', '-', at most 64)" % (cloud,)
            )
        for name, value in (
            ("min_audit_interval", min_audit_interval),
            ("power_hysteresis", power_hysteresis),
            ("dedup_window", dedup_window),
            ("lease_ttl", lease_ttl),
        ):
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                raise GuardError("%s must be a number of seconds >= 0, got %r" % (name, value))
        base = os.path.join(os.path.expanduser(state_dir), "guard-%s" % cloud)
        self.ledger_path, self.log_path, self.lock_path = base + ".json", base + ".log", base + ".lock"
        self.cloud = cloud
        self.min_audit_interval, self.power_hysteresis = min_audit_interval, power_hysteresis
        self.dedup_window, self.lease_ttl = dedup_window, lease_ttl
        self.clock = clock
        self.dry_run = dry_run  # decide and say so, write nothing (check mode)
        self.last_change = None  # (ledger before, ledger after) of the last decision, for diff mode

    # -- the decisions ---------------------------------------------------------------------
    def admit_alert(self, fingerprint):
        """Drop an alert seen (and admitted) less than ``dedup_window`` ago."""

        def decide(ledger, now):
            last = ledger["alerts"].get(fingerprint)
            if last is not None and now - last < self.dedup_window:
                return False, "repeat of alert %s admitted %ds ago (dedup window %ds)" % (
                    fingerprint,
                    now - last,
                    self.dedup_window,
                )
            ledger["alerts"][fingerprint] = now
            # forget fingerprints that can no longer match, so the ledger stays small
            ledger["alerts"] = {
                k: v for k, v in ledger["alerts"].items() if now - v < self.dedup_window or k == fingerprint
            }
            return True, "first alert %s in the last %ds" % (fingerprint, self.dedup_window)

        return self._decide("alert", fingerprint, decide)

    def admit_audit(self, goal):
        """Start an audit of ``goal`` only when the last one started ``min_audit_interval`` ago."""

        def decide(ledger, now):
            last = ledger["audits"].get(goal)
            if last is not None and now - last < self.min_audit_interval:
                return False, "an audit of goal %s started %ds ago (minimum interval %ds)" % (
                    goal,
                    now - last,
                    self.min_audit_interval,
                )
            ledger["audits"][goal] = now
            return True, "no audit of goal %s in the last %ds" % (goal, self.min_audit_interval)

        return self._decide("audit", goal, decide)

    def record_power_on(self, host):
        def decide(ledger, now):
            ledger["power_on"][host] = now
            return True, "host %s powered on: no power-off for %ds" % (host, self.power_hysteresis)

        return self._decide("power_on", host, decide)

    def admit_power_off(self, host):
        """Refuse to power ``host`` off within ``power_hysteresis`` of powering it on (as DPM does)."""

        def decide(ledger, now):
            last = ledger["power_on"].get(host)
            if last is not None and now - last < self.power_hysteresis:
                return False, "host %s was powered on %ds ago (power hysteresis %ds)" % (
                    host,
                    now - last,
                    self.power_hysteresis,
                )
            return True, "host %s not powered on in the last %ds" % (host, self.power_hysteresis)

        return self._decide("power_off", host, decide)

    def acquire_plan(self, holder):
        """Take the cloud's one plan lease for ``holder`` (a run id); refused while another holds it."""

        def decide(ledger, now):
            lease = ledger.get("lease")
            if lease and lease.get("holder") != holder and now < lease.get("expires", 0):
                return False, "plan lease of cloud %s held by %s since %ds (expires in %ds)" % (
                    self.cloud,
                    lease.get("holder"),
                    now - lease.get("taken", now),
                    lease["expires"] - now,
                )
            note = ""
            if lease and lease.get("holder") != holder:
                note = " (replaced the expired lease of %s)" % lease.get("holder")
            ledger["lease"] = {"holder": holder, "taken": now, "expires": now + self.lease_ttl}
            return True, "plan lease of cloud %s taken for %ds%s" % (self.cloud, self.lease_ttl, note)

        return self._decide("plan_lease", holder, decide)

    def release_plan(self, holder):
        def decide(ledger, now):
            lease = ledger.get("lease")
            if not lease or lease.get("holder") != holder:
                return False, "plan lease of cloud %s is not held by %s (holder: %s)" % (
                    self.cloud,
                    holder,
                    (lease or {}).get("holder"),
                )
            ledger["lease"] = None
            return True, "plan lease of cloud %s released" % self.cloud

        return self._decide("plan_release", holder, decide)

    def decide(self, decision, subject):
        """Run the guard named ``decision`` (a key of ``DECISIONS``) on ``subject``."""
        if decision not in DECISIONS:
            raise GuardError("unknown guard decision %r (one of %s)" % (decision, ", ".join(sorted(DECISIONS))))
        return getattr(self, DECISIONS[decision])(subject)

    # -- the ledger ------------------------------------------------------------------------
    def _decide(self, kind, subject, decide):
        if not isinstance(subject, str) or not subject:
            raise GuardError("%s: the subject must be a non-empty string, got %r" % (kind, subject))
        handle = self._lock()
        try:
            ledger = self._read()
            now = self.clock()
            before = json.dumps(ledger, indent=1, sort_keys=True)
            allowed, reason = decide(ledger, now)
            after = json.dumps(ledger, indent=1, sort_keys=True)
            self.last_change = (before, after) if after != before else None
            decision = Decision(kind, subject, allowed, reason)
            if self.dry_run:
                return decision
            if self.last_change:
                replace_private(self.ledger_path, after.encode("utf-8"))
            record = dict(decision.as_dict(), time=now, cloud=self.cloud)
            append_private(self.log_path, json.dumps(record, sort_keys=True) + "\n")
            return decision
        finally:
            handle.close()

    def _lock(self):
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            try:
                handle, holder = take_lock(self.lock_path, str(os.getpid()))
            except PlanExecutionError as exc:  # an unsafe lock path
                raise GuardError(str(exc)) from None
            if handle is not None:
                return handle
            if time.monotonic() > deadline:
                raise GuardError(
                    "guard ledger %s stayed locked by pid %s for %ss" % (self.lock_path, holder, LOCK_WAIT)
                )
            time.sleep(0.01)

    def _read(self):
        empty = {"lease": None, "audits": {}, "power_on": {}, "alerts": {}}
        try:
            prepare_private_path(self.ledger_path)
            fd = open_private(self.ledger_path, os.O_RDONLY)
        except FileNotFoundError:
            return empty
        except UnsafeFile as exc:
            raise GuardError(str(exc)) from None
        with os.fdopen(fd, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        try:
            ledger = json.loads(text)
        except ValueError:
            raise GuardError(
                "guard ledger %s is not JSON (damaged): remove it to start afresh" % self.ledger_path
            ) from None
        if not isinstance(ledger, dict):
            raise GuardError("guard ledger %s is not a mapping: remove it to start afresh" % self.ledger_path)
        for key, value in empty.items():
            if not isinstance(ledger.get(key), type(value)) and not (
                key == "lease" and isinstance(ledger.get(key), dict)
            ):
                ledger[key] = value
        return ledger

    def decisions(self):
        """Every decision logged so far for this cloud (oldest first), for reports and tests."""
        try:
            fd = open_private(self.log_path, os.O_RDONLY)
        except FileNotFoundError:
            return []
        except UnsafeFile as exc:
            raise GuardError(str(exc)) from None
        with os.fdopen(fd, "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
