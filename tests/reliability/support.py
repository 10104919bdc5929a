"""Shared pieces of the reliability tier: the topology, the plans, and a fast way to run a module.

Modules run the way Ansible runs them on localhost - the module file as a Python script with
its arguments in a JSON file (``{"ANSIBLE_MODULE_ARGS": {...}}``) - which costs ~0.5 s where a
whole ``ansible-playbook`` costs ~3 s. The fault matrix needs dozens of runs; the playbook
path itself is exercised by tests/integration/apply and by test_security.py (``-vvv``).
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from ansible_collections.vigil.openstack.plugins.module_utils.state_file import PlanExecutionError, read_state
from vigil_twin.testing import running_twin, write_clouds_yaml

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "plugins" / "modules"

# cmp1..cmp5 in az1, cmp6 in az2; an anti-affinity group; a volume; Ironic and MAAS linkage.
TOPOLOGY = {
    "identity": {},
    "nodes": [
        {"hostname": "cmp%d" % i, "vcpus": 16, "memory_mb": 32768, "disk_gb": 500, "az": "az1" if i < 6 else "az2"}
        for i in range(1, 7)
    ],
    "server_groups": [{"name": "web", "policy": "anti-affinity", "project": "demo"}],
    "servers": [
        {"name": "vm1", "flavor": "m1.medium", "host": "cmp1"},
        {"name": "vm2", "flavor": "m1.small", "host": "cmp1"},
        {"name": "web-1", "flavor": "m1.small", "host": "cmp1", "server_groups": ["web"]},
        {"name": "vm3", "flavor": "m1.small", "host": "cmp2", "status": "SHUTOFF"},
        {"name": "vm6", "flavor": "m1.small", "host": "cmp2"},
        {"name": "vm4", "flavor": "m1.small", "host": "cmp3", "server_groups": ["web"]},
        {"name": "vm5", "flavor": "m1.small", "host": "cmp3"},
        {"name": "vm7", "flavor": "m1.small", "host": "cmp6"},
    ],
    "pools": [
        {"name": "cinder1@lvm#pool-a", "total_capacity_gb": 1000},
        {"name": "cinder2@lvm#pool-b", "total_capacity_gb": 1000},
    ],
    "volumes": [{"name": "vol1", "size_gb": 10, "pool": "cinder1@lvm#pool-a", "attached_to": "vm1"}],
    "baremetal": [{"name": "bm-cmp%d" % i, "compute_hostname": "cmp%d" % i} for i in range(1, 7)],
    "maas": {"machines": [{"hostname": "cmp%d" % i, "compute_hostname": "cmp%d" % i} for i in range(1, 7)]},
}


def start_twin(stack, tmp_path, speed=50.0, topology=None):
    """A twin of TOPOLOGY (or a variant) with its clouds.yaml in ``twin.clouds_yaml``."""
    twin = stack.enter_context(running_twin(copy.deepcopy(topology or TOPOLOGY), speed=speed))
    twin.clouds_yaml = write_clouds_yaml(twin, tmp_path / ("clouds-%s.yaml" % twin.port))
    return twin


# -- twin readers ---------------------------------------------------------------------------------
def server(twin, name):
    with twin.cloud.lock:
        return dict(next(s for s in twin.cloud.stores["compute"].servers.values() if s["name"] == name))


def server_id(twin, name):
    return server(twin, name)["id"]


def volume_id(twin, name):
    return next(v["id"] for v in twin.cloud.stores["volume"].volumes.values() if v["name"] == name)


def ironic_id(twin, name):
    return next(n["uuid"] for n in twin.cloud.stores["baremetal"].nodes.values() if n["name"] == name)


def maas_id(twin, hostname):
    return next(m["system_id"] for m in twin.cloud.stores["maas"].machines.values() if m["hostname"] == hostname)


# -- plans ----------------------------------------------------------------------------------------
def mixed_plan(twin):
    """One plan that talks to every service vigil drives: Nova, Placement, Cinder, Ironic, MAAS.

    s3 disable cmp3 -> m4, m5 live cmp3 -> cmp4 -> p3 Ironic power off cmp3;
    c3 cold vm3 (SHUTOFF) cmp2 -> cmp1; m6 live vm6 cmp2 -> cmp4; v1 vol1 pool-a -> pool-b;
    s5 disable cmp5 (empty) -> p5 MAAS power off cmp5.
    """
    sid = {n: server_id(twin, n) for n in ("vm3", "vm4", "vm5", "vm6")}
    actions = [
        planlib.compute_service_action("s3", "cmp3", "disabled", "vigil: evacuate"),
        planlib.migrate_action("m4", sid["vm4"], "cmp3", "cmp4", "live", "ACTIVE", parents=["s3"]),
        planlib.migrate_action("m5", sid["vm5"], "cmp3", "cmp4", "live", "ACTIVE", parents=["s3"]),
        planlib.node_power_action("p3", "cmp3", "ironic", ironic_id(twin, "bm-cmp3"), "off", parents=["m4", "m5"]),
        planlib.migrate_action("c3", sid["vm3"], "cmp2", "cmp1", "cold", "SHUTOFF"),
        planlib.migrate_action("m6", sid["vm6"], "cmp2", "cmp4", "live", "ACTIVE"),
        planlib.volume_migrate_action("v1", volume_id(twin, "vol1"), "cinder1@lvm#pool-a", "cinder2@lvm#pool-b"),
        planlib.compute_service_action("s5", "cmp5", "disabled", "vigil: power saving"),
        planlib.node_power_action("p5", "cmp5", "maas", maas_id(twin, "cmp5"), "off", parents=["s5"]),
    ]
    return planlib.new_plan("server_consolidation", "reliability", actions=actions)


MIXED_FINAL = {"vm4": "cmp4", "vm5": "cmp4", "vm3": "cmp1", "vm6": "cmp4"}


def chain_plan(twin, names=("vm1", "vm2", "vm6", "vm5", "vm3"), destination="cmp4"):
    """Migrations one after the other (each the parent of the next): a crash lands between or inside them."""
    actions, parents = [], []
    for i, name in enumerate(names):
        srv = server(twin, name)
        kind = "cold" if srv["status"] == "SHUTOFF" else "live"
        aid = "k%d" % i
        actions.append(
            planlib.migrate_action(aid, srv["id"], srv["host"], destination, kind, srv["status"], parents=parents)
        )
        parents = [aid]
    return planlib.new_plan("server_consolidation", "reliability", actions=actions)


# -- running modules ------------------------------------------------------------------------------
def module_env(twin=None, extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / ".collections"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    if twin is not None:
        env["OS_CLIENT_CONFIG_FILE"] = str(twin.clouds_yaml)
    env.update(extra or {})
    return env


def _args_file(tmp_path, module, args):
    path = tmp_path / ("args-%s-%d.json" % (module, time.monotonic_ns()))
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    return path


def module_cmd(tmp_path, module, args):
    return [sys.executable, str(MODULES / (module + ".py")), str(_args_file(tmp_path, module, args))]


def run_module(tmp_path, module, args, twin=None, env=None, timeout=120):
    """Run a module once; return (result dict, raw stdout+stderr)."""
    proc = subprocess.run(
        check=False,
        args=module_cmd(tmp_path, module, args),
        env=module_env(twin, env),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    out = proc.stdout.strip()
    try:
        result = json.loads(out.splitlines()[-1]) if out else {}
    except ValueError:
        result = {"failed": True, "msg": "module printed no JSON", "stdout": proc.stdout}
    return result, proc.stdout + proc.stderr


def start_module(tmp_path, module, args, twin=None, env=None):
    """Start a module in its own session (so SIGKILL of the group leaves nothing behind)."""
    return subprocess.Popen(
        module_cmd(tmp_path, module, args),
        env=module_env(twin, env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        start_new_session=True,
    )


def apply_args(plan, state_file, **kw):
    # state_dir holds the per-plan lock: keep it beside the state file, out of the user's home
    args = {
        "cloud": "vigil-twin",
        "plan": plan,
        "state_file": str(state_file),
        "state_dir": str(Path(state_file).parent) if state_file is not None else None,
        "poll_interval": 0.05,
    }
    args.update(kw)
    return args


def apply_plan(twin, tmp_path, plan, **kw):
    """plan_apply of ``plan`` on ``twin`` with the state file in tmp_path (and MAAS credentials)."""
    args = apply_args(plan, tmp_path / "plan.state.json", maas_url=twin.maas_url, maas_api_key=twin.maas_api_key)
    args.update(kw)
    return run_module(tmp_path, "plan_apply", args, twin=twin)


def states(result):
    return {a["id"]: a["state"] for a in result.get("actions", [])}


def wait_for(predicate, timeout=60.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not reached within %ss" % timeout)


def state_file_states(path):
    """Action states as a re-run would read them now (snapshot plus journal), {} when unreadable."""
    try:
        data = read_state(path)
    except (OSError, ValueError, PlanExecutionError):
        return {}
    return {k: v["state"] for k, v in data.get("actions", {}).items()}


def add_burst(twin, service, count, status=503):
    """The next `count` requests to `service` answer `status` (a burst), then the configured faults apply."""
    faults = twin.cloud.faults
    original = faults.for_request
    left = {"n": count}

    def for_request(name, method):
        if name == service:
            with faults._lock:
                if left["n"] > 0:
                    left["n"] -= 1
                    return 0.0, status
        return original(name, method)

    faults.for_request = for_request
    return left
