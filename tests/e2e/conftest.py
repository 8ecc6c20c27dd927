"""Browser tests: a real network built into tmp_path, served on a free loopback port, driven by Chromium.

Playwright drives Debian's /usr/bin/chromium (no browser download). Tests are skipped with a clear
reason when it is missing; `make test` installs it.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest

from tests.confreres.conftest import make_network  # noqa: F401  (shared fixture)

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="fr-FR")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
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


@pytest.fixture
def served_network(make_network):  # noqa: F811
    """(network, base_url): a built network and its comment service on one loopback port."""
    from confreres import build, serve

    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    network = make_network(base=base)
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]
    app = serve.make_app(network, network.output)
    with Server(app, port):
        yield network, base
