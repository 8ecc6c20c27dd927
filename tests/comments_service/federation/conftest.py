"""The federation tests' parts: the comment service really listening on loopback (behind confreres.serve's
dispatcher, as `confreres serve` runs it, so the network host's /.well-known/ routes are real), on a network
whose URLs are that address, and a remote peer instance (tests/fedi_peer.py)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import pytest
from werkzeug.serving import make_server

from comments_service import create_app
from comments_service.core.db import connect
from confreres import registry
from confreres import serve as demo_server
from confreres.site_token import site_token
from tests.conftest import SECRET
from tests.fedi_peer import Peer

NETWORK = """
[network]
name = "Réseau fédéré"
tagline = "Les blogs du réseau"
url = "{origin}/"
comments_url = "{origin}/comments/"

[policies]
moderation = "first-comment"

[[sites]]
slug = "dr-a"
title = "Le carnet du Dr A"
author = "Dr Anne A"
specialty = "Médecine générale"
description = "Notes de consultation"
url = "{origin}/dr-a/"

[[sites]]
slug = "dr-b"
title = "Le blog du Dr B"
author = "Dr Bruno B"
url = "{origin}/dr-b/"
"""


class _Late:
    """A WSGI app set after the server is listening (the network's URLs need its port)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


@dataclass
class Service:
    app: object
    network: registry.Network
    origin: str
    host: str

    def url(self, path: str) -> str:
        return self.origin + path

    def actor_url(self, name: str) -> str:
        return f"{self.origin}/comments/ap/actors/{name}"

    def announce(self, slug: str, posts: list[dict]) -> httpx.Response:
        return httpx.put(f"{self.origin}/comments/api/sites/{slug}/posts", json={"posts": posts},
                         headers={"Authorization": f"Bearer {site_token(SECRET, slug)}"}, timeout=10)

    def sql(self, sql: str, params=()) -> list:
        db = connect(self.app.config["DB"])
        try:
            return db.conn.execute(sql, params).fetchall()
        finally:
            db.close()

    def followers(self, name: str) -> int:
        return httpx.get(self.actor_url(name) + "/followers", headers={"Accept": "application/activity+json"}).json()[
            "totalItems"]


def wait_for(check, timeout: float = 10.0):
    """Poll `check()` until it returns something truthy (deliveries are sent by a background thread)."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


@pytest.fixture
def make_service(tmp_path):
    servers = []

    def build(**config):
        late = _Late()
        httpd = make_server("127.0.0.1", 0, late, threaded=True)
        origin = f"http://127.0.0.1:{httpd.server_port}"
        path = tmp_path / f"network-{httpd.server_port}.toml"
        path.write_text(NETWORK.format(origin=origin), encoding="utf-8")
        settings = {"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(path),
                    "DB": str(tmp_path / f"comments-{httpd.server_port}.sqlite3"), "RATE_LIMIT": "off",
                    "READ_RATE_LIMIT": "off", "OUTGOING_ALLOW_HOSTS": "127.0.0.1", **config}
        app = create_app(settings)
        network = app.extensions["confreres_network"]
        (tmp_path / "public").mkdir(exist_ok=True)
        late.app = demo_server.make_app(network, tmp_path / "public", app)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        servers.append(httpd)
        return Service(app, network, origin, f"127.0.0.1:{httpd.server_port}")

    yield build
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def service(make_service):
    return make_service()


@pytest.fixture
def peer():
    with Peer() as running:
        yield running
