"""Generate docs/plugins/<type>/<name>.md from the plugins' own documentation (ansible-doc --json).

python tools/gen_plugin_docs.py          # write the pages
python tools/gen_plugin_docs.py --check  # exit 1 if a page is missing or out of date (CI)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "plugins"
TYPES = {"module": "modules", "filter": "filter", "inventory": "inventory"}
# The optimize filter's goals, strategies and parameters, written from the strategy registry
# into its documentation (so ansible-doc shows them) between these two comment lines.
OPTIMIZE_DOC = ROOT / "plugins" / "filter" / "optimize.yml"
BEGIN = "        # BEGIN strategies: written by tools/gen_plugin_docs.py from strategies/registry.py\n"
END = "        # END strategies\n"


def _value(value) -> str:
    return "C(%s)" % (value if isinstance(value, str) else json.dumps(value))


def _schema_type(spec: dict) -> str:
    if spec.get("enum"):
        return "one of " + ", ".join(_value(v) for v in spec["enum"])
    kind = spec.get("type", "any")
    return " or ".join(kind) if isinstance(kind, list) else kind


def strategy_lines() -> list[str]:
    """One description line per goal (its strategies, best first) and per strategy (its parameters)."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

    lines = []
    for goal, names in registry.available().items():
        lines.append(
            "Goal C(%s): %s."
            % (goal, ", ".join("C(%s)" % n + (" (default)" if i == 0 else "") for i, n in enumerate(names)))
        )
    for goal, names in registry.available().items():
        for name in names:
            info = registry.strategy_info(name)
            params = []
            for key, spec in sorted(info["parameters"].get("properties", {}).items()):
                default = " default " + _value(spec["default"]) if "default" in spec else ""
                text = spec.get("description", "").rstrip(".")
                params.append(
                    "I(%s) (%s%s)%s"
                    % (key, _schema_type(spec), "," + default if default else "", " " + text if text else "")
                )
            line = "Strategy C(%s) of goal C(%s) - %s" % (name, goal, info["description"].rstrip("."))
            lines.append(line + (". Parameters: " + "; ".join(params) + "." if params else ". No parameters."))
    return lines


def optimize_doc() -> str:
    """optimize.yml with its strategy list rewritten from the registry."""
    text = OPTIMIZE_DOC.read_text()
    head, rest = text.split(BEGIN, 1)
    _unused, tail = rest.split(END, 1)
    # YAML folds the long lines under ansible-lint's line length; the text is unchanged
    dumped = yaml.safe_dump(strategy_lines(), width=110, allow_unicode=True, default_style='"')
    body = "".join("        " + row + "\n" for row in dumped.splitlines())
    return head + BEGIN + body + END + tail


# ansible-doc merges ansible-core's own fragments (constructed, inventory_cache), which change
# between releases: the pages are those of one ansible-core series.
GENERATED_WITH = "Generated with ansible-core %s."


def ansible_core() -> str:
    """X.Y of the ansible-core beside this Python (the one whose ansible-doc renders the pages)."""
    from importlib.metadata import version

    return ".".join(version("ansible-core").split(".")[:2])


def _plugins(kind: str) -> list[str]:
    folder = ROOT / "plugins" / TYPES[kind]
    names = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    if kind == "filter":  # filters are documented in <name>.yml sidecar files
        names = {p.stem for p in folder.glob("*.yml")}
    return sorted(names)


def _ansible_doc(kind: str, names: list[str]) -> dict:
    if not names:
        return {}
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".collections"), ANSIBLE_NOCOLOR="1")
    exe = Path(sys.executable).parent / "ansible-doc"
    out = subprocess.run(
        [str(exe), "-t", kind, "--json", *[f"vigil.openstack.{n}" for n in names]],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


# Ansible's documentation markup -> Markdown. A macro ends at the first ")", as in ansible-doc.
_MARKUP = [
    (re.compile(r"(?<![A-Za-z])L\(([^)]+?),\s*([^)]+)\)"), r"[\1](\2)"),
    (re.compile(r"(?<![A-Za-z])U\(([^)]+)\)"), r"<\1>"),
    (re.compile(r"(?<![A-Za-z])B\(([^)]+)\)"), r"**\1**"),
    (re.compile(r"(?<![A-Za-z])I\(([^)]+)\)"), r"*\1*"),
    (re.compile(r"(?<![A-Za-z])P\(([^#)]+)#[^)]*\)"), r"`\1`"),
    (re.compile(r"(?<![A-Za-z])(?:C|M|O|V|RV|E)\(([^)]+)\)"), r"`\1`"),
]


def markdown(text: str) -> str:
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    return text


def _text(value) -> str:
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return markdown(str(value)).replace("|", "\\|").replace("\n", " ")


def _options(options: dict, prefix: str = "") -> list[str]:
    rows = []
    for name in sorted(options):
        opt = options[name]
        kind = opt.get("type", "str")
        if opt.get("elements"):
            kind += f" of {opt['elements']}"
        extra = []
        if opt.get("required"):
            extra.append("**required**")
        if "default" in opt and opt["default"] is not None:
            extra.append(f"default: `{json.dumps(opt['default'])}`")
        if opt.get("choices"):
            extra.append("choices: " + ", ".join(f"`{c}`" for c in opt["choices"]))
        rows.append(f"| `{prefix}{name}` | {kind} | {' '.join(extra)} | {_text(opt.get('description', ''))} |")
        if isinstance(opt.get("suboptions"), dict):
            rows += _options(opt["suboptions"], prefix=f"{prefix}{name}.")
    return rows


def render(kind: str, name: str, data: dict) -> str:
    doc = data.get("doc") or {}
    lines = [f"# vigil.openstack.{name} ({kind})", "", _text(doc.get("short_description", "")), ""]
    lines += [_text(d) + "\n" for d in (doc.get("description") or [])]
    if doc.get("requirements"):
        lines += ["## Requirements", ""] + ["- " + _text(r) for r in doc["requirements"]] + [""]
    if doc.get("attributes"):
        lines += ["## Attributes", "", "| attribute | support | description |", "|---|---|---|"]
        for key in sorted(doc["attributes"]):
            attr = doc["attributes"][key]
            lines.append(f"| `{key}` | {_text(attr.get('support', ''))} | {_text(attr.get('description', ''))} |")
        lines.append("")
    if doc.get("options"):
        lines += ["## Options", "", "| option | type | | description |", "|---|---|---|---|"]
        lines += _options(doc["options"]) + [""]
    if doc.get("notes"):
        lines += ["## Notes", ""] + ["- " + _text(n) for n in doc["notes"]] + [""]
    if data.get("examples"):
        lines += ["## Examples", "", "```yaml", data["examples"].strip("\n"), "```", ""]
    ret = data.get("return") or {}
    if ret:
        lines += ["## Returns", "", "| key | type | returned | description |", "|---|---|---|---|"]
        for key in sorted(ret):
            r = ret[key]
            lines.append(
                f"| `{key}` | {r.get('type', '')} | {_text(r.get('returned', ''))} | {_text(r.get('description', ''))} |"
            )
        lines.append("")
    lines.append("_Generated by tools/gen_plugin_docs.py from the plugin's documentation; do not edit._")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    # first the optimize filter's strategy list: its page below is rendered from it
    if OPTIMIZE_DOC.read_text() != optimize_doc():
        if check:
            stale.append(str(OPTIMIZE_DOC.relative_to(ROOT)))
        else:
            OPTIMIZE_DOC.write_text(optimize_doc())
    index = ["# Plugin reference", "", GENERATED_WITH % ansible_core(), ""]
    for kind, folder in TYPES.items():
        names = _plugins(kind)
        docs = _ansible_doc(kind, names)
        if names:
            index += [f"## {folder}", ""]
        for name in names:
            page = render(kind, name, docs[f"vigil.openstack.{name}"])
            path = OUT / folder / f"{name}.md"
            index.append(
                f"- [{name}]({folder}/{name}.md): {_text(docs[f'vigil.openstack.{name}']['doc'].get('short_description', ''))}"
            )
            if check:
                if not path.exists() or path.read_text() != page:
                    stale.append(str(path.relative_to(ROOT)))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(page)
        index.append("")
    index_text = "\n".join(index) + "\n"
    if check:
        if not (OUT / "README.md").exists() or (OUT / "README.md").read_text() != index_text:
            stale.append("docs/plugins/README.md")
        if stale:
            print("out of date (run python tools/gen_plugin_docs.py): " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    (OUT / "README.md").write_text(index_text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
