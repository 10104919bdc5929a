"""Run one of OpenStack Watcher's strategies on a vigil model (run under a Python with python-watcher).

Usage: <watcher python> bench/_watcher_side.py model.json strategy [params-json] [per-az]
Prints one JSON object: migrations, hosts emptied, final host of every moved server, the
solution's actions in order, the seconds spent in the strategy (model building excluded)
and this process's peak RSS.
The model is vigil's split-table JSON; nodes and instances become a Watcher ModelRoot, as
Watcher's own unit tests build one; the strategy runs offline (no datasource, no DB).
An exception from the strategy (Watcher 17's vm_workload_consolidation fails its own
efficacy validation when it re-enables a disabled host more than once: the released count
goes negative) is reported in "errors", with the solution built until then.
With per-az, the strategy runs once per availability zone on that zone's hosts (Watcher's
consolidation strategies have no notion of AZ; an operator scopes one audit per AZ), and the
solutions are concatenated.
vm_workload_consolidation gets a datasource that has no measurements, so Watcher counts
each server at its flavor (vCPUs, RAM, root disk): it packs by allocation, like
vigil's node_resource_consolidation.
"""

import json
import logging
import random
import resource
import sys
import time
import uuid
from unittest import mock

from watcher.common import utils
from watcher.decision_engine.model import element, model_root
from watcher.decision_engine.strategy import strategies


def table(model, name):
    t = model[name]
    return [dict(zip(t["columns"], row)) for row in t["data"]]


# Nova status -> Watcher InstanceState value
STATES = {"ACTIVE": "active", "SHUTOFF": "stopped", "PAUSED": "paused", "SUSPENDED": "suspended", "ERROR": "error"}


def build(model, az=None):
    root = model_root.ModelRoot()
    nodes = {}
    for n in table(model, "nodes"):
        if az is not None and n["az"] != az:
            continue
        node = element.ComputeNode(
            uuid=n["hypervisor_id"] or str(uuid.uuid4()),
            hostname=n["hostname"],
            status=n["status"],
            state="up" if n["state"] == "up" else "down",
            disabled_reason=None,
            memory=int(n["memory_mb_total"]),
            memory_mb_reserved=int(n["memory_mb_reserved"]),
            disk=int(n["disk_gb_total"]),
            disk_gb_reserved=int(n["disk_gb_reserved"]),
            vcpus=int(n["vcpu_total"]),
            vcpu_reserved=int(n["vcpu_reserved"]),
            memory_ratio=float(n["memory_mb_allocation_ratio"]),
            vcpu_ratio=float(n["vcpu_allocation_ratio"]),
            disk_ratio=float(n["disk_gb_allocation_ratio"]),
        )
        root.add_node(node)
        nodes[n["hostname"]] = node
    for i in table(model, "instances"):
        if i["host"] not in nodes:
            continue
        inst = element.Instance(
            uuid=i["uuid"],
            name=i["name"],
            state=STATES.get(i["status"], str(i["status"]).lower()),
            # what an operator's audit scope leaves out: servers that cannot move at all
            watcher_exclude=bool(i["locked"] or i.get("task_state") or i.get("pinned")),
            memory=int(i["memory_mb"]),
            disk=int(i["disk_gb"]),
            vcpus=int(i["vcpus"]),
            metadata={},
            project_id=str(uuid.uuid5(uuid.NAMESPACE_DNS, i["project_id"] or "p")),
            locked=bool(i["locked"]),
            host=i["host"],
            hypervisor_hostname=i["host"],
        )
        root.add_instance(inst)
        root.map_instance(inst, nodes[i["host"]])
    return root


def cpu_backend(model, root):
    """A datasource answering statistic_aggregation from the model's cpu_util_pct metrics."""
    util = {}
    for r in table(model, "metrics") if "metrics" in model else []:
        if r["resource_type"] == "instance" and r["metric"] == "cpu_util_pct":
            util[r["resource_id"]] = float(r["value"])

    def statistic_aggregation(resource, resource_type, meter, period, aggregate, granularity):
        if resource_type == "instance":
            return util.get(resource.uuid)
        busy = sum(util.get(i.uuid, 0.0) / 100.0 * i.vcpus for i in root.get_node_instances(resource))
        return busy / float(resource.vcpus) * 100.0

    return mock.Mock(statistic_aggregation=statistic_aggregation)


def no_measurements():
    """A datasource without data: Watcher falls back to each server's flavor."""
    return mock.Mock(
        **{
            "get_%s.return_value" % m: None
            for m in (
                "instance_cpu_usage",
                "instance_ram_usage",
                "instance_ram_allocated",
                "instance_root_disk_size",
                "host_cpu_usage",
                "host_ram_usage",
            )
        }
    )


def run(model, name, params, root):
    cls = {
        "node_resource_consolidation": strategies.NodeResourceConsolidation,
        "vm_workload_consolidation": strategies.VMWorkloadConsolidation,
        "workload_stabilization": strategies.WorkloadStabilization,
    }[name]
    strategy = cls(config=mock.Mock(datasources=None))
    strategy._compute_model = root
    strategy.input_parameters = utils.Struct()
    if name in ("workload_stabilization", "vm_workload_consolidation"):
        defaults = {k: v["default"] for k, v in cls.get_schema()["properties"].items() if "default" in v}
        strategy.input_parameters.update(defaults)
    if name == "workload_stabilization":
        strategy._datasource_backend = cpu_backend(model, root)
        strategy.sd_before_audit = strategy.sd_after_audit = 0
    if name == "vm_workload_consolidation":
        strategy._datasource_backend = no_measurements()
    strategy.input_parameters.update(params)
    start = time.perf_counter()
    error = None
    try:
        solution = strategy.execute()
    except Exception as e:  # noqa: BLE001 - e.g. efficacy validation; the solution is already built
        solution, error = strategy.solution, "%s: %s" % (type(e).__name__, str(e).splitlines()[0])
    return solution, time.perf_counter() - start, error


def main():
    model = json.load(open(sys.argv[1]))
    name = sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    zones = sorted({n["az"] for n in table(model, "nodes")}) if sys.argv[4:] == ["per-az"] else [None]
    random.seed(0)  # workload_stabilization's host_choice=retry samples destinations
    # Watcher warns once per server without measurements: a cost an instrumented cloud does not pay
    logging.disable(logging.WARNING)
    moves, actions, emptied, efficacy, seconds, errors = {}, [], [], {}, 0.0, []
    for az in zones:
        root = build(model, az)
        before = {n.hostname: len(root.get_node_instances(n)) for n in root.get_all_compute_nodes().values()}
        solution, took, error = run(model, name, params, root)
        seconds += took
        if error:
            errors.append("%s: %s" % (az or "all", error))
        for a in solution.actions:
            p = a["input_parameters"]
            if a["action_type"] == "migrate":
                moves[p["resource_id"]] = p.get("destination_node")
                actions.append(
                    {
                        "type": "migrate",
                        "resource": p["resource_id"],
                        "migration_type": p.get("migration_type"),
                        "source_node": p.get("source_node"),
                        "destination_node": p.get("destination_node"),
                    }
                )
            elif a["action_type"] == "change_nova_service_state":
                actions.append({"type": "compute_service", "host": p.get("resource_name"), "state": p.get("state")})
        after = {n.hostname: len(root.get_node_instances(n)) for n in root.get_all_compute_nodes().values()}
        emptied += sorted(h for h in before if before[h] > 0 and after[h] == 0)
        for i in solution.efficacy_indicators:
            efficacy[i.name] = efficacy.get(i.name, 0) + i.value if isinstance(i.value, (int, float)) else i.value
    print(
        json.dumps(
            {
                "migrations": len(moves),
                "emptied": emptied,
                "moves": moves,
                "actions": actions,
                "efficacy": efficacy,
                "seconds": seconds,
                "errors": errors,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            }
        )
    )


if __name__ == "__main__":
    main()
