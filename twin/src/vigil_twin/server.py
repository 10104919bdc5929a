"""One threaded HTTP server on 127.0.0.1 serving every service under its own prefix.

Also serves the twin's admin API under /admin (no auth; loopback only):
GET /admin/health, GET|DELETE /admin/requests, GET|PUT|DELETE /admin/faults,
GET /admin/snapshot, POST /admin/restore, GET /admin/violations.
"""

from __future__ import annotations

import json
import selectors
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from vigil_twin.cloud import Cloud
from vigil_twin.faults import Faults
from vigil_twin.http import HTTPError, Request, Response
from vigil_twin.services import Service, load_services

# Error bodies as each family of services shapes them for generic faults.
_FAULT_BODY = {
    "compute": lambda s: {"computeFault": {"code": s, "message": "Service temporarily unavailable"}},
    "placement": lambda s: {
        "errors": [
            {
                "status": s,
                "title": "Service Unavailable",
                "detail": "Injected fault",
                "code": "placement.undefined_code",
            }
        ]
    },
}


# A ``lost_answer`` fault: the call was carried out, then the client hears a load balancer's
# 504 or a connection closed before any answer (status 0 = close without writing).
GATEWAY_TIMEOUT_BODY = "<html><body><h1>504 Gateway Time-out</h1></body></html>"
LOST_CONNECTION = 0


def _fault_body(service: str, status: int) -> Any:
    make = _FAULT_BODY.get(service)
    if make:
        return make(status)
    return {"error": {"code": status, "title": "Service Unavailable", "message": "Injected fault"}}


class Twin:
    """A loaded cloud plus the server that exposes it."""

    def __init__(self, topology: dict[str, Any], host: str = "127.0.0.1", port: int = 0, speed: float = 1.0):
        from vigil_twin.topology import validate_topology

        topology = validate_topology(topology)  # no-op for a topology from load_topology
        self.cloud = Cloud(topology, speed=speed)
        self.cloud.faults = Faults(topology.get("faults"), seed=topology.get("seed"))
        self.services: list[Service] = load_services()
        self.cloud.services = self.services  # identity builds the catalog from it
        self._by_prefix = sorted(self.services, key=lambda s: len(s.prefix), reverse=True)
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(self))
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.cloud.base_url = f"http://{self.host}:{self.port}"
        with self.cloud.lock:
            for service in self.services:
                self.cloud.stores[service.name] = service.load(self.cloud, topology)
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()  # stop() would wait forever for a loop that never ran
        self._stopping = False
        self._stopped = threading.Event()
        self._wake_read, self._wake_write = socket.socketpair()

    @property
    def url(self) -> str:
        return self.cloud.base_url

    def catalog(self) -> list[dict[str, Any]]:
        """Keystone catalog entries for every service that has a service type."""
        return [
            {"type": s.service_type, "name": s.name, "url": f"{self.url}{s.prefix}{s.catalog_path}"}
            for s in self.services
            if s.service_type
        ]

    def serve_forever(self) -> None:
        """Accept connections until `stop`; each is handled on its own thread.

        socketserver's own loop notices a shutdown only at its next poll (0.2 s and more per
        twin stopped); this one waits on the listening socket and a wake-up pipe, so `stop`
        returns in a millisecond.
        """
        self._serving.set()
        with selectors.DefaultSelector() as selector:
            selector.register(self.httpd, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            try:
                while not self._stopping:
                    for key, _ in selector.select():
                        if key.fileobj is self.httpd and not self._stopping:
                            self.httpd._handle_request_noblock()  # accept + hand to a thread
            finally:
                self._stopped.set()

    def start(self) -> Twin:
        self._thread = threading.Thread(target=self.serve_forever, name="twin-http", daemon=True)
        self._serving.set()  # before the thread runs, so an immediate stop() still shuts it down
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._wake_write.fileno() == -1:
            return  # stopped already
        self._stopping = True
        if self._serving.is_set():
            self._wake_write.send(b"x")
            self._stopped.wait()
        self.httpd.server_close()
        self._wake_read.close()
        self._wake_write.close()
        self.cloud.close()

    def __enter__(self) -> Twin:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- snapshot / restore ------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.cloud.lock:
            return {s.name: s.snapshot(self.cloud.stores[s.name]) for s in self.services if s.snapshot is not None}

    def restore(self, data: dict[str, Any]) -> None:
        with self.cloud.lock:
            for s in self.services:
                if s.restore is not None and s.name in data:
                    self.cloud.stores[s.name] = s.restore(self.cloud, self.cloud.stores[s.name], data[s.name])

    def violations(self) -> dict[str, Any]:
        """Allocation-ratio violations: seen after any move (must stay 0) and current ones."""
        with self.cloud.lock:
            compute = self.cloud.stores.get("compute")
            placement = self.cloud.stores.get("placement")
            current = placement.violations() if placement is not None else []
            seen = getattr(compute, "violations_seen", 0)
        return {"count": max(seen, len(current)), "seen": seen, "current": current}

    # -- dispatch ----------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[str, Response]:
        parts = urlsplit(raw_path)
        path = parts.path
        if path == "/admin" or path.startswith("/admin/"):
            request = Request.from_parts(
                method, path[len("/admin") :] or "/", parts.query, headers, body, self.url + "/admin"
            )
            return "admin", self._admin(request)
        service = next((s for s in self._by_prefix if path == s.prefix or path.startswith(s.prefix + "/")), None)
        if service is None:
            return "unknown", Response(404, {"error": {"code": 404, "message": f"No service at {path}"}})
        sub_path = path[len(service.prefix) :] or "/"
        request = Request.from_parts(method, sub_path, parts.query, headers, body, self.url + service.prefix)
        request.cloud = self.cloud
        latency, error = self.cloud.faults.for_request(service.name, request.method)
        if latency:
            time.sleep(latency)
        if error:
            return service.name, Response(error, _fault_body(service.name, error))
        try:
            if service.requires_token and not service.is_public(request):
                self.cloud.stores["identity"].authenticate(request)
            response = service.router.dispatch(request)
        except HTTPError as exc:
            response = Response(exc.status, exc.body, exc.headers)
        except Exception as exc:  # a twin bug must look like a 500, not hang the client  # noqa: BLE001
            traceback.print_exc(file=sys.stderr)
            response = Response(500, {"error": {"code": 500, "message": f"twin internal error: {exc}"}})
        if response.status < 400:
            lost = self.cloud.faults.lost_answer(service.name, request.method, path, body)
            if lost is not None:
                if lost.get("answer", 504) == "drop":
                    return service.name, Response(LOST_CONNECTION)
                return service.name, Response(504, GATEWAY_TIMEOUT_BODY, {"Content-Type": "text/html"})
        return service.name, response

    def _admin(self, request: Request) -> Response:
        p, m = request.path.rstrip("/") or "/", request.method
        if p == "/health":
            return Response(
                200,
                {"status": "ok", "services": [s.name for s in self.services], "violations": self.violations()["count"]},
            )
        if p == "/violations":
            return Response(200, self.violations())
        if p == "/requests":
            if m == "DELETE":
                self.cloud.requests.reset()
                return Response(204)
            summary = self.cloud.requests.summary()
            if request.arg("log") in ("1", "true"):
                summary["log"] = list(self.cloud.requests.log)
            return Response(200, summary)
        if p == "/faults":
            if m == "DELETE":
                self.cloud.faults.clear()
                return Response(204)
            if m in ("PUT", "POST"):
                try:
                    self.cloud.faults.configure(request.json or {})
                except ValueError as exc:
                    return Response(400, {"error": {"code": 400, "message": str(exc)}})
            return Response(200, self.cloud.faults.state())
        if p == "/snapshot" and m == "GET":
            return Response(200, self.snapshot())
        if p == "/restore" and m == "POST":
            self.restore(request.json or {})
            return Response(204)
        return Response(404, {"error": {"code": 404, "message": f"No admin resource {p}"}})


def _make_handler(twin: Twin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without TCP_NODELAY every keep-alive
        # request waits ~40 ms on Nagle + delayed ACK.
        disable_nagle_algorithm = True
        server_version = "vigil-twin"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
            pass

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            service, response = twin.handle(self.command, self.path, dict(self.headers.items()), body)
            url = urlsplit(self.path)
            twin.cloud.requests.record(service, self.command, url.path, response.status, url.query)
            if response.status == LOST_CONNECTION:
                self.close_connection = True
                return
            payload, headers = response.encode()
            if self.command == "HEAD":
                payload = b""
            self.send_response(response.status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    return Handler


def dumps(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True)
