# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Nova's aggregate-metadata scheduler filters, for ``aggregate_policy: metadata``.

A host's metadata is ``nodes.aggregate_metadata``: ``{key: [values]}`` merged over its
aggregates, comma lists split, as Nova's ``aggregate_metadata_get_by_host`` builds it.
Implemented with Nova's semantics:

- AggregateInstanceExtraSpecsFilter: every flavor extra spec that is unscoped or scoped
  ``aggregate_instance_extra_specs:`` must match one of the host's values for that key
  (``extra_specs_ops.match``: ``=``, ``==``, ``!=``, ``>=``, ``<=``, ``s==`` ..., ``<in>``,
  ``<all-in>``, ``<or>``, else string equality);
- AggregateMultiTenancyIsolation: a host whose aggregates name projects in
  ``filter_tenant_id*`` keys takes only those projects' servers;
- AggregateTypeAffinityFilter: a host whose aggregates list flavors in ``instance_type`` takes
  only those flavors;
- Placement's isolated aggregates (``trait:<NAME>=required``): a host in such an aggregate takes
  only servers that require every such trait.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import operator

SCOPE = "aggregate_instance_extra_specs"
TENANT_PREFIX = "filter_tenant_id"


def _num(op):
    def compare(value, req):
        try:
            return op(float(value), float(req))
        except (TypeError, ValueError):
            return False

    return compare


_OPS = {
    "=": _num(operator.ge),
    "==": _num(operator.eq),
    "!=": _num(operator.ne),
    ">=": _num(operator.ge),
    "<=": _num(operator.le),
    "<in>": lambda value, req: req in value,
    "<all-in>": lambda value, words: all(w in value for w in words),
    "s==": operator.eq,
    "s!=": operator.ne,
    "s<": operator.lt,
    "s<=": operator.le,
    "s>": operator.gt,
    "s>=": operator.ge,
}


def spec_matches(value, req):
    """Nova's ``extra_specs_ops.match(value, req)``: does a host value satisfy a requirement."""
    req = str(req)
    words = req.split()
    op = words.pop(0) if words else None
    method = _OPS.get(op)
    if op != "<or>" and method is None:
        return value == req
    if value is None:
        return False
    if op == "<or>":  # <or> v1 <or> v2 ...
        return value in words[::2]
    if not words:
        return False
    return method(value, words) if op == "<all-in>" else method(value, words[0])


def extra_spec_requirements(extra_specs):
    """``[(key, requirement)]`` the AggregateInstanceExtraSpecsFilter checks for a flavor."""
    out = []
    for key, req in sorted((extra_specs or {}).items()):
        scope, sep, rest = str(key).partition(":")
        if not sep:
            out.append((scope, req))
        elif scope == SCOPE:
            out.append((rest, req))
    return out


def refusal(metadata, requirements=(), project_id=None, flavor_name=None, required_traits=()):
    """Why a host with aggregate ``metadata`` would refuse the server, or '' when it takes it.

    ``requirements``: `extra_spec_requirements` of the server's flavor."""
    metadata = metadata or {}
    for key, req in requirements:
        values = metadata.get(key)
        if not values:
            return "flavor extra spec %s=%s: no aggregate of the host sets %s" % (key, req, key)
        if not any(spec_matches(v, req) for v in values):
            return "flavor extra spec %s=%s does not match the host's aggregates (%s)" % (
                key,
                req,
                ",".join(values),
            )
    tenants = set()
    for key, values in metadata.items():
        if key.startswith(TENANT_PREFIX):
            tenants.update(values)
    if tenants and project_id not in tenants:
        return "the host's aggregates are isolated to other projects (%s)" % TENANT_PREFIX
    flavors = metadata.get("instance_type")
    if flavors and flavor_name not in flavors:
        return "the host's aggregates take only flavors %s (instance_type)" % ",".join(flavors)
    isolated = sorted(k.partition(":")[2] for k, v in metadata.items() if k.startswith("trait:") and "required" in v)
    missing = [t for t in isolated if t not in set(required_traits or ())]
    if missing:
        return "the host's aggregates are isolated to servers requiring %s" % ",".join(missing)
    return ""
