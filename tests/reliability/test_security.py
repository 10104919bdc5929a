"""Secrets never leak, files are private, and bandit finds nothing unjustified.

The playbook test runs the whole job (playbooks/optimize.yml: collect with storage, Ironic
and MAAS, plan, report, apply) plus modules given credentials as parameters, all with
``-vvv``, then greps everything printed and every file written for the twin's secrets: both
users' passwords, the MAAS API key (and its secret part), and every Keystone token the twin
issued during the run.
"""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from ansible_run import run_playbook, tasks_play
from support import ROOT

BANDIT_TARGETS = ["plugins", "twin/src"]


def secrets_of(twin):
    ident = twin.cloud.stores["identity"]
    out = {"password of %s" % u["name"]: u["password"] for u in ident.users.values()}
    out["MAAS API key"] = twin.maas_api_key
    out["MAAS token secret"] = twin.maas_api_key.split(":")[2]
    for n, token in enumerate(list(ident.tokens)):
        out["token %d" % n] = token
    return out


def leaks(text, secrets):
    return sorted(name for name, value in secrets.items() if value and len(value) >= 6 and value in text)


def where(text, secrets):
    """Where each leaked secret shows up (the secret itself replaced by its name)."""
    out = []
    for name in leaks(text, secrets):
        i = text.find(secrets[name])
        out.append(text[max(0, i - 400) : i].replace("\n", " | ") + "<<" + name + ">>")
    return "\n".join(out)


def test_no_secret_in_vvv_output_or_written_files(rtwin, tmp_path, scenario):
    scenario(
        "security",
        "optimize.yml (collect, plan, report, apply) and modules with credentials as parameters, -vvv",
        "no password, MAAS key or token in the output or any file; files 0600, dirs 0700",
    )
    admin = next(u for u in rtwin.cloud.stores["identity"].users.values() if "admin" in u["roles"])
    auth = {
        "auth_url": rtwin.url + "/identity/v3",
        "username": admin["name"],
        "password": admin["password"],
        "project_name": rtwin.cloud.stores["identity"].projects[admin["project_id"]]["name"],
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    out_dir = tmp_path / "out" / "vigil"  # does not exist: the roles create it
    home = tmp_path / "home"
    home.mkdir()
    common = {"ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"), "HOME": str(home)}
    job = run_playbook(
        tmp_path,
        ROOT / "playbooks" / "optimize.yml",
        clouds_yaml=rtwin.clouds_yaml,
        extra_vars={
            "vigil_cloud": "vigil-twin",
            "vigil_apply": True,
            "vigil_collect_storage": True,
            "vigil_collect_baremetal": True,
            "vigil_baremetal_backends": ["ironic", "maas"],
            "vigil_maas_url": rtwin.maas_url,
            "vigil_maas_api_key": rtwin.maas_api_key,
            "vigil_output_dir": str(out_dir),
            "vigil_goal": "server_consolidation",
            "vigil_action_timeout": 120,
        },
        args=["-vvv"],
        env=common,
        timeout=600,
    )
    assert job.rc == 0, job.stdout[-3000:] + job.stderr[-3000:]
    # Secrets come in as variables (as from AWX credentials or vault), not literally in the
    # task: Ansible prints the task's source lines when a task fails.
    modules = run_playbook(
        tmp_path,
        tasks_play(
            {
                "name": "auth as a parameter",
                "vigil.openstack.compute_model_info": {
                    "auth": "{{ os_auth }}",
                    "auth_type": "password",
                    "snapshot_path": str(out_dir / "params.json.gz"),
                },
            },  # fmt: skip
            {"name": "identity", "vigil.openstack.identity_info": {"auth": "{{ os_auth }}", "auth_type": "password"}},
            {
                "name": "baremetal with MAAS key",
                "vigil.openstack.baremetal_model_info": {
                    "cloud": "vigil-twin",
                    "backends": ["maas"],
                    "maas_url": rtwin.maas_url,
                    "maas_api_key": "{{ maas_key }}",
                },  # fmt: skip
            },
            {
                "name": "a failing call must not echo its credentials either",
                "vigil.openstack.compute_model_info": {"auth": "{{ os_auth | combine({'password': wrong}) }}"},
                "ignore_errors": True,
            },
        ),
        clouds_yaml=rtwin.clouds_yaml,
        extra_vars={"os_auth": auth, "maas_key": rtwin.maas_api_key, "wrong": auth["password"] + "-wrong"},
        args=["-vvv"],
        env=common,
    )
    assert modules.rc == 0, modules.stdout[-3000:]
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in modules.stdout  # the parameters were there, masked

    secrets = secrets_of(rtwin)
    secrets["wrong password"] = auth["password"] + "-wrong"
    assert len([k for k in secrets if k.startswith("token")]) >= 2  # tokens were issued and are checked
    for name, text in (("job output", job.stdout + job.stderr), ("module output", modules.stdout + modules.stderr)):
        assert not leaks(text, secrets), "%s leaks %s:\n%s" % (name, leaks(text, secrets), where(text, secrets))

    written = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    names = {p.name.split("-")[0] for p in written}
    assert {"model", "plan", "report", "state", "params.json.gz"} <= names, sorted(p.name for p in written)
    for path in written + list(home.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            data = gzip.decompress(data)
        found = leaks(data.decode("utf-8", "replace"), secrets)
        assert not found, "%s contains %s" % (path, found)
    for path in written:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, "%s is %o" % (path, mode)
    for path in [tmp_path / "out" / "vigil"] + [p for p in out_dir.rglob("*") if p.is_dir()]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode == 0o700, "%s is %o" % (path, mode)


def test_state_file_directory_created_private(rtwin, tmp_path, scenario):
    scenario("security", "plan_apply creates the state file's directory", "directory 0700, state file 0600")
    from support import apply_args, chain_plan, run_module

    state = tmp_path / "new" / "deeper" / "plan.state.json"
    result, out = run_module(tmp_path, "plan_apply", apply_args(chain_plan(rtwin, names=("vm2",)), state), twin=rtwin)
    assert not result.get("failed"), out
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert stat.S_IMODE(state.parent.stat().st_mode) == 0o700
    assert not (tmp_path / "new" / "deeper" / "plan.state.json.lock").stat().st_mode & 0o077


def test_bandit_clean(scenario):
    scenario("security", "bandit on plugins/ and twin/src", "no finding, or each justified by a # nosec comment")
    bandit = Path(sys.executable).parent / "bandit"
    if not bandit.exists() and not shutil.which("bandit"):
        pytest.skip("bandit is not installed (pip install bandit)")
    proc = subprocess.run(
        check=False,
        args=[str(bandit if bandit.exists() else "bandit"), "-q", "-r", *BANDIT_TARGETS, "-f", "txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]


def test_nosec_comments_say_why():
    """A bare ``# nosec`` hides a finding without a reason: each one names the test and why."""
    bare = []
    for target in BANDIT_TARGETS:
        for path in (ROOT / target).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if "# nosec" in line:
                    after = line.split("# nosec", 1)[1]
                    if len(after.strip(" :-")) < 10:
                        bare.append("%s:%d" % (path.relative_to(ROOT), n))
    assert not bare, "nosec without a reason: %s" % bare


def test_module_secret_options_are_no_log():
    """Every option whose name says secret is no_log in the argument specs the modules use."""
    from ansible_collections.vigil.openstack.plugins.module_utils import connection

    specs = dict(connection.openstack_argument_spec())
    specs.update(connection.maas_argument_spec())
    for name, spec in specs.items():
        if any(word in name for word in ("password", "auth", "key", "token", "secret")) and name not in (
            "auth_type",
            "client_key",
        ):
            assert spec.get("no_log") is True, name
    assert os.path.exists(ROOT / "plugins" / "modules" / "metrics_info.py")


# -- files as a careful daemon writes them (issue 15, item 1) -----------------------------------------
def done_state(plan):
    """A state file claiming every action of ``plan`` SUCCEEDED: what an attacker would plant."""
    done = {"state": "SUCCEEDED", "started": "t", "finished": "t", "error": None, "attempts": 1}
    return json.dumps({"plan_id": plan["id"], "actions": {a["id"]: dict(done) for a in plan["actions"]}})


def apply_one(rtwin, tmp_path, **kw):
    from support import apply_args, chain_plan, run_module, server

    plan = chain_plan(rtwin, names=("vm2",))
    args = apply_args(plan, kw.pop("state", tmp_path / "plan.state.json"))
    args.update(kw)
    result, out = run_module(tmp_path, "plan_apply", args, twin=rtwin)
    return result, out, server(rtwin, "vm2")["host"]


@pytest.mark.parametrize("name", ["lock", "progress log", "state file", "journal", "lock (hard link)"])
def test_planted_link_changes_no_other_file(rtwin, tmp_path, scenario, name):
    scenario(
        "security",
        "%s planted as a link to another file (e.g. root's) before plan_apply runs" % name,
        "refused naming the file; the link's target unchanged; nothing sent",
    )
    from support import chain_plan

    victim = tmp_path / "victim"
    # The target is valid state JSON for this plan: followed, it would also mark every action done.
    victim.write_text(done_state(chain_plan(rtwin, names=("vm2",))))
    os.chmod(victim, 0o600)
    before = (victim.read_bytes(), victim.stat().st_mode)
    suffix = {"lock": ".lock", "progress log": ".log", "state file": "", "journal": ".journal"}.get(name, ".lock")
    planted = tmp_path / ("plan.state.json" + suffix)
    if "hard link" in name:
        os.link(victim, planted)
    else:
        planted.symlink_to(victim)
    result, out, host = apply_one(rtwin, tmp_path)
    assert (victim.read_bytes(), victim.stat().st_mode) == before
    if name == "journal":
        # With no snapshot yet the journal is not read: the first save renames a new one over
        # the link. Either way the planted target marks nothing done: the action runs.
        assert not result.get("failed") and host == "cmp4", out
        assert not planted.is_symlink()
        return
    assert result.get("failed"), out
    assert str(planted) in result["msg"] and ("symbolic link" in result["msg"] or "hard links" in result["msg"])
    assert "\n" not in result["msg"]
    assert host == "cmp1"  # nothing ran


def test_plan_id_cannot_escape_state_dir(rtwin, tmp_path, scenario):
    scenario(
        "security", "plan id '../x' with the default state file in state_dir", "refused; no file outside state_dir"
    )
    from support import apply_args, chain_plan, run_module

    plan = chain_plan(rtwin, names=("vm2",))
    plan["id"] = "../x"
    state_dir = tmp_path / "state"
    args = apply_args(plan, None, state_dir=str(state_dir))
    del args["state_file"]
    result, out = run_module(tmp_path, "plan_apply", args, twin=rtwin)
    assert result.get("failed"), out
    assert "'../x'" in result["msg"] and "state_file" in result["msg"]
    assert sorted(p.name for p in tmp_path.rglob("x.json*")) == []


@pytest.mark.parametrize("problem", ["owned by another user", "writable by others"])
def test_untrusted_state_file_is_refused(rtwin, tmp_path, scenario, problem):
    scenario(
        "security",
        "state file %s, claiming every action done" % problem,
        "refused with a message naming the file and the problem; nothing skipped, nothing sent",
    )
    from support import chain_plan

    state = tmp_path / "plan.state.json"
    state.write_text(done_state(chain_plan(rtwin, names=("vm2",))))
    if problem == "owned by another user":
        os.chown(state, 65534, 65534)  # nobody
        os.chmod(state, 0o600)
        expected = "owned by uid 65534"
    else:
        os.chmod(state, 0o666)
        expected = "writable by other users"
    result, out, host = apply_one(rtwin, tmp_path)
    assert result.get("failed"), out
    assert str(state) in result["msg"] and expected in result["msg"], result["msg"]
    assert host == "cmp1"


@pytest.mark.parametrize("mode, refused", [(0o777, True), (0o1777, False)])
def test_world_writable_directory_needs_the_sticky_bit(rtwin, tmp_path, scenario, mode, refused):
    scenario(
        "security",
        "state file in a directory of mode %o" % mode,
        "refused naming the directory" if refused else "allowed, like /tmp",
    )
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, mode)
    result, out, host = apply_one(rtwin, tmp_path, state=shared / "plan.state.json")
    if refused:
        assert result.get("failed") and str(shared) in result["msg"] and "not sticky" in result["msg"], out
        assert host == "cmp1" and list(shared.iterdir()) == []
    else:
        assert not result.get("failed"), out
        assert host == "cmp4"


def test_temporary_file_of_a_killed_run_is_removed(rtwin, tmp_path, scenario):
    scenario("security", "a temporary state file left by a killed run", "removed by the next run")
    leftover = tmp_path / ".plan.state.json.tmp-x1y2z3"  # the name the executor gives it
    leftover.write_text('{"plan_id": "half written')
    result, out, _unused = apply_one(rtwin, tmp_path)
    assert not result.get("failed"), out
    assert not leftover.exists()
    assert [p.name for p in tmp_path.iterdir() if ".tmp-" in p.name] == []


def test_sdk_log_is_private_and_no_symlink_is_followed(rtwin, tmp_path, scenario):
    scenario("security", "sdk_log_path (every API response at DEBUG)", "created 0600; a symlink there is refused")
    from support import run_module

    log = tmp_path / "sdk.log"
    args = {"cloud": "vigil-twin", "sdk_log_path": str(log), "sdk_log_level": "DEBUG"}
    result, out = run_module(tmp_path, "identity_info", args, twin=rtwin)
    assert not result.get("failed"), out
    assert log.stat().st_size > 0 and stat.S_IMODE(log.stat().st_mode) == 0o600
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    (tmp_path / "planted.log").symlink_to(victim)
    result, out = run_module(
        tmp_path, "identity_info", dict(args, sdk_log_path=str(tmp_path / "planted.log")), twin=rtwin
    )
    assert result.get("failed") and "symbolic link" in result["msg"], out
    assert victim.read_text() == "keep\n"
