# -*- coding: utf-8 -*-
"""No import cycle between the packages of plugins/module_utils, nor between the modules of
the constraint layer (imports inside functions count: they only defer a cycle)."""

import ast
import pathlib

MODULE_UTILS = pathlib.Path(__file__).resolve().parents[2] / "plugins" / "module_utils"
PREFIX = "ansible_collections.vigil.openstack.plugins.module_utils"

# Cycles that predate the check, to be broken (then removed from here).
KNOWN = []


def _module_name(path):
    rel = path.relative_to(MODULE_UTILS).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules():
    return {_module_name(p): p for p in MODULE_UTILS.rglob("*.py")}


def _imports(path, modules):
    """Modules of module_utils that ``path`` imports (``from pkg import mod`` -> pkg.mod)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX) :].lstrip(".")
            for alias in node.names:
                sub = (base + "." + alias.name).lstrip(".")
                out.add(sub if sub in modules else base)
        elif isinstance(node, ast.Import):
            out.update(a.name[len(PREFIX) + 1 :] for a in node.names if a.name.startswith(PREFIX + "."))
    out.discard("")
    return out


def _cycles(edges):
    """Strongly connected components with more than one node (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


def _graph(key):
    modules = _modules()
    edges = {}
    for name, path in modules.items():
        for target in _imports(path, modules):
            a, b = key(name), key(target)
            if a is not None and b is not None and a != b:
                edges.setdefault(a, set()).add(b)
    return edges


def test_no_cycle_between_packages():
    cycles = _cycles(_graph(lambda name: name.split(".")[0]))
    assert [c for c in cycles if c not in KNOWN] == []
    assert [c for c in KNOWN if c not in cycles] == [], "a known cycle is gone: remove it from KNOWN"


def test_no_cycle_between_modules_of_the_constraint_layer():
    def key(name):
        return name if name == "constraints" or name.startswith("constraints.") else None

    assert _cycles(_graph(key)) == []


# Modules that import nothing of module_utils: anything may depend on them.
LEAVES = {"optional_libs"}


def test_the_constraint_layer_depends_only_on_the_model():
    edges = _graph(lambda name: name.split(".")[0])
    assert all(leaf not in edges for leaf in LEAVES), "a leaf imports from module_utils"
    assert edges["constraints"] - LEAVES == {"model"}
    assert "strategies" not in edges.get("planner", ())  # planner <-> strategies is gone
