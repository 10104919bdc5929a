# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""A small JSON-schema (draft-07 subset) validator, and a fast predicate compiled from a schema.

Hand-rolled so the collection has no runtime dependency on ``jsonschema``; the unit tests
check that ``jsonschema`` agrees with it. It validates plans (plan.py), action inputs
(action_types.py, for plans and executors alike) and strategy parameters.
Dependency-free: everything else may import it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, (list, tuple)),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def same(a, b):
    """JSON equality: True is not 1."""
    return type(a) is type(b) and a == b if isinstance(a, bool) or isinstance(b, bool) else a == b


def json_type(value):
    for name in ("null", "boolean", "integer", "number", "string", "array", "object"):
        if _TYPES[name](value):
            return name
    return type(value).__name__


def validate_schema(value, schema, path="$"):
    """Validate ``value`` against a draft-07 subset; return a list of "path: problem" strings.

    Keywords: type, enum, const, required, properties, additionalProperties, items, minItems,
    maxItems, uniqueItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
    pattern (its ``description``, when given, names the expected form), allOf, anyOf, if/then.
    """
    errors = []
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_TYPES[t](value) for t in types):
            return ["%s: expected %s, got %s" % (path, " or ".join(types), json_type(value))]
    if "enum" in schema and not any(same(value, e) for e in schema["enum"]):
        errors.append("%s: %r is not one of %s" % (path, value, ", ".join(repr(e) for e in schema["enum"])))
    if "const" in schema and not same(value, schema["const"]):
        errors.append("%s: must be %r" % (path, schema["const"]))
    if isinstance(value, dict):
        errors += _object_errors(value, schema, path)
    if isinstance(value, (list, tuple)):
        errors += _array_errors(value, schema, path)
    if _TYPES["number"](value):
        errors += _number_errors(value, schema, path)
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append("%s: must not be empty" % path if schema["minLength"] == 1 else "%s: too short" % path)
        if "pattern" in schema and not re.search(schema["pattern"], value):
            if "description" in schema:
                errors.append("%s: %r is not %s" % (path, value, schema["description"]))
            else:
                errors.append("%s: %r does not match %s" % (path, value, schema["pattern"]))
    for sub in schema.get("allOf", ()):
        errors += validate_schema(value, sub, path)
    if "anyOf" in schema:
        if all(validate_schema(value, sub, path) for sub in schema["anyOf"]):
            errors.append("%s: matches none of the allowed forms" % path)
    if "if" in schema and not validate_schema(value, schema["if"], path):
        errors += validate_schema(value, schema.get("then", {}), path)
    return errors


def _object_errors(value, schema, path):
    errors = []
    for key in schema.get("required", ()):
        if key not in value:
            errors.append("%s: missing required field '%s'" % (path, key))
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, sub in value.items():
        if key in props:
            errors += validate_schema(sub, props[key], "%s.%s" % (path, key))
        elif extra is False:
            errors.append("%s: unknown field '%s' (known: %s)" % (path, key, ", ".join(sorted(props))))
        elif isinstance(extra, dict):
            errors += validate_schema(sub, extra, "%s.%s" % (path, key))
    return errors


def _array_errors(value, schema, path):
    errors = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        errors.append("%s: needs at least %d items" % (path, schema["minItems"]))
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        errors.append("%s: allows at most %d items" % (path, schema["maxItems"]))
    if schema.get("uniqueItems"):
        seen = []
        for v in value:
            if any(same(v, s) for s in seen):
                errors.append("%s: duplicate item %r" % (path, v))
            seen.append(v)
    if "items" in schema:
        for i, v in enumerate(value):
            errors += validate_schema(v, schema["items"], "%s[%d]" % (path, i))
    return errors


def _number_errors(value, schema, path):
    errors = []
    if "minimum" in schema and value < schema["minimum"]:
        errors.append("%s: %r is below the minimum %r" % (path, value, schema["minimum"]))
    if "maximum" in schema and value > schema["maximum"]:
        errors.append("%s: %r is above the maximum %r" % (path, value, schema["maximum"]))
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        errors.append("%s: %r must be greater than %r" % (path, value, schema["exclusiveMinimum"]))
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        errors.append("%s: %r must be less than %r" % (path, value, schema["exclusiveMaximum"]))
    return errors


# Keywords `compile_check` turns into a predicate; a schema with any other is left to
# `validate_schema` alone (description is an annotation: it never decides).
_FAST_KEYWORDS = frozenset(
    ("type", "enum", "const", "required", "properties", "minLength", "minimum", "pattern", "allOf", "if", "then")
)


def compile_check(schema):
    """A predicate equivalent to ``not validate_schema(value, schema)``, much faster on the
    keywords action schemas use (see `_FAST_KEYWORDS`, plus ``description``); None when the
    schema uses another keyword (then the generic validator is the only judge)."""
    if set(schema) - _FAST_KEYWORDS - {"description"}:
        return None
    tests = []  # one small test per keyword present, in validate_schema's order
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        kinds = tuple(_TYPES[t] for t in names)
        tests.append(kinds[0] if len(kinds) == 1 else lambda v: any(k(v) for k in kinds))
    if "enum" in schema:
        enum = tuple(schema["enum"])
        if all(isinstance(e, str) for e in enum):
            names = frozenset(enum)
            tests.append(lambda v: isinstance(v, str) and v in names)
        else:
            tests.append(lambda v: any(same(v, e) for e in enum))
    if "const" in schema:
        const = schema["const"]
        tests.append(lambda v: same(v, const))
    required = tuple(schema.get("required", ()))
    subs = []
    for key, sub in schema.get("properties", {}).items():
        check = compile_check(sub)
        if check is None:
            return None
        subs.append((key, check))
    if required or subs:
        tests.append(
            lambda v: (
                not isinstance(v, dict) or (all(k in v for k in required) and all(c(v[k]) for k, c in subs if k in v))
            )
        )
    if "minLength" in schema:
        min_len = schema["minLength"]
        tests.append(lambda v: not isinstance(v, str) or len(v) >= min_len)
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        tests.append(lambda v: not isinstance(v, str) or search(v) is not None)
    if "minimum" in schema:
        minimum = schema["minimum"]
        tests.append(lambda v: not _TYPES["number"](v) or v >= minimum)
    for part in schema.get("allOf", ()):
        check = compile_check(part)
        if check is None:
            return None
        tests.append(check)
    if "if" in schema:
        cond, then = compile_check(schema["if"]), compile_check(schema.get("then", {}))
        if cond is None or then is None:
            return None
        tests.append(lambda v: not cond(v) or then(v))
    if len(tests) == 1:
        return tests[0]
    tests = tuple(tests)

    def check(v):
        for test in tests:
            if not test(v):
                return False
        return True

    return check
