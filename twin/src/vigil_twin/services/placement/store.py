"""Placement's state: resource providers, their inventories, traits and aggregates, and the
allocations per consumer, with capacity enforced on every write as Placement does:
used + requested <= (total - reserved) * allocation_ratio, min_unit <= requested <= max_unit,
requested % step_size == 0.

Nova (services/compute/) writes allocations through `put_allocations` / `move_allocations`,
so Nova's and Placement's views stay the same. The standard traits and resource classes are
OpenStack's own lists (os-traits, os-resource-classes), not the twin's.
"""

from __future__ import annotations

import copy
from typing import Any

import os_resource_classes
import os_traits

from vigil_twin.topology import validate_topology

STANDARD_CLASSES: tuple[str, ...] = tuple(os_resource_classes.STANDARDS)
STANDARD_TRAITS: frozenset[str] = frozenset(os_traits.get_traits())
# node topology key -> resource class
NODE_CLASSES = (("vcpus", "VCPU"), ("memory_mb", "MEMORY_MB"), ("disk_gb", "DISK_GB"), ("pcpus", "PCPU"))
# traits Nova's libvirt driver reports on every compute node provider
NODE_TRAITS = ("COMPUTE_NODE", "COMPUTE_VOLUME_ATTACH", "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_IMAGE_TYPE_QCOW2")


class PlacementError(Exception):
    """A refused write (status 409 or 400) with Placement's detail text."""

    def __init__(self, status: int, detail: str, code: str = "placement.undefined_code") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


def capacity_of(inv: dict[str, Any]) -> int:
    return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])


class PlacementStore:
    def __init__(self, cloud: Any) -> None:
        self.cloud = cloud
        self.providers: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, str] = {}
        self.allocations: dict[str, dict[str, Any]] = {}  # consumer -> record
        self.usages: dict[str, dict[str, int]] = {}  # rp uuid -> rc -> used
        self.consumers_of: dict[str, set[str]] = {}  # rp uuid -> consumers with allocations there
        self.traits: set[str] = set(STANDARD_TRAITS)
        self.resource_classes: list[str] = list(STANDARD_CLASSES)

    # -- providers -------------------------------------------------------------------
    def add_provider(
        self,
        rp_uuid: str,
        name: str,
        inventories: dict[str, dict[str, Any]],
        traits=(),
        aggregates=(),
        parent: str | None = None,
    ) -> dict[str, Any]:
        root = self.providers[parent]["root_provider_uuid"] if parent else rp_uuid
        rp = {
            "uuid": rp_uuid,
            "name": name,
            "generation": 0,
            "parent_provider_uuid": parent,
            "root_provider_uuid": root,
            "inventories": inventories,
            "traits": set(traits),
            "aggregates": set(aggregates),
        }
        self.traits.update(traits)
        self.providers[rp_uuid] = rp
        self.by_name[name] = rp_uuid
        self.usages[rp_uuid] = {}
        self.consumers_of[rp_uuid] = set()
        return rp

    def subtree(self, rp_uuid: str) -> list[str]:
        """`rp_uuid` and every provider below it."""
        out, todo = [], [rp_uuid]
        while todo:
            here = todo.pop()
            out.append(here)
            todo += [u for u, p in self.providers.items() if p["parent_provider_uuid"] == here]
        return out

    def set_parent(self, rp_uuid: str, parent: str | None) -> None:
        """Re-parent `rp_uuid` (None: make it a root); its subtree follows to the new root."""
        root = self.providers[parent]["root_provider_uuid"] if parent else rp_uuid
        self.providers[rp_uuid]["parent_provider_uuid"] = parent
        for uuid in self.subtree(rp_uuid):
            self.providers[uuid]["root_provider_uuid"] = root

    def capacity(self, rp_uuid: str, rc: str) -> int:
        inv = self.providers[rp_uuid]["inventories"].get(rc)
        return 0 if inv is None else capacity_of(inv)

    def set_trait(self, rp_uuid: str, trait: str, present: bool) -> None:
        rp = self.providers[rp_uuid]
        if present != (trait in rp["traits"]):
            (rp["traits"].add if present else rp["traits"].discard)(trait)
            rp["generation"] += 1

    # -- allocations -----------------------------------------------------------------
    def check(
        self, allocations: dict[str, dict[str, int]], replacing: str | None = None, also_replacing: str | None = None
    ) -> None:
        """Raise PlacementError if writing `allocations` would break an inventory constraint.
        Allocations of `replacing` (and `also_replacing`) consumers are released first.
        Statuses as Placement's: unknown provider or class 400, any inventory violation 409."""
        freed: dict[tuple[str, str], int] = {}
        for consumer in (replacing, also_replacing):
            old = self.allocations.get(consumer or "")
            if old:
                for rp, res in old["allocations"].items():
                    for rc, n in res.items():
                        freed[(rp, rc)] = freed.get((rp, rc), 0) + n
        for rp_uuid, res in allocations.items():
            rp = self.providers.get(rp_uuid)
            if rp is None:
                raise PlacementError(400, f"Allocation for resource provider '{rp_uuid}' that does not exist.")
            for rc, amount in res.items():
                if rc not in self.resource_classes:
                    raise PlacementError(400, f"Unable to allocate inventory: No such resource class {rc}.")
                inv = rp["inventories"].get(rc)
                if inv is None:
                    raise PlacementError(
                        409,
                        f"Unable to allocate inventory: Inventory for '{rc}' on resource provider '{rp_uuid}' invalid.",
                    )
                if amount < inv["min_unit"] or amount > inv["max_unit"] or amount % inv["step_size"]:
                    raise PlacementError(
                        409,
                        f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider "
                        f"'{rp_uuid}'. The requested amount would violate inventory constraints.",
                    )
                used = self.usages[rp_uuid].get(rc, 0) - freed.get((rp_uuid, rc), 0)
                if used + amount > capacity_of(inv):
                    raise PlacementError(
                        409,
                        f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider "
                        f"'{rp_uuid}'. The requested amount would exceed the capacity.",
                    )

    def _apply(self, consumer: str, sign: int) -> None:
        """Add (+1) or take away (-1) a consumer's allocations from the usages; no generation moves."""
        record = self.allocations.get(consumer)
        if not record:
            return
        for rp_uuid, res in record["allocations"].items():
            usage = self.usages[rp_uuid]
            for rc, n in res.items():
                usage[rc] = usage.get(rc, 0) + sign * n
            if sign > 0:
                self.consumers_of[rp_uuid].add(consumer)
            else:
                self.consumers_of[rp_uuid].discard(consumer)

    def put_allocations(
        self,
        consumer: str,
        allocations: dict[str, dict[str, int]],
        project_id: str,
        user_id: str,
        consumer_type: str = "unknown",
        check: bool = True,
    ) -> None:
        """Replace a consumer's allocations (empty dict deletes), enforcing capacity.

        As Placement's replace_all: the providers written to (or, for an empty write, the ones
        emptied) move their generation once; a provider the consumer merely leaves does not. A new
        consumer's generation is 1 after its first write (created at 0, bumped by the write)."""
        allocations = {rp: {rc: int(n) for rc, n in res.items() if n} for rp, res in allocations.items()}
        allocations = {rp: res for rp, res in allocations.items() if res}
        if check:
            self.check(allocations, replacing=consumer)
        old = self.allocations.get(consumer)
        self._apply(consumer, -1)
        for rp_uuid in allocations or (old or {}).get("allocations", {}):
            self.providers[rp_uuid]["generation"] += 1
        if not allocations:
            self.allocations.pop(consumer, None)
            return
        self.allocations[consumer] = {
            "allocations": allocations,
            "project_id": project_id,
            "user_id": user_id,
            "consumer_generation": (old["consumer_generation"] if old else 0) + 1,
            "consumer_type": consumer_type,
        }
        self._apply(consumer, +1)

    def delete_allocations(self, consumer: str) -> bool:
        """DELETE /allocations/{consumer}: Placement's delete_all moves no provider generation."""
        if consumer not in self.allocations:
            return False
        self._apply(consumer, -1)
        del self.allocations[consumer]
        return True

    def move_allocations(self, source: str, target: str, consumer_type: str = "unknown") -> None:
        """Move all of `source`'s allocations to `target` (Nova does this to a migration record)."""
        record = self.allocations.get(source)
        if not record:
            return
        allocs = copy.deepcopy(record["allocations"])
        self.delete_allocations(source)
        self.put_allocations(target, allocs, record["project_id"], record["user_id"], consumer_type, check=False)

    def violations(self) -> list[dict[str, Any]]:
        """Providers whose usage exceeds capacity (must stay empty)."""
        out = []
        for rp_uuid, usage in self.usages.items():
            for rc, used in usage.items():
                cap = self.capacity(rp_uuid, rc)
                if used > cap:
                    out.append(
                        {
                            "resource_provider": rp_uuid,
                            "name": self.providers[rp_uuid]["name"],
                            "resource_class": rc,
                            "used": used,
                            "capacity": cap,
                        }
                    )
        return out


# -- topology, snapshot, restore ----------------------------------------------------------
def load(cloud: Any, topology: dict[str, Any]) -> PlacementStore:
    t = validate_topology(topology)
    store = PlacementStore(cloud)
    for node in t["nodes"]:
        inventories = {}
        for key, rc in NODE_CLASSES:
            total = node[key]
            if not total:
                continue
            inventories[rc] = {
                "total": total,
                "reserved": node["reserved"][key],
                "min_unit": 1,
                "max_unit": total,
                "step_size": 1,
                "allocation_ratio": node["allocation_ratio"][key],
            }
        traits = [*NODE_TRAITS, *node["traits"]]
        if node["status"] == "disabled":
            traits.append("COMPUTE_STATUS_DISABLED")
        aggs = [a["uuid"] for a in t["aggregates"] if node["hostname"] in a["hosts"]]
        store.add_provider(node["uuid"], node["hypervisor_hostname"], inventories, traits, aggs)
    return store


def snapshot(store: PlacementStore) -> dict[str, Any]:
    return {
        "providers": [
            dict(rp, traits=sorted(rp["traits"]), aggregates=sorted(rp["aggregates"]))
            for rp in store.providers.values()
        ],
        "allocations": copy.deepcopy(store.allocations),
        "traits": sorted(store.traits),
        "resource_classes": list(store.resource_classes),
    }


def restore(cloud: Any, store: PlacementStore, data: dict[str, Any]) -> PlacementStore:
    new = PlacementStore(cloud)
    new.traits = set(data.get("traits") or STANDARD_TRAITS)
    new.resource_classes = list(data.get("resource_classes") or STANDARD_CLASSES)
    for rp in data.get("providers", []):
        added = new.add_provider(
            rp["uuid"], rp["name"], copy.deepcopy(rp["inventories"]), rp["traits"], rp["aggregates"], None
        )
        added["generation"] = rp["generation"]
        added["parent_provider_uuid"] = rp.get("parent_provider_uuid")
        added["root_provider_uuid"] = rp.get("root_provider_uuid", rp["uuid"])
    for consumer, record in (data.get("allocations") or {}).items():
        new.allocations[consumer] = copy.deepcopy(record)
        new._apply(consumer, +1)
    return new
