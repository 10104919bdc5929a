"""Stand-in for get-pip.py: bootstrap pip from the standard library, then install what was asked."""

import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade"])  # own process: ensurepip blanks pip's config
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
