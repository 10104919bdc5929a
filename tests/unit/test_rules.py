# -*- coding: utf-8 -*-
"""constraints/rules: each rule defined once, its mask and its reason agreeing, volume rules with reasons."""

import pathlib

import numpy as np
import pytest
from modelgen import add_storage, random_model

from ansible_collections.vigil.openstack.plugins.module_utils import constraints
from ansible_collections.vigil.openstack.plugins.module_utils.constraints import rules
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.placement import Placement
from ansible_collections.vigil.openstack.plugins.module_utils.constraints.volumes import VolumePlacement

RULES_DIR = pathlib.Path(rules.__file__).parent
OPTS = {
    "scope": None,
    "allow_cross_az": False,
    "aggregate_policy": "metadata",
    "soft_policies": "hard",
    "allow_live": True,
    "allow_cold": True,
    "allow_cold_active": False,
}


def model(seed=3):
    m = random_model(seed, hosts=14, instances=160, azs=2, fill=0.7, groups=8, traits=True, disabled=2, aggregates=2)
    return add_storage(m, seed, pools=6, volumes=120)


def test_each_rule_module_is_registered_once():
    files = sorted(p.stem for p in RULES_DIR.glob("*.py") if p.stem != "__init__")
    registered = [r.__name__.rsplit(".", 1)[1] for r in rules.COMPUTE + rules.VOLUME]
    assert sorted(registered) == files  # every rule module listed, none twice
    assert [r.NAME for r in rules.COMPUTE + rules.VOLUME] == registered  # NAME is the module's name
    for r in rules.COMPUTE + rules.VOLUME:
        assert callable(r.setup) and callable(r.mask) and callable(r.reason), r.NAME


def _owners(state, rule_list):
    """{attribute: rule} of what each rule's setup builds; fails when a rule rebuilds another's."""
    owners = {}
    for rule in rule_list:
        before = dict(state.__dict__)
        rule.setup(state, OPTS)
        rebuilt = [k for k, v in before.items() if state.__dict__[k] is not v]
        assert not rebuilt, "%s rebuilds %s" % (rule.NAME, rebuilt)
        added = set(state.__dict__) - set(before)
        assert added, "%s builds nothing" % rule.NAME
        owners.update((k, rule.NAME) for k in added)
    return owners


def test_each_placement_array_is_built_by_one_rule():
    p = object.__new__(Placement)
    p._load(model())
    p._locate(None)
    owners = _owners(p, rules.COMPUTE)
    for name in ("free", "demand", "host_ok", "zone", "req_traits", "mig_type", "group_count", "agg_filters"):
        assert name in owners, name
    vp = object.__new__(VolumePlacement)
    frames = model()
    vp.pools, vp.volumes = frames["pools"], frames["volumes"]
    vp.names = constraints.str_col(vp.pools, "name")
    vp.vol_ids = constraints.str_col(vp.volumes, "id")
    vp.vol_pool = np.zeros(len(vp.vol_ids), dtype=np.int64)
    assert {"vol_movable", "types", "room"} <= set(_owners(vp, rules.VOLUME))


def _rule_mask(rule, state, i, n):
    m = np.ones(n, dtype=bool)
    src = state.inst_host[i] if isinstance(state, Placement) else state.vol_pool[i]
    return np.zeros(n, dtype=bool) if rule.mask(state, i, src, m) is False else m


def _agree(state, rule_list, items, n):
    """For each rule alone and for the whole list: mask[h] == (reason(h) == '')."""
    src_of = state.inst_host if isinstance(state, Placement) else state.vol_pool
    for i in items:
        for rule in rule_list:
            if hasattr(rule, "active") and not rule.active(state):
                continue  # skipped by the loops: its arrays may not even exist
            if rule.NAME not in ("migratability", "volume_state") and _rule_mask(rule_list[0], state, i, n).sum() == 0:
                continue  # the gate stops the loop first: later rules never see an unmovable item
            m = _rule_mask(rule, state, i, n)
            ok = np.array([rule.reason(state, i, src_of[i], h) == "" for h in range(n)])
            assert (m == ok).all(), (rule.NAME, i, np.nonzero(m != ok)[0])
        whole = state.candidates(i)
        assert (whole == np.array([state.allowed(i, h) == "" for h in range(n)])).all(), i


@pytest.mark.parametrize("policy", constraints.AGGREGATE_POLICIES)
def test_mask_and_reason_agree_for_every_rule(policy):
    pl = Placement(model(), aggregate_policy=policy, scope={"exclude": {"projects": ["p2"]}})
    _agree(pl, rules.COMPUTE, range(pl.N), pl.H)
    rng = np.random.default_rng(1)
    for i in rng.permutation(pl.N):  # state that moves: capacity and server-group counts change
        c = np.nonzero(pl.candidates(i))[0]
        if len(c):
            pl.move(i, int(c[rng.integers(len(c))]))
    _agree(pl, rules.COMPUTE, range(pl.N), pl.H)


def test_device_ports_mask_and_reason_agree():
    """Random device ports, traits and physnets: the device_ports rule's mask and reason agree."""
    frames = model()
    rng = np.random.default_rng(7)
    vnics = ["direct", "macvtap", "vdpa", "remote-managed", "accelerator-direct", None, None, None]
    kinds = rng.integers(0, len(vnics), len(frames["instances"]))
    frames["instances"]["device_vnic_types"] = [[vnics[k]] if vnics[k] else [] for k in kinds]
    frames["instances"]["device_physnets"] = [["physnet%d" % (k % 2)] if vnics[k] else [] for k in kinds]
    extra = [["HW_NIC_SRIOV"], ["COMPUTE_REMOTE_MANAGED_PORTS", "HW_NIC_SRIOV"], ["COMPUTE_ACCELERATORS"], []]
    nodes = frames["nodes"]
    nodes["traits"] = [list(t) + extra[k % 4] for k, t in enumerate(nodes["traits"])]
    reported = [[], ["physnet0"], ["physnet1"], ["physnet0", "physnet1"], []]
    nodes["device_physnets"] = [reported[k % 5] for k in range(len(nodes))]
    pl = Placement(frames, aggregate_policy="metadata")
    assert pl.device_ok  # the rule is active
    _agree(pl, rules.COMPUTE, range(pl.N), pl.H)


def test_volume_rules_agree_and_moves_recheck():
    vp = VolumePlacement(model())
    n = len(vp.names)
    _agree(vp, rules.VOLUME, range(len(vp.vol_ids)), n)
    stuck = int(np.nonzero(~vp.vol_movable)[0][0])
    with pytest.raises(ValueError, match=r"cannot move volume vol-\d+ to .*: volume vol-\d+: status error"):
        vp.move(stuck, 0)
    v = int(np.nonzero(vp.vol_movable)[0][0])
    src = int(vp.vol_pool[v])
    assert vp.allowed(v, src) == "destination is the current pool"
    other_type = next(k for k in range(n) if vp.vol_type[v] not in vp.types[k])
    assert "does not serve volume type %s" % vp.vol_type[v] in vp.allowed(v, other_type)
    same_type = next(k for k in range(n) if k != src and vp.vol_type[v] in vp.types[k])
    vp.room[same_type] = vp.vol_size[v] - 1
    with pytest.raises(ValueError, match="pool .* has room for .* GB, the volume needs .* GB"):
        vp.move(v, same_type)
    vp.room[same_type] = vp.vol_size[v]
    vp.move(v, same_type)
    assert vp.moves() == [(v, src, same_type)] and vp.room[same_type] == 0
