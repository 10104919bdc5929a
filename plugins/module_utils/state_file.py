# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""The progress of one plan on disk: a JSON snapshot plus an append-only journal (docs/apply.md).

``<state>`` is the snapshot operators read: ``{plan_id, model_digest, generation, actions:
{id: {state, ...}}}``. ``<state>.journal`` holds what changed since: a header line
``{"journal": 1, "plan_id": ..., "generation": N}``, then one JSON line per changed action
(``{"action": id, "entry": {...}}``, the whole entry) or top-level field (``{"top": {...}}``).
A save appends the lines of everything changed since the last save and fsyncs once, so
applying N actions writes O(N) bytes instead of rewriting the whole file each step. The
snapshot is rewritten (compacted: temporary file, fsync, ``os.replace``; then a fresh
journal) at the first save of a run, when the journal outgrows the snapshot, and at release.

Loading replays the journal over the snapshot only when the header names the snapshot's
plan and generation: a journal left by a crash between compaction steps, or beside a
snapshot an operator deleted, is ignored. Replay is idempotent (each line sets values), and a
torn last line (SIGKILL or power loss mid-write) is dropped: it was never fsynced, so the
executor had not acted on it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import glob
import hashlib
import json
import os
import re
import threading

from ansible_collections.vigil.openstack.plugins.module_utils.private_files import (
    UnsafeFile,
    fsync_directory,
    open_private,
    prepare_private_path,
    replace_private,
    temp_prefix,
    write_all,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - not on POSIX: no cross-process lock
    fcntl = None

PENDING, ONGOING, SUCCEEDED, FAILED, SKIPPED, CANCELLED = (
    "PENDING",
    "ONGOING",
    "SUCCEEDED",
    "FAILED",
    "SKIPPED",
    "CANCELLED",
)
STATES = (PENDING, ONGOING, SUCCEEDED, FAILED, SKIPPED, CANCELLED)
TERMINAL = (SUCCEEDED, FAILED, SKIPPED, CANCELLED)

JOURNAL_SUFFIX = ".journal"
# Compact when the journal is this many times the snapshot (plus a floor, so a small plan is
# not compacted every step): bytes written stay linear in the number of transitions.
COMPACT_RATIO = 2
COMPACT_FLOOR = 256 * 1024
# Plan ids that may name a file in state_dir: no separator, no leading dot, not too long.
SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class PlanExecutionError(Exception):
    """The plan cannot be run (invalid, wrong state file, another run in progress); nothing was executed."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def state_path_for_id(state_dir, plan_id):
    """``state_dir/<plan id>.json``; refuse an id that would name a file elsewhere (``../x``, ``a/b``)."""
    if not isinstance(plan_id, str) or not SAFE_ID.match(plan_id):
        raise PlanExecutionError(
            "plan id %r cannot name a state file in %s (letters, digits, '.', '_', '-', at most 128, "
            "not starting with '.'): give state_file" % (plan_id, state_dir)
        )
    return os.path.join(state_dir, plan_id + ".json")


class _Tracked(dict):
    """A dict that tells its owner when it changes, so a save journals exactly what changed.

    The executor may change entries in place (``entry["state"] = PENDING``) as well as through
    ``StateFile.set``; both reach the disk at the next save.
    """

    __slots__ = ("_touch", "_key")

    def __init__(self, data, touch, key):
        dict.__init__(self, data)
        self._touch, self._key = touch, key

    def _changed(self):
        self._touch(self._key)

    def __setitem__(self, key, value):
        dict.__setitem__(self, key, value)
        self._changed()

    def __delitem__(self, key):
        dict.__delitem__(self, key)
        self._changed()

    def update(self, *args, **kwargs):
        dict.update(self, *args, **kwargs)
        self._changed()

    def setdefault(self, key, default=None):
        if key not in self:
            self._changed()
        return dict.setdefault(self, key, default)

    def pop(self, *args):
        self._changed()
        return dict.pop(self, *args)

    def popitem(self):
        self._changed()
        return dict.popitem(self)

    def clear(self):
        dict.clear(self)
        self._changed()


_TOP = object()  # the key under which top-level changes are tracked


class StateFile:
    """The progress of one plan on disk; ``data`` is ``{plan_id, model_digest, actions: {id: {state, ...}}}``."""

    def __init__(self, path, plan, now=utcnow):
        self.path = path
        self.journal_path = path + JOURNAL_SUFFIX if path else None
        self.now = now
        self._lock = threading.Lock()
        self._flock = None
        self.data = None
        self.plan = plan
        self._dirty = set()
        self._journal = None  # fd of the journal of the current generation, once compacted this run
        self._journal_bytes = 0
        self._snapshot_bytes = 0
        self.bytes_written = 0  # snapshot + journal bytes written by this object (benchmarks read it)

    # -- lock ----------------------------------------------------------------------------
    def acquire(self):
        """Take an exclusive lock beside the state file so two runs never drive one plan."""
        if self.path is None or fcntl is None:
            return
        handle, holder = take_lock(self.path + ".lock", str(os.getpid()))
        if handle is None:
            raise PlanExecutionError(
                "another run (pid %s) holds the state file %s (lock %s.lock)" % (holder, self.path, self.path)
            )
        self._flock = handle
        self._remove_temp_files()

    def release(self):
        try:
            if self._flock is not None and self.data is not None and self._journal is not None:
                self._compact()  # leave one readable snapshot behind, whatever stopped the run
        except OSError:
            pass  # the journal already holds every saved transition; the next run compacts
        finally:
            if self._journal is not None:
                os.close(self._journal)
                self._journal = None
            if self._flock is not None:
                self._flock.close()
                self._flock = None

    def _temp_prefix(self):
        return temp_prefix(self.path)  # the journal's temporary files too: one glob finds both

    def _remove_temp_files(self):
        """Temporary files of this state file are leftovers of a killed run (we hold the lock)."""
        directory = os.path.dirname(os.path.abspath(self.path))
        for leftover in glob.glob(os.path.join(glob.escape(directory), glob.escape(self._temp_prefix()) + "*")):
            try:
                if os.lstat(leftover).st_uid == os.geteuid():
                    os.unlink(leftover)  # unlinks a symlink itself, never its target
            except OSError:
                pass

    # -- read ----------------------------------------------------------------------------
    def _read(self, path):
        """The text of a state or journal file, or None when absent; refuses unsafe files."""
        try:
            fd = open_private(path, os.O_RDONLY)
        except FileNotFoundError:
            return None
        except UnsafeFile as exc:
            raise PlanExecutionError(str(exc)) from None
        with os.fdopen(fd, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def _replay(self, existing, text):
        """Apply journal ``text`` to ``existing`` (in place) when it is the snapshot's journal."""
        lines = (text or "").split("\n")
        if lines[-1] == "":
            lines.pop()
        records = []
        for number, line in enumerate(lines, 1):
            try:
                records.append(json.loads(line))
            except ValueError:
                if number == len(lines):
                    break  # a write cut short: never fsynced, so nothing was done after it
                raise PlanExecutionError(
                    "state journal %s: line %d is not JSON (damaged); remove the journal to go back to %s"
                    % (self.journal_path, number, self.path)
                ) from None
        if not records:
            return
        header = records[0]
        if not (
            isinstance(header, dict)
            and header.get("journal") == 1
            and header.get("plan_id") == existing.get("plan_id")
            and header.get("generation") == existing.get("generation", 0)
        ):
            return  # already folded into the snapshot, or left beside a snapshot since replaced
        for number, record in enumerate(records[1:], 2):
            if isinstance(record, dict) and isinstance(record.get("entry"), dict) and "action" in record:
                existing["actions"][record["action"]] = record["entry"]
            elif isinstance(record, dict) and isinstance(record.get("top"), dict):
                existing.update(record["top"])
            else:
                raise PlanExecutionError(
                    "state journal %s: line %d is not a state record" % (self.journal_path, number)
                )

    def load(self):
        """Load the state (or start a fresh one); raise when it belongs to another plan or is unsafe."""
        existing = None
        text = self._read(self.path) if self.path else None
        if text is not None:
            try:
                existing = json.loads(text)
            except ValueError as exc:
                raise PlanExecutionError("state file %s is not valid JSON: %s" % (self.path, exc)) from None
            if not isinstance(existing, dict) or not isinstance(existing.get("actions"), dict):
                raise PlanExecutionError("state file %s has no 'actions' mapping" % self.path)
            if existing.get("plan_id") != self.plan.get("id"):
                raise PlanExecutionError(
                    "state file %s belongs to plan %s, not to plan %s"
                    % (self.path, existing.get("plan_id"), self.plan.get("id"))
                )
            self._replay(existing, self._read(self.journal_path))
        now = self.now()
        data = existing or {
            "plan_id": self.plan.get("id"),
            "model_digest": self.plan.get("model_digest"),
            "created": now,
        }
        data.setdefault("runs", 0)
        data.setdefault("generation", 0)
        actions = data.setdefault("actions", {})
        for action in self.plan["actions"]:
            aid = action["id"]
            entry = actions.setdefault(
                aid, {"state": PENDING, "started": None, "finished": None, "error": None, "attempts": 0}
            )
            if not isinstance(entry, dict):
                raise PlanExecutionError(
                    "state file %s: action %s is %s, not a mapping" % (self.path, aid, type(entry).__name__)
                )
            entry["type"] = action["type"]
            entry["resource"] = action["resource"]
            if entry.get("state") not in STATES:
                raise PlanExecutionError(
                    "state file %s: action %s has unknown state %r" % (self.path, aid, entry.get("state"))
                )
            actions[aid] = _Tracked(entry, self._dirty.add, aid)
        self.data = _Tracked(data, self._dirty.add, _TOP)
        self._dirty.clear()
        return self.data

    # -- change ----------------------------------------------------------------------------
    def entry(self, action_id):
        return self.data["actions"][action_id]

    def set(self, action_id, state, save=True, **fields):
        with self._lock:
            entry = self.data["actions"][action_id]
            entry["state"] = state
            entry.update(fields)
            if save:
                self.save()

    def save(self):
        """Make every change since the last save durable: one append and one fsync."""
        if self.path is None:
            return
        self.data["updated"] = self.now()
        if self._journal is None or self._journal_bytes > COMPACT_RATIO * self._snapshot_bytes + COMPACT_FLOOR:
            self._compact()
            return
        lines = []
        for key in self._dirty:
            if key is _TOP:
                lines.append({"top": {k: v for k, v in self.data.items() if k != "actions"}})
            else:
                lines.append({"action": key, "entry": self.data["actions"][key]})
        self._dirty.clear()
        payload = "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines).encode("utf-8")
        write_all(self._journal, payload)
        self.bytes_written += len(payload)
        os.fsync(self._journal)
        self._journal_bytes += len(payload)

    def _compact(self):
        """Rewrite the snapshot (next generation), then start its journal empty."""
        directory = prepare_private_path(self.path)
        self.data["generation"] = int(self.data.get("generation") or 0) + 1
        snapshot = json.dumps(self.data, indent=1, sort_keys=True).encode("utf-8")
        header = json.dumps(
            {"journal": 1, "plan_id": self.data.get("plan_id"), "generation": self.data["generation"]}
        ).encode("utf-8")
        # Snapshot first: a crash before the journal is replaced leaves a journal of the old
        # generation, which load() ignores (its records are in the snapshot already).
        os.close(self._replace(self.path, snapshot))
        journal = self._replace(self.journal_path, header + b"\n")
        if self._journal is not None:
            os.close(self._journal)
        self._journal = journal
        self._journal_bytes = 0
        self._snapshot_bytes = len(snapshot)
        self._dirty.clear()
        fsync_directory(directory)

    def _replace(self, path, payload):
        """Write ``payload`` to a new 0600 file, rename it over ``path``; return its fd, still open."""
        fd = replace_private(path, payload, keep_open=True, sync_directory=False, prefix=self._temp_prefix())
        self.bytes_written += len(payload)
        return fd


def take_lock(path, note):
    """Hold an exclusive ``flock`` on ``path`` (a private file): ``(handle, None)``, or
    ``(None, what the holder wrote)`` when another process holds it. ``note`` is written
    into the file only once the lock is ours, so a refused run never clobbers the holder's.
    """
    try:
        prepare_private_path(path)
        fd = open_private(path, os.O_RDWR | os.O_CREAT)
    except UnsafeFile as exc:
        raise PlanExecutionError(str(exc)) from None
    handle = os.fdopen(fd, "r+")
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        holder = handle.read().strip() or "?"
        handle.close()
        return None, holder
    handle.seek(0)
    handle.truncate()
    handle.write(note)
    handle.flush()
    return handle, None


class PlanLock:
    """One run per plan on this controller, whatever state file each run was given.

    The state file's own lock cannot see a second run started with another ``state_file``:
    both would send the same migrations (Nova answers the second with 409s). The lock lives in
    ``directory`` (plan_apply's ``state_dir``), named by a digest of the plan id.
    """

    def __init__(self, directory, plan_id, state_path):
        digest = hashlib.sha256(str(plan_id).encode("utf-8")).hexdigest()[:20]
        self.path = os.path.join(os.path.expanduser(directory), "plan-%s.lock" % digest)
        self.plan_id, self.state_path = plan_id, state_path
        self._handle = None

    def acquire(self):
        if fcntl is None:
            return
        note = json.dumps({"pid": os.getpid(), "state_file": self.state_path})
        handle, holder = take_lock(self.path, note)
        if handle is None:
            try:
                other = json.loads(holder)
            except ValueError:
                other = {"pid": holder}
            raise PlanExecutionError(
                "another vigil run (pid %s) is applying plan %s with the state file %s; two runs would send "
                "the same actions twice: wait for it to end or stop it (lock %s)"
                % (other.get("pid", "?"), self.plan_id, other.get("state_file") or "?", self.path)
            )
        self._handle = handle

    def release(self):
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_state(path):
    """The state as the next run will see it (snapshot plus journal), for tools and tests; {} when absent."""
    reader = StateFile(str(path), {"actions": []})
    journal = reader._read(reader.journal_path)  # before the snapshot: a run may compact meanwhile
    text = reader._read(reader.path)
    if text is None:
        return {}
    data = json.loads(text)
    reader._replay(data, journal)
    return data
