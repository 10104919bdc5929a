# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Connections to OpenStack (openstacksdk) and MAAS (python-libmaas) from module parameters.

The OpenStack options carry the names and meaning of the openstack.cloud collection's
options. Anything not given falls through to openstacksdk's own configuration loading:
clouds.yaml (``OS_CLIENT_CONFIG_FILE`` is how AWX injects its credential), then ``OS_*``
environment variables. Every failure becomes `VigilConnectionError` with one line saying
what went wrong, so modules report it with ``fail_json(msg=...)`` instead of a traceback.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import threading

from ansible_collections.vigil.openstack.plugins.module_utils.private_files import (
    UnsafeFile,
    check_directory,
    open_private,
)

# Retries with backoff on 5xx and dropped connections are keystoneauth's job for reads: these
# are defaults only, a value from clouds.yaml (``status_code_retries: 0``...) wins.
RETRY_DEFAULTS = {
    "connect_retries": 3,
    "status_code_retries": 3,
    "retriable_status_codes": [500, 502, 503, 504],
}
# Methods the transport may send again. A POST/PUT/PATCH/DELETE whose answer was lost (a
# dropped connection, a 504 from a load balancer) may have been carried out: re-sending it
# blindly would start a migration twice or fail on Nova's 409. Those go back to the caller,
# whose `Poller.submit` reads whether the call landed before sending it again.
RESENDABLE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))

# Options of a cloud passed to the ``cloud`` parameter as a dict exclude these
# (the same rule as openstack.cloud).
_EXCLUSIVE_WITH_CLOUD_DICT = (
    "auth",
    "auth_type",
    "region_name",
    "validate_certs",
    "ca_cert",
    "client_cert",
    "client_key",
    "api_timeout",
)


def status_codes(value):
    """HTTP status codes from a cloud setting: a list, or a comma-separated string in clouds.yaml."""
    if isinstance(value, str):
        value = value.split(",")
    return [int(code) for code in value]


class VigilConnectionError(Exception):
    """Could not build a working connection; ``str()`` is one line for the user."""


def openstack_argument_spec():
    """The connection options of every OpenStack module (openstack.cloud names and defaults)."""
    return dict(
        cloud=dict(type="raw"),
        auth=dict(type="dict", no_log=True),
        auth_type=dict(type="str"),
        region_name=dict(type="str"),
        interface=dict(
            type="str", default="public", choices=["public", "internal", "admin"], aliases=["endpoint_type"]
        ),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="str", aliases=["cacert"]),
        client_cert=dict(type="str", aliases=["cert"]),
        client_key=dict(type="str", no_log=True, aliases=["key"]),
        api_timeout=dict(type="int"),
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
        sdk_log_path=dict(type="str"),
        sdk_log_level=dict(type="str", default="INFO", choices=["INFO", "DEBUG"]),
    )


def maas_argument_spec():
    """MAAS connection options; environment variables MAAS_URL / MAAS_API_KEY fill gaps."""
    return dict(
        maas_url=dict(type="str"),
        maas_api_key=dict(type="str", no_log=True),
    )


def module_kwargs(argument_spec=None, maas=False, openstack=True, **kwargs):
    """Keyword arguments for ``AnsibleModule(**...)``: module options merged with the
    connection options, check mode supported (collectors change nothing)."""
    spec = {}
    if openstack:
        spec.update(openstack_argument_spec())
    if maas:
        spec.update(maas_argument_spec())
    for name in argument_spec or {}:
        if name in spec:
            raise ValueError("module option %r clashes with a connection option" % name)
    spec.update(copy.deepcopy(argument_spec or {}))
    kwargs.setdefault("supports_check_mode", True)
    return dict(argument_spec=spec, **kwargs)


def _sdk_kwargs(params):
    cloud = params.get("cloud")
    if isinstance(cloud, dict):
        for name in _EXCLUSIVE_WITH_CLOUD_DICT:
            if params.get(name) is not None:
                raise VigilConnectionError(
                    "a cloud config dict was given in 'cloud' together with '%s'; put '%s' inside the dict"
                    % (name, name)
                )
        if params.get("interface", "public") != "public":
            raise VigilConnectionError(
                "a cloud config dict was given in 'cloud' together with 'interface'; put it inside the dict"
            )
        return dict(copy.deepcopy(cloud))
    if cloud is not None and not isinstance(cloud, str):
        raise VigilConnectionError(
            "'cloud' must be a cloud name (string) or a cloud config (dict), got %s" % type(cloud).__name__
        )
    kwargs = dict(
        cloud=cloud,
        auth=params.get("auth"),
        auth_type=params.get("auth_type"),
        region_name=params.get("region_name"),
        verify=params.get("validate_certs"),
        cacert=params.get("ca_cert"),
        cert=params.get("client_cert"),
        key=params.get("client_key"),
        api_timeout=params.get("api_timeout"),
        interface=params.get("interface"),
    )
    # None means "not given": let clouds.yaml / OS_* decide (openstacksdk drops None too).
    return dict((k, v) for k, v in kwargs.items() if v is not None)


_SDK_LOG_HANDLERS = {}  # path -> handler: each connection (one per worker thread) shares it
_SDK_LOG_LOCK = threading.Lock()


def _enable_sdk_logging(params):
    path = params.get("sdk_log_path")
    if not path:
        return
    import logging

    import openstack

    with _SDK_LOG_LOCK:
        if path in _SDK_LOG_HANDLERS:
            return
        # Not openstack's own FileHandler: it follows a symlink and creates the file 0644,
        # and at DEBUG the log holds every API response.
        try:
            check_directory(os.path.dirname(os.path.abspath(path)))
            fd = open_private(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        except UnsafeFile as exc:
            raise VigilConnectionError("sdk_log_path: %s" % exc) from None
        except OSError as exc:
            raise VigilConnectionError("sdk_log_path %s: %s" % (path, exc.strerror)) from None
        handler = _SDK_LOG_HANDLERS[path] = logging.StreamHandler(os.fdopen(fd, "a"))
        debug = params.get("sdk_log_level") == "DEBUG"
        openstack.enable_logging(debug=debug, http_debug=debug, handlers=[handler])


def _first_line(exc):
    text = str(exc).strip() or exc.__class__.__name__
    return " ".join(text.splitlines()[0].split())


def _explain(exc, where):
    """One line naming the kind of failure, for any exception raised while connecting."""
    from keystoneauth1 import exceptions as ks

    msg = _first_line(exc)
    # Discovery failures wrap the real cause (refused connection, TLS): look through them.
    chain = [exc]
    while chain[-1].__cause__ is not None or chain[-1].__context__ is not None:
        chain.append(chain[-1].__cause__ or chain[-1].__context__)
        if len(chain) > 10:
            break
    text = " ".join(_first_line(e) for e in chain)
    if any(isinstance(e, ks.SSLError) for e in chain) or "CERTIFICATE_VERIFY_FAILED" in text or "SSLError" in text:
        return "TLS error talking to %s: %s (check ca_cert / validate_certs)" % (where, msg)
    if any(isinstance(e, ks.ConnectTimeout) for e in chain):
        return "endpoint %s timed out: %s" % (where, msg)
    if (
        any(isinstance(e, ks.ConnectFailure) for e in chain)
        or "Connection refused" in text
        or "Failed to establish" in text
    ):
        return "endpoint %s unreachable: %s" % (where, msg)
    if isinstance(exc, ks.SSLError) or "CERTIFICATE_VERIFY_FAILED" in msg or "SSLError" in msg:
        return "TLS error talking to %s: %s (check ca_cert / validate_certs)" % (where, msg)
    if isinstance(exc, (ks.ConnectTimeout,)):
        return "endpoint %s timed out: %s" % (where, msg)
    if isinstance(exc, ks.ConnectFailure):
        return "endpoint %s unreachable: %s" % (where, msg)
    if isinstance(exc, ks.Unauthorized):
        return "authentication failed at %s: %s" % (where, msg)
    if isinstance(exc, ks.Forbidden):
        return "authorization refused at %s: %s" % (where, msg)
    if isinstance(exc, ks.MissingRequiredOptions):
        return "incomplete credentials: %s (give 'cloud', 'auth' or OS_* variables)" % msg
    if isinstance(exc, ks.DiscoveryFailure):
        return "identity endpoint %s did not answer version discovery: %s" % (where, msg)
    if isinstance(exc, ks.HttpError):
        return "identity service %s answered HTTP %s: %s" % (where, getattr(exc, "http_status", "?"), msg)
    return "cannot connect to %s: %s" % (where, msg)


def _endpoint_name(params, auth_url):
    """How errors name the identity endpoint.

    Ansible masks every value of a no_log option wherever it appears in the output, so an
    auth_url given in the module's ``auth`` would read ``********``: name its host instead,
    which is not one of those values.
    """
    if not auth_url:
        return "the identity endpoint"
    given = params.get("auth") if isinstance(params.get("auth"), dict) else {}
    if auth_url in given.values():
        from urllib.parse import urlsplit

        return "the identity endpoint on %s (auth.auth_url)" % (urlsplit(auth_url).netloc or "?")
    return auth_url


def _v3_password(cfg):
    """Whether the generic ``password`` plugin would only discover what the URL says: an
    auth_url ending in /v3 is Identity v3, and v3password skips the discovery request."""
    auth_url = str((cfg.get("auth") or {}).get("auth_url") or "").rstrip("/")
    return cfg.get("auth_type") in (None, "password") and auth_url.endswith("/v3")


def _unparsable_config_files():
    """The clouds.yaml files openstacksdk would read but skipped because they do not parse."""
    import json

    import yaml
    from openstack.config import loader

    out = []
    for path in [os.environ.get("OS_CLIENT_CONFIG_FILE")] + list(loader.CONFIG_FILES):
        if not path or not os.path.isfile(path):
            continue
        try:
            with open(path) as handle:
                (json.load if path.endswith("json") else yaml.safe_load)(handle)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            out.append(
                "%s is not valid %s (%s)" % (path, "JSON" if path.endswith("json") else "YAML", _first_line(exc))
            )
    return out


def no_transport_resend(session, retriable_status_codes=None):
    """Make keystoneauth send every state-changing request at most once.

    Adapters pass the cloud's retry settings to ``Session.request`` with each call; this
    overrides them to 0 for methods outside `RESENDABLE_METHODS`. Token requests
    (``authenticated=False``) keep their retries: a second token harms nothing.

    `retriable_status_codes` fills in for a request that names none: openstacksdk before 4.22
    does not pass the cloud's ``retriable_status_codes`` to its service proxies, whose reads
    would then retry on HTTP 503 only.
    """
    if getattr(session, "_vigil_no_resend", False):
        return session
    send = session.request

    def request(url, method, *args, **kwargs):
        if str(method).upper() not in RESENDABLE_METHODS and kwargs.get("authenticated") is not False:
            kwargs["connect_retries"] = 0
            kwargs["status_code_retries"] = 0
        elif retriable_status_codes and kwargs.get("retriable_status_codes") is None:
            kwargs["retriable_status_codes"] = list(retriable_status_codes)
        return send(url, method, *args, **kwargs)

    session.request = request
    session._vigil_no_resend = True
    return session


def connect(params, authorize=True):
    """An ``openstack.connection.Connection`` for module params, authenticated up front.

    Authenticating here (one token request) turns bad credentials, a dead endpoint or a TLS
    problem into a clear `VigilConnectionError` before any collector runs.
    """
    try:
        import openstack
        import openstack.config
        from openstack.config import exceptions as config_exc
    except ImportError:  # pragma: no cover - requirements.txt installs it
        raise VigilConnectionError("the Python library openstacksdk is required (pip install openstacksdk)") from None

    kwargs = _sdk_kwargs(params)
    _enable_sdk_logging(params)
    cloud_name = kwargs.pop("cloud", None)
    try:
        config = openstack.config.OpenStackConfig(load_yaml_config=True, load_envvars=True)
        if "auth_type" not in kwargs and _v3_password(
            config.get_one(cloud=cloud_name, validate=False, **kwargs).config
        ):
            kwargs["auth_type"] = "v3password"
        region = config.get_one(cloud=cloud_name, **kwargs)
    except config_exc.OpenStackConfigException as exc:
        # openstacksdk skips a clouds.yaml it cannot parse (a log warning only): say so here
        skipped = "".join("; %s" % problem for problem in _unparsable_config_files())
        raise VigilConnectionError("bad cloud configuration: %s%s" % (_first_line(exc).rstrip("."), skipped)) from exc
    except Exception as exc:  # keystoneauth option errors and the like  # noqa: BLE001
        raise VigilConnectionError(_explain(exc, "the cloud")) from exc
    for key, value in RETRY_DEFAULTS.items():
        if region.config.get(key) is None:
            region.config[key] = value
    conn = openstack.connection.Connection(config=region)
    no_transport_resend(conn.session, status_codes(region.config["retriable_status_codes"]))
    if authorize:
        auth_url = _endpoint_name(params, (region.config.get("auth") or {}).get("auth_url"))
        try:
            conn.session.get_token()
        except Exception as exc:  # noqa: BLE001 - every failure becomes one line
            raise VigilConnectionError(_explain(exc, auth_url)) from exc
    return conn


def connect_maas(params):
    """A python-libmaas ``Client`` for maas_url / maas_api_key (or MAAS_URL / MAAS_API_KEY)."""
    url = params.get("maas_url") or os.environ.get("MAAS_URL")
    apikey = params.get("maas_api_key") or os.environ.get("MAAS_API_KEY")
    if not url:
        raise VigilConnectionError("no MAAS URL: set maas_url or MAAS_URL")
    if not apikey:
        raise VigilConnectionError("no MAAS API key: set maas_api_key or MAAS_API_KEY")
    if apikey.count(":") != 2:
        raise VigilConnectionError("malformed MAAS API key: expected consumer:token:secret")
    try:
        from maas.client import connect as maas_connect
    except ImportError:  # pragma: no cover
        raise VigilConnectionError(
            "the Python library python-libmaas is required (pip install python-libmaas)"
        ) from None
    verify = params.get("validate_certs")
    try:
        return maas_connect(url, apikey=apikey, insecure=verify is False)
    except Exception as exc:  # noqa: BLE001 - aiohttp, libmaas and ssl errors alike
        msg = _first_line(exc)
        low = msg.lower()
        if "ssl" in low or "certificate" in low:
            raise VigilConnectionError("TLS error talking to MAAS at %s: %s" % (url, msg)) from exc
        if "401" in msg or "unauthori" in low:
            raise VigilConnectionError("MAAS authentication failed at %s: %s" % (url, msg)) from exc
        if (
            "connect" in low
            or "refused" in low
            or exc.__class__.__name__ in ("ClientConnectorError", "ConnectionRefusedError")
        ):
            raise VigilConnectionError("MAAS endpoint %s unreachable: %s" % (url, msg)) from exc
        raise VigilConnectionError(
            "cannot connect to MAAS at %s: %s (%s)" % (url, msg, exc.__class__.__name__)
        ) from exc
