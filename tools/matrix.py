#!/usr/bin/env python3
"""Run the unit and integration tiers on the oldest and the newest supported versions.

`make matrix` runs this. Each environment is a venv under `.matrix/<name>/` (git-ignored, kept
between runs and rebuilt when the requirement files change) holding requirements-test.txt and
the twin, with ansible-core and openstacksdk pinned:

- oldest: the floors requirements.txt declares (``>=X`` -> ``==X``) on the Python floor the
  plugins' documentation declares (``python >= X.Y``), so the declared floors are the tested ones;
- newest: the newest releases requirements.txt allows (pip's choice with ``--upgrade``).

    python tools/matrix.py              # both environments
    python tools/matrix.py oldest       # one
    python tools/matrix.py --list       # what each would install, nothing run

Exits non-zero when an environment fails; prints one summary line per environment.
"""

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".matrix"
PINNED = ("ansible-core", "openstacksdk")  # the two whose ranges the matrix proves
TIERS = ["tests/unit", "tests/integration"]
INPUTS = ("requirements.txt", "requirements-test.txt", "twin/pyproject.toml")
FRAGMENT = ROOT / "plugins" / "doc_fragments" / "openstack.py"  # where the Python floor is declared


def floors(path=ROOT / "requirements.txt"):
    """{distribution: floor} for the PINNED distributions' ``>=`` bounds in requirements.txt."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#")[0].strip()
        match = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9][^,;\s]*)", line)
        if match and match.group(1).lower() in PINNED:
            found[match.group(1).lower()] = match.group(2)
    missing = set(PINNED) - set(found)
    if missing:
        raise SystemExit("requirements.txt declares no floor for " + ", ".join(sorted(missing)))
    return found


def python_floor(path=FRAGMENT):
    """The ``python >= X.Y`` the plugins' documentation declares, as "X.Y"."""
    match = re.search(r"^\s*- python >= (\d+\.\d+)\s*$", path.read_text(), re.M)
    if not match:
        raise SystemExit("%s declares no python floor" % path.relative_to(ROOT))
    return match.group(1)


def interpreter(version):
    """A Python X.Y interpreter: this one if it is X.Y, else pythonX.Y on PATH."""
    if "%d.%d" % sys.version_info[:2] == version:
        return sys.executable
    found = shutil.which("python" + version)
    if not found:
        raise SystemExit("no python%s on PATH for the oldest environment" % version)
    return found


def environments():
    """{name: (interpreter, pip arguments beyond requirements-test.txt, whether to upgrade)}."""
    return {
        "oldest": (interpreter(python_floor()), ["%s==%s" % item for item in sorted(floors().items())], False),
        "newest": (sys.executable, list(PINNED), True),
    }


def _digest(extra):
    digest = hashlib.sha256(" ".join(extra).encode())
    for name in INPUTS:
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def prepare(name, base, extra, upgrade):
    """The venv of environment `name`, created or refreshed when its inputs changed."""
    venv = CACHE / name
    python = venv / "bin" / "python"
    stamp = venv / ".inputs"
    digest = _digest([base] + extra + (["--upgrade"] if upgrade else []))
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    if not python.exists():
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    pip = [str(python), "-m", "pip", "install", "-q"] + (["--upgrade"] if upgrade else [])
    subprocess.run(pip + ["-r", str(ROOT / "requirements-test.txt"), "-e", str(ROOT / "twin")] + extra, check=True)
    stamp.write_text(digest)
    return python


def versions(python):
    code = "import importlib.metadata as m, platform; print('python=' + platform.python_version(), "
    code += "' '.join('%s=%s' % (d, m.version(d)) for d in {!r}))".format(PINNED + ("pandas", "numpy"))
    return subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def run(name, base, extra, upgrade, workers):
    python = prepare(name, base, extra, upgrade)
    env = dict(os.environ)
    env.pop("VIRTUAL_ENV", None)
    env["PATH"] = "%s:%s" % (python.parent, env.get("PATH", ""))
    start = time.monotonic()
    cmd = [str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", str(workers)] + TIERS
    print("[%s] %s\n[%s] %s" % (name, versions(python), name, " ".join(cmd[1:])), flush=True)
    log = CACHE / (name + ".log")
    with log.open("w") as out:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, check=False, stdout=out, stderr=subprocess.STDOUT, text=True)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    if proc.returncode:  # pytest's short summary (-ra): one line per failure
        print("\n".join(line for line in lines if line.startswith(("FAILED", "ERROR"))))
    summary = "%s: %s (%s) in %.0f s, log %s" % (
        name,
        lines[-1] if lines else "(no output)",
        versions(python),
        time.monotonic() - start,
        log.relative_to(ROOT),
    )
    return proc.returncode, summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="environments to run (default: all)")
    parser.add_argument("--list", action="store_true", help="print each environment's pins and exit")
    parser.add_argument("-n", "--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    args = parser.parse_args(argv)
    envs = environments()
    unknown = set(args.names) - set(envs)
    if unknown:
        parser.error("unknown environment %s (known: %s)" % (", ".join(sorted(unknown)), ", ".join(envs)))
    chosen = args.names or list(envs)
    if args.list:
        for name in chosen:
            base, extra, upgrade = envs[name]
            print("%s: %s %s%s" % (name, base, " ".join(extra), " (--upgrade)" if upgrade else ""))
        return 0
    CACHE.mkdir(exist_ok=True)
    failed, lines = 0, []
    for name in chosen:
        code, line = run(name, *envs[name], workers=args.workers)
        failed += bool(code)
        lines.append(("FAIL " if code else "ok   ") + line)
    print("\n".join(["matrix:"] + lines))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
