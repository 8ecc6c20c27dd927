"""Local comments seen from Mastodon: each approved comment is a Note (attributed to the blog's actor, opened by
the commenter's public name), served at its own id and listed in its post's Article's `replies`; nothing else
of the thread is served or listed; a reply from the fediverse to such a Note lands under that comment."""

from __future__ import annotations

import httpx
import pytest

from comments_service.core.db import connect
from comments_service.domain.comments import set_status
from tests.comments_service.federation.test_replies import activity, note, posts, thread

AP = {"Accept": "application/activity+json"}


def comment(service, url: str, text: str, author: str = "Jeanne Martin", **fields) -> dict:
    answer = httpx.post(service.url("/comments/api/comments"), json={"url": url, "text": text, "author": author,
                                                                      "email": "jeanne@example.test", **fields})
    assert answer.status_code == 201, answer.text
    return answer.json()


def moderate(service, comment_id: int, status: str) -> None:
    db = connect(service.app.config["DB"])
    try:
        set_status(db, comment_id, status)
    finally:
        db.close()


def fetch(url: str, **headers) -> httpx.Response:
    return httpx.get(url, headers={**AP, **headers})


def replies_of(article_id: str) -> list[str]:
    collection = fetch(article_id + "/replies").json()
    items: list[str] = []
    link = collection.get("first")
    while link:
        page = fetch(link).json()
        items += page["orderedItems"]
        link = page.get("next")
    assert len(items) == collection["totalItems"]
    return items


@pytest.fixture
def open_service(make_service):
    service = make_service(MODERATION="none")
    assert service.announce("dr-a", posts(service)).status_code == 200
    return service


def article_id(service, post_url: str) -> str:
    ((found,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    return found


def test_approved_comments_are_notes_in_the_articles_replies(open_service):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    article = article_id(service, post_url)
    first = comment(service, post_url, "Merci <script>alert(1)</script> pour **ce** billet.", author="Jo <b>&</b>")
    answer = comment(service, post_url, "Je réponds.", author="Paul", parent=first["comment"]["id"])
    first_note, answer_note = (service.url(f"/comments/ap/comments/{c['comment']['id']}") for c in (first, answer))

    doc = fetch(article).json()
    assert doc["replies"]["totalItems"] == 2 and doc["replies"]["id"] == article + "/replies"
    assert replies_of(article) == [first_note, answer_note]

    got = fetch(first_note)
    assert got.status_code == 200 and got.headers["content-type"] == "application/activity+json"
    shown = got.json()
    assert shown["id"] == first_note and shown["type"] == "Note"
    assert shown["attributedTo"] == service.actor_url("dr-a"), "guests have no actor: the blog's"
    assert shown["inReplyTo"] == article
    assert shown["url"] == f"{post_url}#comment-{first['comment']['id']}"
    assert shown["published"].endswith("Z") and "https://www.w3.org/ns/activitystreams#Public" in shown["to"]
    assert shown["content"].startswith("<p><strong>Jo &lt;b&gt;&amp;&lt;/b&gt;</strong> a commenté :</p>")
    assert "<strong>ce</strong>" in shown["content"] and "<script" not in shown["content"]
    assert "jeanne@example.test" not in got.text
    assert fetch(answer_note).json()["inReplyTo"] == first_note
    ld = fetch(first_note, Accept='application/ld+json; profile="https://www.w3.org/ns/activitystreams"')
    assert ld.headers["content-type"].startswith("application/ld+json")

    browser = httpx.get(first_note, headers={"Accept": "text/html"})
    assert browser.status_code == 303 and browser.headers["location"] == shown["url"]


def test_the_replies_collection_is_paginated(open_service):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    made = [comment(service, post_url, f"Avis numéro {n}.", author=f"Lecteur {n}")["comment"]["id"] for n in range(23)]
    collection = fetch(article_id(service, post_url) + "/replies").json()
    assert collection["type"] == "OrderedCollection" and collection["last"].endswith("?page=2")
    assert replies_of(article_id(service, post_url)) == [service.url(f"/comments/ap/comments/{i}") for i in made]
    assert fetch(article_id(service, post_url) + "/replies?page=0").status_code == 400


def test_hidden_comments_and_confreres_threads_are_neither_served_nor_listed(open_service):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    article = article_id(service, post_url)
    shown = comment(service, post_url, "Visible.")
    hidden = {}
    for status in ("pending", "rejected", "spam"):
        hidden[status] = comment(service, post_url, f"Bientôt {status}.", author=f"Auteur {status}")
        moderate(service, hidden[status]["comment"]["id"], status)
    gone = comment(service, post_url, "Supprimé ensuite.")
    assert httpx.delete(service.url(f"/comments/api/comments/{gone['comment']['id']}"),
                        headers={"X-Edit-Token": gone["edit_token"]}).status_code in (200, 204)
    hidden["deleted"] = gone
    assert replies_of(article) == [service.url(f"/comments/ap/comments/{shown['comment']['id']}")]
    for status, made in hidden.items():
        answer = fetch(service.url(f"/comments/ap/comments/{made['comment']['id']}"))
        assert answer.status_code == 404, status
        assert answer.json()["error"]["code"] == "unknown_comment"
    assert fetch(service.url("/comments/ap/comments/99999")).status_code == 404
    assert fetch(service.url("/comments/ap/comments/99999999999999999999999")).status_code == 404  # not a 500

    # a thread that becomes « entre confrères »: its comments go dark for the fediverse
    closed = [dict(p, comments="confreres") if p["url"] == post_url else p for p in posts(service)]
    assert service.announce("dr-a", closed).status_code == 200
    assert fetch(service.url(f"/comments/ap/comments/{shown['comment']['id']}")).status_code == 404
    assert fetch(article).json()["replies"]["totalItems"] == 0 and replies_of(article) == []


def test_a_reply_from_the_fediverse_to_a_local_comment_lands_under_it(open_service, peer):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    local = comment(service, post_url, "Un avis local.")
    local_note = service.url(f"/comments/ap/comments/{local['comment']['id']}")
    answer = peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", note(peer, 1, local_note), 1))
    assert answer.status_code == 202, answer.text
    (root,) = thread(service, post_url)
    assert [r["author"]["name"] for r in root["replies"]] == ["Dr Alice"]
    # the Article's replies list it by its own id, after the local Note
    assert replies_of(article_id(service, post_url)) == [local_note, f"{peer.actor_id}/statuses/1"]

    # a reply to a comment that is not shown (pending) or to no comment at all: refused, nothing stored
    held = comment(service, post_url, "En attente.", author="Autre")
    moderate(service, held["comment"]["id"], "pending")
    for number, target in ((2, service.url(f"/comments/ap/comments/{held['comment']['id']}")),
                           (3, service.url("/comments/ap/comments/99999"))):
        refused = peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", note(peer, number, target),
                                                                        number))
        assert refused.status_code == 404, refused.text
    assert service.sql("SELECT COUNT(*) FROM fed_comments")[0][0] == 1


def test_likes_and_boosts_are_in_the_thread_and_on_the_no_js_page(open_service, peer):
    from tests.comments_service.federation.test_replies import activity as reaction
    from tests.fedi_peer import Peer

    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    api = service.url("/comments/api/comments")
    before = httpx.get(api, params={"url": post_url})
    assert before.json()["fediverse"] == {"likes": 0, "boosts": 0}
    page = httpx.get(service.url("/comments/thread"), params={"url": post_url}).text
    assert "sur le fédivers" not in page
    inbox = service.url("/comments/ap/inbox")
    assert peer.post(inbox, reaction(peer, "Like", article_id(service, post_url), 1)).status_code == 202
    with Peer("bruno") as bruno:
        assert bruno.post(inbox, reaction(bruno, "Like", post_url, 1)).status_code == 202
    assert peer.post(inbox, reaction(peer, "Announce", post_url, 2)).status_code == 202
    # the cached answer moves with the counts (its ETag)
    again = httpx.get(api, params={"url": post_url}, headers={"If-None-Match": before.headers["ETag"]})
    assert again.status_code == 200 and again.json()["fediverse"] == {"likes": 2, "boosts": 1}
    page = httpx.get(service.url("/comments/thread"), params={"url": post_url}).text
    assert "1 partage et 2 « j&#39;aime » sur le fédivers" in page
    undo = reaction(peer, "Undo", reaction(peer, "Announce", post_url, 2), 3)
    assert peer.post(inbox, undo).status_code == 202
    assert httpx.get(api, params={"url": post_url}).json()["fediverse"] == {"likes": 2, "boosts": 0}


def test_a_blog_removed_from_network_toml_serves_and_lists_no_note_as_its_threads_are_gone(make_service):
    """A blog taken out of network.toml loses its threads (they answer 404, /api/counts and the feeds leave them
    out): its comments go dark for the fediverse too, the other blogs' stay."""
    from comments_service.core.config import refresh_network

    service = make_service(MODERATION="none")
    post_a, post_b = service.url("/dr-a/ouvert.html"), service.url("/dr-b/billet.html")
    assert service.announce("dr-a", posts(service)).status_code == 200
    assert service.announce("dr-b", [{"url": post_b, "title": "Billet B", "date": "2024-03-04"}]).status_code == 200
    kept = comment(service, post_a, "Sur le blog A.")
    gone = comment(service, post_b, "Sur le blog B.")
    kept_note, gone_note = (service.url(f"/comments/ap/comments/{c['comment']['id']}") for c in (kept, gone))
    article_b = article_id(service, post_b)
    assert fetch(gone_note).status_code == 200 and replies_of(article_b) == [gone_note]

    path = service.app.extensions["confreres_network_file"].path
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('[[sites]]\nslug = "dr-b"')], encoding="utf-8")
    assert refresh_network(service.app, force=True)
    assert httpx.get(service.url("/comments/api/comments"), params={"url": post_b}).status_code == 404

    answer = fetch(gone_note)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_comment"
    assert fetch(article_b).status_code == 404 and fetch(article_b + "/replies").status_code == 404  # the post too
    assert fetch(kept_note).status_code == 200
    assert replies_of(article_id(service, post_a)) == [kept_note]


def test_a_blog_removed_from_network_toml_serves_no_article_actor_nor_outbox(make_service, peer):
    """Its posts go dark for the fediverse as its threads do: their Articles answer 404 as a deleted post's do (the
    service answers a deleted comment's Note and a deleted post's Article 404, never 410), its actor and outbox 404,
    and the network's outbox and nodeinfo no longer count them; a post its blog removed answers 404 too. Nothing
    sent to them lands: a Like is not counted, a reply to a fediverse comment of their threads is not kept."""
    from comments_service.core.config import refresh_network
    from comments_service.federation.urls import NETWORK_ACTOR

    service = make_service(MODERATION="none")
    post_a, post_b = service.url("/dr-a/ouvert.html"), service.url("/dr-b/billet.html")
    assert service.announce("dr-a", posts(service)).status_code == 200
    assert service.announce("dr-b", [{"url": post_b, "title": "Billet B", "date": "2024-03-04"},
                                     {"url": service.url("/dr-b/autre.html"), "title": "Autre", "date": "2024-03-05"}]
                            ).status_code == 200
    article_a, article_b = article_id(service, post_a), article_id(service, post_b)
    other_b = article_id(service, service.url("/dr-b/autre.html"))
    network_outbox = service.actor_url(NETWORK_ACTOR) + "/outbox"

    def listed(outbox: str) -> list[str]:
        page = fetch(outbox + "?page=1").json()
        return [create["object"]["id"] for create in page["orderedItems"]]

    assert fetch(article_b).status_code == 200 and article_b in listed(network_outbox)
    # a post its blog removed: its Article is deleted, gone from the outboxes
    assert service.announce("dr-b", [{"url": post_b, "title": "Billet B", "date": "2024-03-04"}]).status_code == 200
    answer = fetch(other_b)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_post"
    assert other_b not in listed(network_outbox) and other_b not in listed(service.actor_url("dr-b") + "/outbox")
    before = fetch(network_outbox).json()["totalItems"]
    posts_before = httpx.get(service.url("/.well-known/nodeinfo")).json()["links"][0]["href"]
    assert httpx.get(posts_before).json()["usage"]["localPosts"] == before

    inbox = service.url("/comments/ap/inbox")
    assert peer.post(inbox, activity(peer, "Create", note(peer, 1, article_b), 1)).status_code == 202
    assert [c["author"]["name"] for c in thread(service, post_b)] != []  # a fediverse comment in dr-b's thread

    path = service.app.extensions["confreres_network_file"].path
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index('[[sites]]\nslug = "dr-b"')], encoding="utf-8")
    assert refresh_network(service.app, force=True)

    peer.post(inbox, activity(peer, "Like", article_b, 2))
    peer.post(inbox, activity(peer, "Like", post_b, 3))
    peer.post(inbox, activity(peer, "Create", note(peer, 4, f"{peer.actor_id}/statuses/1"), 4))
    assert service.sql("SELECT COUNT(*) FROM fed_reactions") == [(0,)]
    assert service.sql("SELECT COUNT(*) FROM comments WHERE post_url = ?", (post_b,)) == [(1,)]

    answer = fetch(article_b)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_post", answer.text
    assert fetch(article_b + "/replies").status_code == 404
    assert httpx.get(article_b, headers={"Accept": "text/html"}, follow_redirects=False).status_code == 404
    for url in (service.actor_url("dr-b"), service.actor_url("dr-b") + "/outbox"):
        answer = fetch(url)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_actor", url
    assert fetch(network_outbox).json()["totalItems"] == before - 1 and article_b not in listed(network_outbox)
    assert httpx.get(posts_before).json()["usage"]["localPosts"] == before - 1
    assert fetch(article_a).status_code == 200 and article_a in listed(network_outbox)
