"""The changelog: fragments lint, CHANGELOG.rst is what changelogs/changelog.yaml says, and no
plugin claims a version newer than the collection's (its release would leave it out of the
release's "New Modules" list)."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
CHANGELOG = shutil.which("antsibull-changelog", path=str(Path(sys.executable).parent))
needs_antsibull = pytest.mark.skipif(CHANGELOG is None, reason="antsibull-changelog (requirements-dev.txt)")


def _run(*args, cwd=ROOT):
    # its ansible-doc (for the plugin list) is this venv's, finding the checkout through .collections
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"))
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run([CHANGELOG, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)


@needs_antsibull
def test_fragments_and_changelog_lint():
    run = _run("lint")
    assert run.returncode == 0 and run.stdout.strip() == "", run.stdout + run.stderr


@needs_antsibull
def test_a_fragment_in_an_unknown_section_fails_the_lint(tmp_path):
    good = tmp_path / "good.yml"
    good.write_text("---\nbugfixes:\n  - plan_apply - a fix.\n")
    bad = tmp_path / "bad.yml"
    bad.write_text("---\nfixes:\n  - plan_apply - a fix.\n")
    assert _run("lint", str(good)).returncode == 0
    run = _run("lint", str(bad))
    assert run.returncode != 0 and "fixes" in run.stdout, run.stdout + run.stderr


@needs_antsibull
def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path):
    out = tmp_path / "CHANGELOG.rst"
    run = _run("generate", "--output", str(out))
    assert run.returncode == 0, run.stdout + run.stderr
    assert (ROOT / "CHANGELOG.rst").read_text() == out.read_text(), "run antsibull-changelog generate"


def _version_added(path):
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value).get("version_added")
    return None


def test_no_plugin_is_added_in_a_later_version_than_the_collection():
    version = Version(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
    released = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"] or {}
    later = {}
    for path in sorted((ROOT / "plugins").glob("*/*.py")):
        added = _version_added(path)
        if added is not None and Version(str(added)) > version:
            later[str(path.relative_to(ROOT))] = added
        # a version_added is a released version or one still to come
        if added is not None and released:
            assert str(added) in released or Version(str(added)) > max(map(Version, released)), path
    assert later == {}, "version_added after galaxy.yml's version %s" % version
