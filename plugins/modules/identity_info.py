#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: identity_info
short_description: Read Keystone domains, projects and users to scope audits and name things in reports
version_added: 0.1.0
description:
  - Reads the domains, projects and (optionally) users of an OpenStack cloud's Identity
    service (Keystone v3) in three requests, and returns them with id -> name maps, so
    plays can scope an audit by project or domain and reports can show names instead of ids.
  - Projects and domains are matched exactly, by id or by name; a name that several
    projects share (in different domains) must be given as an id.
  - Listing domains, all projects and users needs an admin role in Keystone's default policy.
  - Changes nothing; supports check mode.
author:
  - vigil contributors (@vigil-openstack)
options:
  projects:
    description:
      - Return only these projects (ids or names, exact match). With I(domains), the union
        of both selections.
    type: list
    elements: str
  domains:
    description:
      - Return only the projects of these domains (ids or names, exact match), these domains,
        and their users.
    type: list
    elements: str
  users:
    description:
      - Also read users. When false, one request fewer and RV(users) is empty.
    type: bool
    default: true
extends_documentation_fragment:
  - vigil.openstack.openstack
  - vigil.openstack.info_module
seealso:
  - module: vigil.openstack.storage_model_info
  - module: vigil.openstack.compute_model_info
"""

EXAMPLES = r"""
- name: Read the identity catalogue
  vigil.openstack.identity_info:
    cloud: mycloud
  register: identity

- name: Name the owner of a server in a report
  ansible.builtin.debug:
    msg: "{{ identity.project_names[server_project_id] | default(server_project_id) }}"
  vars:
    server_project_id: 4f1f7a2e9c6b4e0f8d7c6b5a4e3d2c1b

- name: Project ids of the Default domain, to scope an audit
  vigil.openstack.identity_info:
    cloud: mycloud
    domains: [Default]
    users: false
  register: scope

- name: Use them
  ansible.builtin.debug:
    msg: "{{ scope.project_ids }}"
"""

RETURN = r"""
domains:
  description: Domains (all, or those of the selected projects).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "default", "name": "Default", "enabled": true, "description": ""}]
projects:
  description: Projects (all, or the selected ones).
  returned: always
  type: list
  elements: dict
  sample:
    - {"id": "4f1f...", "name": "demo", "domain_id": "default", "parent_id": "default", "is_domain": false, "enabled": true}
users:
  description: Users (all, or those of the selected projects' domains). Empty when I(users=false).
  returned: always
  type: list
  elements: dict
  sample: [{"id": "8c2e...", "name": "alice", "domain_id": "default", "default_project_id": "4f1f...", "enabled": true}]
project_ids:
  description: Ids of the returned projects, sorted.
  returned: always
  type: list
  elements: str
project_names:
  description: Map project id -> project name.
  returned: always
  type: dict
domain_names:
  description: Map domain id -> domain name.
  returned: always
  type: dict
user_names:
  description: Map user id -> user name.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.vigil.openstack.plugins.module_utils.info_modules import identity_info
from ansible_collections.vigil.openstack.plugins.module_utils.info_modules.runner import run_info_module

ARGUMENT_SPEC = dict(
    projects=dict(type="list", elements="str"),
    domains=dict(type="list", elements="str"),
    users=dict(type="bool", default=True),
)


def main():
    run_info_module(AnsibleModule, ARGUMENT_SPEC, identity_info.run)


if __name__ == "__main__":
    main()
