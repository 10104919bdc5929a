"""Modules are thin: library code lives in module_utils, where tests reach it.

A module file holds its documentation, its options and ``main()``; every ``*_info`` module
ends through the one ``run_info_module``; no test imports a module file.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODULES = sorted((ROOT / "plugins" / "modules").glob("*.py"))


def _tree(path):
    return ast.parse(path.read_text(), str(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_a_module_file_defines_main_only(path):
    tree = _tree(path)
    defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    assert defined == ["main"]


@pytest.mark.parametrize("path", [p for p in MODULES if p.stem.endswith("_info")], ids=lambda p: p.name)
def test_info_modules_end_through_run_info_module(path):
    main = next(n for n in _tree(path).body if isinstance(n, ast.FunctionDef) and n.name == "main")
    called = [n.func.id for n in ast.walk(main) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert called == ["run_info_module"]


def test_no_test_imports_a_module_file():
    found = []
    for path in sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "bench").rglob("*.py")):
        for node in ast.walk(_tree(path)):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [node.module + "." + a.name for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            if any(".plugins.modules" in name for name in names):
                found.append("%s:%d" % (path.relative_to(ROOT), node.lineno))
    assert found == []
