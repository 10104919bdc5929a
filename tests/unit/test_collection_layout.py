"""The collection's metadata tells the truth about its content."""

import ast
import re
from pathlib import Path

import pytest
import yaml
from ansible_builder.ee_schema import validate_schema

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")


def test_galaxy_metadata():
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    assert (galaxy["namespace"], galaxy["name"]) == ("vigil", "openstack")
    assert galaxy["license"] == ["Apache-2.0"]
    # tests/ itself ships its sanity ignore files (test_build_contents checks that only they do)
    for ignored in ("tests/unit", "tests/integration", "bench", "twin", "build", ".venv"):
        assert ignored in galaxy["build_ignore"]


def test_action_group_lists_every_connecting_module_and_nothing_else():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    group = set(runtime["action_groups"]["openstack"])
    connecting = set()
    for name in MODULES:
        doc = _documentation(name)
        if "vigil.openstack.openstack" in (doc.get("extends_documentation_fragment") or []):
            connecting.add(name)
    assert group == connecting, "meta/runtime.yml action group vs modules taking connection options"


def _documentation(module):
    tree = ast.parse((ROOT / "plugins" / "modules" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            return yaml.safe_load(node.value.value)
    raise AssertionError(f"{module} has no DOCUMENTATION")


def test_execution_environment_is_valid_for_ansible_builder():
    ee = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    validate_schema(ee)  # raises DefinitionError naming the problem
    # ansible-builder reads requirements.txt and bindep.txt from the installed collection; the
    # same files given here again would be installed twice (tools/check_ee.py replays the build)
    assert "python" not in ee["dependencies"] and "system" not in ee["dependencies"]
    for name in ("requirements.txt", "bindep.txt"):
        assert name not in yaml.safe_load((ROOT / "galaxy.yml").read_text())["build_ignore"]
    # the collection reaches the context as the tarball tools/check_ee.py builds (make ee)
    (collection,) = ee["dependencies"]["galaxy"]["collections"]
    (copied,) = ee["additional_build_files"]
    assert collection["type"] == "file"
    assert collection["name"] == f"{copied['dest']}/{Path(copied['src']).name}"
    assert copied["src"] == "build/ee/vigil-openstack.tar.gz"


def test_the_galaxy_ee_example_in_docs_is_valid_for_ansible_builder():
    text = (ROOT / "docs" / "awx.md").read_text()
    ee = yaml.safe_load(re.findall(r"```yaml\n(.*?)```", text, flags=re.S)[0])
    validate_schema(ee)
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": "vigil.openstack"}]
    assert "python" not in ee["dependencies"] and "system" not in ee["dependencies"]


def test_requirements_are_ranges_of_what_the_content_imports():
    reqs = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = re.split(r"[<>=!~]", line)[0].strip().lower()
            assert re.search(r">=.*,<", line), f"{line!r}: pin a range (>=x,<y)"
            reqs[name] = line
    imported = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module.split(".")[0])
    dist_of = {"openstack": "openstacksdk", "maas": "python-libmaas", "ansible": "ansible-core"}
    for dist in reqs:
        module = {v: k for k, v in dist_of.items()}.get(dist, dist)
        assert module in imported, f"requirements.txt lists {dist} but nothing in plugins/ imports {module}"


def test_plugin_reference_pages_are_current():
    import subprocess
    import sys

    gen = _load_tool("gen_plugin_docs")
    index = (ROOT / "docs" / "plugins" / "README.md").read_text()
    if gen.GENERATED_WITH % gen.ansible_core() not in index:  # e.g. make matrix's oldest environment
        pytest.skip("docs/plugins/ comes from another ansible-core series than %s" % gen.ansible_core())

    proc = subprocess.run(
        check=False,
        args=[sys.executable, str(ROOT / "tools" / "gen_plugin_docs.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


def supported_ansible_cores():
    """X.Y of every ansible-core release series requirements.txt allows (>=2.17,<2.20: 17 to 19)."""
    line = next(x for x in (ROOT / "requirements.txt").read_text().splitlines() if x.startswith("ansible-core"))
    low, high = re.search(r">=\s*2\.(\d+)[^,]*,\s*<\s*2\.(\d+)", line).groups()
    return ["2.%d" % minor for minor in range(int(low), int(high))]


@pytest.mark.parametrize("core", supported_ansible_cores())
def test_sanity_ignores_only_license_headers_and_2_17s_empty_inits(core):
    lines = [
        line.split("#")[0].split()
        for line in (ROOT / "tests" / "sanity" / ("ignore-%s.txt" % core)).read_text().splitlines()
        if line.strip()
    ]
    inventory = sorted(p.stem for p in (ROOT / "plugins" / "inventory").glob("*.py"))
    expected = [f"plugins/modules/{m}.py" for m in MODULES] + [f"plugins/inventory/{i}.py" for i in inventory]
    licenses = [path for path, code in lines if code == "validate-modules:missing-gplv3-license"]
    assert sorted(licenses) == sorted(expected)
    # ansible-test 2.17 also wants every module_utils __init__.py empty (2.18 dropped that rule);
    # vigil's package inits that hold code are named there, and nothing else is ignored
    assert sorted(path for path, code in lines if code == "empty-init") == (
        _filled_module_utils_inits() if core == "2.17" else []
    )
    assert {code for _unused, code in lines} <= {"validate-modules:missing-gplv3-license", "empty-init"}


def _filled_module_utils_inits():
    inits = (ROOT / "plugins" / "module_utils").rglob("__init__.py")
    return sorted(str(p.relative_to(ROOT)) for p in inits if p.stat().st_size and "__pycache__" not in p.parts)


def test_no_sanity_ignore_file_for_an_unsupported_ansible_core():
    files = sorted(p.name for p in (ROOT / "tests" / "sanity").glob("ignore-*.txt"))
    assert files == ["ignore-%s.txt" % core for core in supported_ansible_cores()]


def _load_tool(name):
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / (name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_documented_floors_are_the_ones_make_matrix_tests():
    from packaging.version import Version

    matrix = _load_tool("matrix")
    floors = matrix.floors()  # what the oldest matrix environment pins
    fragment = (ROOT / "plugins" / "doc_fragments" / "openstack.py").read_text()
    documented = re.search(r"- openstacksdk >= ([0-9.]+)", fragment).group(1)
    assert Version(documented) == Version(floors["openstacksdk"])
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    assert Version(runtime["requires_ansible"].lstrip(">=")) == Version(floors["ansible-core"])
    # one Python floor, in the shared fragment; no plugin documents another
    assert re.fullmatch(r"3\.\d+", matrix.python_floor())  # the oldest environment's interpreter
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        if path != ROOT / "plugins" / "doc_fragments" / "openstack.py":
            assert not re.search(r"^\s*- python >=", path.read_text(), re.M), path
