"""The committed demo network served as `make demo` serves it, and what Chromium fetches for one of its pages.

Used by the page-weight browser tests (tests/e2e/test_page_weight.py) and by bench/pages.py: a copy of
network.toml and sites/ with every URL of the committed origin written for a free loopback port (in the files:
the build's worker processes may have started before, with another environment, so CONFRERES_DEMO_ORIGIN
would not reach them), built with its comment service listening, the demo threads seeded (confreres.seed),
then built again so that the pages carry their comments without JavaScript.
"""

from __future__ import annotations

import gzip
import logging
import os
import shutil
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as email_policy
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
SECRET = "demo-kit-secret"
COMMITTED = "http://127.0.0.1:8000"


@contextmanager
def served_demo(folder: Path, port: int):
    """Yield (network, app): the demo network built in `folder`, served with its seeded service on `port`."""
    from werkzeug.serving import make_server

    from comments_service import create_app
    from confreres import build, registry, serve
    from confreres.cli import sync_published_posts
    from confreres.seed import seed_demo, seed_verification

    shutil.copy(ROOT / "network.toml", folder / "network.toml")
    shutil.copytree(ROOT / "sites", folder / "sites")
    for path in [folder / "network.toml", *(folder / "sites").rglob("*.md"), *(folder / "sites").rglob("*.toml")]:
        text = path.read_text(encoding="utf-8")
        if COMMITTED in text:
            path.write_text(text.replace(COMMITTED, f"http://127.0.0.1:{port}"), encoding="utf-8")
    saved = os.environ.pop(registry.ENV_ORIGIN, None)  # (a `make demo` in this shell must not move it again)
    try:
        network = registry.load(folder / "network.toml")
        app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK_OBJECT": network,
                          "DB": str(folder / "comments.sqlite3"), "MAIL_DIR": str(folder / "mail"),
                          "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off"})
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        httpd = make_server("127.0.0.1", port, serve.make_app(network, network.output, app), threaded=True)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        try:
            for forced in (False, True):  # the second build with the seeded threads, as `confreres demo` does
                results = build.build(network, force=forced, progress=False)
                assert all(r.ok for r in results), [r.error for r in results]
                if not forced:
                    sync_published_posts(network, app, network.output)
                    seed_demo(network, app)
                    seed_verification(network, app, folder / "demo-directory.txt")
        except BaseException:
            httpd.shutdown()
            raise
    finally:
        if saved is not None:
            os.environ[registry.ENV_ORIGIN] = saved
    try:
        yield network, app
    finally:
        httpd.shutdown()
        thread.join(timeout=5)


def mailed_link(folder, to: str, seen=()) -> str:
    """The sign-in link of the newest sign-in mail to `to` written in the demo's mail folder (sent after the
    commit), other than the files in `seen` (the folder's mails before the link was asked for: a link already used,
    or a notice to the same person, must not be taken for it)."""
    for _ in range(100):
        for path in sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True) if folder.is_dir() else []:
            message = message_from_bytes(path.read_bytes(), policy=email_policy)
            if path not in seen and to in str(message["To"]):
                links = [word for word in message.get_body(("plain",)).get_content().split() if "/auth/verify" in word]
                if links:
                    return links[0]
        time.sleep(0.1)
    raise AssertionError(f"no mail to {to} in {folder}")


@dataclass
class Fetched:
    """One response Chromium received: its URL, resource type ("document", "script", "image"…) and body."""

    url: str
    kind: str
    body: bytes

    @property
    def gzipped(self) -> int:
        """Bytes of the body at gzip -9 (the demo server does not compress; a production web server does)."""
        return len(gzip.compress(self.body, compresslevel=9, mtime=0))


@dataclass
class Weight:
    """What loading one page cost: every request's URL (answered or not) and every response received."""

    requests: list[str] = field(default_factory=list)
    responses: list[Fetched] = field(default_factory=list)

    def third_party(self, origin: str) -> list[str]:
        return [u for u in self.requests if f"{urlsplit(u).scheme}://{urlsplit(u).netloc}" != origin]

    def of(self, *kinds: str, exclude: tuple[str, ...] = ()) -> list[Fetched]:
        return [f for f in self.responses if (not kinds or f.kind in kinds) and f.kind not in exclude]

    def raw(self, *kinds: str, exclude: tuple[str, ...] = ()) -> int:
        return sum(len(f.body) for f in self.of(*kinds, exclude=exclude))

    def gzipped(self, *kinds: str, exclude: tuple[str, ...] = ()) -> int:
        return sum(f.gzipped for f in self.of(*kinds, exclude=exclude))


def weigh(page, url: str, ready: str | None = None) -> Weight:
    """Open `url` in a fresh Playwright `page` (empty cache) and record what it fetched until the network is idle.

    `ready`: a CSS selector to wait for as well (the widget's live thread). API answers (fetch) count as
    transferred bytes too; only a redirect or a 304 has no body.
    """
    from playwright.sync_api import Error

    weight = Weight()
    page.on("request", lambda request: weight.requests.append(request.url))

    def received(response):
        try:
            body = response.body()
        except Error:  # a redirect has no body to give
            body = b""
        weight.responses.append(Fetched(response.url, response.request.resource_type, body))

    page.on("response", received)
    page.goto(url, wait_until="networkidle")
    if ready:
        page.locator(ready).first.wait_for()
        page.wait_for_load_state("networkidle")
    page.remove_listener("response", received)
    return weight
