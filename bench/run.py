"""Run every benchmark in bench/ (or the one named) and exit non-zero if a target was missed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOT_BENCHES = {"run.py", "common.py"}


def main(argv: list[str]) -> int:
    names = argv or sorted(
        p.stem for p in HERE.glob("*.py") if p.name not in NOT_BENCHES and not p.name.startswith("_")
    )
    status = 0
    for name in names:
        script = HERE / f"{name}.py"
        if not script.exists():
            print(
                f"bench: no benchmark named {name!r}; have: {', '.join(sorted(p.stem for p in HERE.glob('*.py') if p.name not in NOT_BENCHES))}",
                file=sys.stderr,
            )
            return 2
        print(f"# bench {name}", file=sys.stderr, flush=True)
        rc = subprocess.call([sys.executable, str(script)], cwd=HERE.parent)
        status = status or rc
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
