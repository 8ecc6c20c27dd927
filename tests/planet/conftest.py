"""Fixtures of the planet's tests: a local feed server and a small real network with its planet.

`feed_server` is a threaded HTTP server on 127.0.0.1 (a free port) whose routes a test sets:
a body, a status, an ETag / Last-Modified it honours with 304, a delay (timeouts), a redirect,
a body made as it is sent (never held whole: a gzip bomb), or a callable (the comment service's API).
It records every request.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
import textwrap
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from confreres import registry
from tests.confreres.conftest import write_post

PROJECT = Path(__file__).resolve().parents[2]
FEEDS = Path(__file__).resolve().parent / "feeds"
sys.path.insert(0, str(PROJECT / "plugins"))  # the plugin as Pelican loads it: `planet`


def feed_bytes(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/atom+xml; charset=utf-8"
    etag: str = ""
    last_modified: str = ""
    delay: float = 0.0
    location: str = ""
    length: bool = True  # send Content-Length (False: the body ends when the connection closes)
    handler: object = None  # callable(query: dict) -> (status, dict | bytes)
    extra_headers: dict = field(default_factory=dict)
    stream: object = None  # callable() -> iterable of bytes: the body, sent as made, without Content-Length


class FeedServer:
    def __init__(self):
        self.routes: dict[str, Route] = {}
        self.requests: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle(self):
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def do_GET(self):
                parts = urlsplit(self.path)
                with server.lock:
                    server.requests.append((parts.path, dict(self.headers)))
                route = server.routes.get(parts.path)
                if route is None:
                    return self._send(404, b"introuvable", "text/plain")
                if route.delay:
                    time.sleep(route.delay)
                if route.handler is not None:
                    status, payload = route.handler(parse_qs(parts.query))
                    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                    return self._send(status, body, "application/json")
                if route.location:
                    return self._send(route.status or 301, b"", "text/plain", {"Location": route.location})
                if route.etag and self.headers.get("If-None-Match") == route.etag:
                    return self._send(304, b"", None, {"ETag": route.etag})
                if route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified:
                    return self._send(304, b"", None)
                headers = dict(route.extra_headers)
                if route.stream is not None:
                    self._send(route.status, b"", route.content_type, headers, length=False)
                    for chunk in route.stream():
                        self.wfile.write(chunk)
                    return None
                if route.etag:
                    headers["ETag"] = route.etag
                if route.last_modified:
                    headers["Last-Modified"] = route.last_modified
                self._send(route.status, route.body, route.content_type, headers, route.length)

            def _send(self, status, body, content_type, headers=None, length=True):
                self.send_response(status)
                if content_type:
                    self.send_header("Content-Type", content_type)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                if length or status == 304:
                    self.send_header("Content-Length", str(len(body)))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                if status != 304 and body:
                    self.wfile.write(body)

        ThreadingHTTPServer.request_queue_size = 256
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes = b"", **kwargs) -> str:
        self.routes[path] = Route(body=body, **kwargs)
        return self.base.rstrip("/") + path

    def url(self, path: str) -> str:
        return self.base.rstrip("/") + path

    def hits(self, path: str) -> int:
        return sum(1 for p, _ in self.requests if p == path)

    def headers_of(self, path: str) -> list[dict]:
        return [h for p, h in self.requests if p == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def feed_server():
    server = FeedServer()
    yield server
    server.close()


PLANET_CONF = "[planet]\nper_page = 5\nfetch_timeout = 1.0\nfetch_max_bytes = 65536\nservice_timeout = 1.0\n"


def make_planet_network(root: Path, feeds: list[dict], comments_url: str, slugs=("dr-a", "dr-b"), posts=4,
                        base="http://127.0.0.1:8000/") -> registry.Network:
    """A network on disk with two blogs, the planet (sites/planet) and outside `feeds`; not built.

    Blog `slug`'s author is "Dr Slug" (e.g. "Dr Dr-A"), its posts `<slug>-billet-<n>.html`.
    """
    root.mkdir(parents=True, exist_ok=True)
    parts = [textwrap.dedent(f"""\
        [network]
        name = "Réseau d'essai"
        tagline = "Les blogs d'essai"
        url = "{base}"
        comments_url = "{comments_url}"
        output = "public"
        """)]
    specialties = ("Médecine générale", "Psychiatrie")
    for index, slug in enumerate(slugs):
        parts.append(f'[[sites]]\nslug = "{slug}"\ntitle = "Blog {slug}"\nauthor = "Dr {slug.title()}"\n'
                     f'specialty = "{specialties[index % 2]}"\nurl = "{base}{slug}/"\n')
        site = root / "sites" / slug
        (site / "content" / "pages").mkdir(parents=True, exist_ok=True)
        (site / "content" / "pages" / "a-propos.md").write_text("Title: À propos\nSlug: a-propos\n\nPage.\n",
                                                                encoding="utf-8")
        for n in range(posts):
            write_post(site, f"{slug}-billet-{n}", f"Billet {n} de {slug}", date=f"2025-0{1 + n % 9}-1{index} 10:00",
                       body=f"Les gardes de nuit, billet {n} du blog {slug}, sur la permanence des soins.")
    for feed in feeds:
        lines = [f'{key} = "{value}"' for key, value in feed.items()]
        parts.append("[[feeds]]\n" + "\n".join(lines) + "\n")
    (root / "network.toml").write_text("\n".join(parts), encoding="utf-8")
    planet = root / "sites" / "planet"
    (planet / "content" / "pages").mkdir(parents=True, exist_ok=True)
    (planet / "site.toml").write_text(PLANET_CONF, encoding="utf-8")
    shutil.copy(PROJECT / "sites" / "planet" / "content" / "pages" / "a-propos.md", planet / "content" / "pages")
    return registry.load(root / "network.toml")


def comment_api(counts: dict[str, int] | None = None, threads: list[dict] | None = None, server: FeedServer = None,
                sites: list[dict] | None = None):
    """Routes of a fake comment service under /comments/api/ on `server` (`sites`: GET /api/sites's list).

    The real service's answers are tested in tests/comments_service and, end to end with real builds,
    in tests/confreres/test_badges.py.
    """
    if sites is not None:
        server.add("/comments/api/sites", handler=lambda query: (200, {"sites": sites}))

    def counts_handler(query):
        return 200, {url: (counts or {}).get(url, 0) for url in query.get("url", [])}

    server.add("/comments/api/counts", handler=counts_handler)
    if threads is not None:
        server.add("/comments/api/threads/active", handler=lambda query: (200, {"threads": threads}))
    return server.url("/comments/")
