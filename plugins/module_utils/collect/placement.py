# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Placement collector: resource providers, and per provider inventories, usages, traits.

Placement has no bulk read of inventories, usages or traits: each is one request per
provider. Two levels of detail (docs/model.md explains the trade-off):

- ``full``: 1 + 3N requests for N providers, run on a pool of 8 threads over the shared
  keystoneauth session. Exact totals, reserved, allocation ratios (incl. PCPU), usages
  and every trait.
- ``summary``: one ``GET /allocation_candidates?resources=MEMORY_MB:1`` (1.29), whose
  provider summaries give every provider with a free MiB of memory its capacity per class
  (``(total - reserved) x allocation_ratio``), used amounts and traits. A provider left out
  has no memory free (or no memory inventory), so it can take no server whatever its other
  classes hold: it is modelled full on every class, which is exact for placement and never
  roomier than the host is.

``auto`` is ``full`` up to `FULL_MAX_PROVIDERS` providers, ``summary`` above.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "placement"
MV_PROVIDERS = "1.14"  # parent_provider_uuid / root_provider_uuid
MV_CANDIDATES = "1.29"  # provider_summaries with every class (1.27) and traits (1.17)
# The smallest request every server makes: pinned servers take PCPU instead of VCPU, servers
# booted from volume no DISK_GB, but every flavor has RAM. A provider that cannot give 1 MiB
# can take no server, so leaving it out of the summaries loses nothing a destination needs.
PROBE_REQUEST = "MEMORY_MB:1"
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


def provider_summaries(ad):
    """``{uuid: {"resources": {RC: {"capacity", "used"}}, "traits": [...]}}`` of every provider
    that has memory free (`PROBE_REQUEST`), in one request."""
    body = rest.get_json(
        ad, "/allocation_candidates", SERVICE, params={"resources": PROBE_REQUEST}, microversion=MV_CANDIDATES
    )
    return body.get("provider_summaries") or {}


def choose_detail(detail, provider_count):
    if detail not in DETAIL_LEVELS:
        raise ValueError("placement detail must be one of %s, got %r" % (", ".join(DETAIL_LEVELS), detail))
    if detail == "auto":
        return "full" if provider_count <= FULL_MAX_PROVIDERS else "summary"
    return detail


def collect(
    conn,
    detail="auto",
    provider_count=None,
    provider_filter=None,
    workers=WORKERS,
    provider_uuids=None,
):
    """Raw Placement payloads: ``{"detail", "resource_providers", "inventories", "usages",
    "traits", "capacities", "unsummarized"}`` (``{uuid: ...}`` maps, None when not read at this
    detail level; ``unsummarized``: the ``provider_uuids`` summary mode found no summary for,
    which have no memory free: the model takes them as full).

    ``provider_count``: compute nodes in scope, to choose ``auto``'s level without reading
    the provider list. ``provider_filter``: keeps the providers worth detailed reads (the
    compute nodes in scope). In summary mode the provider list is not read: a compute
    node's provider has the compute node's uuid (Nova's hypervisor id from 2.53), given as
    ``provider_uuids``.
    """
    ad = endpoint.adapter(conn, SERVICE)
    providers = None
    if provider_count is None or detail == "full":
        providers = resource_providers(ad)
        wanted = [p for p in providers if provider_filter is None or provider_filter(p)]
        provider_count = len(wanted)
    level = choose_detail(detail, provider_count)
    out = {
        "detail": level,
        "resource_providers": providers,
        "inventories": None,
        "usages": None,
        "traits": None,
        "capacities": None,
        "unsummarized": [],
    }
    if level == "full":
        if providers is None:
            providers = out["resource_providers"] = resource_providers(ad)
            wanted = [p for p in providers if provider_filter is None or provider_filter(p)]
        uuids = [p["uuid"] for p in wanted]
        out["inventories"] = inventories(ad, uuids, workers)
        out["usages"] = usages(ad, uuids, workers)
        out["traits"] = traits(ad, uuids, workers)
    else:
        summaries = provider_summaries(ad)
        out["capacities"], out["usages"], out["traits"] = {}, {}, {}
        for uuid, summary in summaries.items():
            resources = summary.get("resources") or {}
            out["capacities"][uuid] = dict((rc, v.get("capacity", 0)) for rc, v in resources.items())
            out["usages"][uuid] = dict((rc, v.get("used", 0)) for rc, v in resources.items())
            out["traits"][uuid] = sorted(summary.get("traits") or [])
        # Left out: no memory free, so no server fits. Reading them exactly would cost three
        # requests per host (a second summary on another class misses the hosts full on that
        # one too) and could not make one a destination; the model takes them as full instead.
        out["unsummarized"] = [u for u in provider_uuids or [] if u not in summaries]
    return out
