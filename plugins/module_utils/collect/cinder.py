# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Cinder collector: pools, volumes (all projects), types, services, attachments, in bulk.

Requests for a cloud with V volumes: 1 (pools) + 1 (types) + 1 (services) +
ceil(V / page_size) (volumes) [+ ceil(A / page_size) attachment records when asked].
Volume detail already carries each volume's attachments (server ids), so the attachments
API is read only when its records (status, attach mode) are wanted. compute_model reads only
the bootable volumes (``bootable_volumes``), for the image properties of boot volumes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "block-storage"
# 3.27: attachments API. Volume detail and get_pools look the same from 3.0 on.
ATTACHMENTS_MICROVERSION = "3.27"
PAGE_SIZE = 1000


def pools(proxy):
    """Scheduler stats of every pool: name host@backend#pool and its capabilities (admin only)."""
    return rest.get_json(proxy, "/scheduler-stats/get_pools", SERVICE, params={"detail": "True"}).get("pools") or []


def volume_types(proxy):
    """All volume types, public and private, with extra_specs (admins see extra_specs)."""
    return rest.get_json(proxy, "/types", SERVICE, params={"is_public": "None"}).get("volume_types") or []


def services(proxy):
    """cinder-volume services: host@backend, zone, status (enabled/disabled), state (up/down)."""
    return rest.get_json(proxy, "/os-services", SERVICE, params={"binary": "cinder-volume"}).get("services") or []


def volumes(proxy, all_projects=True, page_size=PAGE_SIZE):
    """Every volume in detail, paging with limit/marker."""
    params = {"all_tenants": "1"} if all_projects else {}
    return rest.paginate(proxy, "/volumes/detail", SERVICE, "volumes", params=params, limit=page_size)


def bootable_volumes(proxy, page_size=PAGE_SIZE):
    """Every bootable volume in detail (all projects): the boot volumes of servers, with the
    ``volume_image_metadata`` Cinder copied from their image. Usually one request."""
    params = {"all_tenants": "1", "bootable": "true"}
    return rest.paginate(proxy, "/volumes/detail", SERVICE, "volumes", params=params, limit=page_size)


def boot_images(conn, page_size=PAGE_SIZE):
    """``{"volumes": [...]}``, the bootable volumes, for compute_model (optional service)."""
    return {"volumes": bootable_volumes(endpoint.adapter(conn, SERVICE), page_size)}


def attachments(proxy, all_projects=True, page_size=PAGE_SIZE):
    """Attachment records (status, attach_mode, instance) through the 3.27 attachments API."""
    params = {"all_tenants": "1"} if all_projects else {}
    return rest.paginate(
        proxy,
        "/attachments/detail",
        SERVICE,
        "attachments",
        params=params,
        microversion=ATTACHMENTS_MICROVERSION,
        limit=page_size,
    )


def collect(conn, all_projects=True, with_attachments=False, page_size=PAGE_SIZE):
    """Everything the storage tables need, as raw API payloads.

    Returns ``{"pools", "volume_types", "services", "volumes", "attachments"}`` (lists;
    ``attachments`` is None unless asked). Raises rest.CollectError (``missing_service``
    when Cinder is not in the catalog) so the caller can skip storage and say so.
    """
    proxy = endpoint.adapter(conn, SERVICE)
    # Volume pages are sequential (marker); the other reads go beside them.
    calls = [
        lambda: volumes(proxy, all_projects=all_projects, page_size=page_size),
        lambda: pools(proxy),
        lambda: volume_types(proxy),
        lambda: services(proxy),
    ]
    if with_attachments:
        calls.append(lambda: attachments(proxy, all_projects, page_size))
    results = rest.parallel(calls)
    return {
        "volumes": results[0],
        "pools": results[1],
        "volume_types": results[2],
        "services": results[3],
        "attachments": results[4] if with_attachments else None,
    }
