"""A stand-in for the Neutron API, just enough for Nova to run servers with networks='none'.

Nova's server views list security groups and ports even for a port-less server; this answers
every collection GET with an empty list. Usage: python fake_neutron.py PORT (binds 127.0.0.1).
"""

import json
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "":
            href = "http://%s/v2.0/" % self.headers.get("Host", "127.0.0.1")
            return self._send(
                200, {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}]}
            )
        m = re.match(r"^/v2\.0/([a-z_-]+)$", path)
        if m:
            return self._send(200, {m.group(1).replace("-", "_"): []})
        return self._send(404, {"NeutronError": {"type": "NotFound", "message": path, "detail": ""}})

    def do_DELETE(self):
        self.send_response(204)
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
