"""The state file on disk: snapshot + journal, replay after a crash, compaction, unsafe files.

PlanExecutor drives the StateFile here with the real ``nop`` executor: no cloud, only files.
"""

import json
import os
import stat

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils import state_file as sf
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutor


def nop_plan(n, plan_id=None):
    actions = [planlib.simple_action("a%d" % i, "nop", "r%d" % i, {"message": "x"}) for i in range(n)]
    plan = planlib.new_plan("server_consolidation", "test", actions=actions)
    if plan_id:
        plan["id"] = plan_id
    return plan


def opened(path, plan):
    state = sf.StateFile(str(path), plan)
    state.acquire()
    state.load()
    return state


def test_transitions_are_journalled_and_replayed(tmp_path):
    path = tmp_path / "s.json"
    plan = nop_plan(3)
    state = opened(path, plan)
    state.save()  # the run's first save writes the snapshot
    snapshot = path.read_text()
    state.set("a0", sf.ONGOING, save=False, started="t0", attempts=1)
    state.entry("a1")["error"] = "changed in place"  # the executor may also change entries directly
    state.save()
    assert path.read_text() == snapshot  # one journal append, no rewrite
    journal = (tmp_path / "s.json.journal").read_text().splitlines()
    assert len(journal) == 4  # header, a0, a1, the top-level 'updated'
    # Killed here (no release): the next run sees both changes.
    seen = sf.read_state(path)["actions"]
    assert seen["a0"]["state"] == "ONGOING" and seen["a0"]["started"] == "t0"
    assert seen["a1"]["error"] == "changed in place"
    state.release()
    assert json.loads(path.read_text())["actions"]["a0"]["state"] == "ONGOING"  # folded into the snapshot
    assert len((tmp_path / "s.json.journal").read_text().splitlines()) == 1


def test_a_torn_last_line_is_dropped_and_the_rest_kept(tmp_path):
    path = tmp_path / "s.json"
    plan = nop_plan(2)
    state = opened(path, plan)
    state.save()
    state.set("a0", sf.SUCCEEDED, finished="t1")
    os.close(state._journal)  # SIGKILL: nothing else is written, the lock goes with the process
    state._journal = None
    state._flock.close()
    with open(str(path) + ".journal", "a") as handle:
        handle.write('{"action": "a1", "entry": {"state": "SUCC')  # a write cut short
    again = opened(path, plan)
    assert again.entry("a0")["state"] == "SUCCEEDED" and again.entry("a1")["state"] == "PENDING"
    again.release()


def test_a_damaged_line_inside_the_journal_is_refused_naming_it(tmp_path):
    path = tmp_path / "s.json"
    plan = nop_plan(2)
    state = opened(path, plan)
    state.save()
    state.set("a0", sf.SUCCEEDED)
    state.set("a1", sf.SUCCEEDED)
    os.close(state._journal)
    state._journal = None
    state.release()
    lines = (tmp_path / "s.json.journal").read_text().splitlines()
    lines[1] = "garbage"
    (tmp_path / "s.json.journal").write_text("\n".join(lines) + "\n")
    with pytest.raises(sf.PlanExecutionError, match=r"s\.json\.journal: line 2 is not JSON"):
        sf.StateFile(str(path), plan).load()


def test_a_journal_of_another_generation_is_ignored(tmp_path):
    """Crash between the snapshot's rename and the journal's: the journal is already in the snapshot."""
    path = tmp_path / "s.json"
    plan = nop_plan(1)
    state = opened(path, plan)
    state.save()
    state.set("a0", sf.SUCCEEDED)
    state.release()
    stale = '{"journal": 1, "plan_id": "%s", "generation": 1}\n' % plan["id"]
    stale += json.dumps({"action": "a0", "entry": {"state": "PENDING"}}) + "\n"
    (tmp_path / "s.json.journal").write_text(stale)
    assert sf.StateFile(str(path), plan).load()["actions"]["a0"]["state"] == "SUCCEEDED"


def test_a_journal_without_its_snapshot_is_ignored(tmp_path):
    """An operator deletes the state file to start over: the journal beside it must not mark anything done."""
    path = tmp_path / "s.json"
    plan = nop_plan(1)
    state = opened(path, plan)
    state.save()
    state.set("a0", sf.SUCCEEDED)
    os.close(state._journal)
    state._journal = None
    state.release()
    path.unlink()
    assert sf.StateFile(str(path), plan).load()["actions"]["a0"]["state"] == "PENDING"


def test_a_non_mapping_entry_is_refused_naming_file_and_action(tmp_path):
    path = tmp_path / "s.json"
    plan = nop_plan(1)
    path.write_text(json.dumps({"plan_id": plan["id"], "actions": {"a0": "SUCCEEDED"}}))
    with pytest.raises(sf.PlanExecutionError, match=r"s\.json: action a0 is str, not a mapping"):
        sf.StateFile(str(path), plan).load()


def test_temporary_files_of_a_killed_run_are_removed_others_kept(tmp_path):
    path = tmp_path / "s.json"
    leftover = tmp_path / ".s.json.tmp-abc123"
    leftover.write_text("{half a snapshot")
    other = tmp_path / ".t.json.tmp-abc123"  # another plan's, maybe being written right now
    other.write_text("{")
    state = opened(path, nop_plan(1))
    assert not leftover.exists() and other.exists()
    state.release()


def test_files_are_0600_and_a_readable_old_file_is_rewritten_0600(tmp_path):
    path = tmp_path / "s.json"
    plan = nop_plan(1)
    path.write_text(json.dumps({"plan_id": plan["id"], "actions": {}}))
    os.chmod(path, 0o644)  # readable by others: read, then replaced by a 0600 snapshot
    PlanExecutor(plan, state_path=str(path)).run()
    for name in ("s.json", "s.json.journal", "s.json.lock"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name


@pytest.mark.parametrize(
    "plan_id, ok",
    [("plan-2026.11_a", True), ("../x", False), ("a/b", False), (".hidden", False), ("", False), ("x" * 129, False)],
)
def test_plan_ids_that_name_files_outside_state_dir_are_refused(tmp_path, plan_id, ok):
    if ok:
        assert sf.state_path_for_id(str(tmp_path), plan_id) == str(tmp_path / (plan_id + ".json"))
    else:
        with pytest.raises(sf.PlanExecutionError, match="cannot name a state file"):
            sf.state_path_for_id(str(tmp_path), plan_id)


def test_state_bytes_written_grow_linearly(tmp_path):
    """The whole file used to be rewritten each step: bytes grew with the square of the plan."""
    written = {}
    for n in (250, 1000):
        executor = PlanExecutor(nop_plan(n), state_path=str(tmp_path / ("%d.json" % n)))
        executor.run()
        written[n] = executor.state.bytes_written
    assert 3.0 < written[1000] / written[250] < 5.0, written
