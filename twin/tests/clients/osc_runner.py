"""Run python-openstackclient commands in one process (its start-up is most of a command's cost).

stdin: a JSON list of command lines (``openstack`` omitted); a line ``@sleep <s>`` waits.
stdout: a JSON list of ``{cmd, rc, out, err, seconds}``, one per command line.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import sys
import time

from openstackclient import shell


def main() -> int:
    results = []
    for line in json.load(sys.stdin):
        if line.startswith("@sleep "):
            time.sleep(float(line.split()[1]))
            continue
        out, err = io.StringIO(), io.StringIO()
        started = time.monotonic()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = shell.main(shlex.split(line))
            except SystemExit as exc:  # argparse errors exit
                rc = exc.code
        seconds = round(time.monotonic() - started, 3)
        results.append({"cmd": line, "rc": rc, "out": out.getvalue(), "err": err.getvalue(), "seconds": seconds})
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
