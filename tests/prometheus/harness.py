"""A real Prometheus for tests and benchmarks: find (or install) it, backfill it, run it, stop it.

Importable (``PrometheusServer``, ``find_binaries``, ``backfill``...) and a CLI::

    python tests/prometheus/harness.py check                 # where are prometheus/promtool, which version
    python tests/prometheus/harness.py install               # install Debian's package (tools/system-deps.sh)
    python tests/prometheus/harness.py serve --history h.om  # backfill + serve until Ctrl-C, prints {url, pid}
    python tests/prometheus/harness.py serve --scrape http://127.0.0.1:8080/metrics

Each server gets its own temporary data directory and config, listens on 127.0.0.1 on a free
port, and is stopped by its pid (terminate, then kill) when the context manager exits.

Binaries are looked up as $PROMETHEUS_BIN / $PROMTOOL_BIN, then on $PATH (Debian's
``prometheus`` package puts both in /usr/bin). When missing, ``ensure_binaries(install=True)``
runs tools/system-deps.sh (apt-get, needs root or sudo) once; if that cannot install them
`PrometheusUnavailable` says why, and the pytest fixtures skip with that message.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SYSTEM_DEPS = REPO / "tools" / "system-deps.sh"
READY_TIMEOUT = 60.0


class PrometheusUnavailable(RuntimeError):
    """prometheus/promtool are not installed and could not be installed."""


class PrometheusError(RuntimeError):
    """Prometheus or promtool failed (bad history file, did not become ready...)."""


def find_binaries() -> tuple[str, str] | None:
    """(prometheus, promtool) paths, or None when either is missing."""
    prom = os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus")
    tool = os.environ.get("PROMTOOL_BIN") or shutil.which("promtool")
    if prom and tool and os.access(prom, os.X_OK) and os.access(tool, os.X_OK):
        return prom, tool
    return None


_install_tried: dict[str, str] = {}


def ensure_binaries(install: bool = True) -> tuple[str, str]:
    """Find prometheus and promtool; install Debian's package once if asked and missing."""
    found = find_binaries()
    if found:
        return found
    if not install:
        raise PrometheusUnavailable(
            "prometheus/promtool not found on PATH (set PROMETHEUS_BIN/PROMTOOL_BIN or run `make system-deps`)"
        )
    if "output" not in _install_tried:  # one apt-get attempt per process
        if not SYSTEM_DEPS.exists():
            _install_tried["output"] = f"{SYSTEM_DEPS} is missing"
        else:
            proc = subprocess.run(["bash", str(SYSTEM_DEPS)], capture_output=True, text=True, check=False)  # noqa: S603, S607
            _install_tried["output"] = (proc.stdout + proc.stderr).strip()
    found = find_binaries()
    if found:
        return found
    raise PrometheusUnavailable(
        "Debian's prometheus package is not installed and could not be installed "
        "(needs root or sudo and apt access): %s" % (_install_tried["output"] or "no output")
    )


def version(prometheus: str) -> str:
    out = subprocess.run([prometheus, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (out.stdout or out.stderr).splitlines()
    return first[0] if first else "unknown"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def backfill(history: str | os.PathLike, data_dir: str | os.PathLike, promtool: str | None = None) -> str:
    """Turn an OpenMetrics file into TSDB blocks in data_dir (``promtool tsdb create-blocks-from openmetrics``)."""
    promtool = promtool or ensure_binaries()[1]
    history = Path(history)
    if not history.is_file():
        raise PrometheusError(f"history file {history} does not exist")
    proc = subprocess.run(  # noqa: S603
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(history), str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise PrometheusError(f"promtool could not backfill {history}: {(proc.stderr or proc.stdout).strip()[-2000:]}")
    return proc.stdout


def _scrape_job(index: int, url: str, interval: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise PrometheusError(f"scrape target {url!r} is not an http(s) URL")
    # honor_labels: the exposition's own labels (fqdn, resource...) win over target labels
    return (
        f"  - job_name: target{index}\n"
        f"    honor_labels: true\n"
        f"    scheme: {parsed.scheme}\n"
        f"    metrics_path: {json.dumps(parsed.path or '/metrics')}\n"
        f"    scrape_interval: {interval}\n"
        f"    scrape_timeout: {interval}\n"
        f"    static_configs:\n"
        f"      - targets: [{json.dumps(parsed.netloc)}]\n"
    )


class PrometheusServer:
    """A Prometheus process on 127.0.0.1:<free port> with its own data dir; a context manager.

    history: OpenMetrics file(s) backfilled before start. scrape: URLs of /metrics expositions
    scraped every scrape_interval. retention is long so that backfilled samples with old
    timestamps are not deleted at start-up. web_config (Prometheus' --web.config.file as a
    dict) turns on TLS and/or basic auth; give auth=(user, password) for the harness's own calls.
    extra_config is top-level YAML appended to prometheus.yml (rule_files, alerting).
    """

    def __init__(
        self,
        history: str | os.PathLike | list | None = None,
        scrape: str | list | None = None,
        scrape_interval: str = "1s",
        retention: str = "100y",
        install: bool = True,
        extra_args: list | None = None,
        ready_timeout: float = READY_TIMEOUT,
        web_config: dict | None = None,
        auth: tuple | None = None,
        extra_config: str = "",
        evaluation_interval: str = "15s",
    ) -> None:
        self.history = [history] if isinstance(history, (str, os.PathLike)) else list(history or [])
        self.scrape = [scrape] if isinstance(scrape, str) else list(scrape or [])
        self.scrape_interval = scrape_interval
        self.retention = retention
        self.install = install
        self.extra_args = list(extra_args or [])
        self.ready_timeout = ready_timeout
        self.web_config = web_config  # --web.config.file: tls_server_config, basic_auth_users
        self.auth = auth  # (user, password) the harness itself uses with basic_auth_users
        self.scheme = "https" if (web_config or {}).get("tls_server_config") else "http"
        self.extra_config = extra_config  # top-level YAML appended (rule_files, alerting)
        self.evaluation_interval = evaluation_interval
        self.proc: subprocess.Popen | None = None
        self.workdir: str | None = None
        self.port: int | None = None
        self.url: str | None = None
        self.log_path: str | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> PrometheusServer:
        prometheus, promtool = ensure_binaries(self.install)
        self.workdir = tempfile.mkdtemp(prefix="vigil-prometheus-")
        data_dir = os.path.join(self.workdir, "data")
        os.makedirs(data_dir)
        try:
            for path in self.history:
                backfill(path, data_dir, promtool)
            config = os.path.join(self.workdir, "prometheus.yml")
            jobs = "".join(_scrape_job(i, url, self.scrape_interval) for i, url in enumerate(self.scrape))
            with open(config, "w") as fh:
                fh.write(f"global:\n  scrape_interval: {self.scrape_interval}\n")
                fh.write(f"  evaluation_interval: {self.evaluation_interval}\n")
                fh.write("scrape_configs:\n" + jobs if jobs else "scrape_configs: []\n")
                fh.write(self.extra_config)
            web_args = []
            if self.web_config:
                web = os.path.join(self.workdir, "web.yml")
                with open(web, "w") as fh:
                    json.dump(self.web_config, fh)  # JSON is YAML
                web_args = [f"--web.config.file={web}"]
            self.log_path = os.path.join(self.workdir, "prometheus.log")
            last_error = None
            for _attempt in range(3):  # a free port can be taken between probe and bind: retry
                self.port = free_port()
                self.url = f"{self.scheme}://127.0.0.1:{self.port}"
                args = [
                    prometheus,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={data_dir}",
                    f"--storage.tsdb.retention.time={self.retention}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--log.level=warn",
                    *web_args,
                    *self.extra_args,
                ]
                with open(self.log_path, "ab") as log:
                    self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603
                try:
                    self._wait_ready()
                    return self
                except PrometheusError as exc:
                    last_error = exc
                    self._terminate()
                    if "address already in use" not in self.log_tail():
                        break
            raise last_error or PrometheusError("prometheus did not start")
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PrometheusError(f"prometheus exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with self._open(self.url + "/-/ready", timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise PrometheusError(f"prometheus not ready after {self.ready_timeout:.0f}s: {self.log_tail()}")

    def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)  # by pid: only the process this object started
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)

    def stop(self) -> None:
        self._terminate()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def log_tail(self, chars: int = 2000) -> str:
        try:
            with open(self.log_path, errors="replace") as fh:
                return fh.read()[-chars:]
        except (OSError, TypeError):
            return ""

    # -- helpers for tests -----------------------------------------------------------------
    def _open(self, url: str, timeout: float):
        """GET with the harness's own credentials; TLS unverified (it is our own server)."""
        request = urllib.request.Request(url)
        if self.auth:
            token = base64.b64encode(("%s:%s" % self.auth).encode()).decode()
            request.add_header("Authorization", "Basic " + token)
        context = None
        if self.scheme == "https":
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return urllib.request.urlopen(request, timeout=timeout, context=context)  # noqa: S310

    def api(self, path: str, **params) -> dict:
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params)
        with self._open(url, timeout=30) as resp:
            return json.load(resp)

    def query(self, promql: str, at: float | None = None) -> list:
        params = {"query": promql}
        if at is not None:
            params["time"] = repr(float(at))
        return self.api("query", **params)["data"]["result"]

    def wait_for(self, promql: str, timeout: float = 30.0, min_results: int = 1) -> list:
        """Poll an instant query until it returns at least min_results series (scrape warm-up)."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if len(result) >= min_results:
                return result
            if time.monotonic() > deadline:
                raise PrometheusError(
                    f"{promql!r} returned {len(result)} series after {timeout:.0f}s (wanted {min_results})"
                )
            time.sleep(0.25)


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt()


def _main(argv: list | None = None) -> int:
    parser = argparse.ArgumentParser(prog="harness.py", description="A real Prometheus for vigil's tests.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("check", help="print the prometheus/promtool paths and version (exit 1 when missing)")
    sub.add_parser("install", help="install Debian's prometheus package when missing")
    serve = sub.add_parser("serve", help="backfill and/or scrape, serve until interrupted")
    serve.add_argument("--history", action="append", default=[], help="OpenMetrics file to backfill (repeatable)")
    serve.add_argument("--scrape", action="append", default=[], help="URL of a /metrics exposition (repeatable)")
    serve.add_argument("--scrape-interval", default="1s")
    serve.add_argument("--info-file", help="write {url, pid} as JSON once ready")
    args = parser.parse_args(argv)

    if args.command in ("check", "install"):
        try:
            prom, tool = ensure_binaries(install=args.command == "install")
        except PrometheusUnavailable as exc:
            print(f"harness: {exc}", file=sys.stderr)
            return 1
        print(json.dumps({"prometheus": prom, "promtool": tool, "version": version(prom)}))
        return 0

    try:
        server = PrometheusServer(
            history=args.history, scrape=args.scrape, scrape_interval=args.scrape_interval
        ).start()
    except (PrometheusUnavailable, PrometheusError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 1
    info = {"url": server.url, "pid": server.pid, "data": server.workdir}
    if args.info_file:
        with open(args.info_file + ".tmp", "w") as fh:
            json.dump(info, fh)
        os.replace(args.info_file + ".tmp", args.info_file)
    print(json.dumps(info), flush=True)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        while server.proc and server.proc.poll() is None:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(_main())
