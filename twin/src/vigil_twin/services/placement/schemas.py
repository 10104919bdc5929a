"""Request-body schemas, written for the twin after Placement's own (placement/schemas/, 16.0.0):
same shapes, same limits, the variants by microversion built by the functions below."""

from __future__ import annotations

from typing import Any

MAX_INT = 2147483647
RC_PATTERN = "^[A-Z0-9_]+$"
CUSTOM_PATTERN = "^CUSTOM_[A-Z0-9_]+$"
UUID_KEY = "^[0-9a-fA-F-]{36}$"
UUID = {"type": "string", "format": "uuid"}
ID_255 = {"type": "string", "minLength": 1, "maxLength": 255}


def _obj(properties: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False, **more}


# -- resource providers ---------------------------------------------------------------
def provider(mv: tuple[int, int], create: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"name": {"type": "string", "maxLength": 200}}
    if create:
        props["uuid"] = UUID
    if mv >= (1, 14):
        props["parent_provider_uuid"] = {"anyOf": [UUID, {"type": "null"}]}
    return _obj(props, ["name"])


# -- inventories --------------------------------------------------------------------------
def _int(minimum: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": MAX_INT}


INVENTORY_FIELDS = {
    "total": _int(1),
    "reserved": _int(0),
    "min_unit": _int(1),
    "max_unit": _int(1),
    "step_size": _int(1),
    "allocation_ratio": {"type": "number", "maximum": 3.40282e38},
}
INVENTORY_RECORD = _obj({"resource_provider_generation": {"type": "integer"}, **INVENTORY_FIELDS}, ["total"])
PUT_INVENTORY = _obj(
    {"resource_provider_generation": {"type": "integer"}, **INVENTORY_FIELDS},
    ["total", "resource_provider_generation"],
)
POST_INVENTORY = _obj(
    {
        "resource_class": {"type": "string", "pattern": RC_PATTERN},
        "resource_provider_generation": {"type": "integer"},
        **INVENTORY_FIELDS,
    },
    ["total", "resource_class"],
)
PUT_INVENTORIES = _obj(
    {
        "resource_provider_generation": {"type": "integer"},
        "inventories": {"type": "object", "patternProperties": {RC_PATTERN: INVENTORY_RECORD}},
    },
    ["resource_provider_generation", "inventories"],
)

# -- allocations ----------------------------------------------------------------------------
RESOURCES = {
    "type": "object",
    "minProperties": 1,
    "patternProperties": {RC_PATTERN: {"type": "integer", "minimum": 1}},
    "additionalProperties": False,
}
ALLOCATIONS_LIST = _obj(  # before 1.12: a list of {resource_provider: {uuid}, resources}
    {
        "allocations": {
            "type": "array",
            "minItems": 1,
            "items": _obj(
                {"resource_provider": _obj({"uuid": UUID}, ["uuid"]), "resources": RESOURCES},
                ["resource_provider", "resources"],
            ),
        }
    },
    ["allocations"],
)


def allocations(mv: tuple[int, int], in_post: bool = False) -> dict[str, Any]:
    """One consumer's allocations as PUT /allocations/{c} (or one entry of POST /allocations) takes them."""
    if mv < (1, 12):
        schema = ALLOCATIONS_LIST
        if mv >= (1, 8):
            schema = dict(
                schema,
                properties={**schema["properties"], "project_id": ID_255, "user_id": ID_255},
                required=["allocations", "project_id", "user_id"],
            )
        return schema
    per_provider = _obj({"generation": {"type": "integer"}, "resources": RESOURCES}, ["resources"])
    deletable = in_post or mv >= (1, 28)  # an empty object deletes (POST from 1.13, PUT from 1.28)
    props: dict[str, Any] = {
        "allocations": {
            "type": "object",
            "minProperties": 0 if deletable else 1,
            "patternProperties": {UUID_KEY: per_provider},
            "additionalProperties": False,
        },
        "project_id": ID_255,
        "user_id": ID_255,
    }
    required = ["allocations", "project_id", "user_id"]
    if mv >= (1, 28):
        props["consumer_generation"] = {"type": ["integer", "null"]}
        required.append("consumer_generation")
    if mv >= (1, 34):
        props["mappings"] = {
            "type": "object",
            "minProperties": 1,
            "patternProperties": {"^[a-zA-Z0-9_-]{0,64}$": {"type": "array", "minItems": 1, "items": UUID}},
        }
    if mv >= (1, 38):
        props["consumer_type"] = {"type": "string", "pattern": RC_PATTERN, "minLength": 1, "maxLength": 255}
        required.append("consumer_type")
    return _obj(props, required)


def post_allocations(mv: tuple[int, int]) -> dict[str, Any]:
    return {
        "type": "object",
        "minProperties": 1,
        "additionalProperties": False,
        "patternProperties": {UUID_KEY: allocations(mv, in_post=True)},
    }


# -- traits, resource classes, aggregates ------------------------------------------------------
TRAIT = {"type": "string", "minLength": 1, "maxLength": 255}
PUT_PROVIDER_TRAITS = _obj(
    {"traits": {"type": "array", "items": TRAIT}, "resource_provider_generation": {"type": "integer"}},
    ["traits", "resource_provider_generation"],
)
RESOURCE_CLASS = _obj({"name": {"type": "string", "pattern": CUSTOM_PATTERN, "maxLength": 255}}, ["name"])
AGGREGATE_LIST = {"type": "array", "items": UUID, "uniqueItems": True}
PUT_AGGREGATES_1_19 = _obj(
    {"aggregates": AGGREGATE_LIST, "resource_provider_generation": {"type": "integer"}},
    ["aggregates", "resource_provider_generation"],
)
