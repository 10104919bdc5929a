"""Query-string filters shared by GET /resource_providers and GET /allocation_candidates:
`resources=`, `required=` (traits) and `member_of=` (aggregates), each by the microversion
that added its forms."""

from __future__ import annotations

from typing import Any

from vigil_twin.http import Request

from .api import error, is_uuid
from .store import PlacementStore


def parse_resources(text: str) -> dict[str, int]:
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


def wanted_resources(store: PlacementStore, text: str) -> dict[str, int]:
    wanted = parse_resources(text)
    for rc in wanted:
        if rc not in store.resource_classes:
            raise error(400, f"Invalid resource class in resources parameter: No such resource class {rc}.")
    return wanted


def fits(store: PlacementStore, rp: dict[str, Any], wanted: dict[str, int]) -> bool:
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


def required_traits(request: Request) -> tuple[list[set[str]], set[str]]:
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


def trait_match(store: PlacementStore, any_of: list[set[str]], forbidden: set[str]):
    unknown = sorted(forbidden.union(*any_of) - store.traits)
    if unknown:
        raise error(400, f"No such trait(s): {', '.join(unknown)}.")
    return lambda rp: not rp["traits"] & forbidden and all(rp["traits"] & group for group in any_of)


def aggregate_match(request: Request):
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
            if not is_uuid(agg):
                raise error(
                    400,
                    f"Invalid query string parameters: Expected 'member_of' parameter to contain valid UUID(s). Got: {agg}",
                )
        if negate and mv < (1, 32):
            raise error(400, "Forbidden member_of parameters are not supported in the specified microversion")
        if negate:
            forbidden |= aggs
        else:
            any_of.append(aggs)
    return lambda rp: not rp["aggregates"] & forbidden and all(rp["aggregates"] & aggs for aggs in any_of)
