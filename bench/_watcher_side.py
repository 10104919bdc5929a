"""Run one of OpenStack Watcher's strategies on a vigil model (run under a Python with python-watcher).

Usage: <watcher python> bench/_watcher_side.py model.json strategy [params-json]
Prints one JSON object: migrations, hosts emptied, final host of every moved server.
The model is vigil's split-table JSON; nodes and instances become a Watcher ModelRoot, as
Watcher's own unit tests build one; the strategy runs offline (no datasource, no DB).
"""

import json
import random
import sys
import uuid
from unittest import mock

from watcher.common import utils
from watcher.decision_engine.model import element, model_root
from watcher.decision_engine.strategy import strategies


def table(model, name):
    t = model[name]
    return [dict(zip(t["columns"], row)) for row in t["data"]]


def build(model):
    root = model_root.ModelRoot()
    nodes = {}
    for n in table(model, "nodes"):
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
        inst = element.Instance(
            uuid=i["uuid"],
            name=i["name"],
            state="active" if i["status"] == "ACTIVE" else "stopped",
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


def main():
    model = json.load(open(sys.argv[1]))
    name = sys.argv[2]
    params = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    random.seed(0)  # workload_stabilization's host_choice=retry samples destinations
    root = build(model)
    before = {n.hostname: len(root.get_node_instances(n)) for n in root.get_all_compute_nodes().values()}
    cls = {
        "node_resource_consolidation": strategies.NodeResourceConsolidation,
        "workload_stabilization": strategies.WorkloadStabilization,
    }[name]
    strategy = cls(config=mock.Mock(datasources=None))
    strategy._compute_model = root
    strategy.input_parameters = utils.Struct()
    if name == "workload_stabilization":
        defaults = {k: v["default"] for k, v in cls.get_schema()["properties"].items() if "default" in v}
        strategy.input_parameters.update(defaults)
        strategy._datasource_backend = cpu_backend(model, root)
        strategy.sd_before_audit = strategy.sd_after_audit = 0
    strategy.input_parameters.update(params)
    solution = strategy.execute()
    moves = {}
    for a in solution.actions:
        if a["action_type"] == "migrate":
            moves[a["input_parameters"]["resource_id"]] = a["input_parameters"].get("destination_node")
    after = {n.hostname: len(root.get_node_instances(n)) for n in root.get_all_compute_nodes().values()}
    emptied = sorted(h for h in before if before[h] > 0 and after[h] == 0)
    print(
        json.dumps(
            {
                "migrations": len(moves),
                "emptied": emptied,
                "moves": moves,
                "efficacy": {i.name: i.value for i in solution.efficacy_indicators},
            }
        )
    )


if __name__ == "__main__":
    main()
