"""Build the collection as `make build` does and import it with galaxy-importer, as Galaxy would.

Fails (exit 1) when the tarball holds anything but collection content (generated folders, tools),
when galaxy-importer fails or logs any ERROR or WARNING line (a missing ansible-doc or
ansible-lint is a WARNING too, and would silently skip its check), or when its result lacks the
docs of a plugin or the README of a role.

    python tools/check_galaxy.py [--tarball build/vigil-openstack-X.Y.Z.tar.gz]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "tools" / "galaxy-importer.cfg"

# What a collection user needs: content, its docs, its Python/system requirements (read by
# ansible-builder's introspection), the changelog and the lint profile galaxy-importer honours.
TOP_LEVEL = {
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "CHANGELOG.rst",
    "LICENSE",
    ".ansible-lint",
    "bindep.txt",
    "requirements.txt",
    "changelogs",
    "docs",
    "extensions",
    "inventory",
    "meta",
    "playbooks",
    "plugins",
    "roles",
    "tests",
}
# Under tests/, only the sanity ignore files (and their folders) ship.
SHIPPED_TESTS = re.compile(r"tests(/sanity(/ignore-\d+\.\d+\.txt)?)?$")
# Folders that builds, tests and tools create, at the root or deeper down.
GENERATED_DIRS = {
    ".ansible",
    ".collections",
    ".hypothesis",
    ".matrix",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".venv",
    "__pycache__",
    "build",
    "context",
    "output",
}
GENERATED_SUFFIXES = (".egg-info", ".tar.gz", ".pyc", "importer_result.json", ".plugin-cache.yaml")
# Plugin types whose every plugin must come out of ansible-doc with its documentation.
DOCUMENTED = {"module", "inventory", "filter"}


def unexpected_members(names):
    """Tarball members that are not collection content, with the reason."""
    bad = []
    for name in names:
        parts = name.split("/")
        if parts[0] not in TOP_LEVEL:
            bad.append(f"{name}: not collection content (galaxy.yml build_ignore)")
        elif parts[0] == "tests" and not SHIPPED_TESTS.match(name):
            bad.append(f"{name}: tests/ ships only tests/sanity/ignore-X.Y.txt (galaxy.yml build_ignore)")
        elif set(parts) & GENERATED_DIRS or any(p.endswith(GENERATED_SUFFIXES) for p in parts):
            bad.append(f"{name}: generated (galaxy.yml build_ignore)")
    return bad


def expected_warnings() -> set[str]:
    """The one warning Galaxy gives by design: each sanity ignore file the tarball ships (they carry
    only the entries that tests/unit/test_collection_layout.py allows: license headers, and for
    2.17 its empty-init rule on module_utils package inits)."""
    found = set()
    for path in sorted((ROOT / "tests" / "sanity").glob("ignore-*.txt")):
        count = len([line for line in path.read_text().splitlines() if line.strip()])
        found.add(f"WARNING: Ignore files skip ansible-test sanity tests, found {path.name} with {count} statement(s)")
    return found


def build(out: Path) -> Path:
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run([str(galaxy), "collection", "build", "--force", "--output-path", str(out)], cwd=ROOT, check=True)
    return out / f"vigil-openstack-{version}.tar.gz"


def import_problems(tarball: Path, workdir: Path) -> list[str]:
    """Run galaxy-importer on the tarball; return what is wrong with the import."""
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)  # galaxy-importer writes importer_result.json in its cwd
    env = dict(os.environ, GALAXY_IMPORTER_CONFIG=str(CONFIG))
    # its ansible-doc and ansible-lint are found on PATH: this venv's, not whatever else is there
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    # Galaxy sees only the tarball: not the checkout linked in through .collections
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "PYTHONPATH"):
        env.pop(var, None)
    proc = subprocess.run(
        [sys.executable, "-m", "galaxy_importer.main", str(tarball.resolve())],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    print("\n".join(line for line in output.splitlines() if not line.startswith("Loading ")))
    expected = expected_warnings()
    problems = [
        line
        for line in output.splitlines()
        if line.startswith(("ERROR", "WARNING", "CRITICAL", "Traceback")) and line not in expected
    ]
    if proc.returncode != 0 or "Importer processing completed successfully" not in output:
        problems.append(f"galaxy-importer exited {proc.returncode} without completing")
        return problems
    result = json.loads((workdir / "importer_result.json").read_text())
    docs = result["docs_blob"]
    if not docs["collection_readme"].get("html"):
        problems.append("collection README did not render")
    for item in docs["contents"]:
        kind, name = item["content_type"], item["content_name"]
        if kind in DOCUMENTED and not item.get("doc_strings"):
            problems.append(f"{kind} {name}: ansible-doc gave no documentation")
        if kind == "role" and not item.get("readme_html"):
            problems.append(f"role {name}: no README")
    found = {(i["content_type"], i["content_name"]) for i in docs["contents"]}
    for module in (ROOT / "plugins" / "modules").glob("*.py"):
        if module.stem != "__init__" and ("module", module.stem) not in found:
            problems.append(f"module {module.stem}: not found by galaxy-importer")
    for role in (p for p in (ROOT / "roles").iterdir() if p.is_dir()):
        if ("role", role.name) not in found:
            problems.append(f"role {role.name}: not found by galaxy-importer")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="check this tarball instead of building one into build/")
    args = parser.parse_args(argv)
    tarball = args.tarball or build(ROOT / "build")
    with tarfile.open(tarball) as tar:
        problems = unexpected_members(tar.getnames())
    problems += import_problems(tarball, ROOT / "build" / "galaxy-importer")
    for problem in problems:
        print(f"check_galaxy: {problem}", file=sys.stderr)
    print(f"check_galaxy: {tarball.name}: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
