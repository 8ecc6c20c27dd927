"""A real HTTP server on 127.0.0.1 for tests that fetch or post over the network (Webmention).

    with LoopbackServer() as server:
        server.route("/page.html", body="<html>…</html>", headers={"Link": '<…>; rel="webmention"'})
        server.route("/gone.html", status=410)
        server.url("/page.html")      # http://127.0.0.1:<port>/page.html
        server.requests              # [Request(method, path, query, headers, body, form)]

A route may be a callable `(Request) -> (status, headers, body)`. Unknown paths answer 404.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: str
    headers: dict
    body: bytes
    form: dict = field(default_factory=dict)


class LoopbackServer:
    def __init__(self):
        self.routes: dict[str, object] = {}
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                form = {}
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                request = Request(self.command, parts.path, parts.query, dict(self.headers), body, form)
                server.requests.append(request)
                route = server.routes.get(parts.path)
                if route is None:
                    status, headers, payload = 404, {"Content-Type": "text/plain"}, b"not found"
                elif callable(route):
                    status, headers, payload = route(request)
                else:
                    status, headers, payload = route
                if isinstance(payload, str):
                    payload = payload.encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    for item in value if isinstance(value, list) else [value]:
                        self.send_header(key, item)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_HEAD = _handle

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}{path}"

    def route(self, path: str, body: str | bytes = "", status: int = 200, headers: dict | None = None,
              content_type: str = "text/html; charset=utf-8"):
        self.routes[path] = (status, {"Content-Type": content_type, **(headers or {})}, body)

    def posts(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.method == "POST" and r.path == path]
