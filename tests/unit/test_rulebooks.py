"""Every shipped rulebook parses with ansible-rulebook's own parser and runs playbooks that exist."""

import sys
from pathlib import Path

import pytest
import yaml

rules_parser = pytest.importorskip("ansible_rulebook.rules_parser", reason="ansible-rulebook (requirements-dev.txt)")

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((ROOT / "extensions" / "eda" / "rulebooks").glob("*.yml"))
SOURCES = {p.stem for p in (ROOT / "extensions" / "eda" / "plugins" / "event_source").glob("*.py")}


@pytest.mark.parametrize("path", RULEBOOKS, ids=lambda p: p.name)
def test_rulebook_parses_and_names_our_sources_and_playbooks(path, monkeypatch):
    # the parser resolves collection names with ansible-galaxy: this venv's, this checkout
    from ansible_rulebook.conf import settings

    monkeypatch.setattr(settings, "ansible_galaxy_path", str(Path(sys.executable).parent / "ansible-galaxy"))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".collections"))
    data = yaml.safe_load(path.read_text())
    rulesets = rules_parser.parse_rule_sets(data)
    assert rulesets and all(rs.rules for rs in rulesets)
    for ruleset in data:
        for source in ruleset["sources"]:
            name = next(k for k in source if k.startswith("vigil.openstack."))
            assert name.rsplit(".", 1)[1] in SOURCES, name
        for rule in ruleset["rules"]:
            playbook = rule["action"]["run_playbook"]["name"]
            assert playbook.startswith("vigil.openstack.")
            assert (ROOT / "playbooks" / (playbook.rsplit(".", 1)[1] + ".yml")).exists(), playbook
            assert "throttle" in rule, "%s: every audit rule is throttled (storms)" % rule["name"]
