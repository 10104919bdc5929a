"""Connection options: openstack.cloud names, clouds.yaml/OS_* fallback, one-line errors."""

import http.server
import threading

import pytest
import yaml

from ansible_collections.vigil.openstack.plugins.module_utils import connection
from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint

OPTIONS = {"cloud", "auth", "auth_type", "region_name", "interface", "validate_certs", "ca_cert", "client_cert", "client_key",
           "api_timeout", "wait", "timeout", "sdk_log_path", "sdk_log_level"}  # fmt: skip


def test_argument_spec_matches_openstack_cloud():
    spec = connection.openstack_argument_spec()
    assert set(spec) == OPTIONS
    assert spec["auth"]["no_log"] is True
    assert spec["interface"]["default"] == "public" and spec["interface"]["aliases"] == ["endpoint_type"]
    assert spec["validate_certs"]["aliases"] == ["verify"] and "default" not in spec["validate_certs"]
    assert spec["timeout"]["default"] == 180 and spec["wait"]["default"] is True
    maas = connection.maas_argument_spec()
    assert maas["maas_api_key"]["no_log"] is True


def test_module_kwargs_merges_and_refuses_clashes():
    kw = connection.module_kwargs({"snapshot_path": {"type": "path"}}, maas=True)
    assert kw["supports_check_mode"] is True
    assert {"snapshot_path", "cloud", "maas_url"} <= set(kw["argument_spec"])
    with pytest.raises(ValueError, match="clashes"):
        connection.module_kwargs({"cloud": {"type": "str"}})


@pytest.fixture
def clouds(tmp_path, monkeypatch):
    for var in [v for v in __import__("os").environ if v.startswith("OS_")]:
        monkeypatch.delenv(var)
    path = tmp_path / "clouds.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "clouds": {
                    "one": {
                        "auth": {
                            "auth_url": "http://127.0.0.1:9/identity/v3",
                            "username": "u",
                            "password": "p",
                            "project_name": "x",
                            "user_domain_name": "Default",
                            "project_domain_name": "Default",
                        },
                        "region_name": "RegionOne",
                        "status_code_retries": 7,
                    }  # fmt: skip
                }
            }
        )
    )
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    return path


def test_clouds_yaml_and_retry_defaults(clouds):
    conn = connection.connect({"cloud": "one", "interface": "public"}, authorize=False)
    cfg = conn.config.config
    assert cfg["region_name"] == "RegionOne"
    # what vigil's adapters read, on every openstacksdk (the getters of some settings are 4.22+)
    settings = endpoint.retry_settings(conn.config, "compute")
    assert settings["status_code_retries"] == 7  # clouds.yaml wins over vigil's default
    assert settings["connect_retries"] == connection.RETRY_DEFAULTS["connect_retries"]
    assert settings["retriable_status_codes"] == [500, 502, 503, 504]
    assert cfg["auth_type"] == "v3password"  # /v3 auth_url: no discovery request


def test_os_env_vars_are_a_cloud_too(clouds, monkeypatch):
    monkeypatch.setenv("OS_AUTH_URL", "http://127.0.0.1:9/identity/v3")
    monkeypatch.setenv("OS_USERNAME", "envuser")
    monkeypatch.setenv("OS_PASSWORD", "secret")
    monkeypatch.setenv("OS_PROJECT_NAME", "envproject")
    monkeypatch.setenv("OS_USER_DOMAIN_NAME", "Default")
    monkeypatch.setenv("OS_PROJECT_DOMAIN_NAME", "Default")
    conn = connection.connect({}, authorize=False)
    assert conn.config.config["auth"]["username"] == "envuser"


def test_errors_are_one_line(clouds):
    with pytest.raises(connection.VigilConnectionError, match="^bad cloud configuration: .*nope") as exc:
        connection.connect({"cloud": "nope"})
    assert "\n" not in str(exc.value)
    with pytest.raises(connection.VigilConnectionError, match="unreachable") as exc:
        connection.connect({"cloud": "one"})
    assert "\n" not in str(exc.value)
    with pytest.raises(connection.VigilConnectionError, match="together with 'region_name'"):
        connection.connect({"cloud": {"auth": {}}, "region_name": "r"})
    with pytest.raises(connection.VigilConnectionError, match="must be a cloud name"):
        connection.connect({"cloud": 3})


def test_maas_options_and_env(monkeypatch):
    monkeypatch.delenv("MAAS_URL", raising=False)
    monkeypatch.delenv("MAAS_API_KEY", raising=False)
    with pytest.raises(connection.VigilConnectionError, match="no MAAS URL"):
        connection.connect_maas({})
    monkeypatch.setenv("MAAS_URL", "http://127.0.0.1:9/MAAS/")
    with pytest.raises(connection.VigilConnectionError, match="no MAAS API key"):
        connection.connect_maas({})
    with pytest.raises(connection.VigilConnectionError, match="malformed MAAS API key"):
        connection.connect_maas({"maas_api_key": "abc"})
    monkeypatch.setenv("MAAS_API_KEY", "a:b:c")
    with pytest.raises(connection.VigilConnectionError, match="MAAS") as exc:
        connection.connect_maas({})
    assert "\n" not in str(exc.value)


class _FlakyOnce(http.server.BaseHTTPRequestHandler):
    """Answers 500 to the first request of each method, then 200."""

    seen = []

    def _answer(self):
        self.seen.append(self.command)
        status = 500 if self.seen.count(self.command) == 1 else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_server():
    _FlakyOnce.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FlakyOnce)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


@pytest.mark.parametrize("fill_in", [[500, 502, 503, 504], None], ids=["vigil", "keystoneauth-default"])
def test_reads_retry_the_cloud_codes_when_the_caller_names_none(flaky_server, fill_in):
    # openstacksdk < 4.22 proxies pass retriable_status_codes=None: keystoneauth would retry 503 only
    from keystoneauth1 import adapter, session

    sess = connection.no_transport_resend(session.Session(), fill_in)
    ad = adapter.Adapter(sess, endpoint_override=flaky_server, status_code_retries=2, status_code_retry_delay=0.01)
    got = ad.get("/x", raise_exc=False).status_code
    assert (got, _FlakyOnce.seen) == ((200, ["GET", "GET"]) if fill_in else (500, ["GET"]))
    # a state-changing request is still sent once, whatever the codes
    assert ad.post("/x", raise_exc=False).status_code == 500 and _FlakyOnce.seen.count("POST") == 1


def test_status_codes_from_clouds_yaml_text():
    assert connection.status_codes("500, 503") == [500, 503] and connection.status_codes([502]) == [502]
