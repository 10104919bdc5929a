"""Strategy tests share the referees and model builders of tests/unit (oracle, modelgen, ...)."""

import pathlib
import sys

UNIT = str(pathlib.Path(__file__).resolve().parents[1])
if UNIT not in sys.path:
    sys.path.insert(0, UNIT)
