# -*- coding: utf-8 -*-
"""limits.py: one validator, one counter, used alike by the waves and the executor."""

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import limits, plan, planner
from ansible_collections.vigil.openstack.plugins.module_utils.plan_executor import PlanExecutionError, normalize_limits


def live(aid, server, src, dst, parents=()):
    return plan.migrate_action(aid, server, src, dst, "live", "ACTIVE", parents)


def test_flat_and_nested_forms_agree_and_defaults_fill_the_rest():
    nested = limits.normalize({"per_type": {"migrate": 9}, "total": None})
    flat = limits.normalize({"migrate": 9, "total": None})
    assert nested == flat
    assert nested["per_type"]["migrate"] == 9 and nested["total"] is None
    assert nested["per_host"] == 2 and nested[limits.LIVE_KEY] == 1
    assert nested["per_type"]["volume_migrate"] == limits.DEFAULT_LIMITS["per_type"]["volume_migrate"]


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"per_host": 0}, "limits.per_host must be a positive integer or null, got 0"),
        ({"total": True}, "limits.total must be a positive integer or null, got True"),
        ({"per_type": {"teleport": 1}}, "limits.per_type: unknown action type 'teleport'"),
        ({"teleport": 1}, "limits: unknown key 'teleport'"),
        ({limits.LIVE_KEY: "2"}, "limits.max_concurrent_live_migrations must be a positive integer"),
        ([1], "limits must be a mapping"),
    ],
)
def test_bad_limits_name_the_key(bad, message):
    with pytest.raises(limits.LimitsError) as exc:
        limits.normalize(bad)
    assert message in str(exc.value)


def test_executor_names_its_option():
    with pytest.raises(PlanExecutionError, match="concurrency.per_host must be a positive integer"):
        normalize_limits({"per_host": -1})


def test_live_migrations_per_source_host_cut_waves():
    actions = [live("a%d" % i, "s%d" % i, "src%d" % (i % 2), "dst%d" % i) for i in range(6)]
    p = plan.new_plan("g", "s", actions=actions)
    waves = planner.plan_waves(p, {"total": None, "per_type": {"migrate": None}})
    assert [len(w) for w in waves] == [2, 2, 2]  # one live migration off each of the two sources
    waves = planner.plan_waves(p, {limits.LIVE_KEY: 3, "per_host": None, "per_type": {"migrate": None}})
    assert [len(w) for w in waves] == [6]
    # cold migrations are not Nova's live-migration queue
    cold = [dict(a, input=dict(a["input"], migration_type="cold")) for a in actions]
    waves = planner.plan_waves(plan.new_plan("g", "s", actions=cold), {"per_host": None, "per_type": {"migrate": None}})
    assert [len(w) for w in waves] == [6]


def test_usage_counts_up_and_down():
    usage = limits.Usage(limits.normalize({"per_host": 1, limits.LIVE_KEY: 5}))
    a, b = live("a1", "s1", "h1", "h2"), live("a2", "s2", "h3", "h2")
    assert usage.fits(a)
    usage.add(a)
    assert not usage.fits(b)  # h2 already loaded once
    usage.remove(a)
    assert usage.fits(b) and usage.total == 0
