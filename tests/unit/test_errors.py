"""One-line error text: the service's words once, the status and URL once, no class name twice."""

import json

import pytest
import requests
from keystoneauth1 import exceptions as ks
from openstack import exceptions as sdk_exc

from ansible_collections.vigil.openstack.plugins.module_utils.errors import (
    MAX_CHARS,
    http_status,
    message_line,
    one_line,
)

URL = "http://127.0.0.1:8774/v2.1/os-hypervisors"


def sdk_error(status, body, url=URL):
    """The exception openstacksdk raises for a recorded error response."""
    resp = requests.Response()
    resp.status_code = status
    resp.url = url
    resp.headers["Content-Type"] = "application/json"
    resp._content = json.dumps(body).encode()
    resp.request = requests.Request("GET", url).prepare()
    with pytest.raises(sdk_exc.HttpException) as info:
        sdk_exc.raise_from_response(resp)
    return info.value


def test_sdk_forbidden_says_status_url_and_policy_once():
    exc = sdk_error(403, {"forbidden": {"code": 403, "message": "Policy doesn't allow os-hypervisors:list."}})
    assert "ForbiddenException" in str(exc)  # what the old text repeated
    assert http_status(exc) == 403
    assert one_line(exc) == "HTTP 403 from %s: Policy doesn't allow os-hypervisors:list." % URL
    assert message_line(exc) == "Policy doesn't allow os-hypervisors:list."
    wrapped = "%s: %s" % (type(exc).__name__, one_line(exc))
    assert wrapped.count("ForbiddenException") == 1 and wrapped.count("403") == 1


def test_cinder_style_body_and_5xx():
    exc = sdk_error(503, {"overLimit": {"message": "Service busy,\n  try again"}}, url="http://c/v3/volumes")
    assert one_line(exc) == "HTTP 503 from http://c/v3/volumes: Service busy, try again"


def test_keystoneauth_http_error():
    exc = ks.Unauthorized(message="The request you have made requires authentication.", url="http://k/v3/auth/tokens")
    assert http_status(exc) == 401
    assert "The request you have made requires authentication." in one_line(exc)
    assert "\n" not in one_line(exc)


class BoomError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (BoomError("BoomError: disk\nfull"), "disk full"),
        (BoomError(""), "BoomError"),
        (ValueError("x" * 2000), "x" * MAX_CHARS),
        (RuntimeError("plain words"), "plain words"),
    ],
)
def test_plain_exceptions(exc, text):
    assert one_line(exc) == text
    assert http_status(exc) is None
