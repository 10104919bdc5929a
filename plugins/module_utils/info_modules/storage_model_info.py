# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""storage_model_info: Cinder volumes and pools as model tables (the service may be absent)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import cinder, keystone, rest
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import (
    bad_input,
    check_page_size,
    skipped_warnings,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame, storage

NO_STORAGE = {"pools": [], "volume_types": [], "services": [], "volumes": [], "attachments": None}


def run(params):
    check_page_size(params)
    conn = connection.connect(params)
    project_ids = None
    if params["projects"] or params["domains"]:
        identity = keystone.collect(conn, with_users=False)
        try:
            project_ids = keystone.scope_project_ids(identity, params["projects"], params["domains"])
        except ValueError as exc:
            raise bad_input("bad scope: %s" % exc) from None
    skipped = []
    raw = rest.optional(
        cinder.SERVICE,
        cinder.collect,
        skipped,
        conn,
        all_projects=params["all_projects"],
        with_attachments=params["attachment_records"],
        page_size=params["page_size"],
    )
    raw = raw or NO_STORAGE
    tables = {
        "volumes": storage.volumes(raw["volumes"], project_ids),
        "pools": storage.pools(raw["pools"], raw["volume_types"]),
    }
    meta = {"cloud": getattr(conn.config, "name", None), "skipped": skipped, "scope": {"project_ids": project_ids}}
    result = dict(
        model=frame.dump_model(tables, meta),
        volume_types=raw["volume_types"],
        services=raw["services"],
        skipped_services=skipped,
    )
    if raw["attachments"] is not None:
        result["attachments"] = raw["attachments"]
    return result, skipped_warnings(skipped)
