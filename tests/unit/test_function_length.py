"""No function in plugins/ is longer than 80 lines (docstring and comments included)."""

import ast
import pathlib
import sys

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
MAX_LINES = 80

# Only functions that other helpers of issue 17 are rewriting right now (the apply helper:
# planner.py, plan_executor.py, actions/, plan_apply.py; the report helper: report.py; the
# consolidation helper: exact.py). Each leaves this list when its branch splits it; nothing
# else may join it.
OWNED_ELSEWHERE = {
    "module_utils/planner.py:build",
    "modules/plan_apply.py:main",
    "module_utils/strategy_support/exact.py:solve",
}


def long_functions():
    out = {}
    for path in sorted(PLUGINS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    out["%s:%s" % (path.relative_to(PLUGINS).as_posix(), node.name)] = lines
    return out


def test_no_function_over_80_lines():
    assert {name: n for name, n in long_functions().items() if name not in OWNED_ELSEWHERE} == {}


def test_the_check_sees_a_long_function(tmp_path, monkeypatch):
    body = "\n".join("    x = %d" % i for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text("def too_long():\n%s\n\n\ndef short():\n    return 1\n" % body)
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path)
    assert long_functions() == {"long.py:too_long": MAX_LINES + 1}
