# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Ironic collector: every node with only the fields the baremetal table needs.

Requests: ceil(N / page_size) node pages. The microversion is pinned (1.46, for
``conductor_group``) rather than discovered; an older Ironic answers 406 and the collector
steps down to 1.8 (``fields``) and then to ``/nodes/detail`` without a microversion.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "baremetal"
PAGE_SIZE = 1000

BASE_FIELDS = (
    "uuid",
    "name",
    "power_state",
    "target_power_state",
    "provision_state",
    "maintenance",
    "maintenance_reason",
    "instance_uuid",
    "driver",
    "resource_class",
    "extra",
)
# (microversion, path, fields): newest first. conductor_group needs 1.46, fields= 1.8.
ATTEMPTS = (
    ("1.46", "/nodes", BASE_FIELDS + ("conductor_group",)),
    ("1.8", "/nodes", tuple(f for f in BASE_FIELDS if f != "resource_class")),
    (None, "/nodes/detail", None),
)


def nodes(ad, page_size=PAGE_SIZE):
    """All nodes, paging with limit/marker (the ``next`` URL carries the marker)."""
    last = None
    for microversion, path, fields in ATTEMPTS:
        params = {"fields": ",".join(fields)} if fields else {}
        try:
            return rest.paginate(
                ad,
                endpoint.versioned(ad, path, "v1"),
                SERVICE,
                "nodes",
                params=params,
                microversion=microversion,
                limit=page_size,
                links_key="next",
            )
        except rest.CollectError as err:
            # 406: microversion above the server's maximum; step down.
            if err.status != 406:
                raise
            last = err
    raise last


def collect(conn, page_size=PAGE_SIZE):
    """Raw Ironic node payloads. Raises rest.CollectError (``missing_service`` when Ironic is
    not in the catalog)."""
    return nodes(endpoint.adapter(conn, SERVICE), page_size=page_size)
