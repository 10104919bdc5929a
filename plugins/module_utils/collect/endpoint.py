# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Catalog endpoints without version discovery, for the bulk collectors.

openstacksdk's service proxies GET each service's version document before the first call
(one extra request per service). The compute collectors pin the microversions they need
instead, so a keystoneauth Adapter on the catalog URL saves those requests; it carries the
token, the interface/region of the connection and its retry settings (connect_retries,
status_code_retries with exponential backoff).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import rest

# keystoneauth Adapter arguments read from the cloud's settings, and how to convert each.
_RETRY_SETTINGS = (
    ("connect_retries", int),
    ("status_code_retries", int),
    ("retriable_status_codes", connection.status_codes),
    ("connect_retry_delay", float),
    ("status_code_retry_delay", float),
)


def retry_setting(config, name, service_type, convert):
    """The cloud region's `name` setting for `service_type` (None when unset).

    openstacksdk grew a public ``CloudRegion.get_<name>`` for each setting over 4.x (the last
    ones in 4.22). Earlier releases answer any unknown attribute with None from
    ``CloudRegion.__getattr__``, so the getter is looked up on the class, and without it the
    setting is read the way those getters read it (the service-prefixed key, then the plain one)
    through ``_get_config``, which every openstacksdk 4.x has.
    """
    getter = getattr(type(config), "get_" + name, None)
    if callable(getter):
        return getter(config, service_type)
    value = config._get_config(name, service_type, fallback_to_unprefixed=True)
    return None if value is None else convert(value)


def retry_settings(config, service_type):
    """{keystoneauth Adapter argument: value} of the cloud's retry settings for `service_type`."""
    return {name: retry_setting(config, name, service_type, convert) for name, convert in _RETRY_SETTINGS}


def adapter(conn, service_type):
    """A keystoneauth Adapter for `service_type` of `conn`'s cloud region.

    Raises rest.CollectError("missing_service") when the catalog has no such endpoint.
    """
    from keystoneauth1 import adapter as ks_adapter

    config = conn.config
    kwargs = dict(
        session=conn.session,
        service_type=service_type,
        interface=config.get_interface(service_type),
        region_name=config.get_region_name(service_type),
        raise_exc=False,
    )
    kwargs.update(retry_settings(config, service_type))
    override = config.get_endpoint(service_type)
    if override:
        kwargs["endpoint_override"] = override
    ad = ks_adapter.Adapter(**kwargs)
    try:
        url = ad.get_endpoint()
    except Exception as exc:  # noqa: BLE001 - catalog problems become CollectError
        err = rest.classify(exc, service_type)
        if err is None:
            raise
        raise err from exc
    if not url:
        raise rest.CollectError("missing_service", "service %s is not in the catalog" % service_type, service_type)
    return ad


def versioned(ad, path, version):
    """`path` below the API version `version` (``v2``, ``v2.0``): catalogs list Glance and
    Neutron with or without it."""
    url = (ad.get_endpoint() or "").rstrip("/")
    if url.endswith("/" + version):
        return path
    return "/" + version + path
