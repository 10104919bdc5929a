"""docs/plugins/ reads as Markdown and carries what ansible-doc shows: attributes, requirements, notes."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ROOT / "docs" / "plugins"
INFO_MODULES = ["compute_model_info", "storage_model_info", "baremetal_model_info", "identity_info", "metrics_info"]
RAW_MARKUP = re.compile(r"(?<![A-Za-z])(?:C|I|M|B|U|L|P|O|V|RV|E)\([^)]*\)")


def _gen():
    spec = importlib.util.spec_from_file_location("gen_plugin_docs", ROOT / "tools" / "gen_plugin_docs.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "source, expected",
    [
        ("set C(cloud) or I(auth)", "set `cloud` or *auth*"),
        (
            "see M(vigil.openstack.plan_apply) and P(vigil.openstack.optimize#filter)",
            "see `vigil.openstack.plan_apply` and `vigil.openstack.optimize`",
        ),
        (
            "L(the docs, https://example.org/x) or U(https://example.org)",
            "[the docs](https://example.org/x) or <https://example.org>",
        ),
        ("B(never) O(wait=true) V(public)", "**never** `wait=true` `public`"),
        ("ABC(x) stays, as does f(x)", "ABC(x) stays, as does f(x)"),
    ],
)
def test_markup_becomes_markdown(source, expected):
    assert _gen().markdown(source) == expected


def test_no_page_leaves_ansible_markup_raw():
    for page in sorted(PAGES.rglob("*.md")):
        assert not RAW_MARKUP.findall(page.read_text()), page


@pytest.mark.parametrize("name", INFO_MODULES)
def test_info_modules_document_check_and_diff_mode(name):
    page = (PAGES / "modules" / f"{name}.md").read_text()
    rows = dict(re.findall(r"^\| `(check_mode|diff_mode)` \| (\w+) \|", page, re.M))
    assert rows == {"check_mode": "full", "diff_mode": "none"}
    assert "## Requirements" in page and "- python >= " in page


def test_every_module_page_has_attributes_and_notes_where_documented():
    for page in sorted((PAGES / "modules").glob("*.md")):
        text = page.read_text()
        assert "## Attributes" in text, page
        if "vigil.openstack.openstack" in (ROOT / "plugins" / "modules" / f"{page.stem}.py").read_text():
            assert "## Notes" in text, page  # the connection fragment's notes


def test_optimize_reference_lists_every_goal_strategy_and_parameter():
    from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry

    page = (PAGES / "filter" / "optimize.md").read_text()
    for goal, names in registry.available().items():
        assert (
            "Goal `%s`: %s"
            % (goal, ", ".join("`%s`" % n + (" (default)" if i == 0 else "") for i, n in enumerate(names)))
            in page
        )
        for name in names:
            line = next(x for x in page.split("Strategy `")[1:] if x.startswith(name + "` of goal `%s`" % goal))
            line = line.split(" Strategy `")[0]
            for param in registry.strategy_info(name)["parameters"].get("properties", {}):
                assert "*%s* (" % param in line, (name, param)
