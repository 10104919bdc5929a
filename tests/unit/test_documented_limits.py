# -*- coding: utf-8 -*-
"""The default concurrency limits that users read are limits.py's: plan_apply's option text,
the plan_waves filter's and docs/apply.md each state every default, with its value."""

import pathlib
import re

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import limits

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = ["plugins/modules/plan_apply.py", "plugins/filter/plan_waves.yml", "docs/apply.md"]


def _defaults():
    out = {k: v for k, v in limits.DEFAULT_LIMITS.items() if k != "per_type"}
    out.update((k, v) for k, v in limits.DEFAULT_LIMITS["per_type"].items() if v is not None)
    return out


def _stated(text, key, value):
    # "total 8", "C(total=8)", "| `total` | 8": the name, a few non-word characters, the value
    return re.search(r"(?<![\w])%s[^\w\n]{1,6}%d\b" % (re.escape(key), value), text) is not None


@pytest.mark.parametrize("page", PAGES)
def test_every_default_is_stated_with_its_value(page):
    text = (ROOT / page).read_text()
    missing = ["%s=%s" % (k, v) for k, v in _defaults().items() if not _stated(text, k, v)]
    assert missing == [], "%s does not state these defaults: %s" % (page, ", ".join(missing))


def test_the_check_sees_a_wrong_value():
    assert _stated("Defaults - total 8, per_host 2", "total", 8)
    assert not _stated("Defaults - total 9, per_host 2", "total", 8)
    assert not _stated("volume_migrate 4", "migrate", 4)
