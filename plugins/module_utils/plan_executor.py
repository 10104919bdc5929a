# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Run a whole plan: validate, check staleness, run the DAG under concurrency limits, keep a state file.

The scheduler runs in the calling thread; actions run in a thread pool. Every state
transition (PENDING -> ONGOING -> SUCCEEDED | FAILED | SKIPPED | CANCELLED) is written to the
state file (``state_file.py``: an fsynced journal line, mode 0600) by the scheduler thread
before anything else happens, so the file always tells what may have been sent to the cloud. An action is
marked ONGOING *before* its executor starts; a re-run after a crash re-checks it against the
live cloud (its executor's ``done``/``in_progress``) instead of sending it again, and never
runs a SUCCEEDED action again.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import collections
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from ansible_collections.vigil.openstack.plugins.module_utils import dag
from ansible_collections.vigil.openstack.plugins.module_utils import limits as limitslib
from ansible_collections.vigil.openstack.plugins.module_utils.action_types import migration_source
from ansible_collections.vigil.openstack.plugins.module_utils.actions.base import (
    ActionError,
    Interrupted,
    RefusedAction,
    StaleAction,
)
from ansible_collections.vigil.openstack.plugins.module_utils.actions.registry import EXECUTORS, executor_for
from ansible_collections.vigil.openstack.plugins.module_utils.errors import http_status, one_line
from ansible_collections.vigil.openstack.plugins.module_utils.plan import validate_plan
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import (  # noqa: F401 - re-exported
    CANCELLED,
    FAILED,
    ONGOING,
    PENDING,
    SKIPPED,
    STATES,
    SUCCEEDED,
    TERMINAL,
    PlanExecutionError,
    PlanLock,
    StateFile,
    utcnow,
)

RESOURCE_SAMPLE = 10  # actions read before the run to tell a plan for another cloud
UNVERIFIABLE = ("nop", "sleep")  # action types with no post-condition in the cloud
RECHECK_SAMPLE = 20  # SUCCEEDED actions a resume re-reads beyond the parents it relies on
CANCEL_POLL_S = 0.5  # how often the scheduler looks for a cancel while actions run


def normalize_limits(limits):
    """plan_apply's ``concurrency`` in the one format of limits.py (PlanExecutionError naming a bad key)."""
    try:
        return limitslib.normalize(limits, name="concurrency")
    except limitslib.LimitsError as exc:
        raise PlanExecutionError(str(exc)) from None


def pool_size(limits, actions):
    """Worker threads: the total limit, or one per action (at most 256) when it is unlimited."""
    return limits["total"] or max(1, min(256, len(actions)))


class PlanExecutor:
    """Drive one plan to completion (or to a clean stop).

    `make_ctx` returns the context of one executor (connection etc.); it is called in the
    worker thread that runs the action, so per-thread clients can be built there.
    """

    def __init__(
        self,
        plan,
        state_path=None,
        make_ctx=None,
        on_stale="skip",
        on_failure="stop",
        limits=None,
        executors=None,
        log=None,
        now=utcnow,
        model_digest=None,
        only=None,
        retry_failed=False,
        on_drift="stop",
        plan_lock_dir=None,
    ):
        if on_stale not in ("skip", "stop"):
            raise PlanExecutionError("on_stale must be skip or stop, got %r" % on_stale)
        if on_failure not in ("stop", "continue_independent"):
            raise PlanExecutionError("on_failure must be stop or continue_independent, got %r" % on_failure)
        if on_drift not in ("stop", "rerun"):
            raise PlanExecutionError("on_drift must be stop or rerun, got %r" % on_drift)
        self.plan = plan
        self.make_ctx = make_ctx or (lambda: {})
        self.on_stale = on_stale
        self.on_failure = on_failure
        self.limits = normalize_limits(limits)
        self.executors = executors or EXECUTORS
        self.log = log or (lambda msg: None)
        self.now = now
        self.model_digest = model_digest
        self.only = set(only) if only else None  # run just these action ids (a wave, one action)
        self.retry_failed = bool(retry_failed)
        self.on_drift = on_drift
        self.state = StateFile(state_path, plan, now=now)
        # one run per plan, whatever state file (None: the state file's own lock only)
        self.plan_lock = PlanLock(plan_lock_dir, plan.get("id"), state_path) if plan_lock_dir else None
        self.results = {}
        self.provider_names = {}
        self.stopped = None  # reason the plan stopped early
        self._cursor = 0  # first action of the plan that may still become ready (see _ready)
        self.drifted = []  # actions recorded SUCCEEDED that no longer hold (run again under on_drift: rerun)
        # Set by cancel() (a signal handler): executors' waits end, nothing new starts.
        self.cancelled = threading.Event()
        self.cancel_reason = None

    def cancel(self, reason):
        """Stop the run: start nothing new, end the waits of running actions (they stay ONGOING).

        Safe to call from a signal handler: it only sets a flag and an event.
        """
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self.cancelled.set()

    def context(self):
        """A fresh executor context whose waits end when the run is cancelled."""
        ctx = self.make_ctx()
        for waiter in (ctx.get("poller"), ctx.get("server_watch")):
            if waiter is not None and getattr(waiter, "stop", None) is None:
                waiter.stop = self.cancelled
        # One cache of Placement provider names for every worker thread (names do not change).
        ctx.setdefault("provider_names", self.provider_names)
        return ctx

    # -- validation ------------------------------------------------------------------
    def preflight(self):
        """Raise PlanExecutionError naming every problem of the plan; nothing is executed."""
        errors = validate_plan(self.plan)
        if errors:
            raise PlanExecutionError(
                "invalid plan: "
                + "; ".join(errors[:20])
                + (" (and %d more)" % (len(errors) - 20) if len(errors) > 20 else "")
            )
        unknown = sorted({a["type"] for a in self.plan["actions"] if a["type"] not in self.executors})
        if unknown:
            raise PlanExecutionError("no executor for action type(s) %s" % ", ".join(unknown))
        if self.model_digest and self.plan.get("model_digest") and self.model_digest != self.plan["model_digest"]:
            raise PlanExecutionError(
                "plan %s was computed from model %s, not from the given model %s"
                % (self.plan["id"], self.plan["model_digest"], self.model_digest)
            )
        if self.only:
            unknown_ids = sorted(self.only - {a["id"] for a in self.plan["actions"]})
            if unknown_ids:
                raise PlanExecutionError("only: unknown action id(s) %s" % ", ".join(unknown_ids))
        # Every action's input was checked above by validate_plan, with the schemas its executor
        # validates against (action_types.py): no second pass here.

    def check_resources(self, ctx):
        """Read a sample of the plan's resources; if none exists the plan is for another cloud."""
        sample = [a for a in self.plan["actions"] if a["type"] not in ("nop", "sleep") and self.selected(a["id"])]
        sample = [a for a in sample if self.state.entry(a["id"])["state"] != SUCCEEDED][:RESOURCE_SAMPLE]
        missing = []
        for action in sample:
            executor = executor_for(action, ctx, self.executors)
            try:
                state = executor.observe()
            except Exception as exc:  # noqa: BLE001 - an unreadable resource proves nothing; the run reports it
                status = http_status(exc)
                if status in (401, 403):
                    # Every action would fail the same way: refuse before the state file is written.
                    raise PlanExecutionError(
                        "cannot read %s %s: HTTP %s, these credentials lack the admin role the plan's actions need (%s)"
                        % (action["type"], action["resource"], status, one_line(exc))
                    ) from None
                return
            if executor.exists(state):
                return
            missing.append("%s: %s %s not found" % (action["id"], action["type"], action["resource"]))
        if missing:
            raise PlanExecutionError(
                "plan %s does not match this cloud: none of the %d resources read exists (%s)"
                % (self.plan["id"], len(missing), "; ".join(missing[:3]))
            )

    def recheck_succeeded(self):
        """Re-observe what an earlier run recorded SUCCEEDED before trusting it.

        A dependent trusts its parents (disable a host after its servers left it); if the cloud
        lost what the state file says happened (restored from a backup, changed by hand), it
        must not. Every such parent whose dependents are still to run is read, plus an even
        sample of the other SUCCEEDED actions; when the sample finds one that no longer holds
        the cloud went back in time, and all of them are read. Reads only, in parallel.
        Returns ``[(action id, what is wrong)]`` in plan order.
        """
        touched = collections.Counter(action["resource"] for action in self.plan["actions"])
        trusted, others = [], []
        for aid in self.order:
            action = self.actions[aid]
            if self.state.entry(aid)["state"] != SUCCEEDED or action["type"] in UNVERIFIABLE:
                continue
            if touched[action["resource"]] > 1:
                continue  # another action of the plan changes this resource again: nothing to compare
            waiting = [c for c in self.children[aid] if self.selected(c) and self.state.entry(c)["state"] != SUCCEEDED]
            (trusted if waiting else others).append(aid)
        step = max(1, len(others) // RECHECK_SAMPLE)
        sample = others[::step][:RECHECK_SAMPLE]
        problems = self._recheck(trusted + sample)
        if problems:
            sampled = set(sample)
            problems += self._recheck([aid for aid in others if aid not in sampled])
        position = {aid: i for i, aid in enumerate(self.order)}
        return sorted(problems, key=lambda item: position[item[0]])

    def _recheck(self, todo):
        if not todo:
            return []
        local = threading.local()

        def check(aid):
            if not hasattr(local, "ctx"):
                local.ctx = self.context()
            executor = executor_for(self.actions[aid], local.ctx, self.executors)
            try:
                state = executor.observe()
            except Exception as exc:  # noqa: BLE001 - an unreadable parent cannot be trusted either
                return "cannot re-read it: %s" % one_line(exc)
            if executor.done(state):
                return None
            now = executor.diff_view(state)
            return "%s; now %s, recorded %s" % (
                executor.describe(state),
                _fields(now),
                _fields(executor.postcondition or executor.predicted(state)),
            )

        with ThreadPoolExecutor(max_workers=pool_size(self.limits, todo), thread_name_prefix="vigil-recheck") as pool:
            problems = list(zip(todo, pool.map(check, todo)))
        return [(aid, problem) for aid, problem in problems if problem]

    def _apply_drift(self, drifted):
        if not drifted:
            return
        named = "; ".join("%s (%s)" % (aid, problem) for aid, problem in drifted[:10])
        more = " and %d more" % (len(drifted) - 10) if len(drifted) > 10 else ""
        if self.on_drift == "stop":
            raise PlanExecutionError(
                "resume: %d action(s) recorded SUCCEEDED in %s no longer hold in the cloud: %s%s. "
                "The cloud changed after that run (restored from a backup, or changed by hand); their "
                "dependents were not started. Plan again, or set on_drift: rerun to run these actions again"
                % (len(drifted), self.state.path, named, more)
            )
        for aid, problem in drifted:
            self.log("%s: recorded SUCCEEDED but no longer holds (%s): running it again" % (aid, problem))
            self.state.set(aid, PENDING, save=False, drift=problem)
        self.drifted = [aid for aid, _problem in drifted]

    # -- graph -----------------------------------------------------------------------
    def _graph(self):
        self.actions = {a["id"]: a for a in self.plan["actions"]}
        self.order = [a["id"] for a in self.plan["actions"]]
        self.children = dag.children_map(self.plan["actions"])

    def descendants(self, aid):
        return dag.descendants(self.children, aid)

    def waves(self):
        """Action ids by DAG level, in plan order within a level (what check mode shows)."""
        self._graph()
        return dag.levels(self.plan["actions"])

    # -- run ---------------------------------------------------------------------------
    def run(self, check_mode=False):
        self.preflight()
        self._graph()
        if check_mode:
            self.state.load()
            return self._check_mode()
        if self.plan_lock is not None:
            self.plan_lock.acquire()
        try:
            self.state.acquire()
            try:
                self.state.load()
                return self._run()
            finally:
                self.state.release()
        finally:
            if self.plan_lock is not None:
                self.plan_lock.release()

    def _run(self):
        self.check_resources(self.context())  # before the state file is first written
        data = self.state.data
        resuming = int(data.get("runs") or 0) > 0
        if resuming:
            # Before anything is written: a stop here leaves the state file as it was.
            self._apply_drift(self.recheck_succeeded())
        data["runs"] = int(data.get("runs") or 0) + 1
        # A re-run resumes: everything that did not succeed is considered again from the live
        # state, except what FAILED: that stays FAILED until the operator asks for a retry.
        failed_before = []
        for aid in self.order:
            entry = self.state.entry(aid)
            if entry["state"] == SUCCEEDED or not self.selected(aid):
                continue
            if entry["state"] == FAILED and not self.retry_failed:
                failed_before.append(aid)
                continue
            if entry["state"] == ONGOING:
                entry["resumed"] = True
            entry["state"] = PENDING
            entry["error"] = None
        for aid in failed_before:
            reason = "action %s failed in an earlier run (retry_failed: true runs it again)" % aid
            if self.on_failure == "stop":
                self._stop(reason)
            else:
                self._mark_descendants(aid, CANCELLED, "parent %s failed in an earlier run" % aid)
        if self.only is not None and self.on_failure == "stop":
            # wave by wave: a failure in an earlier wave stops this one too, as one run would
            failed = [aid for aid in self.order if not self.selected(aid) and self.state.entry(aid)["state"] == FAILED]
            if failed:
                self._stop("action %s failed earlier" % ", ".join(failed))
        self.state.save()
        return self._loop()

    def _loop(self):
        running = {}  # future -> action id
        local = threading.local()
        self._cursor = 0
        self.usage = limitslib.Usage(self.limits)
        self.position = {aid: n for n, aid in enumerate(self.order)}
        self.moves_left = collections.Counter(
            migration_source(self.actions[aid])
            for aid in self.order
            if self.selected(aid) and self.state.entry(aid)["state"] == PENDING
        )
        workers = pool_size(self.limits, self.order)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="vigil-apply") as pool:
            unsaved = False  # transitions of finished actions not yet written
            while True:
                if self.cancelled.is_set():
                    self._stop("cancelled: %s" % self.cancel_reason)
                starting = [] if self.stopped else self._start_ready(running)
                for aid in starting:  # _start_ready wrote them, with the finishes before them
                    running[pool.submit(self._execute, aid, local)] = aid
                if unsaved and not starting:
                    self.state.save()
                unsaved = False
                if not running:
                    break
                # Wake up now and then: a cancel must be seen even while long migrations run.
                done, _unused = wait(list(running), timeout=CANCEL_POLL_S, return_when=FIRST_COMPLETED)
                for future in done:
                    aid = running.pop(future)
                    self.usage.remove(self.actions[aid])
                    self._finish(aid, future.result())
                    unsaved = True
            self._cancel_rest()
            self.state.save()
        return self.summary()

    def _candidates(self, running):
        """Ready actions that fit the limits now, best first: plan order, except that the
        migrations among them go off the hosts with the most moves still to start first (the
        host that frees the most capacity, and the longest queue under a per-host limit). The
        scan stops once it holds a few times the free slots."""
        total = self.limits["total"]
        wanted = 4 * (total - self.usage.total) if total is not None else None
        found = []
        hosts = self.usage.copy(per_type=False)  # host limits only: candidates that can run together
        for aid in self._ready(running):
            if wanted is not None and len(found) >= wanted:
                break
            action = self.actions[aid]
            if self.usage.fits(action) and hosts.fits(action):
                hosts.add(action)
                found.append(aid)
        # Migrations trade places among themselves; other actions keep their place in the plan.
        slots = [n for n, aid in enumerate(found) if migration_source(self.actions[aid]) is not None]
        moves = sorted(
            (found[n] for n in slots),
            key=lambda aid: (-self.moves_left[migration_source(self.actions[aid])], self.position[aid]),
        )
        for n, aid in zip(slots, moves):
            found[n] = aid
        return found

    def _start_ready(self, running):
        """Mark ONGOING (and save) the ready actions that fit the limits; return their ids."""
        starting = []
        total = self.limits["total"]
        for aid in self._candidates(running):
            if total is not None and self.usage.total >= total:
                break  # full
            action = self.actions[aid]
            if not self.usage.fits(action):
                continue  # an earlier pick of this step took the room
            self.usage.add(action)
            source = migration_source(action)
            if source is not None:
                self.moves_left[source] -= 1
            entry = self.state.entry(aid)
            self.state.set(
                aid,
                ONGOING,
                save=False,
                started=self.now(),
                finished=None,
                attempts=int(entry.get("attempts") or 0) + 1,
            )
            starting.append(aid)
        if starting:
            # Transitions of one scheduler step are written together, and before any of these
            # actions can send anything.
            self.state.save()
            for aid in starting:
                self.log("%s: start %s %s" % (aid, self.actions[aid]["type"], self.actions[aid]["resource"]))
        return starting

    def _ready(self, running):
        # Actions at the front of the plan that are settled for this run never become ready
        # again: skip them once, so each scheduler step does not rescan the whole plan.
        cursor = self._cursor
        while cursor < len(self.order) and (
            not self.selected(self.order[cursor]) or self.state.entry(self.order[cursor])["state"] in TERMINAL
        ):
            cursor += 1
        self._cursor = cursor
        busy = set(running.values())
        for aid in self.order[cursor:]:
            if aid in busy or self.state.entry(aid)["state"] != PENDING or not self.selected(aid):
                continue
            parents = self.actions[aid].get("parents") or ()
            if all(self.state.entry(p)["state"] == SUCCEEDED for p in parents):
                yield aid

    def _execute(self, aid, local):
        """Runs in a worker thread; returns (state, fields). Never raises."""
        try:
            if not hasattr(local, "ctx"):
                local.ctx = self.context()
            # The context is shared by the actions of one thread: clients built lazily are reused.
            executor = executor_for(self.actions[aid], local.ctx, self.executors)
            executor.dependents = len(self.children[aid])
            result = executor.run(check_mode=False)
            return SUCCEEDED, {
                "changed": bool(result.get("changed")),
                "msg": result.get("msg"),
                "before": result.get("before"),
                "after": result.get("after"),
            }
        except Interrupted:
            # What it sent may still be under way: the next run re-checks it against the cloud.
            return ONGOING, {
                "error": "cancelled while in progress (%s); the next run re-checks it" % self.cancel_reason
            }
        except StaleAction as exc:
            return SKIPPED, {"error": "stale: %s" % exc}
        except RefusedAction as exc:
            return FAILED, {"error": "refused: %s" % exc}
        except ActionError as exc:
            return FAILED, {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - any other error fails this action, not the scheduler
            return FAILED, {"error": "%s: %s" % (type(exc).__name__, one_line(exc))}

    def _finish(self, aid, outcome):
        state, fields = outcome
        fields["finished"] = self.now() if state != ONGOING else None
        self.results[aid] = dict(fields)
        self.state.set(aid, state, save=False, **{k: v for k, v in fields.items() if k not in ("before", "after")})
        self.log("%s: %s %s" % (aid, state, fields.get("error") or fields.get("msg") or ""))
        if state == FAILED:
            if self.on_failure == "stop":
                self._stop("action %s failed" % aid)
            else:
                self._mark_descendants(aid, CANCELLED, "parent %s failed" % aid)
        elif state == SKIPPED:
            if self.on_stale == "stop":
                self._stop("action %s is stale" % aid)
            else:
                self._mark_descendants(aid, SKIPPED, "parent %s was skipped" % aid)

    def _mark_descendants(self, aid, state, reason):
        for child in self.descendants(aid):
            if self.state.entry(child)["state"] == PENDING:
                self.state.set(child, state, save=False, error=reason, finished=self.now())

    def _stop(self, reason):
        if not self.stopped:
            self.stopped = reason

    def _cancel_rest(self):
        for aid in self.order:
            if self.state.entry(aid)["state"] == PENDING and self.selected(aid):
                waiting = [
                    p for p in self.actions[aid].get("parents") or () if self.state.entry(p)["state"] != SUCCEEDED
                ]
                if waiting or not self.stopped:  # the closer cause first
                    reason = "parent(s) did not succeed: %s" % ", ".join(waiting)
                else:
                    reason = "plan stopped: %s" % self.stopped
                self.state.set(aid, CANCELLED, save=False, error=reason, finished=self.now())

    def selected(self, aid):
        return self.only is None or aid in self.only

    # -- check mode ----------------------------------------------------------------------
    def _check_mode(self):
        """What would run, in which order; reads only, writes nothing (not even the state file)."""
        ctx = self.context()
        drifted = dict(self.recheck_succeeded()) if int(self.state.data.get("runs") or 0) > 0 else {}
        verdict = {}
        order = []
        for wave_no, wave in enumerate(self.waves(), 1):
            for aid in wave:
                action = self.actions[aid]
                entry = self.state.entry(aid)
                parents = action.get("parents") or ()
                if aid in drifted:
                    if self.on_drift == "stop":
                        would, msg = "fail", "recorded SUCCEEDED but no longer holds: %s" % drifted[aid]
                    else:
                        would, msg = "run", "recorded SUCCEEDED but no longer holds, would run again: %s" % drifted[aid]
                elif entry["state"] == SUCCEEDED:
                    would, msg = "done", "succeeded in an earlier run (state file)"
                elif entry["state"] == FAILED and not self.retry_failed:
                    would, msg = (
                        "fail",
                        "failed in an earlier run: %s (retry_failed: true runs it again)" % (entry.get("error") or "?"),
                    )
                elif any(verdict[p] in ("fail", "skip", "cancel") for p in parents):
                    would, msg = "cancel", "a parent would not succeed"
                elif any(verdict[p] == "run" for p in parents):
                    would, msg = "run", "after its parents; its pre-condition is checked then"
                else:
                    would, msg = self._check_one(action, ctx)
                verdict[aid] = would
                if not self.selected(aid):
                    continue
                order.append(
                    {
                        "id": aid,
                        "wave": wave_no,
                        "type": action["type"],
                        "resource": action["resource"],
                        "would": would,
                        "msg": msg,
                        "parents": list(parents),
                    }
                )
        counts = {}
        for item in order:
            counts[item["would"]] = counts.get(item["would"], 0) + 1
        return {
            "plan_id": self.plan["id"],
            "check_mode": True,
            "order": order,
            "counts": counts,
            "changed": counts.get("run", 0) > 0,
            "failed_actions": [],
        }

    def _check_one(self, action, ctx):
        try:
            result = executor_for(action, ctx, self.executors).run(check_mode=True)
        except StaleAction as exc:
            return ("cancel" if self.on_stale == "stop" else "skip"), "stale: %s" % exc
        except RefusedAction as exc:
            return "fail", "refused: %s" % exc
        except ActionError as exc:
            return "fail", str(exc)
        except Exception as exc:  # noqa: BLE001 - a read error: report, keep listing
            return "fail", "%s: %s" % (type(exc).__name__, one_line(exc))
        if not result.get("changed"):
            return "done", result.get("msg") or "already done"
        return "run", result.get("msg")

    # -- result ------------------------------------------------------------------------
    def summary(self):
        counts = dict((s, 0) for s in STATES)
        actions = []
        for aid in self.order:
            if not self.selected(aid):
                continue
            entry = self.state.entry(aid)
            counts[entry["state"]] += 1
            item = {
                "id": aid,
                "type": self.actions[aid]["type"],
                "resource": self.actions[aid]["resource"],
                "state": entry["state"],
                "started": entry.get("started"),
                "finished": entry.get("finished"),
                "attempts": entry.get("attempts", 0),
                "error": entry.get("error"),
                "changed": bool(self.results.get(aid, {}).get("changed", False)),
                "msg": self.results.get(aid, {}).get("msg") or entry.get("msg"),
            }
            if aid in self.results and "before" in self.results[aid]:
                item["before"] = self.results[aid]["before"]
                item["after"] = self.results[aid]["after"]
            actions.append(item)
        return {
            "plan_id": self.plan["id"],
            "state_file": self.state.path,
            "counts": counts,
            "actions": actions,
            "changed": any(a["changed"] for a in actions),
            "failed_actions": [a["id"] for a in actions if a["state"] == FAILED],
            "stopped": self.stopped,
            "cancelled": self.cancel_reason,
            "drifted": list(self.drifted),
        }


def _fields(view):
    """``host=cmp4, status=ACTIVE`` for a diff view or post-condition."""
    if not isinstance(view, dict) or not view:
        return "-"
    return ", ".join("%s=%s" % (k, view[k]) for k in sorted(view))
