"""Received Webmentions in the moderation page and API: the blog's moderators approve or reject them there.

The mentions are real: a page served on loopback links to the post, is sent as a Webmention and verified
by the service's own worker; the moderators use the page's forms (CSRF) or the JSON API.
"""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from comments_service.actions import mentions as mention_actions
from comments_service.core.db import connect
from comments_service.domain import accounts
from comments_service.domain.mentions import get_mention
from tests.comments_service.web.test_webmention import h_entry
from tests.loopback import LoopbackServer


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def app(make_app, server):
    return make_app(WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False, MODERATION="all")


def receive(app, server, path: str, target: str, text: str) -> int:
    """An outside page at `path` mentions `target`: sent, verified; returns the pending mention's id."""
    server.route(path, h_entry(target, text))
    response = app.test_client().post("/webmention", data={"source": server.url(path), "target": target})
    assert response.status_code == 202, response.get_data(as_text=True)
    (result,) = mention_actions.drain(app)
    assert result["status"] == "pending", result
    return result["mention"]


def browser(app, email: str, **account):
    """A browser signed in (cookie session) as a new account."""
    db = connect(app.config["DB"])
    try:
        row, _ = accounts.ensure_account(db, email, **account)
        token, _ = accounts.create_session(db, row["id"], "cookie", 30)
    finally:
        db.close()
    client = app.test_client()
    client.set_cookie("confreres_session", token)
    return client


@pytest.fixture
def mentions(app, server, urls):
    return {
        "a": receive(app, server, "/sur-a.html", urls.POST_A, "Je cite le blog A."),
        "b": receive(app, server, "/sur-b.html", urls.POST_B, "Je cite le blog B."),
    }


def form_of(page, mention_id: int) -> tuple[str, dict]:
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    form = soup.find("li", id=f"m-{mention_id}").find("form")
    return form["action"], {i["name"]: i["value"] for i in form.find_all("input", type="hidden")}


def test_the_blog_author_approves_a_mention_from_the_page_and_it_shows_in_the_thread(app, mentions, urls, server):
    anne = browser(app, "anne@dr-a.test", role="author", sites=("dr-a",))
    before = app.test_client().get("/api/comments", query_string={"url": urls.POST_A})
    assert before.get_json()["mentions"] == []

    page = anne.get("/moderation")
    text = page.get_data(as_text=True)
    assert "1 mention reçue à traiter" in text and "Je cite le blog A." in text and "Dr Externe" in text
    assert "Je cite le blog B." not in text, "only the mentions of one's own blogs"
    assert "<script" not in BeautifulSoup(text, "html.parser").find("li", id=f"m-{mentions['a']}").decode()

    action, hidden = form_of(page, mentions["a"])
    assert action == f"/moderation/mentions/{mentions['a']}"
    done = anne.post(action, data={**hidden, "action": "approve"})
    assert done.status_code == 303 and done.headers["Location"].endswith("/moderation?fait=mention-approve")
    after = anne.get(done.headers["Location"]).get_data(as_text=True)
    assert "Mention approuvée" in after and "0 mention reçue à traiter" in after

    thread = app.test_client().get(
        "/api/comments", query_string={"url": urls.POST_A}, headers={"If-None-Match": before.headers["ETag"]}
    )
    assert thread.status_code == 200, "the cached thread changed"
    (shown,) = thread.get_json()["mentions"]
    assert shown["id"] == mentions["a"] and shown["source"] == server.url("/sur-a.html")
    no_js = app.test_client().get("/thread", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert "Je cite le blog A." in no_js


def test_reject_and_spam_keep_it_out(app, mentions, urls):
    mod = browser(app, "mod@confreres.test", role="moderator")
    page = mod.get("/moderation")
    assert "2 mentions reçues à traiter" in page.get_data(as_text=True), "a network moderator sees every blog"
    for key, decision, status in (("a", "reject", "rejected"), ("b", "spam", "spam")):
        action, hidden = form_of(mod.get("/moderation"), mentions[key])
        assert mod.post(action, data={**hidden, "action": decision}).status_code == 303
        db = connect(app.config["DB"])
        try:
            assert get_mention(db, mentions[key])["status"] == status
        finally:
            db.close()
    for url in (urls.POST_A, urls.POST_B):
        assert app.test_client().get("/api/comments", query_string={"url": url}).get_json()["mentions"] == []


def test_the_form_needs_its_csrf_token_and_the_right_blog(app, mentions, urls):
    anne = browser(app, "anne@dr-a.test", role="author", sites=("dr-a",))
    action, hidden = form_of(anne.get("/moderation"), mentions["a"])
    refused = anne.post(action, data={"action": "approve", "csrf": "faux"})
    assert refused.status_code == 403 and "Le formulaire a expiré" in refused.get_data(as_text=True)
    other = anne.post(f"/moderation/mentions/{mentions['b']}", data={**hidden, "action": "approve"})
    assert other.status_code == 403 and "Vous ne modérez pas le blog de cette mention" in other.get_data(as_text=True)
    unknown = anne.post("/moderation/mentions/999", data={**hidden, "action": "approve"})
    assert unknown.status_code == 404
    bad = anne.post(action, data={**hidden, "action": "publier"})
    assert bad.status_code == 400 and "Action inconnue" in bad.get_data(as_text=True)
    db = connect(app.config["DB"])
    try:
        assert {get_mention(db, m)["status"] for m in mentions.values()} == {"pending"}
    finally:
        db.close()
    signed_out = app.test_client().post(action, data={"action": "approve"})
    assert signed_out.status_code == 401 and "Votre session a expiré" in signed_out.get_data(as_text=True), (
        "the sign-in page (web/auth.signed_in_page), not a redirect that loses the form"
    )


def test_the_json_api_lists_and_decides(app, mentions, urls, api_error):
    anne = browser(app, "anne@dr-a.test", role="author", sites=("dr-a",))
    queue = anne.get("/api/moderation/queue").get_json()
    (item,) = queue["mentions"]
    assert item["id"] == mentions["a"] and item["status"] == "pending" and item["kind"] == "mention"
    assert item["post"] == {"url": urls.POST_A, "title": "Premier billet", "site": "dr-a"}
    assert item["author"]["name"] == "Dr Externe"

    api_error(anne.post(f"/api/moderation/mentions/{mentions['a']}", json={}), 400, "missing_field", "action")
    api_error(anne.post(f"/api/moderation/mentions/{mentions['a']}", json={"action": "x"}), 400, "invalid_choice")
    api_error(anne.post(f"/api/moderation/mentions/{mentions['b']}", json={"action": "approve"}), 403, "not_moderator")
    api_error(anne.post("/api/moderation/mentions/999", json={"action": "approve"}), 404, "unknown_mention")
    api_error(app.test_client().post(f"/api/moderation/mentions/{mentions['a']}", json={"action": "approve"}), 401)
    done = anne.post(f"/api/moderation/mentions/{mentions['a']}", json={"action": "approve"})
    assert done.get_json() == {"id": mentions["a"], "action": "approve", "status": "approved"}
    assert len(app.test_client().get("/api/comments", query_string={"url": urls.POST_A}).get_json()["mentions"]) == 1
    deleted = anne.post(f"/api/moderation/mentions/{mentions['a']}", json={"action": "delete"})
    assert deleted.get_json()["status"] == "deleted"
    assert app.test_client().get("/api/comments", query_string={"url": urls.POST_A}).get_json()["mentions"] == []
