# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Raw JSON requests through an openstacksdk service proxy, with paging, retries and clear errors.

Collectors read plain JSON rather than SDK resource objects: building one Python object
per server/volume costs more than the request at 20 000 rows, and the builders want
column lists anyway. The proxy (a keystoneauth Adapter) still resolves the endpoint
from the catalog, carries the token, and negotiates microversions.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlparse

from ansible_collections.vigil.openstack.plugins.module_utils.errors import message_line


class CollectError(Exception):
    """A failure worth one line to the user. ``kind``: auth, forbidden, unreachable,
    missing_service, not_found, server, bad_response."""

    def __init__(self, kind, message, service=None, status=None):
        super(CollectError, self).__init__(message)
        self.kind = kind
        self.service = service
        self.message = message
        self.status = status  # HTTP status when the error is an HTTP answer


def classify(exc, service=None, what=None):
    """Turn an openstacksdk / keystoneauth exception into a CollectError (or None if unknown)."""
    if isinstance(exc, CollectError):
        return exc
    name = type(exc).__name__
    mro = set(c.__name__ for c in type(exc).__mro__)
    target = what or service or "the cloud"
    detail = message_line(exc)
    if mro & {"EndpointNotFound", "ServiceDisabledException", "CatalogException", "EmptyCatalog"}:
        return CollectError(
            "missing_service",
            "service %s is not in the catalog (%s)" % (service or "?", detail),
            service,
        )
    if mro & {"ConnectFailure", "ConnectTimeout", "SSLError", "UnknownConnectionError", "RetriableConnectionFailure"}:
        return CollectError("unreachable", "cannot reach %s: %s" % (target, detail), service)
    if mro & {"Unauthorized", "AuthorizationFailure", "MissingAuthPlugin", "MissingRequiredOptions"}:
        return CollectError("auth", "authentication failed: %s" % detail, service)
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    if status is not None:
        return _status_error(int(status), service, target, detail)
    if name in ("DiscoveryFailure", "VersionNotAvailable"):
        return CollectError("unreachable", "cannot discover the API of %s: %s" % (target, detail), service)
    return None


def _status_error(status, service, target, detail):
    if status == 401:
        kind, msg = "auth", "authentication failed reading %s (HTTP 401): %s" % (target, detail)
    elif status == 403:
        kind = "forbidden"
        msg = "insufficient role to read %s (HTTP 403; an admin role is needed): %s" % (target, detail)
    elif status == 404:
        kind, msg = "not_found", "%s not found (HTTP 404): %s" % (target, detail)
    elif status >= 500:
        kind, msg = "server", "%s failed with HTTP %d (after retries): %s" % (target, status, detail)
    else:
        kind, msg = "bad_response", "%s answered HTTP %d: %s" % (target, status, detail)
    return CollectError(kind, msg, service, status)


def _error_detail(response):
    try:
        body = response.json()
    except ValueError:
        return (response.text or "").strip()[:200]
    # Every OpenStack service nests its message differently: {"error": {"message"}},
    # {"itemNotFound": {"message"}}, {"error_message": "..."}, {"message": "..."}.
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, dict) and "message" in value:
                return str(value["message"])
        for key in ("message", "error_message", "faultstring"):
            if key in body:
                return str(body[key])
    return str(body)[:200]


def get_json(proxy, path, service, params=None, microversion=None, headers=None):
    """GET ``path`` (relative to the service endpoint) and return the decoded JSON body.

    Retries of connection failures and 5xx are the session's (connection.connect sets
    keystoneauth's backoff defaults, clouds.yaml may override them). Raises CollectError with a one-line reason on anything else.
    """
    kwargs = {"params": params or {}}
    if microversion:
        kwargs["microversion"] = microversion
    if headers:
        kwargs["headers"] = headers
    what = "%s %s" % (service, path.split("?")[0])
    try:
        response = proxy.get(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - classified below, re-raised when unknown
        err = classify(exc, service, what)
        if err is None:
            raise
        raise err from exc
    if response.status_code >= 400:
        raise _status_error(response.status_code, service, what, _error_detail(response))
    try:
        return response.json()
    except ValueError as exc:
        raise CollectError("bad_response", "%s did not return JSON" % what, service) from exc


def next_marker(links, rel="next"):
    """The ``marker`` of a next link (Cinder ``*_links`` list, Keystone/Ironic ``next`` URL)."""
    if not links:
        return None
    href = links
    if isinstance(links, list):
        href = None
        for link in links:
            if isinstance(link, dict) and link.get("rel") == rel:
                href = link.get("href")
                break
    if not href or not isinstance(href, str):
        return None
    marker = parse_qs(urlparse(href).query).get("marker")
    return marker[-1] if marker else None


def paginate(proxy, path, service, key, params=None, microversion=None, limit=1000, links_key=None):
    """All items of a collection that pages with ``limit``/``marker`` and a next link.

    ``links_key``: where the next link lives (``volumes_links``, ``next``, ``links``);
    defaults to ``<key>_links``. Stops when there is no next link, when a page is empty,
    or when the marker repeats (a server that ignores the marker must not loop forever).
    """
    params = dict(params or {})
    if limit:
        params["limit"] = limit
    links_key = links_key or key + "_links"
    items = []
    seen = set()
    while True:
        body = get_json(proxy, path, service, params=params, microversion=microversion)
        page = body.get(key) or []
        items.extend(page)
        links = body.get(links_key)
        if isinstance(links, dict):  # keystone: {"links": {"next": url}}
            links = links.get("next")
        marker = next_marker(links)
        if not page or not marker or marker in seen:
            return items
        seen.add(marker)
        params["marker"] = marker


def optional(service, fn, skipped, *args, **kwargs):
    """Call a collector; a missing service (or an endpoint the SDK has disabled) is noted in
    ``skipped`` and gives None, so a module collects what exists and says what it skipped."""
    try:
        return fn(*args, **kwargs)
    except CollectError as err:
        if err.kind != "missing_service":
            raise
        skipped.append({"service": service, "reason": err.message})
        return None
    except Exception as exc:  # noqa: BLE001 - only catalog problems are swallowed here
        err = classify(exc, service)
        if err is None:
            raise
        if err.kind != "missing_service":
            raise err from exc
        skipped.append({"service": service, "reason": err.message})
        return None


def parallel(calls, max_workers=4):
    """Run independent zero-argument callables concurrently; results in call order.

    For the requests of one collector that do not depend on each other (Cinder's pools,
    types and services beside the volume pages). keystoneauth sessions are safe to share
    between threads (token refresh is locked). The first exception is re-raised.
    """
    calls = list(calls)
    if len(calls) <= 1:
        return [c() for c in calls]
    with ThreadPoolExecutor(max_workers=min(max_workers, len(calls))) as pool:
        futures = [pool.submit(c) for c in calls]
        return [f.result() for f in futures]
