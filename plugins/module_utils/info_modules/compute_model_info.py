# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""compute_model_info: options checked, project names resolved, the compute model collected."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import compute_model, keystone
from ansible_collections.vigil.openstack.plugins.module_utils.collect.rest import CollectError
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import bad_input, check_page_size
from ansible_collections.vigil.openstack.plugins.module_utils.model import frame
from ansible_collections.vigil.openstack.plugins.module_utils.model import scope as scope_mod


def allocation_ratios(value):
    """``{resource class: ratio}`` upper-cased and checked (a positive number each)."""
    out = {}
    for rc, ratio in (value or {}).items():
        try:
            out[str(rc).upper()] = float(ratio)
        except (TypeError, ValueError):
            raise ValueError("allocation_ratios.%s must be a number, got %r" % (rc, ratio)) from None
        if out[str(rc).upper()] <= 0:
            raise ValueError("allocation_ratios.%s must be positive" % rc)
    return out


def resolve_projects(conn, params):
    """Project names and domains -> ids (Keystone is read only when a name needs it)."""
    params = dict(params)
    exclude = dict(params.get("exclude") or {})
    if not (params.get("projects") or params.get("domains") or exclude.get("projects")):
        return params
    identity = keystone.collect(conn, with_users=False)
    if params.get("projects") or params.get("domains"):
        params["projects"] = keystone.scope_project_ids(identity, params.get("projects"), params.get("domains"))
        if not params["projects"]:
            raise ValueError("the projects/domains given contain no project")
    if exclude.get("projects"):
        exclude["projects"] = keystone.resolve(identity["projects"], exclude["projects"], "project")
        params["exclude"] = exclude
    return params


def run(params):
    check_page_size(params)
    try:
        ratios = allocation_ratios(params["allocation_ratios"])
        scope_mod.from_module_params(params)  # validate before any request
    except ValueError as exc:
        raise bad_input("bad option: %s" % exc) from None
    conn = connection.connect(params)
    try:
        scope = scope_mod.from_module_params(resolve_projects(conn, params))
    except ValueError as exc:
        raise bad_input("bad scope: %s" % exc) from None
    cloud_name = params["cloud"] if isinstance(params["cloud"], str) else getattr(conn.config, "name", None)
    try:
        tables, meta = compute_model.collect(
            conn,
            scope=scope,
            placement_detail=params["placement_detail"],
            all_projects=params["all_projects"],
            page_size=params["page_size"],
            with_network=params["read_network"],
            with_images=params["read_images"],
            allocation_ratios=ratios,
            cloud_name=cloud_name,
            move_servers_without_image=params["move_servers_without_image"],
        )
    except scope_mod.ScopeError as exc:
        raise bad_input("bad scope: %s" % exc) from None
    model = frame.dump_model(tables, meta)
    result = dict(model=model, skipped=meta["skipped"])
    if params["snapshot_path"]:
        try:
            frame.save_snapshot(params["snapshot_path"], model)
        except OSError as exc:
            raise CollectError(
                "write_failed", "cannot write snapshot %s: %s" % (params["snapshot_path"], exc)
            ) from None
        result["snapshot_path"] = params["snapshot_path"]
    warnings = []
    if meta["skipped"]:
        warnings.append("skipped: " + "; ".join("%s (%s)" % (s["reason"], s["consequence"]) for s in meta["skipped"]))
    if meta["images_missing"]:
        warnings.append(missing_images_warning(meta["images_missing"], params["move_servers_without_image"]))
    return result, warnings


def missing_images_warning(servers, move):
    return "the images of %d servers are gone from Glance (%s): %s" % (
        len(servers),
        ", ".join(servers[:10]),
        "they may move, unchecked against their image's traits"
        if move
        else "they stay where they are (move_servers_without_image lets them move)",
    )
