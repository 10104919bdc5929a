# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""One-line error text for any exception vigil reports: the service's own words, said once.

openstacksdk's ``str(exc)`` is ``"ForbiddenException: 403: Client Error for url: <url>, <what
the service said>"``; wrapped again by a caller's ``"%s: %s" % (type(exc).__name__, ...)`` the
name came twice. These helpers take the status, URL and message apart instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

MAX_CHARS = 500


def http_status(exc):
    """HTTP status of an openstacksdk / keystoneauth / libmaas error, or None."""
    for attr in ("status_code", "http_status", "status"):
        value = getattr(exc, attr, None)
        if isinstance(value, int):
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) else None


def server_message(exc):
    """What the service said (openstacksdk/keystoneauth ``details``), else the text of the
    exception without a leading copy of its class name."""
    details = getattr(exc, "details", None)
    if isinstance(details, str) and details.strip():
        return details.strip()
    text = str(exc).strip()
    name = type(exc).__name__
    if text.startswith(name + ":"):
        text = text[len(name) + 1 :].strip()
    return text or name


def message_line(exc):
    """`server_message` on one line, for callers that state the status themselves."""
    return " ".join(server_message(exc).split())[:MAX_CHARS]


def one_line(exc):
    """``HTTP <status> from <url>: <message>`` for HTTP errors, the message otherwise; one line."""
    status = http_status(exc)
    message = server_message(exc)
    details = getattr(exc, "details", None)
    if status is not None and isinstance(details, str) and details.strip():
        url = getattr(exc, "url", None)
        message = "HTTP %d from %s: %s" % (status, url, message) if url else "HTTP %d: %s" % (status, message)
    return " ".join(message.split())[:MAX_CHARS]
