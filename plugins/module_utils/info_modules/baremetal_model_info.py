# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""baremetal_model_info: Ironic nodes and MAAS machines as the baremetal table, linked to
the compute nodes of a given model."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import baremetal as sources
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import (
    bad_input,
    check_page_size,
    skipped_warnings,
)
from ansible_collections.vigil.openstack.plugins.module_utils.model import baremetal, frame


def run(params):
    check_page_size(params)
    backends = params["backends"] or sources.default_backends(params)
    raw = sources.collect(params, backends, params["link_compute"], params["page_size"])
    table = baremetal.build(raw["ironic"], raw["maas"], raw["compute_hosts"], raw["hypervisors"])
    extras = baremetal.extra_hostvars(raw["ironic"], raw["maas"])
    cloud = params.get("cloud") if isinstance(params.get("cloud"), str) else None
    meta = {"cloud": cloud, "backends": backends, "skipped": raw["skipped"]}
    tables = {"baremetal": table}
    if params["model"] is not None:
        try:
            given = frame.load_model(params["model"])
        except (ValueError, KeyError, TypeError) as exc:
            raise bad_input("model: not a vigil cluster model (%s)" % exc) from None
        if "nodes" in given:
            given["nodes"] = baremetal.link_nodes(given["nodes"], table)
        given.update(tables)
        tables = given
        meta = dict(params["model"].get(frame.META) or {}, baremetal=meta)
    result = dict(
        model=frame.dump_model(tables, meta),
        hostvars=dict(zip(table["id"].tolist(), extras)),
        unlinked=sorted(table.loc[table["hostname"] == "", "name"].tolist()),
        skipped_services=raw["skipped"],
    )
    return result, skipped_warnings(raw["skipped"])
