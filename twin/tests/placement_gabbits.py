"""Placement's own published gabbi tests, run against the twin.

The gabbit YAML files come from the openstack-placement wheel on the package index (pinned
version and sha256 below), downloaded once into a cache directory: nothing of Placement's is
copied into this repository. Each file runs against a fresh, empty twin, reached in-process
through a small WSGI adapter (no port); the fixtures Placement's files name are rebuilt here on
the twin's own store. Placement runs its gabbits with `noauth2`, where the token names the
caller: `admin` is mapped to a twin admin token, any other to a member token.

`python twin/tests/placement_gabbits.py` prints the pass rate per file (docs/twin-fidelity.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
import subprocess
import sys
import unittest
import uuid
import zipfile
from pathlib import Path
from typing import Any

PLACEMENT_VERSION = "16.0.0"  # the version of the real-services tier (docs/twin-fidelity.md)
WHEEL = f"openstack_placement-{PLACEMENT_VERSION}-py3-none-any.whl"
WHEEL_SHA256 = "3286f433f9c2aa365de847539a60ce99cd07fedc1cd782ffa4b2bcdc5eb30b55"
GABBITS_IN_WHEEL = "placement/tests/functional/gabbits/"
CACHE = Path(os.environ.get("VIGIL_CACHE_DIR") or Path.home() / ".cache" / "vigil") / f"placement-{PLACEMENT_VERSION}"

# Files not run, by the fixture they need, with the reason. Every other file runs.
NOT_RUN_FIXTURES = {
    "LegacyRBACPolicyFixture": "policy and scope rules of oslo.policy roles: the twin's Placement is admin-only",
    "SecureRBACPolicyFixture": "policy and scope rules of oslo.policy roles: the twin's Placement is admin-only",
    "OpenPolicyFixture": "policy rules opened to any caller: the twin's Placement is admin-only",
    "CORSFixture": "CORS middleware: the twin serves no CORS headers",
    "SharedStorageFixture": "sharing providers and nested trees in allocation candidates: not served by the twin",
    "NonSharedStorageFixture": "nested providers in allocation candidates: not served by the twin",
    "GranularFixture": "granular request groups and sharing providers: not served by the twin",
    "NUMAAggregateFixture": "nested NUMA providers in allocation candidates: not served by the twin",
    "NUMANetworkFixture": "nested trees, granular groups, same_subtree, root_required: not served by the twin",
    "DeepNUMANetworkFixture": "nested trees and same_subtree: not served by the twin",
    "NeutronQoSMultiSegmentFixture": "granular request groups: not served by the twin",
}

# Files not run for a reason of their own.
NOT_RUN_FILES = {
    "reshaper.yaml": "POST /reshaper (1.30) is not served by the twin: it answers 404, as Placement does for a route it lacks",
}

SHARING = "allocation candidates combining a sharing provider (MISC_SHARES_VIA_AGGREGATE): not served by the twin"
RESHAPER = "POST /reshaper is not served by the twin (404)"
HTML = "the twin's errors are always JSON; Placement answers text/html to a client that does not accept JSON"
# Tests of the files that run which fail on the twin, with the reason. The test suite asserts
# this list exactly: a test that starts passing must leave it.
KNOWN_FAILURES: dict[str, dict[str, str]] = {
    "aggregate.yaml": {
        "put some aggregates - new payload and new microversion": "the twin lists a provider's aggregates sorted, "
        "Placement in the order they were given",
    },
    "allocations-1.28.yaml": {
        "get candidates with shared": SHARING,
        "put that allocation to new consumer": SHARING,
        "put that allocation to existing consumer": SHARING,
    },
    "basic-http.yaml": {
        "bad content length not int": "a non-integer Content-Length: Placement answers 400, the twin's HTTP layer "
        "cannot read such a request",
    },
    "bug-1674694.yaml": {"404 with other accept": HTML},
    "consumer-types-1.38.yaml": {
        "reshaper accepts consumer type": RESHAPER,
        "confirm reshaped allocations": RESHAPER,
        "reshaper requires consumer type": RESHAPER,
        "reshaper refuses consumer type earlier microversion": RESHAPER,
    },
    "microversion.yaml": {"other accept header bad version": HTML},
    "shared-resources.yaml": {"get allocation candidates shared": SHARING},
}


# -- the gabbit files ------------------------------------------------------------------
def _download_wheel(into: Path) -> Path:
    wheel = into / WHEEL
    if not wheel.exists():
        pip = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:"]
        subprocess.run([*pip, "-d", str(into), f"openstack-placement=={PLACEMENT_VERSION}"], check=True)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        wheel.unlink()
        raise RuntimeError(f"{WHEEL}: sha256 {digest}, expected {WHEEL_SHA256}")
    return wheel


def gabbits_dir() -> Path:
    """The gabbit files of the pinned Placement wheel (downloaded and unpacked once, under a lock
    so parallel test workers share one download)."""
    target = CACHE / "gabbits"
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "microversion.yaml").exists():
            with zipfile.ZipFile(_download_wheel(CACHE)) as wheel:
                target.mkdir(exist_ok=True)
                for name in wheel.namelist():
                    if name.startswith(GABBITS_IN_WHEEL) and name.endswith(".yaml"):
                        (target / name[len(GABBITS_IN_WHEEL) :]).write_bytes(wheel.read(name))
    return target


def gabbit_files() -> list[str]:
    return sorted(p.name for p in gabbits_dir().glob("*.yaml"))


def fixtures_of(name: str) -> list[str]:
    import yaml

    return list((yaml.safe_load((gabbits_dir() / name).read_text()) or {}).get("fixtures") or [])


def not_run_reason(name: str) -> str | None:
    reasons = [NOT_RUN_FIXTURES[f] for f in fixtures_of(name) if f in NOT_RUN_FIXTURES]
    if name in NOT_RUN_FILES:
        reasons.append(NOT_RUN_FILES[name])
    return "; ".join(reasons) or None


# -- the twin behind a WSGI adapter ---------------------------------------------------------
class _Current:
    twin: Any = None
    tokens: dict[str, str] = {}


def _token(twin: Any, user: str, project: str) -> str:
    ident = twin.cloud.stores["identity"]
    password = ident.users[ident.user_by_name[user]]["password"]
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"name": "Default"}, "password": password}},
            },
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
        }
    }
    import json

    _, resp = twin.handle(
        "POST", "/identity/v3/auth/tokens", {"Content-Type": "application/json"}, json.dumps(body).encode()
    )
    return resp.headers["X-Subject-Token"]


def _start_twin() -> None:
    from vigil_twin.server import Twin

    _stop_twin()
    twin = Twin({"nodes": [], "servers": []})
    _Current.twin = twin
    _Current.tokens = {"admin": _token(twin, "admin", "admin"), "": _token(twin, "demo", "demo")}


def _stop_twin() -> None:
    if _Current.twin is not None:
        _Current.twin.stop()
        _Current.twin = None


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """WSGI in, `Twin.handle` out, under /placement; the noauth2 token mapped to a twin token."""
    twin = _Current.twin
    headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    caller = headers.get("x-auth-token")
    if caller is not None:
        # noauth2: "admin" or "admin:<project>" is an admin
        headers["x-auth-token"] = _Current.tokens["admin" if caller.split(":")[0] == "admin" else ""]
    length = int(headers.get("content-length") or 0)
    payload = environ["wsgi.input"].read(length) if length else b""
    path = "/placement" + (environ.get("PATH_INFO") or "/")
    if environ.get("QUERY_STRING"):
        path += "?" + environ["QUERY_STRING"]
    _, response = twin.handle(environ["REQUEST_METHOD"], path, headers, payload)
    body, out_headers = response.encode()
    # Placement in these tests is mounted at "/", the twin's at "/placement": links and
    # Location are translated as Placement would write them there (same host as asked)
    body = body.replace(b'"/placement/', b'"/')
    if "Location" in out_headers:
        host = f"{environ['wsgi.url_scheme']}://{environ.get('HTTP_HOST') or environ['SERVER_NAME']}"
        out_headers["Location"] = out_headers["Location"].replace(twin.url + "/placement", host)
    reason = {200: "OK", 201: "Created", 204: "No Content"}.get(response.status, "Status")
    start_response(f"{response.status} {reason}", [(k, str(v)) for k, v in out_headers.items()])
    return [body]


# -- Placement's fixtures, rebuilt on the twin ------------------------------------------------
def _fixture_base():
    from gabbi import fixture

    return fixture.GabbiFixture


class APIFixture(_fixture_base()):
    """A fresh empty twin and the environment variables Placement's APIFixture sets."""

    def start_fixture(self) -> None:
        _start_twin()
        for key in ("RP_UUID", "RP_NAME", "RP_UUID1", "RP_NAME1", "RP_UUID2", "RP_NAME2", "PROJECT_ID",
                    "ADMIN_PROJECT_ID", "SERVICE_PROJECT_ID", "USER_ID", "PROJECT_ID_ALT", "USER_ID_ALT",
                    "INSTANCE_UUID", "MIGRATION_UUID", "CONSUMER_UUID", "PARENT_PROVIDER_UUID",
                    "ALT_PARENT_PROVIDER_UUID"):  # fmt: skip
            os.environ[key] = str(uuid.uuid4())
        for suffix in ("", "1", "2"):
            os.environ[f"CUSTOM_RES_CLASS{suffix}"] = f"CUSTOM_IRON_NFV{suffix}"

    def stop_fixture(self) -> None:
        _stop_twin()


class AllocationFixture(APIFixture):
    """One provider (VCPU 10, DISK_GB 2048 in steps of 10 from 10 to 1000) and three consumers
    of one project, two users: DISK_GB 1000; VCPU 6; VCPU 1 + DISK_GB 20 (the alternate user)."""

    def start_fixture(self) -> None:
        super().start_fixture()
        os.environ["ALT_USER_ID"] = str(uuid.uuid4())
        store = _Current.twin.cloud.stores["placement"]
        rp = os.environ["RP_UUID"]
        inventory = {"reserved": 0, "allocation_ratio": 1.0}
        store.add_provider(
            rp,
            os.environ["RP_NAME"],
            {
                "DISK_GB": dict(inventory, total=2048, min_unit=10, max_unit=1000, step_size=10),
                "VCPU": dict(inventory, total=10, min_unit=1, max_unit=10, step_size=1),
            },
        )
        store.providers[rp]["generation"] = 2  # Placement bumps it once per inventory added
        project, user, alt_user = os.environ["PROJECT_ID"], os.environ["USER_ID"], os.environ["ALT_USER_ID"]
        for env, who, resources in (
            ("CONSUMER_0", user, {"DISK_GB": 1000}),
            ("CONSUMER_ID", user, {"VCPU": 6}),
            ("ALT_CONSUMER_ID", alt_user, {"DISK_GB": 20, "VCPU": 1}),
        ):
            os.environ[env] = str(uuid.uuid4())
            store.put_allocations(os.environ[env], {rp: resources}, project, who)
        os.environ["ALT_RP_UUID"] = str(uuid.uuid4())
        os.environ["ALT_RP_NAME"] = str(uuid.uuid4())


# -- running one file ------------------------------------------------------------------------
class _Collect(unittest.TestResult):
    def __init__(self) -> None:
        super().__init__()
        self.outcomes: dict[str, str] = {}

    def _name(self, test: Any) -> str:
        return getattr(test, "test_data", {}).get("name") or str(test)

    def addSuccess(self, test: Any) -> None:  # noqa: N802 - unittest's API
        self.outcomes[self._name(test)] = "pass"

    def addFailure(self, test: Any, err: Any) -> None:  # noqa: N802
        self.outcomes[self._name(test)] = "fail: " + str(err[1]).strip().splitlines()[0][:300]

    def addError(self, test: Any, err: Any) -> None:  # noqa: N802
        self.outcomes[self._name(test)] = (
            "error: " + str(err[1]).strip().splitlines()[0][:300] if str(err[1]).strip() else "error"
        )

    def addSkip(self, test: Any, reason: str) -> None:  # noqa: N802
        self.outcomes[self._name(test)] = "skip: " + reason  # gabbi skips the rest after a failure with use_prior_test

    def addExpectedFailure(self, test: Any, err: Any) -> None:  # noqa: N802  # gabbi `xfail: true` in the file
        self.outcomes[self._name(test)] = "pass"


def run_file(name: str) -> dict[str, str]:
    """Outcome per test of one gabbit file against a fresh twin: "pass", or "fail: ..."."""
    from gabbi import handlers, suitemaker, utils

    suite_dict = utils.load_yaml(yaml_file=str(gabbits_dir() / name))
    suite = suitemaker.test_suite_from_dict(
        unittest.TestLoader(),
        Path(name).stem,
        suite_dict,
        str(gabbits_dir()),
        str(uuid.uuid4()),
        None,
        sys.modules[__name__],
        lambda: wsgi_app,
        handlers=[h() for h in handlers.RESPONSE_HANDLERS],
        test_loader_name=__name__,
    )
    result = _Collect()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        suite.run(result)
    return result.outcomes


def main() -> None:
    """Pass rate per file, as a Markdown table for docs/twin-fidelity.md."""
    total_run = total_pass = 0
    print("| gabbit file | tests | pass | known failures / not run because |")
    print("|---|---|---|---|")
    for name in gabbit_files():
        reason = not_run_reason(name)
        if reason:
            print(f"| {name} | - | - | {reason} |")
            continue
        outcomes = run_file(name)
        passed = sum(o == "pass" for o in outcomes.values())
        total_run += len(outcomes)
        total_pass += passed
        known = "; ".join(sorted(set(KNOWN_FAILURES.get(name, {}).values())))
        print(f"| {name} | {len(outcomes)} | {passed} | {known} |")
    print(f"\nTotal over the files run: {total_pass} of {total_run} tests pass.")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    main()
