"""Each role's README (galaxy-importer refuses a collection without them) tells the truth.

Its variable table lists exactly the options of meta/argument_specs.yml, with their types,
required flags and defaults, and those defaults agree with defaults/main.yml.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())
ROW = re.compile(r"^\| `(vigil_\w+)` \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$")


def _spec(role):
    return yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]


def _defaults(role):
    path = ROOT / "roles" / role / "defaults" / "main.yml"
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def _table(role):
    text = (ROOT / "roles" / role / "README.md").read_text()
    rows = [ROW.match(line) for line in text.splitlines() if line.startswith("| `vigil_")]
    assert all(rows), f"roles/{role}/README.md: a variable row does not parse"
    return {m[1]: (m[2].strip(), m[3].strip()) for m in rows}


def _shown(value):
    """How a README cell shows a default: `""`, `true`, `[a, b]`, `{}`, `3600`, `word`."""
    if value == "":
        return '`""`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, dict):
        return "`" + yaml.safe_dump(value, default_flow_style=True).strip() + "`"
    return f"`{value}`"


def test_every_role_has_a_readme():
    assert ROLES == ["apply", "collect", "plan", "report"]
    for role in ROLES:
        assert (ROOT / "roles" / role / "README.md").is_file(), role


@pytest.mark.parametrize("role", ROLES)
def test_readme_variables_match_the_argument_spec(role):
    options = _spec(role)["options"]
    table = _table(role)
    assert set(table) == set(options), f"roles/{role}/README.md vs meta/argument_specs.yml"
    for name, opt in options.items():
        kind, default = table[name]
        expected_kind = f"list of {opt['elements']}" if opt["type"] == "list" else opt["type"]
        assert kind == expected_kind, (role, name)
        if opt.get("required"):
            assert default == "required", (role, name)
        elif "default" in opt:
            assert default == _shown(opt["default"]), (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_argument_spec_defaults_agree_with_defaults_main(role):
    defaults = _defaults(role)
    for name, opt in _spec(role)["options"].items():
        if "default" in opt:
            assert defaults.get(name) == opt["default"], (role, name)
        elif not opt.get("required") and name != "vigil_state_file":
            # no default in the spec: defaults/main.yml computes one (a template), or it is required
            assert name in defaults, (role, name)
