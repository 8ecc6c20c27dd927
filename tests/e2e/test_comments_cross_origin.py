"""The widget when the blogs and the comment service live on different origins (the production layout).

Blogs on http://127.0.0.1:<p1>/, the service alone on http://localhost:<p2>/: every call is a CORS
request without credentials, the tokens travel in headers, and no cookie is ever sent or needed.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import Server, ServiceSlot, build_network, comment_service, free_port, write_live_network

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def two_origins(tmp_path_factory):
    from confreres import serve

    blogs, service = free_port(), free_port()
    root = tmp_path_factory.mktemp("cross")
    network = write_live_network(root, f"http://127.0.0.1:{blogs}/", f"http://localhost:{service}/")
    build_network(network)
    slot = ServiceSlot()
    with Server(serve.make_app(network, network.output), blogs), Server(slot, service):
        yield network, slot


def test_widget_works_across_origins_without_cookies(two_origins, tmp_path, page):
    network, slot = two_origins
    slot.app = comment_service(network, tmp_path / "comments.sqlite3", MODERATION="first-comment")
    site = network.sites[0]
    url = f"{site.url}dr-a-billet-0.html"
    calls = []
    page.on("request", lambda r: calls.append(r) if r.url.startswith(network.comments_url) else None)

    page.goto(url)
    expect(page.locator(".comments-app")).to_be_visible()
    page.locator("#cf-text").fill("Depuis une autre origine.")
    page.get_by_role("button", name="Publier").click()
    expect(page.get_by_role("status")).to_have_text("Votre commentaire est en attente de validation.")
    page.reload()  # the pending comment comes back through X-Confreres-Tokens (a preflighted header)
    expect(page.locator(".comment--pending")).to_contain_text("Depuis une autre origine.")
    page.get_by_role("button", name="Modifier votre commentaire").click()
    page.get_by_role("textbox", name="Modifier votre commentaire").fill("Depuis une autre origine, corrigé.")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.locator(".comment--pending .comment-text")).to_have_text("Depuis une autre origine, corrigé.")

    # Signed in: the session from the link's fragment goes as a bearer token, cross-origin, still no cookie.
    from tests.comments_service.verification_kit import Kit

    member = Kit(slot.app, slot.app.test_client()).member(display_name="Dr Lointaine")
    page.evaluate("() => localStorage.setItem('confreres.signin', JSON.stringify(['etat']))")  # « Se connecter » here
    page.goto("about:blank")
    before = len(calls)
    page.goto(f"{url}?confreres-signin=etat#confreres-session={member.token}")
    expect(page.locator(".comments-account")).to_contain_text("Connecté·e : Dr Lointaine")
    page.locator("#cf-text").fill("Connectée depuis une autre origine.")
    page.get_by_role("button", name="Publier").click()
    expect(page.locator(".comments-live")).to_contain_text("Connectée depuis une autre origine.")
    signed = [r for r in calls[before:] if r.method in ("POST", "GET") and r.url.endswith(("/api/comments", "/api/account"))]
    assert len(signed) == 2 and all(r.headers["authorization"] == f"Bearer {member.token}" for r in signed)

    page.goto(site.url)
    expect(page.locator(f'.comment-count[data-count-url="{url}"]')).to_have_text("Aucun commentaire")

    methods = {r.method for r in calls}
    assert {"GET", "POST", "PATCH"} <= methods, methods
    origin = site.url.rstrip("/").rsplit("/", 1)[0]
    for request in calls:
        headers = request.all_headers()
        assert "cookie" not in headers, request.url
        if request.method != "OPTIONS":
            assert headers.get("origin") == origin, (request.url, headers.get("origin"))
    assert page.context.cookies(network.comments_url) == []
    assert not page.js_errors
    assert page.csp_violations == [], "the blogs' policy lets the widget talk to the service's own origin"
