"""TLS and basic auth against Prometheus' own web config (--web.config.file), through metrics_info."""

import datetime
import ipaddress
import json
import warnings

import pytest
from ansible_run import run_playbook, tasks_play
from promseries import History

END = 1_700_000_000
USER, PASSWORD = "vigil", "s3cret-pw"


def _bcrypt(password):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import crypt
        except ImportError:
            pytest.skip("no crypt module to make a bcrypt hash for Prometheus' basic_auth_users")
    hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    if not hashed or not hashed.startswith("$2"):
        pytest.skip("the system libcrypt cannot make bcrypt hashes")
    return hashed


def _self_signed(tmp):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vigil test prometheus")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


@pytest.fixture(scope="module")
def secured(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    tmp = tmp_path_factory.mktemp("tls")
    cert, key = _self_signed(tmp)
    h = History(END - 1200, END)
    h.host("cmp1.example.com", 33)
    web = {"tls_server_config": {"cert_file": cert, "key_file": key}, "basic_auth_users": {USER: _bcrypt(PASSWORD)}}
    with PrometheusServer(history=h.write(tmp / "h.om"), web_config=web, auth=(USER, PASSWORD)) as server:
        yield server, cert


def _task(name, **args):
    base = dict(hostnames=["cmp1"], metrics=["node.cpu_util_pct"], period=600, evaluation_time=str(END))
    base.update(args)
    return {"name": name, "vigil.openstack.metrics_info": base, "ignore_errors": True}


def test_tls_and_basic_auth(secured, tmp_path):
    server, cert = secured
    assert server.url.startswith("https://")
    run = run_playbook(
        tmp_path,
        tasks_play(
            _task(
                "ok", prometheus_url=server.url, ca_cert=cert, prometheus_username=USER, prometheus_password="{{ pw }}"
            ),
            _task(
                "unverified",
                prometheus_url=server.url,
                validate_certs=False,
                prometheus_username=USER,
                prometheus_password="{{ pw }}",
            ),
            _task("untrusted", prometheus_url=server.url, prometheus_username=USER, prometheus_password="{{ pw }}"),
            _task(
                "bad password",
                prometheus_url=server.url,
                ca_cert=cert,
                prometheus_username=USER,
                prometheus_password="nope",
            ),
            _task("token and user", prometheus_url=server.url, prometheus_username=USER, prometheus_token="tok-9f8e7d"),
            vars={"pw": PASSWORD},
        ),
    )
    for name in ("ok", "unverified"):
        assert run.status(name) == "ok", run.task(name)["msg"]
        assert run.task(name)["metrics"]["data"][0][5] == pytest.approx(33, abs=0.01)
    res = run.task("untrusted")
    assert run.status("untrusted") == "failed" and res["kind"] == "unreachable"
    assert "TLS error" in res["msg"] and "CERTIFICATE_VERIFY_FAILED" in res["msg"]
    res = run.task("bad password")
    assert run.status("bad password") == "failed" and res["kind"] == "auth" and "HTTP 401" in res["msg"]
    assert run.status("token and user") == "failed" and "mutually exclusive" in run.task("token and user")["msg"]
    # no_log: the password never reaches the results or the output
    assert PASSWORD not in json.dumps(run.results) + run.stdout + run.stderr


@pytest.fixture(scope="module")
def basic_auth_only(prometheus_binaries, tmp_path_factory):
    from vigil_prometheus_harness import PrometheusServer

    tmp = tmp_path_factory.mktemp("basic")
    h = History(END - 1200, END)
    h.host("cmp1.example.com", 33)
    web = {"basic_auth_users": {USER: _bcrypt(PASSWORD)}}
    with PrometheusServer(history=h.write(tmp / "h.om"), web_config=web, auth=(USER, PASSWORD)) as server:
        yield server


def _collect_role(url, **credentials):
    play = {
        "name": "collect with Prometheus credentials",
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"pw": PASSWORD, "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "roles": [
            {
                "role": "vigil.openstack.collect",
                "vars": {"vigil_cloud": "vigil-twin", "vigil_prometheus_url": url, "vigil_metrics_period": 600}
                | credentials,
            }
        ],
    }
    return [play]


@pytest.mark.parametrize(
    "credentials, problem",
    [
        ({"vigil_prometheus_username": USER, "vigil_prometheus_password": "{{ pw }}"}, None),
        ({"vigil_prometheus_username": USER, "vigil_prometheus_password": "not-the-password"}, "HTTP 401"),
        ({}, "HTTP 401"),
        ({"vigil_prometheus_username": USER, "vigil_prometheus_token": "tok-9f8e7d"}, "mutually exclusive"),
    ],
    ids=["basic-auth", "bad-password", "no-credentials", "token-and-user"],
)
def test_collect_role_passes_prometheus_credentials(twin, playbook, basic_auth_only, tmp_path, credentials, problem):
    credentials = dict(credentials, vigil_output_dir=str(tmp_path / "out"))
    run = playbook(_collect_role(basic_auth_only.url, **credentials))
    task = "Read metrics from Prometheus"
    if problem is None:
        assert run.rc == 0 and run.status(task) == "ok", run.stdout + run.stderr
    else:
        assert run.rc != 0 and run.status(task) == "failed"
        assert problem in run.task(task)["msg"], run.task(task)["msg"]
    # the role's variables reach the module's no_log options: the password is in no output
    assert PASSWORD not in json.dumps(run.results) + run.stdout + run.stderr
