# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""identity_info: Keystone domains, projects and users, narrowed to the scope asked for."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import keystone
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import bad_input


def run(params):
    conn = connection.connect(params)
    identity = keystone.collect(conn, with_users=params["users"])
    try:
        selected = keystone.scope(identity, params["projects"], params["domains"])
    except ValueError as exc:
        raise bad_input("bad scope: %s" % exc) from None
    return selected, []
