# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Placement collector: resource providers, and per provider inventories, usages, traits.

Placement has no bulk read of inventories, usages or traits: each is one request per
provider. Two levels of detail (docs/model.md explains the trade-off):

- ``full``: 1 + 3N requests for N providers, run on a pool of 8 threads over the shared
  keystoneauth session. Exact totals, reserved, allocation ratios (incl. PCPU), usages
  and every trait.
- ``summary``: 1 request per trait that an instance requires
  (``GET /resource_providers?required=TRAIT``, microversion 1.18), none when no instance
  requires a trait. Totals come from Nova's hypervisor statistics, usages from the
  instances' flavors, ``traits`` lists only the traits some instance requires.

``auto`` is ``full`` up to `FULL_MAX_PROVIDERS` providers, ``summary`` above.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "placement"
MV_PROVIDERS = "1.14"  # parent_provider_uuid / root_provider_uuid
MV_REQUIRED = "1.18"  # ?required=TRAIT on GET /resource_providers
WORKERS = 8
FULL_MAX_PROVIDERS = 50
DETAIL_LEVELS = ("auto", "full", "summary")


def resource_providers(ad, params=None, microversion=MV_PROVIDERS):
    return (
        rest.get_json(ad, "/resource_providers", SERVICE, params=params, microversion=microversion).get(
            "resource_providers"
        )
        or []
    )


def _per_provider(ad, uuids, suffix, key, workers=WORKERS):
    """``{uuid: body[key]}`` for GET /resource_providers/{uuid}/<suffix>, `workers` at a time."""

    def one(uuid):
        body = rest.get_json(ad, "/resource_providers/%s/%s" % (uuid, suffix), SERVICE, microversion=MV_PROVIDERS)
        return uuid, body.get(key) or ({} if key != "traits" else [])

    uuids = list(uuids)
    if not uuids:
        return {}
    with ThreadPoolExecutor(max_workers=min(workers, len(uuids))) as pool:
        return dict(pool.map(one, uuids))


def inventories(ad, uuids, workers=WORKERS):
    return _per_provider(ad, uuids, "inventories", "inventories", workers)


def usages(ad, uuids, workers=WORKERS):
    return _per_provider(ad, uuids, "usages", "usages", workers)


def traits(ad, uuids, workers=WORKERS):
    return _per_provider(ad, uuids, "traits", "traits", workers)


def providers_with_traits(ad, names, workers=WORKERS):
    """``{uuid: [traits among names]}``: one ``?required=`` query per trait."""

    def one(name):
        return name, [p.get("uuid") for p in resource_providers(ad, {"required": name}, MV_REQUIRED)]

    out = {}
    names = sorted(set(names or []))
    if not names:
        return out
    with ThreadPoolExecutor(max_workers=min(workers, len(names))) as pool:
        for name, uuids in pool.map(one, names):
            for uuid in uuids:
                out.setdefault(uuid, []).append(name)
    return out


def choose_detail(detail, provider_count):
    if detail not in DETAIL_LEVELS:
        raise ValueError("placement detail must be one of %s, got %r" % (", ".join(DETAIL_LEVELS), detail))
    if detail == "auto":
        return "full" if provider_count <= FULL_MAX_PROVIDERS else "summary"
    return detail


def collect(conn, detail="auto", required_traits=(), provider_count=None, provider_filter=None, workers=WORKERS):
    """Raw Placement payloads: ``{"detail", "resource_providers", "inventories", "usages",
    "traits"}`` (the last three ``{uuid: ...}``; None when not read at this detail level).

    ``provider_count``: compute nodes in scope, to choose ``auto``'s level without reading
    the provider list. ``provider_filter``: keeps the providers worth detailed reads (the
    compute nodes in scope). In summary mode the provider list is not read: a compute
    node's provider has the compute node's uuid (Nova's hypervisor id from 2.53).
    """
    ad = endpoint.adapter(conn, SERVICE)
    providers = None
    if provider_count is None or detail == "full":
        providers = resource_providers(ad)
        wanted = [p for p in providers if provider_filter is None or provider_filter(p)]
        provider_count = len(wanted)
    level = choose_detail(detail, provider_count)
    out = {"detail": level, "resource_providers": providers, "inventories": None, "usages": None, "traits": None}
    if level == "full":
        if providers is None:
            providers = out["resource_providers"] = resource_providers(ad)
            wanted = [p for p in providers if provider_filter is None or provider_filter(p)]
        uuids = [p["uuid"] for p in wanted]
        out["inventories"] = inventories(ad, uuids, workers)
        out["usages"] = usages(ad, uuids, workers)
        out["traits"] = traits(ad, uuids, workers)
    else:
        out["traits"] = providers_with_traits(ad, required_traits, workers)
    return out
