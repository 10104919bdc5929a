"""`make build` ships the collection and nothing that builds, tests or tools generate.

The tarball is built from a copy of the tree in which every generated folder has been planted
(at the root and deeper down), so the check does not depend on what this checkout has run.
"""

import importlib.util
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _check_galaxy():
    """tools/check_galaxy.py, which holds the list of what the tarball may contain."""
    spec = importlib.util.spec_from_file_location("check_galaxy", ROOT / "tools" / "check_galaxy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CHECK = _check_galaxy()

PLANTED = [
    ".hypothesis/examples/0a/1b",
    ".ansible/tmp/x",
    ".collections/ansible_collections/vigil/x",
    ".venv/bin/python",
    ".pytest_cache/v/cache/nodeids",
    ".ruff_cache/0.6/x",
    ".mypy_cache/x",
    ".tox/py311/x",
    ".matrix/oldest/bin/python",
    "build/vigil-openstack-0.0.1.tar.gz",
    "build/ee/context/_build/requirements.yml",
    "output/demo/plan.json",
    "context/_build/requirements.yml",
    "tests/output/results.xml",
    "bench/results/collect.jsonl",
    "twin/src/vigil_twin.egg-info/PKG-INFO",
    "vigil_openstack.egg-info/PKG-INFO",
    "importer_result.json",
    "vigil-openstack-0.0.1.tar.gz",
    # deeper down: caches that tools leave next to the files they looked at
    "plugins/modules/__pycache__/plan_apply.cpython-311.pyc",
    "plugins/module_utils/.hypothesis/examples/x",
    "plugins/.pytest_cache/v/x",
    "roles/collect/.ansible/x",
    "docs/.ruff_cache/x",
    # antsibull-changelog's list of plugins
    "changelogs/.plugin-cache.yaml",
]


def _copy_source(dest: Path) -> None:
    skip = CHECK.GENERATED_DIRS | {".git", "importer_result.json"}

    def ignore(_dirname, names):
        return {n for n in names if n in skip or n.endswith((".egg-info", ".tar.gz", ".pyc"))}

    shutil.copytree(ROOT, dest, ignore=ignore, symlinks=True)


def _build(src: Path, out: Path) -> list[str]:
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    proc = subprocess.run(
        [str(galaxy), "collection", "build", "--output-path", str(out), str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    version = yaml.safe_load((src / "galaxy.yml").read_text())["version"]
    with tarfile.open(out / f"vigil-openstack-{version}.tar.gz") as tar:
        return tar.getnames()


def test_build_leaves_out_every_generated_folder(tmp_path):
    src = tmp_path / "src"
    _copy_source(src)
    for rel in PLANTED:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text("generated\n")

    names = _build(src, tmp_path / "out")

    assert CHECK.unexpected_members(names) == []
    assert {n.split("/")[0] for n in names} == CHECK.TOP_LEVEL
    # and what a user needs is there: every role has the README galaxy-importer requires
    for role in (p.name for p in (ROOT / "roles").iterdir() if p.is_dir()):
        assert f"roles/{role}/README.md" in names
    # and the release notes, rendered and as data
    assert {"CHANGELOG.rst", "changelogs/changelog.yaml", "changelogs/config.yaml"} <= set(names)
    # and the Event-Driven Ansible content (docs/events.md)
    for rel in (ROOT / "extensions").rglob("*"):
        if rel.is_file() and "__pycache__" not in rel.parts:
            assert str(rel.relative_to(ROOT)) in names, rel
    # ansible-test sanity on the installed collection needs its ignore files, and only they ship
    shipped_tests = sorted(n for n in names if n.startswith("tests/") and not n.endswith("/sanity"))
    assert shipped_tests == sorted(f"tests/sanity/{p.name}" for p in (ROOT / "tests" / "sanity").glob("ignore-*.txt"))


def test_only_sanity_ignore_files_may_ship_under_tests():
    ok = ["tests", "tests/sanity", "tests/sanity/ignore-2.17.txt"]
    bad = ["tests/sanity/run.sh", "tests/unit/test_x.py", "tests/new_tier/x.py", "tests/sanity/ignore-2.17.txt.orig"]
    assert CHECK.unexpected_members(ok) == []
    assert [line.split(":")[0] for line in CHECK.unexpected_members(bad)] == bad


def test_galaxy_may_warn_only_about_the_shipped_ignore_files():
    expected = CHECK.expected_warnings()
    files = sorted((ROOT / "tests" / "sanity").glob("ignore-*.txt"))
    assert len(expected) == len(files) >= 3
    for path in files:
        count = len([line for line in path.read_text().splitlines() if line.strip()])
        assert f"found {path.name} with {count} statement(s)" in " ".join(expected)
    # a count that is not the file's own is not excused
    wrong = count + 1
    assert f"found {path.name} with {wrong} statement(s)" not in " ".join(expected)


def _relative_links(text):
    """Targets of the Markdown links in text that are paths, not URLs or anchors."""
    links = (m.split("#")[0] for m in re.findall(r"\]\(([^)\s]+)\)", text))
    return [t for t in links if t and not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def test_shipped_docs_link_only_to_what_ships(tmp_path):
    """The README and docs read from Galaxy: a relative link to the repository's development
    tools (twin/, bench/, tools/, Makefile...), which the tarball leaves out, would be dead there."""
    src = tmp_path / "src"
    _copy_source(src)
    names = set(_build(src, tmp_path / "out"))
    version = yaml.safe_load((src / "galaxy.yml").read_text())["version"]
    dead = []
    with tarfile.open(tmp_path / "out" / f"vigil-openstack-{version}.tar.gz") as tar:
        for name in sorted(n for n in names if n.endswith(".md")):
            text = tar.extractfile(name).read().decode()
            for target in _relative_links(text):
                resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
                if resolved not in names:
                    dead.append(f"{name}: {target}")
    assert len([n for n in names if n.endswith(".md")]) > 20
    assert dead == []


def test_a_link_to_a_development_tool_counts_as_dead():
    text = (
        "see [the twin](../twin/README.md), [awx](awx.md#ee), [repo](https://github.com/x/y/blob/main/twin/README.md)"
    )
    assert _relative_links(text) == ["../twin/README.md", "awx.md"]
