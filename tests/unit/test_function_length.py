"""No function in plugins/ is longer than 80 lines (docstring and comments included)."""

import ast
import pathlib
import sys

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
MAX_LINES = 80


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
    assert long_functions() == {}


def test_the_check_sees_a_long_function(tmp_path, monkeypatch):
    body = "\n".join("    x = %d" % i for i in range(MAX_LINES))
    (tmp_path / "long.py").write_text("def too_long():\n%s\n\n\ndef short():\n    return 1\n" % body)
    monkeypatch.setattr(sys.modules[__name__], "PLUGINS", tmp_path)
    assert long_functions() == {"long.py:too_long": MAX_LINES + 1}
