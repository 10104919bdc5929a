"""Placement: resource providers (one per compute node, built from the topology's nodes),
inventories, usages, allocations per consumer, traits, aggregates, resource classes, allocation
candidates (1.10+, each from one root provider), with microversions 1.0-1.39 and 409 on
generation conflicts.

Nova (services/compute.py) writes allocations through `PlacementStore.put_allocations` /
`move_allocations`, so Nova's and Placement's views stay the same; capacity is enforced
on every write as Placement does: used + requested <= (total - reserved) * allocation_ratio.
"""

from __future__ import annotations

import copy
import re
import uuid as uuidlib
from email.utils import formatdate
from typing import Any

from vigil_twin.http import HTTPError, Request, Response, Router
from vigil_twin.services import Service
from vigil_twin.topology import validate_topology

router = Router()
MIN_VERSION = (1, 0)
MAX_VERSION = (1, 39)
STANDARD_CLASSES = [
    "VCPU", "MEMORY_MB", "DISK_GB", "PCPU", "PCI_DEVICE", "SRIOV_NET_VF", "NUMA_SOCKET", "NUMA_CORE", "NUMA_THREAD",
    "NUMA_MEMORY_MB", "IPV4_ADDRESS", "VGPU", "VGPU_DISPLAY_HEAD", "NET_BW_EGR_KILOBIT_PER_SEC",
    "NET_BW_IGR_KILOBIT_PER_SEC", "PMEM_NAMESPACE_SMALL", "MEM_ENCRYPTION_CONTEXT", "FPGA", "PGPU",
]  # fmt: skip
STANDARD_TRAITS = [
    "COMPUTE_NODE", "COMPUTE_STATUS_DISABLED", "COMPUTE_NET_ATTACH_INTERFACE", "COMPUTE_VOLUME_ATTACH",
    "COMPUTE_VOLUME_EXTEND", "COMPUTE_VOLUME_MULTI_ATTACH", "COMPUTE_TRUSTED_CERTS", "COMPUTE_DEVICE_TAGGING",
    "COMPUTE_IMAGE_TYPE_QCOW2", "COMPUTE_IMAGE_TYPE_RAW", "COMPUTE_IMAGE_TYPE_ISO", "HW_CPU_X86_AVX",
    "HW_CPU_X86_AVX2", "HW_CPU_X86_AVX512F", "HW_CPU_X86_SSE42", "HW_CPU_HYPERTHREADING", "HW_NIC_SRIOV",
    "HW_GPU_API_VULKAN", "HW_NUMA_ROOT", "STORAGE_DISK_SSD", "STORAGE_DISK_HDD", "COMPUTE_ACCELERATORS",
    "COMPUTE_SOCKET_PCI_NUMA_AFFINITY", "COMPUTE_MIGRATE_AUTO_CONVERGE", "COMPUTE_MIGRATE_POST_COPY",
]  # fmt: skip
# node topology key -> resource class
NODE_CLASSES = (("vcpus", "VCPU"), ("memory_mb", "MEMORY_MB"), ("disk_gb", "DISK_GB"), ("pcpus", "PCPU"))


class PlacementError(Exception):
    """A refused allocation write (status 409 or 400) with Placement's detail text."""

    def __init__(self, status: int, detail: str, code: str = "placement.undefined_code") -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code


def error(status: int, detail: str, code: str = "placement.undefined_code") -> HTTPError:
    titles = {400: "Bad Request", 404: "Not Found", 406: "Not Acceptable", 409: "Conflict", 403: "Forbidden"}
    return HTTPError(
        status,
        {
            "errors": [
                {
                    "status": status,
                    "title": titles.get(status, "Error"),
                    "detail": detail,
                    "code": code,
                    "request_id": f"req-{uuidlib.uuid4()}",
                }
            ]
        },
    )


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

    def capacity(self, rp_uuid: str, rc: str) -> int:
        inv = self.providers[rp_uuid]["inventories"].get(rc)
        if inv is None:
            return 0
        return int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"])

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
        Allocations of `replacing` (and `also_replacing`) consumers are released first."""
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
                raise PlacementError(400, f"Unable to allocate inventory: Resource provider {rp_uuid} not found.")
            for rc, amount in res.items():
                inv = rp["inventories"].get(rc)
                if inv is None:
                    raise PlacementError(
                        409,
                        f"Unable to allocate inventory: Inventory for '{rc}' on resource provider '{rp_uuid}' invalid.",
                    )
                if amount < inv["min_unit"] or amount > inv["max_unit"] or amount % inv["step_size"]:
                    raise PlacementError(
                        400,
                        f"Unable to allocate inventory: Allocation for {rc} on resource provider {rp_uuid} violates min_unit, "
                        f"max_unit, or step_size. Requested: {amount}, min_unit: {inv['min_unit']}, max_unit: {inv['max_unit']}, step_size: {inv['step_size']}",
                    )
                used = self.usages[rp_uuid].get(rc, 0) - freed.get((rp_uuid, rc), 0)
                if used + amount > self.capacity(rp_uuid, rc):
                    raise PlacementError(
                        409,
                        f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider '{rp_uuid}'. "
                        "The requested amount would exceed the capacity.",
                    )

    def _apply(self, consumer: str, sign: int) -> None:
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
            self.providers[rp_uuid]["generation"] += 1

    def put_allocations(
        self,
        consumer: str,
        allocations: dict[str, dict[str, int]],
        project_id: str,
        user_id: str,
        consumer_type: str = "unknown",
        check: bool = True,
    ) -> None:
        """Replace a consumer's allocations (empty dict deletes), enforcing capacity."""
        allocations = {rp: {rc: int(n) for rc, n in res.items() if n} for rp, res in allocations.items()}
        allocations = {rp: res for rp, res in allocations.items() if res}
        if check:
            self.check(allocations, replacing=consumer)
        old = self.allocations.get(consumer)
        self._apply(consumer, -1)
        if not allocations:
            self.allocations.pop(consumer, None)
            return
        self.allocations[consumer] = {
            "allocations": allocations,
            "project_id": project_id,
            "user_id": user_id,
            "consumer_generation": (old["consumer_generation"] + 1) if old else 0,
            "consumer_type": consumer_type,
        }
        self._apply(consumer, +1)

    def delete_allocations(self, consumer: str) -> bool:
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


# -- helpers ---------------------------------------------------------------------------
def _store(request: Request) -> PlacementStore:
    return request.cloud.stores["placement"]


def _mv(request: Request) -> tuple[int, int]:
    raw = None
    header = request.header("openstack-api-version")
    if header:
        for part in header.split(","):
            bits = part.strip().split()
            if len(bits) == 2 and bits[0].lower() == "placement":
                raw = bits[1]
    if raw is None:
        return MIN_VERSION
    if raw == "latest":
        return MAX_VERSION
    try:
        major, minor = (int(x) for x in raw.split("."))
    except ValueError:
        raise error(400, f"invalid version string: {raw}") from None
    if not MIN_VERSION <= (major, minor) <= MAX_VERSION:
        raise error(406, f"Unacceptable version header: {raw}", "placement.undefined_code")
    return major, minor


def _reply(request: Request, status: int, body: Any = None) -> Response:
    mv = request.context.get("mv", MIN_VERSION)
    headers = {"OpenStack-API-Version": f"placement {mv[0]}.{mv[1]}", "Vary": "openstack-api-version"}
    if request.method == "GET" and status == 200 and mv >= (1, 15):
        # 1.15: every GET answer says it must not be cached
        headers.update({"Cache-Control": "no-cache", "Last-Modified": formatdate(usegmt=True)})
    return Response(status, body, headers)


def _need(request: Request, minimum: tuple[int, int]) -> None:
    if request.context["mv"] < minimum:
        raise error(404, "The resource could not be found.")


def _admin(request: Request) -> None:
    if not request.context.get("is_admin"):
        raise error(
            403, "Access was denied to this resource.", "placement.forbidden" if False else "placement.undefined_code"
        )


def _provider(request: Request, store: PlacementStore) -> dict[str, Any]:
    rp = store.providers.get(request.params["uuid"])
    if rp is None:
        raise error(404, f"No resource provider with uuid {request.params['uuid']} found")
    return rp


def _rp_view(request: Request, rp: dict[str, Any]) -> dict[str, Any]:
    base = f"{request.base_url}/resource_providers/{rp['uuid']}"
    view = {"uuid": rp["uuid"], "name": rp["name"], "generation": rp["generation"]}
    mv = request.context["mv"]
    links = [
        {"rel": "self", "href": base},
        {"rel": "inventories", "href": f"{base}/inventories"},
        {"rel": "usages", "href": f"{base}/usages"},
    ]
    if mv >= (1, 1):
        links.append({"rel": "aggregates", "href": f"{base}/aggregates"})
    if mv >= (1, 6):
        links.append({"rel": "traits", "href": f"{base}/traits"})
    if mv >= (1, 11):
        links.append({"rel": "allocations", "href": f"{base}/allocations"})
    view["links"] = links
    if mv >= (1, 14):
        view["parent_provider_uuid"] = rp["parent_provider_uuid"]
        view["root_provider_uuid"] = rp["root_provider_uuid"]
    return view


def _gen_check(rp: dict[str, Any], body: Any) -> None:
    if not isinstance(body, dict) or "resource_provider_generation" not in body:
        raise error(400, "JSON does not validate: 'resource_provider_generation' is a required property")
    if body["resource_provider_generation"] != rp["generation"]:
        raise error(
            409,
            f"resource provider generation conflict: the resource provider {rp['uuid']} generation changed "
            f"(got {body['resource_provider_generation']}, current {rp['generation']})",
            "placement.concurrent_update",
        )


def _parse_resources(text: str) -> dict[str, int]:
    bad = "Badly formed resources parameter. Expected resources query string parameter in form: ?resources=VCPU:2,MEMORY_MB:1024. Got: "
    if not text.strip():
        raise error(400, f"{bad}empty string.")
    out = {}
    for part in text.split(","):
        try:
            rc, amount = part.split(":")
        except ValueError:
            raise error(400, f"{bad}{part}.") from None
        try:
            out[rc] = int(amount)
        except ValueError:
            raise error(400, f"Requested resource {rc} expected positive integer amount. Got: {amount}.") from None
        if out[rc] < 1:
            raise error(400, f"Requested resource {rc} requires amount >= 1. Got: {out[rc]}.")
    return out


def _wanted(store: PlacementStore, text: str) -> dict[str, int]:
    wanted = _parse_resources(text)
    for rc in wanted:
        if rc not in store.resource_classes:
            raise error(400, f"Invalid resource class in resources parameter: No such resource class {rc}.")
    return wanted


def _fits(store: PlacementStore, rp: dict[str, Any], wanted: dict[str, int]) -> bool:
    """Whether `rp` alone can take `wanted`: Placement's room, min_unit, max_unit and step_size checks."""
    for rc, n in wanted.items():
        inv = rp["inventories"].get(rc)
        if (
            inv is None
            or not inv["min_unit"] <= n <= inv["max_unit"]
            or n % inv["step_size"]
            or store.usages[rp["uuid"]].get(rc, 0) + n > store.capacity(rp["uuid"], rc)
        ):
            return False
    return True


def _required_traits(request: Request) -> tuple[list[set[str]], set[str]]:
    """`required=` as (any-of sets that must all match, forbidden traits): `!T` from 1.22,
    `in:A,B` and a repeated parameter from 1.39 (before, only the last one counts)."""
    mv = request.context["mv"]
    values = request.query.get("required", [])
    if mv < (1, 39):
        values = values[-1:]
    any_of: list[set[str]] = []
    forbidden: set[str] = set()
    for value in values:
        if value.startswith("in:"):
            if mv < (1, 39):
                raise error(
                    400,
                    "Invalid query string parameters: The format 'in:HW_CPU_X86_VMX,CUSTOM_MAGIC' only supported "
                    f"since microversion 1.39. Got: {value}",
                )
            group = {t.strip() for t in value[3:].split(",")}
            if not all(group) or any(t.startswith("!") for t in group):
                raise error(
                    400,
                    "Invalid query string parameters: Expected 'required' parameter value of the form: "
                    f"in:HW_CPU_X86_VMX,CUSTOM_MAGIC. Got: {value}",
                )
            any_of.append(group)
            continue
        terms = [t.strip() for t in value.split(",")]
        negated = {t.lstrip("!") for t in terms if t.startswith("!")}
        if not all(terms) or not all(negated) or (negated and mv < (1, 22)):
            form = "HW_CPU_X86_VMX,!CUSTOM_MAGIC" if mv >= (1, 22) else "HW_CPU_X86_VMX,CUSTOM_MAGIC"
            raise error(
                400,
                f"Invalid query string parameters: Expected 'required' parameter value of the form: {form}. Got: {value}",
            )
        any_of += [{t} for t in terms if not t.startswith("!")]
        forbidden |= negated
    return any_of, forbidden


def _trait_match(store: PlacementStore, any_of: list[set[str]], forbidden: set[str]):
    unknown = sorted(forbidden.union(*any_of) - store.traits)
    if unknown:
        raise error(400, f"No such trait(s): {', '.join(unknown)}.")
    return lambda rp: not rp["traits"] & forbidden and all(rp["traits"] & group for group in any_of)


def _aggregate_match(request: Request):
    """`member_of=`: one uuid or `in:a,b` (any of), repeated (all of) from 1.24, `!` (none of) from 1.32."""
    mv = request.context["mv"]
    values = request.query.get("member_of", [])
    if len(values) > 1 and mv < (1, 24):
        raise error(400, "Multiple member_of parameters are not supported")
    any_of: list[set[str]] = []
    forbidden: set[str] = set()
    for value in values:
        negate = value.startswith("!")
        spec = value[1:] if negate else value
        if "," in spec and not spec.startswith("in:"):
            raise error(400, f"Multiple values for 'member_of' must be prefixed with the 'in:' keyword. Got: {value}")
        aggs = set(spec[3:].split(",") if spec.startswith("in:") else [spec])
        for agg in aggs:
            try:
                uuidlib.UUID(agg)
            except ValueError:
                raise error(
                    400,
                    f"Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: {agg}",
                ) from None
        if negate and mv < (1, 32):
            raise error(400, "Forbidden member_of parameters are not supported in the specified microversion")
        if negate:
            forbidden |= aggs
        else:
            any_of.append(aggs)
    return lambda rp: not rp["aggregates"] & forbidden and all(rp["aggregates"] & aggs for aggs in any_of)


# -- routes ----------------------------------------------------------------------------
def _version_doc(request: Request) -> dict[str, Any]:
    return {
        "id": "v1.0",
        "max_version": f"{MAX_VERSION[0]}.{MAX_VERSION[1]}",
        "min_version": f"{MIN_VERSION[0]}.{MIN_VERSION[1]}",
        "status": "CURRENT",
        "links": [{"rel": "self", "href": ""}],
    }


@router.route("GET", "/")
def root(request: Request) -> Response:
    return Response(200, {"versions": [_version_doc(request)]})


def _wrap(fn):
    """Microversion negotiation and admin policy around every API handler (Placement is admin-only)."""

    def handler(request: Request) -> Response:
        request.context["mv"] = _mv(request)
        _admin(request)
        with request.cloud.lock:  # Nova's moves write allocations from other threads
            return fn(request)

    handler.__name__ = fn.__name__
    return handler


def route(method: str, pattern: str):
    def deco(fn):
        router.route(method, pattern)(_wrap(fn))
        return fn

    return deco


@route("GET", "/resource_providers")
def list_providers(request: Request) -> Response:
    store = _store(request)
    mv = request.context["mv"]
    items = list(store.providers.values())
    name = request.arg("name")
    if name is not None:
        items = [rp for rp in items if rp["name"] == name]
    want_uuid = request.arg("uuid")
    if want_uuid is not None:
        items = [rp for rp in items if rp["uuid"] == want_uuid]
    in_tree = request.arg("in_tree")
    if in_tree is not None and mv >= (1, 14):
        anchor = store.providers.get(in_tree)
        root = anchor["root_provider_uuid"] if anchor else None
        items = [rp for rp in items if rp["root_provider_uuid"] == root]
    if mv >= (1, 3):
        items = list(filter(_aggregate_match(request), items))
    resources = request.arg("resources")
    if resources is not None and mv >= (1, 4):
        wanted = _wanted(store, resources)
        items = [rp for rp in items if _fits(store, rp, wanted)]
    if mv >= (1, 18):
        items = list(filter(_trait_match(store, *_required_traits(request)), items))
    return _reply(request, 200, {"resource_providers": [_rp_view(request, rp) for rp in items]})


@route("POST", "/resource_providers")
def create_provider(request: Request) -> Response:
    store = _store(request)
    body = request.json or {}
    name = body.get("name") if isinstance(body, dict) else None
    if not name:
        raise error(400, "JSON does not validate: 'name' is a required property")
    if name in store.by_name:
        raise error(409, f"Conflicting resource provider name: {name} already exists.", "placement.duplicate_name")
    rp_uuid = body.get("uuid") or str(uuidlib.uuid4())
    if rp_uuid in store.providers:
        raise error(409, f"Conflicting resource provider uuid: {rp_uuid} already exists.")
    parent = body.get("parent_provider_uuid")
    if parent and parent not in store.providers:
        raise error(400, f"parent provider UUID {parent} does not exist.")
    rp = store.add_provider(rp_uuid, name, {}, parent=parent)
    mv = request.context["mv"]
    if mv >= (1, 20):
        return _reply(request, 200, _rp_view(request, rp))
    resp = _reply(request, 201)
    resp.headers["Location"] = f"{request.base_url}/resource_providers/{rp_uuid}"
    return resp


@route("GET", "/resource_providers/{uuid}")
def show_provider(request: Request) -> Response:
    store = _store(request)
    return _reply(request, 200, _rp_view(request, _provider(request, store)))


@route("PUT", "/resource_providers/{uuid}")
def update_provider(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    body = request.json or {}
    if "name" not in body:
        raise error(400, "JSON does not validate: 'name' is a required property")
    if body["name"] != rp["name"] and body["name"] in store.by_name:
        raise error(
            409, f"Conflicting resource provider name: {body['name']} already exists.", "placement.duplicate_name"
        )
    store.by_name.pop(rp["name"], None)
    rp["name"] = body["name"]
    store.by_name[rp["name"]] = rp["uuid"]
    rp["generation"] += 1
    return _reply(request, 200, _rp_view(request, rp))


@route("DELETE", "/resource_providers/{uuid}")
def delete_provider(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    if store.consumers_of[rp["uuid"]]:
        raise error(
            409,
            f"Unable to delete resource provider {rp['uuid']}: Resource provider has allocations.",
            "placement.resource_provider.inuse",
        )
    if any(p["parent_provider_uuid"] == rp["uuid"] for p in store.providers.values()):
        raise error(
            409,
            f"Unable to delete parent resource provider {rp['uuid']}: It has child resource providers.",
            "placement.resource_provider.cannot_delete_parent",
        )
    del store.providers[rp["uuid"]]
    store.by_name.pop(rp["name"], None)
    store.usages.pop(rp["uuid"], None)
    store.consumers_of.pop(rp["uuid"], None)
    return _reply(request, 204)


def _inventories_body(rp: dict[str, Any]) -> dict[str, Any]:
    return {
        "inventories": {rc: dict(inv) for rc, inv in rp["inventories"].items()},
        "resource_provider_generation": rp["generation"],
    }


@route("GET", "/resource_providers/{uuid}/inventories")
def list_inventories(request: Request) -> Response:
    rp = _provider(request, _store(request))
    return _reply(request, 200, _inventories_body(rp))


def _inventory(store: PlacementStore, rc: str, data: Any) -> dict[str, Any]:
    if rc not in store.resource_classes:
        raise error(400, f"Unknown resource class in inventory for resource provider: {rc}")
    if not isinstance(data, dict) or not isinstance(data.get("total"), int):
        raise error(400, f"JSON does not validate: 'total' is a required property of inventory {rc}")
    inv = {
        "total": data["total"],
        "reserved": int(data.get("reserved", 0)),
        "min_unit": int(data.get("min_unit", 1)),
        "max_unit": int(data.get("max_unit", data["total"])),
        "step_size": int(data.get("step_size", 1)),
        "allocation_ratio": float(data.get("allocation_ratio", 1.0)),
    }
    if inv["reserved"] > inv["total"]:
        raise error(
            400, f"Unable to update inventory for resource provider: Invalid inventory for '{rc}': reserved > total"
        )
    return inv


def _check_inventory_change(store: PlacementStore, rp: dict[str, Any], new: dict[str, dict[str, Any]]) -> None:
    for rc, used in store.usages[rp["uuid"]].items():
        if not used:
            continue
        inv = new.get(rc)
        if inv is None:
            raise error(
                409, f"Inventory for '{rc}' on resource provider '{rp['uuid']}' in use.", "placement.inventory.inuse"
            )
        if used > int((inv["total"] - inv["reserved"]) * inv["allocation_ratio"]):
            raise error(
                400,
                f"Unable to update inventory for resource provider {rp['uuid']}: Invalid inventory for '{rc}': capacity would be below usage {used}",
            )


@route("PUT", "/resource_providers/{uuid}/inventories")
def put_inventories(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    body = request.json
    _gen_check(rp, body)
    new = {rc: _inventory(store, rc, data) for rc, data in (body.get("inventories") or {}).items()}
    _check_inventory_change(store, rp, new)
    rp["inventories"] = new
    rp["generation"] += 1
    return _reply(request, 200, _inventories_body(rp))


@route("GET", "/resource_providers/{uuid}/inventories/{rc}")
def show_inventory(request: Request) -> Response:
    rp = _provider(request, _store(request))
    inv = rp["inventories"].get(request.params["rc"])
    if inv is None:
        raise error(404, f"No inventory of class {request.params['rc']} for {rp['uuid']}")
    return _reply(request, 200, dict(inv, resource_provider_generation=rp["generation"]))


@route("PUT", "/resource_providers/{uuid}/inventories/{rc}")
def put_inventory(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    body = request.json
    _gen_check(rp, body)
    rc = request.params["rc"]
    if rc not in rp["inventories"] and request.context["mv"] < (1, 26):
        pass  # older placement still accepted updates only for existing classes; be lenient
    new = dict(rp["inventories"])
    new[rc] = _inventory(store, rc, body)
    _check_inventory_change(store, rp, new)
    rp["inventories"] = new
    rp["generation"] += 1
    return _reply(request, 200, dict(new[rc], resource_provider_generation=rp["generation"]))


@route("DELETE", "/resource_providers/{uuid}/inventories/{rc}")
def delete_inventory(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    rc = request.params["rc"]
    if rc not in rp["inventories"]:
        raise error(404, f"No inventory of class {rc} found for delete")
    if store.usages[rp["uuid"]].get(rc):
        raise error(
            409, f"Inventory for '{rc}' on resource provider '{rp['uuid']}' in use.", "placement.inventory.inuse"
        )
    del rp["inventories"][rc]
    rp["generation"] += 1
    return _reply(request, 204)


@route("GET", "/resource_providers/{uuid}/usages")
def provider_usages(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    usages = {rc: store.usages[rp["uuid"]].get(rc, 0) for rc in rp["inventories"]}
    return _reply(request, 200, {"usages": usages, "resource_provider_generation": rp["generation"]})


@route("GET", "/resource_providers/{uuid}/allocations")
def provider_allocations(request: Request) -> Response:
    store = _store(request)
    rp = _provider(request, store)
    out = {
        c: {"resources": dict(store.allocations[c]["allocations"][rp["uuid"]])}
        for c in sorted(store.consumers_of[rp["uuid"]])
    }
    return _reply(request, 200, {"allocations": out, "resource_provider_generation": rp["generation"]})


@route("GET", "/resource_providers/{uuid}/traits")
def provider_traits(request: Request) -> Response:
    _need(request, (1, 6))
    rp = _provider(request, _store(request))
    return _reply(request, 200, {"traits": sorted(rp["traits"]), "resource_provider_generation": rp["generation"]})


@route("PUT", "/resource_providers/{uuid}/traits")
def put_provider_traits(request: Request) -> Response:
    _need(request, (1, 6))
    store = _store(request)
    rp = _provider(request, store)
    body = request.json
    _gen_check(rp, body)
    traits = body.get("traits")
    if not isinstance(traits, list):
        raise error(400, "JSON does not validate: 'traits' is a required property")
    unknown = [t for t in traits if t not in store.traits]
    if unknown:
        raise error(400, f"No such trait(s): {', '.join(unknown)}")
    rp["traits"] = set(traits)
    rp["generation"] += 1
    return _reply(request, 200, {"traits": sorted(rp["traits"]), "resource_provider_generation": rp["generation"]})


@route("DELETE", "/resource_providers/{uuid}/traits")
def delete_provider_traits(request: Request) -> Response:
    _need(request, (1, 6))
    rp = _provider(request, _store(request))
    rp["traits"] = set()
    rp["generation"] += 1
    return _reply(request, 204)


def _aggregates_body(request: Request, rp: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"aggregates": sorted(rp["aggregates"])}
    if request.context["mv"] >= (1, 19):
        body["resource_provider_generation"] = rp["generation"]
    return body


@route("GET", "/resource_providers/{uuid}/aggregates")
def provider_aggregates(request: Request) -> Response:
    _need(request, (1, 1))
    rp = _provider(request, _store(request))
    return _reply(request, 200, _aggregates_body(request, rp))


@route("PUT", "/resource_providers/{uuid}/aggregates")
def put_provider_aggregates(request: Request) -> Response:
    _need(request, (1, 1))
    rp = _provider(request, _store(request))
    body = request.json
    if request.context["mv"] >= (1, 19):
        _gen_check(rp, body)
        aggs = body.get("aggregates")
    else:
        aggs = body
    if not isinstance(aggs, list):
        raise error(400, "JSON does not validate: aggregates must be a list of uuids")
    rp["aggregates"] = set(aggs)
    rp["generation"] += 1
    return _reply(request, 200, _aggregates_body(request, rp))


@route("GET", "/traits")
def list_traits(request: Request) -> Response:
    _need(request, (1, 6))
    store = _store(request)
    traits = sorted(store.traits)
    name = request.arg("name")
    if name:
        if name.startswith("startswith:"):
            traits = [t for t in traits if t.startswith(name[len("startswith:") :])]
        elif name.startswith("in:"):
            wanted = set(name[3:].split(","))
            traits = [t for t in traits if t in wanted]
        else:
            raise error(
                400,
                f'Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "{name}"',
            )
    associated = request.arg("associated")
    if associated is not None:
        used = set().union(*(rp["traits"] for rp in store.providers.values())) if store.providers else set()
        traits = [t for t in traits if (t in used) == (associated.lower() in ("true", "1"))]
    return _reply(request, 200, {"traits": traits})


@route("GET", "/traits/{name}")
def show_trait(request: Request) -> Response:
    _need(request, (1, 6))
    if request.params["name"] not in _store(request).traits:
        raise error(404, f"No such trait(s): {request.params['name']}")
    return _reply(request, 204)


@route("PUT", "/traits/{name}")
def put_trait(request: Request) -> Response:
    _need(request, (1, 6))
    store = _store(request)
    name = request.params["name"]
    if not name.startswith("CUSTOM_"):
        raise error(
            400,
            "The trait is invalid. A valid trait must be no longer than 255 characters, "
            'start with the prefix "CUSTOM_" and use following characters: "A"-"Z", "0"-"9" and "_"',
        )
    existed = name in store.traits
    store.traits.add(name)
    resp = _reply(request, 204 if existed else 201)
    resp.headers["Location"] = f"{request.base_url}/traits/{name}"
    return resp


@route("GET", "/resource_classes")
def list_resource_classes(request: Request) -> Response:
    store = _store(request)
    items = [
        {"name": rc, "links": [{"rel": "self", "href": f"{request.base_url}/resource_classes/{rc}"}]}
        for rc in store.resource_classes
    ]
    return _reply(request, 200, {"resource_classes": items})


@route("GET", "/resource_classes/{name}")
def show_resource_class(request: Request) -> Response:
    store = _store(request)
    rc = request.params["name"]
    if rc not in store.resource_classes:
        raise error(404, f"No such resource class {rc}.")
    return _reply(
        request, 200, {"name": rc, "links": [{"rel": "self", "href": f"{request.base_url}/resource_classes/{rc}"}]}
    )


def _consumer_body(request: Request, store: PlacementStore, consumer: str) -> dict[str, Any]:
    record = store.allocations.get(consumer)
    mv = request.context["mv"]
    if record is None:
        return {"allocations": {}}
    body: dict[str, Any] = {
        "allocations": {
            rp: {"resources": dict(res), "generation": store.providers[rp]["generation"]}
            for rp, res in record["allocations"].items()
        }
    }
    if mv >= (1, 12):
        body["project_id"] = record["project_id"]
        body["user_id"] = record["user_id"]
    if mv >= (1, 28):
        body["consumer_generation"] = record["consumer_generation"]
    if mv >= (1, 38):
        body["consumer_type"] = record["consumer_type"]
    return body


@route("GET", "/allocations/{consumer}")
def show_allocations(request: Request) -> Response:
    store = _store(request)
    return _reply(request, 200, _consumer_body(request, store, request.params["consumer"]))


def _parse_alloc_request(request: Request, body: Any) -> dict[str, dict[str, int]]:
    mv = request.context["mv"]
    if not isinstance(body, dict) or "allocations" not in body:
        raise error(400, "JSON does not validate: 'allocations' is a required property")
    allocs = body["allocations"]
    out: dict[str, dict[str, int]] = {}
    if mv < (1, 12):
        if not isinstance(allocs, list):
            raise error(400, "JSON does not validate: allocations must be a list before 1.12")
        for item in allocs:
            out[item["resource_provider"]["uuid"]] = dict(item["resources"])
    else:
        if not isinstance(allocs, dict):
            raise error(400, "JSON does not validate: allocations must be an object from 1.12")
        for rp, item in allocs.items():
            out[rp] = dict((item or {}).get("resources") or {})
    for rp, res in out.items():
        for rc, n in res.items():
            if not isinstance(n, int) or isinstance(n, bool) or n < 1:
                raise error(400, f"JSON does not validate: resources of {rp} {rc} must be an integer >= 1")
    return out


def _write_consumer(request: Request, store: PlacementStore, consumer: str, body: dict[str, Any]) -> None:
    mv = request.context["mv"]
    allocs = _parse_alloc_request(request, body)
    if mv >= (1, 8) and ("project_id" not in body or "user_id" not in body):
        raise error(400, "JSON does not validate: 'project_id' and 'user_id' are required properties")
    existing = store.allocations.get(consumer)
    if mv >= (1, 28):
        if "consumer_generation" not in body:
            raise error(400, "JSON does not validate: 'consumer_generation' is a required property")
        want = body["consumer_generation"]
        have = existing["consumer_generation"] if existing else None
        if want != have:
            raise error(
                409,
                f"consumer generation conflict - expected {want} but got {have}"
                if existing
                else "consumer generation conflict - expected null but got 0",
                "placement.concurrent_update",
            )
    project = body.get("project_id") or (existing or {}).get("project_id") or "unknown"
    user = body.get("user_id") or (existing or {}).get("user_id") or "unknown"
    try:
        store.put_allocations(
            consumer,
            allocs,
            project,
            user,
            # before 1.38 a write carries no type; Placement records "unknown" (what Nova's writes get)
            body.get("consumer_type")
            if mv >= (1, 38) and body.get("consumer_type")
            else (existing or {}).get("consumer_type", "unknown"),
        )
    except PlacementError as exc:
        raise error(exc.status, exc.detail, exc.code) from None


@route("PUT", "/allocations/{consumer}")
def put_allocations(request: Request) -> Response:
    store = _store(request)
    _write_consumer(request, store, request.params["consumer"], request.json)
    return _reply(request, 204)


@route("POST", "/allocations")
def post_allocations(request: Request) -> Response:
    _need(request, (1, 13))
    store = _store(request)
    body = request.json
    if not isinstance(body, dict):
        raise error(400, "JSON does not validate: body must be an object of consumers")
    # all or nothing: validate capacity of the whole set before writing any of it
    snapshot = copy.deepcopy(
        (store.allocations, store.usages, store.consumers_of, {u: p["generation"] for u, p in store.providers.items()})
    )
    try:
        for consumer, item in body.items():
            _write_consumer(request, store, consumer, item)
    except HTTPError:
        store.allocations, store.usages, store.consumers_of, gens = snapshot
        for u, g in gens.items():
            store.providers[u]["generation"] = g
        raise
    return _reply(request, 204)


@route("DELETE", "/allocations/{consumer}")
def delete_allocations(request: Request) -> Response:
    store = _store(request)
    if not store.delete_allocations(request.params["consumer"]):
        raise error(404, f"No allocations for consumer '{request.params['consumer']}'")
    return _reply(request, 204)


@route("GET", "/usages")
def project_usages(request: Request) -> Response:
    _need(request, (1, 9))
    store = _store(request)
    project = request.arg("project_id")
    if not project:
        raise error(400, "JSON does not validate: 'project_id' is a required property")
    user = request.arg("user_id")
    consumer_type = request.arg("consumer_type") if request.context["mv"] >= (1, 38) else None
    by_type: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for record in store.allocations.values():
        if record["project_id"] != project or (user and record["user_id"] != user):
            continue
        ctype = record.get("consumer_type") or "unknown"
        if consumer_type not in (None, "all", ctype):
            continue
        bucket = by_type.setdefault(ctype, {"consumer_count": 0})
        bucket["consumer_count"] += 1
        for res in record["allocations"].values():
            for rc, n in res.items():
                totals[rc] = totals.get(rc, 0) + n
                bucket[rc] = bucket.get(rc, 0) + n
    if request.context["mv"] >= (1, 38):
        # from 1.38 usages are keyed by consumer type; "all" (the sum) only when asked for with
        # consumer_type=all, and then alone (as Placement 16.0.0 answers)
        if consumer_type == "all" and by_type:
            all_bucket = {"consumer_count": sum(b["consumer_count"] for b in by_type.values()), **totals}
            return _reply(request, 200, {"usages": {"all": all_bucket}})
        return _reply(request, 200, {"usages": by_type})
    return _reply(request, 200, {"usages": totals})


# GET /allocation_candidates: query parameters by the microversion that added them (Placement's
# schema refuses any other, and these before their version)
CANDIDATE_PARAMS = {
    "resources": (1, 10), "limit": (1, 16), "required": (1, 17), "member_of": (1, 21), "group_policy": (1, 25),
    "in_tree": (1, 31), "root_required": (1, 35), "same_subtree": (1, 36),
}  # fmt: skip
TWIN_REFUSES = ("in_tree", "root_required", "same_subtree")
GROUP_KEY = re.compile(r"^(resources|required|member_of|in_tree)([A-Za-z0-9_-]{1,64})$")


def _candidate_query(request: Request) -> None:
    mv = request.context["mv"]
    for key, values in request.query.items():
        group = GROUP_KEY.match(key)
        if group and mv >= (1, 25) and (mv >= (1, 33) or group[2].isdigit()):
            raise error(400, f"Granular request groups ({key}) are not supported by the twin")
        since = CANDIDATE_PARAMS.get(key)
        if since is None or mv < since:
            raise error(
                400, f"Invalid query string parameters: Additional properties are not allowed ('{key}' was unexpected)"
            )
        if key in TWIN_REFUSES:
            raise error(400, f"Query parameter '{key}' is not supported by the twin")
        if key == "limit" and not re.fullmatch(r"[1-9][0-9]*", values[-1]):
            raise error(400, f"Invalid query string parameters: '{values[-1]}' does not match '^[1-9][0-9]*$'")
        if key == "group_policy" and values[-1] not in ("none", "isolate"):
            raise error(400, f"Invalid query string parameters: '{values[-1]}' is not one of ['none', 'isolate']")
    if "resources" in request.query:
        return
    if mv < (1, 25):
        raise error(400, "Invalid query string parameters: 'resources' is a required property")
    orphan = next((k for k in ("required", "member_of") if k in request.query), None)
    if orphan and mv < (1, 36):
        kind = "traits" if orphan == "required" else "member_of"
        raise error(
            400,
            f"All {kind} parameters must be associated with resources. Found the following orphaned {kind} keys: {orphan}",
        )
    raise error(400, "There must be at least one resources or resources[$S] parameter.")


@route("GET", "/allocation_candidates")
def allocation_candidates(request: Request) -> Response:
    """The unnumbered request group only, each candidate one root provider alone: the twin's
    compute nodes are root providers, nested and sharing providers are not combined."""
    _need(request, (1, 10))
    _candidate_query(request)
    store = _store(request)
    mv = request.context["mv"]
    wanted = _wanted(store, request.arg("resources") or "")
    any_of, forbidden = _required_traits(request)
    conflicts = [g for g in any_of if g <= forbidden] if mv >= (1, 22) else []
    if conflicts:
        keys = ", ".join(f"required: ({', '.join(sorted(g))})" for g in conflicts)
        raise error(400, f"Conflicting required and forbidden traits found in the following traits keys: {keys}")
    in_aggs = _aggregate_match(request)
    has_traits = _trait_match(store, any_of, forbidden)
    found = [
        rp
        for rp in store.providers.values()
        if rp["parent_provider_uuid"] is None and _fits(store, rp, wanted) and has_traits(rp) and in_aggs(rp)
    ]
    if "limit" in request.query:
        found = found[: int(request.arg("limit"))]
    requests, summaries = [], {}
    for rp in found:
        uuid = rp["uuid"]
        if mv >= (1, 12):
            req: dict[str, Any] = {"allocations": {uuid: {"resources": dict(wanted)}}}
            if mv >= (1, 34):
                req["mappings"] = {"": [uuid]}
        else:
            req = {"allocations": [{"resource_provider": {"uuid": uuid}, "resources": dict(wanted)}]}
        requests.append(req)
        # the requested classes only before 1.27, the whole inventory from then
        classes = rp["inventories"] if mv >= (1, 27) else wanted
        summary: dict[str, Any] = {
            "resources": {
                rc: {"capacity": store.capacity(uuid, rc), "used": store.usages[uuid].get(rc, 0)} for rc in classes
            }
        }
        if mv >= (1, 17):
            summary["traits"] = sorted(rp["traits"])
        if mv >= (1, 29):
            summary["parent_provider_uuid"] = rp["parent_provider_uuid"]
            summary["root_provider_uuid"] = rp["root_provider_uuid"]
        summaries[uuid] = summary
    return _reply(request, 200, {"allocation_requests": requests, "provider_summaries": summaries})


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
        traits = [
            "COMPUTE_NODE",
            "COMPUTE_VOLUME_ATTACH",
            "COMPUTE_NET_ATTACH_INTERFACE",
            "COMPUTE_IMAGE_TYPE_QCOW2",
            *node["traits"],
        ]
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
    }


def restore(cloud: Any, store: PlacementStore, data: dict[str, Any]) -> PlacementStore:
    new = PlacementStore(cloud)
    new.traits = set(data.get("traits") or STANDARD_TRAITS)
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


SERVICE = Service(
    name="placement",
    prefix="/placement",
    router=router,
    load=load,
    service_type="placement",
    catalog_path="",
    snapshot=snapshot,
    restore=restore,
    public_paths=("/",),
)
