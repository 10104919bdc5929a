"""Digest of every strategy's plan over fixed generated clusters: a refactoring must not change it.

Run it before and after a change that should not change behaviour (e.g. moving the constraint
layer) and compare the last line. Plans carry a fresh id and creation time, so the digest
covers what a strategy decides: the action list (type, resource, input, parents), and, on a
second digest, the efficacy and the warnings (their texts quote the constraints' reasons).

Usage: python tools/plan_digest.py [--quick] [--verbose]
  --quick    skip the 1 000 x 20 000 bench cluster (minutes -> seconds)
  --verbose  one line per case
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".collections"), str(ROOT / "tests" / "unit"), str(ROOT / "bench")]

from modelgen import random_model  # noqa: E402
from plan import bench_model, speed_cases  # noqa: E402

from ansible_collections.vigil.openstack.plugins.module_utils.strategy_support import registry  # noqa: E402

# Placement options a moving strategy takes, beyond the defaults.
VARIANTS = (
    {},
    {"aggregate_policy": "metadata"},
    {"aggregate_policy": "any", "allow_cross_az": True, "soft_policies": "ignore", "allow_cold_active": True},
)


def clusters(quick):
    """(name, model, variants): the bench cluster, smaller ones with every constraint in play."""
    for seed in (1, 2, 3):
        m = bench_model(60, 900, seed, traits=True, aggregates=2, disabled=3)
        yield "60x900/s%d" % seed, m, VARIANTS
    for seed in (4, 5):
        m = random_model(seed, hosts=12, instances=120, azs=2, fill=0.5, groups=6, traits=True, aggregates=2)
        yield "12x120/s%d" % seed, m, VARIANTS
    if not quick:
        yield "1000x20000/s7", bench_model(1000, 20000, 7), ({},)


def digest(obj):
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def runs(model, variants):
    tables = set(model)
    for _goal, strategy, params in speed_cases(model):
        needs = set(registry.strategy_info(strategy)["tables"])
        if not needs <= tables:
            continue
        moving = "aggregate_policy" in registry.strategy_info(strategy)["parameters"]["properties"]
        for v in variants if moving else ({},):
            yield strategy, dict(params, **v)
        if strategy == "node_resource_consolidation" and model["nodes"].shape[0] <= 12:
            yield strategy + "/exact", dict(params, exact=True)
    if "pools" in tables:  # zone_migration's volume half: to any pool, to a named pool, retype
        pools = list(model["pools"]["name"])
        storage = [{"src_pool": pools[0]}, {"src_pool": pools[1], "dst_pool": pools[3]}]
        storage.append({"src_pool": pools[2], "dst_type": "ssd"})
        yield "zone_migration/volumes", {"compute_nodes": [], "storage_pools": storage, "parallel_total": 500}
    yield "host_maintenance/scoped", {"maintenance_node": model["nodes"]["hostname"][0], "_scope": True}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    goal_of = {s: g for g, names in registry.GOALS.items() for s in names}
    every = []
    for name, model, variants in clusters(args.quick):
        for label, params in runs(model, variants):
            params = dict(params)
            scope = {"exclude": {"projects": ["p2"]}} if params.pop("_scope", False) else None
            strategy = label.split("/")[0]
            plan = registry.run(model, goal_of[strategy], strategy, params, scope=scope)
            acts = [[a["type"], a["resource"], a["input"], a["parents"]] for a in plan["actions"]]
            row = [name, label, params, digest(acts), digest([plan["efficacy"], plan["warnings"]]), len(acts)]
            every.append(row)
            if args.verbose:
                print(" ".join(str(x) for x in row), flush=True)
    print("cases %d actions %s all %s" % (len(every), digest([r[3] for r in every]), digest(every)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
