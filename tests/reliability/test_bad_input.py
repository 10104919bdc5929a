"""Bad input: a clear one-paragraph error that names the problem, and nothing changed in the cloud."""

import contextlib
import copy
import gzip
import json
import ssl
import subprocess
import threading
from http.server import ThreadingHTTPServer

import pytest
import yaml
from invariants import assert_unchanged, capture
from support import apply_args, chain_plan, mixed_plan, run_module, server_id

from ansible_collections.vigil.openstack.plugins.module_utils import plan as planlib
from vigil_twin import server as twin_server


def assert_clear(result, *phrases):
    """Failed, one paragraph, no traceback, and the message names the problem."""
    msg = result.get("msg") or ""
    assert result.get("failed"), result
    assert "Traceback" not in msg and "\n" not in msg.strip(), msg
    assert len(msg) < 800, msg
    low = msg.lower()
    assert any(p.lower() in low for p in phrases), "expected one of %s in: %s" % (phrases, msg)
    return msg


def apply(twin, tmp_path, plan, **kw):
    args = apply_args(plan, tmp_path / "plan.state.json")
    args.update(kw)
    return run_module(tmp_path, "plan_apply", args, twin=twin, env=kw.pop("_env", None))


# -- credentials and transport ----------------------------------------------------------------------
def write(path, text):
    path.write_text(text)
    return str(path)


def clouds_variants(twin, tmp_path):
    good = yaml.safe_load(open(twin.clouds_yaml).read())
    partial = copy.deepcopy(good)
    del partial["clouds"]["vigil-twin"]["auth"]["auth_url"]
    wrong = copy.deepcopy(good)
    wrong["clouds"]["vigil-twin"]["auth"]["password"] = "not-the-password"
    return {
        "malformed": write(tmp_path / "malformed.yaml", "clouds:\n  vigil-twin: [auth: {\n"),
        "partial": write(tmp_path / "partial.yaml", yaml.safe_dump(partial)),
        "wrong_password": write(tmp_path / "wrong.yaml", yaml.safe_dump(wrong)),
    }


CLOUDS_CASES = [
    ("malformed", "clouds.yaml that is not valid YAML", ("malformed.yaml is not valid YAML",)),
    ("partial", "clouds.yaml without auth_url", ("auth_url", "auth url")),
    ("wrong_password", "wrong password", ("authentication", "401", "unauthorized", "password")),
]


@pytest.mark.parametrize("case,title,phrases", CLOUDS_CASES, ids=[c[0] for c in CLOUDS_CASES])
@pytest.mark.parametrize("module", ["plan_apply", "compute_model_info"])
def test_bad_credentials(rtwin, tmp_path, scenario, case, title, phrases, module):
    scenario("bad input", "%s (%s)" % (title, module), "one-line error naming it; nothing sent")
    path = clouds_variants(rtwin, tmp_path)[case]
    base = capture(rtwin)
    args = apply_args(mixed_plan(rtwin), tmp_path / "s.json") if module == "plan_apply" else {"cloud": "vigil-twin"}
    result, out = run_module(tmp_path, module, args, twin=rtwin, env={"OS_CLIENT_CONFIG_FILE": path})
    assert_clear(result, *phrases)
    assert "not-the-password" not in out and "vigil-admin" not in out
    assert_unchanged(rtwin, base)
    assert not (tmp_path / "s.json").exists()


def test_unknown_cloud(rtwin, tmp_path, scenario):
    scenario("bad input", "cloud name not in clouds.yaml", "one-line error naming the cloud; nothing sent")
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, mixed_plan(rtwin), cloud="no-such-cloud")
    assert_clear(result, "no-such-cloud")
    assert_unchanged(rtwin, base)


def test_member_role_for_admin_apis(rtwin, tmp_path, scenario):
    scenario(
        "bad input",
        "member-role credentials for admin APIs (plan_apply)",
        "refused before the run, naming the missing admin role; no state file, nothing sent",
    )
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, mixed_plan(rtwin), cloud="vigil-twin-member")
    assert_clear(result, "admin role")
    assert_unchanged(rtwin, base)
    assert not (tmp_path / "plan.state.json").exists()  # refused before the run, not action by action


def test_member_role_collect(rtwin, tmp_path, scenario):
    scenario(
        "bad input",
        "member-role credentials for admin APIs (compute_model_info)",
        "one-line error naming the missing admin role",
    )
    base = capture(rtwin)
    result, _unused = run_module(tmp_path, "compute_model_info", {"cloud": "vigil-twin-member"}, twin=rtwin)
    assert_clear(result, "403", "forbidden", "admin", "policy")
    assert_unchanged(rtwin, base)


@contextlib.contextmanager
def tls_front(twin, tmp_path):
    """The twin's handler served over TLS with a self-signed certificate (the twin serves plain HTTP)."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)]
        + ["-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), twin_server._make_handler(twin))
    httpd.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield "https://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_tls_self_signed_rejected(rtwin, tmp_path, scenario):
    scenario(
        "bad input", "self-signed TLS certificate, validate_certs default (true)", "one-line TLS error; nothing sent"
    )
    with tls_front(rtwin, tmp_path) as url:
        clouds = yaml.safe_load(open(rtwin.clouds_yaml).read())
        auth = clouds["clouds"]["vigil-twin"]["auth"]
        auth["auth_url"] = url + "/identity/v3"
        path = write(tmp_path / "tls.yaml", yaml.safe_dump(clouds))
        base = capture(rtwin)
        for module, args in (
            ("plan_apply", apply_args(mixed_plan(rtwin), tmp_path / "s.json")),
            ("compute_model_info", {"cloud": "vigil-twin"}),
        ):
            result, _unused = run_module(tmp_path, module, args, twin=rtwin, env={"OS_CLIENT_CONFIG_FILE": path})
            assert_clear(result, "certificate", "tls", "ssl")
        assert_unchanged(rtwin, base)
        # the same front door with verification off works: the failure above was the certificate
        result, out = run_module(
            tmp_path, "compute_model_info", {"cloud": "vigil-twin", "validate_certs": False}, twin=rtwin,
            env={"OS_CLIENT_CONFIG_FILE": path},
        )  # fmt: skip
        assert not result.get("failed"), out


# -- plans ------------------------------------------------------------------------------------------
def edited(plan, fn):
    plan = copy.deepcopy(plan)
    fn(plan)
    return plan


def _unknown_action(p):
    p["actions"][0]["type"] = "evacuate_everything"


def _self_migration(p):
    a = next(a for a in p["actions"] if a["type"] == "migrate")
    a["input"]["destination_node"] = a["input"]["source_node"]


def _cycle(p):
    p["actions"][0]["parents"] = [p["actions"][-1]["id"]]


def _unknown_parent(p):
    p["actions"][1]["parents"] = ["nope"]


def _duplicate_id(p):
    p["actions"][1]["id"] = p["actions"][0]["id"]


def _outside_scope(p):
    p["scope"] = {"compute_nodes": ["cmp1", "cmp2", "cmp3"]}  # cmp4 is not in scope


def _excluded_destination(p):
    p["scope"] = {"exclude": {"compute_nodes": ["cmp4"]}}


def _no_actions_key(p):
    del p["actions"]


def _wrong_schema_version(p):
    p["schema_version"] = 99


PLAN_CASES = [
    ("unknown_action", _unknown_action, ("evacuate_everything",)),
    ("self_migration", _self_migration, ("own source",)),
    ("cycle", _cycle, ("cycle",)),
    ("unknown_parent", _unknown_parent, ("unknown action id",)),
    ("duplicate_id", _duplicate_id, ("duplicate",)),
    ("destination_outside_scope", _outside_scope, ("scope",)),
    ("destination_excluded", _excluded_destination, ("scope", "exclude")),
    ("no_actions", _no_actions_key, ("actions",)),
    ("schema_version", _wrong_schema_version, ("schema_version",)),
]


@pytest.mark.parametrize("case,fn,phrases", PLAN_CASES, ids=[c[0] for c in PLAN_CASES])
def test_hand_edited_plan(rtwin, tmp_path, scenario, case, fn, phrases):
    scenario(
        "bad input", "hand-edited plan: %s" % case.replace("_", " "), "refused before anything runs; no state file"
    )
    plan = edited(chain_plan(rtwin, names=("vm2", "vm6", "vm5")), fn)
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, plan)
    assert_clear(result, *phrases)
    assert_unchanged(rtwin, base)
    assert not (tmp_path / "plan.state.json").exists()


def test_plan_file_garbage(rtwin, tmp_path, scenario):
    scenario("bad input", "plan file truncated / not JSON or YAML", "one-line error naming the file")
    good = json.dumps(chain_plan(rtwin))
    path = tmp_path / "plan.json"
    path.write_text(good[: len(good) // 2])
    base = capture(rtwin)
    result, _unused = run_module(tmp_path, "plan_apply", {"cloud": "vigil-twin", "plan_file": str(path)}, twin=rtwin)
    assert_clear(result, "plan.json", "plan file", "invalid plan")
    assert_unchanged(rtwin, base)


def test_stale_plan_is_skipped(rtwin, tmp_path, scenario):
    scenario(
        "bad input",
        "stale plan: a server moved by someone else since planning",
        "its action SKIPPED as stale (and dependents), nothing sent for it",
    )
    plan = chain_plan(rtwin, names=("vm2", "vm6", "vm5"))
    # someone moves vm6 away meanwhile (the cloud's own change, not vigil's)
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        vm6 = store.servers[server_id(rtwin, "vm6")]
        store.live_migrate(vm6, "cmp5", False, {})
    from support import server, wait_for

    wait_for(lambda: server(rtwin, "vm6")["host"] == "cmp5" and server(rtwin, "vm6")["status"] == "ACTIVE")
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan)
    assert not result.get("failed"), out
    acts = {a["id"]: a for a in result["actions"]}
    assert [acts[k]["state"] for k in ("k0", "k1", "k2")] == ["SUCCEEDED", "SKIPPED", "SKIPPED"]
    assert "moved since the plan was made" in acts["k1"]["error"]
    from invariants import action_calls, assert_invariants

    assert action_calls(rtwin, base, plan["actions"][1]) == 0
    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_stale_plan_stop(rtwin, tmp_path, scenario):
    scenario("bad input", "stale plan with on_stale: stop", "plan stops at the stale action; the rest CANCELLED")
    plan = mixed_plan(rtwin)
    with rtwin.cloud.lock:
        store = rtwin.cloud.stores["compute"]
        store.set_service_status(store.nodes["cmp4"], False, "ops")
    base = capture(rtwin)
    result, out = apply(rtwin, tmp_path, plan, on_stale="stop", concurrency={"total": 1})
    assert result["stopped"] and "stale" in result["stopped"], out
    assert "CANCELLED" in {a["state"] for a in result["actions"]}
    from invariants import assert_invariants

    assert_invariants(rtwin, base, plan=plan, state_file=tmp_path / "plan.state.json")


def test_plan_for_another_model(rtwin, tmp_path, scenario):
    scenario("bad input", "plan computed from another model (model_digest mismatch)", "refused before anything runs")
    plan = dict(chain_plan(rtwin), model_digest="sha256:" + "a" * 64)
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, plan, model_digest="sha256:" + "b" * 64)
    assert_clear(result, "model")
    assert_unchanged(rtwin, base)


def test_state_file_of_another_plan(rtwin, tmp_path, scenario):
    scenario("bad input", "state file of another plan", "refused before anything runs")
    (tmp_path / "plan.state.json").write_text(json.dumps({"plan_id": "other", "actions": {}}))
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, chain_plan(rtwin))
    assert_clear(result, "belongs to plan")
    assert_unchanged(rtwin, base)


# -- truncated snapshot / topology ------------------------------------------------------------------
def test_truncated_model_snapshot(rtwin, tmp_path, scenario):
    scenario(
        "bad input",
        "truncated model snapshot (load_snapshot, twin --topology)",
        "ValueError/TopologyError naming the file",
    )
    from ansible_collections.vigil.openstack.plugins.module_utils.model import frame

    result, out = run_module(tmp_path, "compute_model_info", {"cloud": "vigil-twin"}, twin=rtwin)
    assert not result.get("failed"), out
    model = result["model"]
    path = tmp_path / "model.json.gz"
    frame.save_snapshot(str(path), model)
    data = path.read_bytes()
    cut = tmp_path / "cut.json.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError) as exc:
        frame.load_snapshot(str(cut))
    assert "cut.json.gz" in str(exc.value) and "\n" not in str(exc.value).strip()
    # uncompressed but truncated JSON
    raw = gzip.decompress(data)
    cut.write_bytes(gzip.compress(raw[: len(raw) // 2]))
    with pytest.raises(ValueError) as exc:
        frame.load_snapshot(str(cut))
    assert "cut.json.gz" in str(exc.value)
    from vigil_twin.errors import TopologyError
    from vigil_twin.topology import load_topology

    with pytest.raises(TopologyError) as exc:
        load_topology(str(cut))
    assert "cut.json.gz" in str(exc.value)


def test_truncated_topology(tmp_path, scenario):
    scenario("bad input", "truncated twin topology file", "TopologyError naming the file")
    from vigil_twin.errors import TopologyError
    from vigil_twin.testing import DEMO_TOPOLOGY
    from vigil_twin.topology import load_topology

    text = DEMO_TOPOLOGY.read_text()
    for cut in (len(text) // 3, len(text) // 2, len(text) - 7):
        path = tmp_path / "demo.yaml"
        path.write_text(text[:cut])
        try:
            load_topology(str(path))
        except TopologyError as exc:
            assert "\n" not in str(exc).strip() or "demo.yaml" in str(exc)
        # a cut that still parses is a smaller valid cloud: fine, as long as nothing else escapes


# -- goals, strategies, parameters ------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,phrase",
    [
        ({"goal": "world_domination"}, "world_domination"),
        ({"goal": "server_consolidation", "strategy": "no_such_strategy"}, "no_such_strategy"),
        ({"goal": "server_consolidation", "params": {"no_such_param": 1}}, "no_such_param"),
        ({"goal": "server_consolidation", "scope": {"compute_nodez": ["x"]}}, "compute_nodez"),
    ],
    ids=["goal", "strategy", "param", "scope"],
)
def test_unknown_goal_strategy_param(rtwin, tmp_path, scenario, kwargs, phrase):
    scenario("bad input", "optimize filter: unknown %s" % next(iter(kwargs)) if len(kwargs) == 1 else "optimize filter: unknown " + list(kwargs)[-1],
             "AnsibleFilterError naming it")  # fmt: skip
    from ansible.errors import AnsibleFilterError

    from ansible_collections.vigil.openstack.plugins.filter.optimize import optimize

    result, out = run_module(tmp_path, "compute_model_info", {"cloud": "vigil-twin"}, twin=rtwin)
    assert not result.get("failed"), out
    with pytest.raises(AnsibleFilterError) as exc:
        optimize(result["model"], **kwargs)
    assert phrase in str(exc.value) and "\n" not in str(exc.value).strip()


def test_validate_plan_reports_scope_breaks():
    """Unit view of the scope checks (the plan validator is pure)."""
    plan = planlib.new_plan(
        "g",
        "s",
        scope={"compute_nodes": ["a", "b"]},
        actions=[planlib.migrate_action("m", "srv", "a", "c", "live", "ACTIVE")],
    )
    errors = planlib.validate_plan(plan)
    assert any("scope" in e and "'c'" in e for e in errors), errors


def test_state_file_garbage(rtwin, tmp_path, scenario):
    scenario("bad input", "state file that is not JSON (edited or damaged)", "refused naming the file; nothing sent")
    (tmp_path / "plan.state.json").write_text('{"plan_id": "x", "actions": {')
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, chain_plan(rtwin))
    assert_clear(result, "not valid JSON")
    assert_unchanged(rtwin, base)


def test_state_file_entry_not_a_mapping(rtwin, tmp_path, scenario):
    scenario("bad input", "state file whose action entry is not a mapping", "refused naming the file and the action")
    plan = chain_plan(rtwin)
    (tmp_path / "plan.state.json").write_text(json.dumps({"plan_id": plan["id"], "actions": {"k0": "SUCCEEDED"}}))
    base = capture(rtwin)
    result, _unused = apply(rtwin, tmp_path, plan)
    msg = assert_clear(result, "not a mapping")
    assert "plan.state.json" in msg and "k0" in msg
    assert_unchanged(rtwin, base)
