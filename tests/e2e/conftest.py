"""Browser tests: a real network built into tmp_path, served on a free loopback port, driven by Chromium.

Playwright drives Debian's /usr/bin/chromium (no browser download). Tests are skipped with a clear
reason when it is missing; `make test` installs it.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading

import pytest

from tests.confreres.conftest import make_network  # noqa: F401  (shared fixture)
from tests.smtp import free_port

CHROMIUM = os.environ.get("CONFRERES_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


_playwright = None


def shared_playwright():
    """One Playwright driver per test process, stopped at exit.

    The sync API refuses a second driver while one runs, and a test module elsewhere that imports
    `browser` from here gets its own copy of the fixture: both must share the driver (under xdist,
    one worker may run both).
    """
    global _playwright
    if _playwright is None:
        from playwright.sync_api import sync_playwright

        _playwright = sync_playwright().start()
        atexit.register(_playwright.stop)
    return _playwright


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    instance = shared_playwright().chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    yield instance
    instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    # Content-Security-Policy violations of every page the test opens (the event, and Chromium's console report)
    violations: list[str] = []
    page.add_init_script("""document.addEventListener("securitypolicyviolation", (e) =>
        console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));""")
    page.on("console", lambda msg: violations.append(msg.text) if msg.type == "error" and (
        "CSP violation" in msg.text or "Content Security Policy" in msg.text) else None)
    page.csp_violations = violations
    yield page
    context.close()


class Server:
    """A WSGI app served by werkzeug on a background thread."""

    def __init__(self, app, port: int):
        from werkzeug.serving import make_server

        self.httpd = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.thread.join(timeout=5)


# -- the committed demo network, built and seeded once per module (page weight, accessibility) -----

@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """(network, app, folder, base): the demo network built and served on a free port, its threads seeded."""
    folder = tmp_path_factory.mktemp("demo")
    port = free_port()
    from tests.demo_kit import served_demo

    with served_demo(folder, port) as (network, app):
        yield network, app, folder, f"http://127.0.0.1:{port}/"


@pytest.fixture
def served_network(make_network):  # noqa: F811
    """(network, base_url): a built network and its comment service on one loopback port."""
    from confreres import build, serve

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    network = make_network(base=base, comments_url=f"{base}comments/")
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    app = serve.make_app(network, network.output)
    with Server(app, port):
        yield network, base


# -- a built network WITH the comment service (the widget's tests) ------------------------------

LIVE_SECRET = "e2e-secret-key"


def write_live_network(root, base: str, comments_url: str | None = None):
    """Two blogs on disk (not built): three open posts each, plus an "entre confrères" and a closed post on dr-a."""
    from confreres import registry
    from tests.confreres.conftest import write_post

    comments_url = comments_url or f"{base}comments/"
    parts = [
        f'[network]\nname = "Réseau d\'essai"\nurl = "{base}"\ncomments_url = "{comments_url}"\noutput = "public"\n'
        '\n[policies]\nmoderation = "first-comment"\nedit_window_minutes = 15\n'
    ]
    for index, slug in enumerate(("dr-a", "dr-b")):
        parts.append(
            f'[[sites]]\nslug = "{slug}"\ntitle = "Blog {slug}"\nauthor = "Dr {slug.title()}"\n'
            f'specialty = "Médecine générale"\nurl = "{base}{slug}/"\n'
        )
        site = root / "sites" / slug
        (site / "content").mkdir(parents=True, exist_ok=True)
        for n in range(3):
            write_post(site, f"{slug}-billet-{n}", f"Billet {n} de {slug}", date=f"2025-0{1 + n}-1{index} 10:00")
        if slug == "dr-a":
            write_post(site, "entre-nous", "Entre nous", date="2025-04-01 10:00", comments="confreres")
            write_post(site, "ferme", "Billet fermé", date="2025-04-02 10:00", comments="closed")
    (root / "network.toml").write_text("\n".join(parts), encoding="utf-8")
    return registry.load(root / "network.toml")


def build_network(network):
    from confreres import build

    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]


def comment_service(network, db_path, **config):
    """A fresh comment service (create_app on a new SQLite file) that knows every built post.

    Posts are registered as `confreres serve` does (cli.sync_published_posts): each site's built
    posts.json through PUT /api/sites/<slug>/posts with the site's token.
    """
    import json

    from comments_service import create_app
    from confreres.site_token import site_token

    settings = {
        "TESTING": True,
        "SECRET_KEY": LIVE_SECRET,
        "NETWORK": str(network.source or network.root / "network.toml"),
        "DB": str(db_path),
        "RATE_LIMIT": "off",
        "READ_RATE_LIMIT": "off",
        "MODERATION": "none",
        "EDIT_WINDOW": 15,
    }
    settings.update(config)
    app = create_app(settings)
    client = app.test_client()
    for site in network.sites:
        posts = json.loads((network.output / site.slug / "posts.json").read_text(encoding="utf-8"))["posts"]
        response = client.put(
            f"/api/sites/{site.slug}/posts",
            json={"posts": posts},
            headers={"Authorization": f"Bearer {site_token(LIVE_SECRET, site.slug)}"},
        )
        assert response.status_code == 200, response.get_data(as_text=True)
    return app


class ServiceSlot:
    """The WSGI app mounted at the service's path; each test puts its own fresh service in it."""

    app = None

    def __call__(self, environ, start_response):
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"no comment service"]
        return self.app(environ, start_response)


@pytest.fixture(scope="session")
def live_site(tmp_path_factory):
    """(network, slot): the test network built ONCE per session, served with a swappable comment service."""
    from confreres import serve

    root = tmp_path_factory.mktemp("live")
    base = f"http://127.0.0.1:{free_port()}/"
    network = write_live_network(root, base)
    build_network(network)
    slot = ServiceSlot()
    port = int(base.rsplit(":", 1)[1].strip("/"))
    with Server(serve.make_app(network, network.output, slot), port):
        yield network, slot
    slot.app = None


class Live:
    """What a widget test gets: the network, its comment service, URLs and a few operator steps."""

    def __init__(self, network, app):
        self.network = network
        self.app = app
        self.client = app.test_client()
        self.site = network.sites[0]

    def post_url(self, slug: str, site: int = 0) -> str:
        return f"{self.network.sites[site].url}{slug}.html"

    def comment(self, url: str, text: str, **fields) -> dict:
        response = self.client.post("/api/comments", json={"url": url, "text": text, **fields})
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def approve(self, comment_id: int) -> None:
        """The blogger's decision, through the service's own store (it bumps the thread's version)."""
        from comments_service.core.db import connect
        from comments_service.domain import comments as store

        db = connect(self.app.config["DB"])
        try:
            store.set_status(db, comment_id, "approved")
        finally:
            db.close()

    def sql(self, sql: str, params=()):
        import sqlite3

        conn = sqlite3.connect(self.app.config["DB"])
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()


@pytest.fixture
def live_network(live_site, tmp_path):
    """live_network(moderation="none", **config) -> Live: the built network served WITH a fresh comment service."""
    network, slot = live_site

    def start(moderation: str = "none", **config) -> Live:
        app = comment_service(network, tmp_path / "comments.sqlite3", MODERATION=moderation, **config)
        slot.app = app
        return Live(network, app)

    yield start
    slot.app = None
