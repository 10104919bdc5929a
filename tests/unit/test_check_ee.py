"""tools/check_ee.py's own logic: what it reads from a Containerfile, what it calls a duplicate."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("check_ee", ROOT / "tools" / "check_ee.py")
check_ee = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_ee)


def test_containerfile_args_and_runs():
    args, runs = check_ee.parse_containerfile(
        'ARG PYCMD="/usr/bin/python3.11"\nARG PKGMGR_PRESERVE_CACHE=""\nARG X=plain\n'
        "FROM base AS final\nRUN a \\\n  b\nCOPY x y\nRUN c\n"
    )
    assert args == {"PYCMD": "/usr/bin/python3.11", "PKGMGR_PRESERVE_CACHE": "", "X": "plain"}
    assert runs == ["a    b", "c"]


def test_a_requirement_from_the_collection_and_the_ee_file_is_a_duplicate():
    pip = [
        "openstacksdk>=4.0,<5  # from collection vigil.openstack",
        "pandas>=2.2,<4  # from collection vigil.openstack",
        "OpenStackSDK>=4.1  # from collection user",
        "python_libmaas  # from collection user",
        "python-libmaas>=0.6.8  # from collection vigil.openstack",
    ]
    assert check_ee.duplicated(pip, check_ee.pip_name) == [pip[2], pip[4]]
    # the same bindep package for two platforms is not a duplicate; the same line twice is
    bindep = ["gcc [compile platform:rpm]  # from collection a", "gcc [compile platform:dpkg]  # from collection a"]
    assert check_ee.duplicated(bindep + ["gcc [compile platform:rpm]  # from collection user"], check_ee._line) == [
        "gcc [compile platform:rpm]  # from collection user"
    ]
    assert check_ee.duplicated(bindep, check_ee._line) == []
