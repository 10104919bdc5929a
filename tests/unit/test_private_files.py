"""The one atomic-write helper (private_files.replace_private) and the rule that every writer uses it."""

import ast
import os
import pathlib
import stat

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import private_files
from ansible_collections.vigil.openstack.plugins.module_utils.private_files import replace_private

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"


def test_writes_a_new_0600_file_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "report.md"
    assert replace_private(str(path), b"one") is None
    assert path.read_bytes() == b"one"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md"]


def test_replaces_an_existing_readable_file_with_a_private_one(tmp_path):
    path = tmp_path / "plan.json"
    path.write_bytes(b"old")
    path.chmod(0o644)
    replace_private(str(path), b"new")
    assert path.read_bytes() == b"new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_planted_symlink_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    path = tmp_path / "snapshot.json.gz"
    path.symlink_to(victim)
    replace_private(str(path), b"ours")
    assert not path.is_symlink() and path.read_bytes() == b"ours"
    assert victim.read_bytes() == b"keep me"


def test_a_planted_hard_link_is_replaced_not_written_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    path = tmp_path / "state.json"
    os.link(victim, path)
    replace_private(str(path), b"ours")
    assert path.read_bytes() == b"ours" and victim.read_bytes() == b"keep me"
    assert path.stat().st_nlink == 1


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    path = tmp_path / "state.json"
    path.write_bytes(b"old")
    with pytest.raises(TypeError):
        replace_private(str(path), "text, not bytes")
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_keep_open_returns_the_new_files_fd_and_the_prefix_names_the_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "s.journal"
    seen = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda src, dst: (seen.append(os.path.basename(src)), real_replace(src, dst)))
    fd = replace_private(str(path), b"head\n", keep_open=True, prefix=".s.json.tmp-")
    try:
        os.write(fd, b"more\n")
    finally:
        os.close(fd)
    assert path.read_bytes() == b"head\nmore\n"
    assert len(seen) == 1 and seen[0].startswith(".s.json.tmp-")


def _calls(tree, module, names):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in names
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == module
        ):
            yield node.lineno


def test_every_replacing_writer_goes_through_replace_private():
    """A second copy of the temp-file-then-rename dance (or a fixed ``.tmp`` name) fails here."""
    own = pathlib.Path(private_files.__file__).resolve()
    found = []
    for path in sorted(PLUGINS.rglob("*.py")):
        if path.resolve() == own:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for lineno in _calls(tree, "os", {"replace", "rename"}):
            found.append("%s:%d os.replace/rename" % (path.relative_to(PLUGINS), lineno))
        for lineno in _calls(tree, "tempfile", {"mkstemp", "NamedTemporaryFile"}):
            found.append("%s:%d tempfile" % (path.relative_to(PLUGINS), lineno))
    assert found == []


# model/schema.py's __main__ rewrites docs/model.md in the repository: a document that stays
# readable (0644), not a private file, and not part of any run.
PUBLIC_WRITERS = {"module_utils/model/schema.py"}


def _opened_for_writing(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "open":
            mode = (
                node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
            )
            if isinstance(mode, ast.Constant) and set(str(mode.value)) & set("wax+"):
                yield node.lineno


def test_no_writer_opens_a_file_behind_the_private_helpers_back():
    found = []
    for path in sorted(PLUGINS.rglob("*.py")):
        rel = path.relative_to(PLUGINS).as_posix()
        if rel in PUBLIC_WRITERS:
            continue
        found += ["%s:%d" % (rel, n) for n in _opened_for_writing(ast.parse(path.read_text(), rel))]
    assert found == []


def test_the_writer_check_sees_an_open_for_writing():
    tree = ast.parse("open(p)\nopen(p, 'w')\nopen(p, mode='ab')\nopen(p, 'rb')\n")
    assert list(_opened_for_writing(tree)) == [2, 3]
