"""Secrets never leak, files are private, and bandit finds nothing unjustified.

The playbook test runs the whole job (playbooks/optimize.yml: collect with storage, Ironic
and MAAS, plan, report, apply) plus modules given credentials as parameters, all with
``-vvv``, then greps everything printed and every file written for the twin's secrets: both
users' passwords, the MAAS API key (and its secret part), and every Keystone token the twin
issued during the run.
"""

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
