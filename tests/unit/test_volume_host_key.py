"""A volume move's host key (what concurrency limits count it against) is defined once.

The key is the Cinder volume service of a pool, ``host@backend`` of ``host@backend#pool``
(action_types.pool_host). A second place that cuts pool names, or wave building and
execution counting a volume move against different keys, fails here.
"""

import ast
import pathlib

import pytest

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils import planner
from ansible_collections.vigil.openstack.plugins.module_utils.action_types import pool_host
from ansible_collections.vigil.openstack.plugins.module_utils.actions.registry import EXECUTORS
from ansible_collections.vigil.openstack.plugins.module_utils.model import storage

PLUGINS = pathlib.Path(__file__).resolve().parents[2] / "plugins"
CUTS = {"split", "rsplit", "partition", "rpartition", "index", "rindex", "find", "rfind"}


def _move(aid, source, destination):
    return planlib.volume_migrate_action(aid, "vol-" + aid, source, destination_pool=destination)


@pytest.mark.parametrize(
    "name, host",
    [
        ("cinder-1@lvm#pool-a", "cinder-1@lvm"),
        ("cinder-1@lvm", "cinder-1@lvm"),  # a pool name without its pool part names the service
        ("cinder-1@lvm#pool#b", "cinder-1@lvm"),
        ("", ""),
        (None, None),
    ],
)
def test_pool_host(name, host):
    assert pool_host(name) == host


def test_the_backend_name_is_read_from_the_same_key():
    assert storage.pool_backend({"name": "cinder-1@lvm#pool-a"}) == "lvm"
    assert (
        storage.pool_backend({"name": "cinder-1@lvm#pool-a", "capabilities": {"volume_backend_name": "LVM"}}) == "LVM"
    )


def test_execution_counts_a_volume_move_against_both_services():
    action = _move("a1", "cinder-1@lvm#pool-a", "cinder-2@ceph#rbd")
    assert EXECUTORS["volume_migrate"].hosts(action) == ["cinder-1@lvm", "cinder-2@ceph"]


def test_wave_building_and_execution_use_the_same_key():
    # a1 and a2 leave different pools of one service: with one action per host they may not
    # share a wave (keyed by pool they would). No wave holds two moves that execution counts
    # against the same service.
    actions = [
        _move("a1", "cinder-1@lvm#pool-a", "cinder-2@ceph#rbd"),
        _move("a2", "cinder-1@lvm#pool-b", "cinder-3@nfs#share"),
        _move("a3", "cinder-4@lvm#pool-a", "cinder-5@nfs#share"),
    ]
    waves = planner.plan_waves(actions, {"per_host": 1, "per_type": {"volume_migrate": 10}})
    by_id = {a["id"]: a for a in actions}
    for wave in waves:
        keys = [h for aid in wave for h in EXECUTORS["volume_migrate"].hosts(by_id[aid])]
        assert len(keys) == len(set(keys)), waves
    wave_of = {aid: n for n, wave in enumerate(waves) for aid in wave}
    assert wave_of["a1"] != wave_of["a2"]
    assert len(waves) == 2  # a3 shares no service with either: it joins the first wave


def test_one_place_cuts_a_pool_name():
    """Only action_types.pool_host takes ``host@backend#pool`` apart at '#'."""
    found = []
    for path in sorted(PLUGINS.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        for func in ast.walk(tree):
            if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(func):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in CUTS
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value == "#"
                ):
                    found.append("%s:%s" % (path.relative_to(PLUGINS).as_posix(), func.name))
    assert found == ["module_utils/action_types.py:pool_host"]
