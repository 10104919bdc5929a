"""Prove that execution-environment.yml builds, without a container engine.

1. Build the collection tarball where the EE file expects it (build/ee/vigil-openstack.tar.gz).
2. `ansible-builder create` the build context (build/ee/context/).
3. Replay the Containerfile's install steps, in order, in a throw-away venv (build/ee/venv) with
   the image's paths mapped under build/ee/root: install ansible-core and ansible-runner, galaxy
   install of the collection from the context's requirements.yml, the context's introspect.py
   (which must list no requirement twice), pip install of what it found, check_ansible, and
   every append_final step. Steps that only concern the image (dnf, users, dumb-init) are
   listed as skipped; a step this script does not know fails it, so a new ansible-builder
   cannot add a step that nobody replays.

Needs python3.11 and the package index (pip's cache is reused); no docker, no podman.

    python tools/check_ee.py            # all of it
    python tools/check_ee.py --create   # steps 1-2 only (what `make ee` does before a real build)
"""

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
EE_FILE = ROOT / "execution-environment.yml"
WORK = ROOT / "build" / "ee"
TARBALL = WORK / "vigil-openstack.tar.gz"
CONTEXT = WORK / "context"
IMAGE = WORK / "root"  # stands for the image's / in paths the steps write to
VENV = WORK / "venv"


class ReplayError(Exception):
    pass


def run(cmd, **kw):
    shown = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
    print(f"+ {shown}", flush=True)
    proc = subprocess.run(cmd, check=False, **kw)
    if proc.returncode != 0:
        raise ReplayError(f"exit {proc.returncode}: {shown}")
    return proc


def build_tarball():
    dist = WORK / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    run([str(galaxy), "collection", "build", "--output-path", str(dist)], cwd=ROOT)
    (built,) = dist.glob("vigil-openstack-*.tar.gz")
    # a fixed name, so that execution-environment.yml need not change with every version
    shutil.move(built, TARBALL)


def create_context():
    shutil.rmtree(CONTEXT, ignore_errors=True)
    builder = Path(sys.executable).parent / "ansible-builder"
    proc = run(
        [
            str(builder),
            "create",
            "-f",
            str(EE_FILE),
            "-c",
            str(CONTEXT),
            "--output-filename",
            "Containerfile",
            "-v",
            "2",
        ],
        capture_output=True,
        text=True,
    )
    print(proc.stdout + proc.stderr)
    # a missing additional_build_files source is only a warning to ansible-builder
    if "No matches for" in proc.stdout + proc.stderr or "does not exist" in proc.stdout + proc.stderr:
        raise ReplayError("ansible-builder could not find a file the EE copies into its context")


def parse_containerfile(text):
    """ARG defaults and the RUN commands in order (line continuations joined)."""
    text = re.sub(r"\\\n", " ", text)
    args, runs = {}, []
    for line in text.splitlines():
        if m := re.match(r'^ARG (\w+)="(.*)"$', line):
            args[m[1]] = m[2]
        elif m := re.match(r"^ARG (\w+)=(\S*)$", line):
            args[m[1]] = m[2]
        elif line.startswith("RUN "):
            runs.append(line[4:].strip())
    return args, runs


def replay_env():
    """The image's view: only the replay venv's tools, only the collections installed here."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "PIP_REQUIRE_VIRTUALENV"))}
    for var in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"):
        env.pop(var, None)
    # the development venv must not lend its packages or commands to the replay
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and ".venv" not in p]
    env["PATH"] = os.pathsep.join([str(VENV / "bin"), *path])
    env["ANSIBLE_COLLECTIONS_PATH"] = str(IMAGE / "usr/share/ansible/collections")
    env["ANSIBLE_ROLES_PATH"] = str(IMAGE / "usr/share/ansible/roles")
    env["ANSIBLE_HOME"] = str(WORK / "ansible-home")  # not ~/.ansible and what it may hold
    env["ANSIBLE_LOCAL_TEMP"] = str(WORK / "ansible-home" / "tmp")
    env["ANSIBLE_NOCOLOR"] = "1"
    return env


def duplicated(lines, key):
    seen, dups = set(), []
    for line in lines:
        k = key(line)
        if k in seen:
            dups.append(line)
        seen.add(k)
    return dups


def pip_name(line):
    return re.split(r"[\s<>=!~;\[]", line.split("#")[0].strip(), maxsplit=1)[0].lower().replace("_", "-")


def _line(line):
    """A bindep line without ansible-builder's "# from collection ..." note."""
    return line.split("#")[0].strip()


def requirement_lines(path):
    if not path.exists():
        return []
    return [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


def replay(args, runs, ee):
    env = replay_env()
    python = os.environ.get("PYTHON", "python3.11")
    vpy = str(VENV / "bin" / "python")
    build_dir = CONTEXT / "_build"
    scripts = build_dir / "scripts"
    src, output = IMAGE / "tmp/src", IMAGE / "output"

    def image_path(text):
        for path in ("/usr/share/ansible", "/tmp/src", "/output"):  # noqa: S108 - image paths, mapped
            text = text.replace(path, str(IMAGE) + path)
        return text

    def expand(cmd):
        for name, value in args.items():
            cmd = cmd.replace(f"${name}", value)
        return cmd

    final_steps = [step[4:].strip() for step in ee.get("additional_build_steps", {}).get("append_final", [])]
    skipped, done = [], []
    for raw in runs:
        cmd = raw
        if raw.startswith("$PKGMGR install $PYPKG"):
            skipped.append(f"{raw}  (the system Python: {python} here)")
        elif raw == "/output/scripts/pip_install $PYCMD":
            shutil.rmtree(VENV, ignore_errors=True)
            run([python, "-m", "venv", str(VENV)])  # ensurepip runs in its own process
            done.append(raw)
        elif raw in ("$PYCMD -m pip install --no-cache-dir $ANSIBLE_INSTALL_REFS",):
            # --no-cache-dir dropped: reusing pip's cache keeps the check fast; the result is the same
            run([vpy, "-m", "pip", "install", "-q", *shlex.split(args["ANSIBLE_INSTALL_REFS"])], env=env)
            done.append(raw)
        elif raw == "/output/scripts/check_galaxy" or raw == "/output/scripts/check_ansible $PYCMD":
            run(["bash", str(scripts / raw.split()[0].rsplit("/", 1)[1]), vpy], env=env)
            done.append(raw)
        elif raw == "mkdir -p /usr/share/ansible":
            shutil.rmtree(IMAGE, ignore_errors=True)
            (IMAGE / "usr/share/ansible").mkdir(parents=True)
            done.append(raw)
        elif re.match(r"^(ANSIBLE_GALAXY_DISABLE_GPG_VERIFY=1 )?ansible-galaxy (role|collection) install ", raw):
            # requirements.yml is read from the context's _build/, the image's WORKDIR /build
            run(["sh", "-c", image_path(expand(raw))], cwd=build_dir, env=env)
            done.append(raw)
        elif raw == "$PYCMD -m pip install --no-cache-dir bindep pyyaml packaging":
            # builder-stage tools: introspect.py needs PyYAML and packaging (ansible-core brings both);
            # bindep (checked below) comes with ansible-builder in the development venv
            skipped.append(f"{raw}  (builder stage only)")
        elif raw.startswith("$PYCMD /output/scripts/introspect.py introspect"):
            src.mkdir(parents=True, exist_ok=True)
            argv = shlex.split(image_path(raw))[3:]  # after "$PYCMD <script> introspect"
            # the image introspects /usr/share/ansible/collections, its default folder
            run([vpy, str(scripts / "introspect.py"), "introspect", *argv, str(IMAGE / "usr/share/ansible/collections")],
                cwd=build_dir, env=env)  # fmt: skip
            pip_lines = requirement_lines(src / "requirements.txt")
            bindep_lines = requirement_lines(src / "bindep.txt")
            print("introspected Python requirements:\n  " + "\n  ".join(pip_lines))
            print("introspected system requirements:\n  " + "\n  ".join(bindep_lines))
            dups = duplicated(pip_lines, pip_name) + duplicated(bindep_lines, _line)
            if dups:
                raise ReplayError("requirements listed twice (EE file and collection?): " + "; ".join(dups))
            if not pip_lines:
                raise ReplayError("introspection found no Python requirement: is the collection installed?")
            done.append(raw)
        elif raw == "/output/scripts/assemble":
            # builder stage: bindep decides which system packages to install; an unparsable
            # bindep.txt exits 2 (the assemble script's test). Here the platform is dpkg, so the
            # rpm list itself is not computed.
            bindep = Path(sys.executable).parent / "bindep"
            if (src / "bindep.txt").exists():
                proc = subprocess.run(
                    [str(bindep), "-b", "-f", str(src / "bindep.txt"), "compile"],
                    check=False,
                    capture_output=True,
                    text=True,
                )
                if proc.returncode == 2:
                    raise ReplayError(f"bindep cannot parse the introspected bindep.txt: {proc.stderr}")
            output.mkdir(parents=True, exist_ok=True)
            shutil.copy(src / "requirements.txt", output / "requirements.txt")
            done.append(raw)
        elif raw.startswith("/output/scripts/install-from-bindep"):
            # the final image's pip install of the introspected requirements (system packages skipped)
            run([vpy, "-m", "pip", "install", "-q", "-r", str(output / "requirements.txt")], env=env)
            done.append(raw + "  (pip part)")
        elif raw in final_steps:
            run(["sh", "-c", raw], cwd=WORK, env=env)
            done.append(raw)
        elif raw in (
            "chmod ug+rw /etc/passwd",
            "mkdir -p /runner && chgrp 0 /runner && chmod -R ug+rwx /runner",
            "$PYCMD -m pip install --no-cache-dir 'dumb-init==1.2.5'",
            "rm -rf /output",
        ):
            skipped.append(f"{raw}  (image plumbing)")
        else:
            raise ReplayError(f"unknown Containerfile step, not replayed: RUN {cmd}")
    missing = [s for s in final_steps if s not in done]
    if missing:
        raise ReplayError(f"append_final steps missing from the Containerfile: {missing}")
    print("\nreplayed:\n  " + "\n  ".join(done))
    print("skipped:\n  " + "\n  ".join(skipped))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--create", action="store_true", help="build the tarball and the context only")
    opts = parser.parse_args(argv)
    WORK.mkdir(parents=True, exist_ok=True)
    try:
        build_tarball()
        create_context()
        if not opts.create:
            args, runs = parse_containerfile((CONTEXT / "Containerfile").read_text())
            replay(args, runs, yaml.safe_load(EE_FILE.read_text()))
    except ReplayError as e:
        print(f"check_ee: FAILED: {e}", file=sys.stderr)
        return 1
    print("check_ee: the execution environment's install steps pass" if not opts.create else f"context: {CONTEXT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
