# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Same names and meaning as the openstack.cloud collection's connection options.
    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Named cloud or cloud config to operate against.
      - If I(cloud) is a string, it names a cloud in an OpenStack C(clouds.yaml) file
        (found through C(OS_CLIENT_CONFIG_FILE), the current directory,
        C(~/.config/openstack/) or C(/etc/openstack/)); it provides defaults for I(auth)
        and I(auth_type).
      - If I(cloud) is a dict, it holds a complete cloud configuration as a section of
        C(clouds.yaml) would; the other connection options must then not be given.
      - Not needed when I(auth) is given or C(OS_*) environment variables are set
        (this is how AWX and AAP inject their OpenStack credential).
    type: raw
  auth:
    description:
      - Authentication data for the cloud's auth plugin. For the default C(password)
        plugin this holds I(auth_url), I(username), I(password), I(project_name) and the
        domain names (I(user_domain_name), I(project_domain_name)).
      - Not needed when a named I(cloud) or C(OS_*) environment variables are given.
    type: dict
  auth_type:
    description:
      - Name of the keystoneauth plugin, for example C(password), C(v3token),
        C(v3applicationcredential). The content of I(auth) follows the plugin.
    type: str
  region_name:
    description:
      - Name of the region.
    type: str
  interface:
    description:
      - Endpoint URL type to take from the service catalog.
    type: str
    choices: [admin, internal, public]
    default: public
    aliases: [endpoint_type]
  validate_certs:
    description:
      - Whether TLS certificates of the API endpoints are verified.
      - When not given, the value from C(clouds.yaml) or the environment applies
        (openstacksdk's default is to verify).
    type: bool
    aliases: [verify]
  ca_cert:
    description:
      - Path to a CA bundle used to verify the API endpoints' certificates.
    type: str
    aliases: [cacert]
  client_cert:
    description:
      - Path to a client certificate for TLS client authentication.
    type: str
    aliases: [cert]
  client_key:
    description:
      - Path to the key of I(client_cert).
    type: str
    aliases: [key]
  api_timeout:
    description:
      - Seconds the HTTP layer waits for an API answer. When omitted, no timeout is
        passed to the HTTP library.
    type: int
  wait:
    description:
      - Whether a module that starts an asynchronous operation waits for it to finish.
        Information modules ignore it.
    type: bool
    default: true
  timeout:
    description:
      - Seconds to wait for an asynchronous operation when I(wait=true).
    type: int
    default: 180
  sdk_log_path:
    description:
      - Path of a log file for openstacksdk. No log is written when empty.
      - Created with mode 0600 (at C(DEBUG) it holds every API response); a symlink, or a file
        owned by another user or writable by others, is refused.
    type: str
  sdk_log_level:
    description:
      - Log level of openstacksdk (C(DEBUG) also logs HTTP requests).
    type: str
    default: INFO
    choices: [INFO, DEBUG]
requirements:
  - python >= 3.11
  - openstacksdk >= 4.1.0, < 5
notes:
  - Connection settings come from openstacksdk's configuration loading, in this order
    of increasing precedence - C(clouds.yaml), the standard C(OS_*) environment
    variables, then the options of the task.
  - Reads (GET) that fail with HTTP 500, 502, 503 or 504 or lose their connection are
    retried three times with exponential backoff unless C(clouds.yaml) sets
    C(status_code_retries) / C(connect_retries).
  - Requests that change state (POST, PUT, PATCH, DELETE) are never re-sent by the transport,
    whatever C(clouds.yaml) says - their answer may be lost after the cloud carried them out.
    An action module first reads whether such a call took effect and sends it again only if
    it did not.
  - The options can be set once for all vigil modules with
    C(module_defaults) and the C(group/vigil.openstack.openstack) action group.
"""
