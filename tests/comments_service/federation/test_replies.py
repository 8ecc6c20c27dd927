"""Replies from the fediverse: a Note in reply to a post (its URL or its Article's id) or to a federated comment
becomes a comment of the thread: sanitised, moderated as the blog says, by the remote account (name, link,
never a badge); its Update and Delete follow; closed, « entre confrères » and unknown threads refuse it."""

from __future__ import annotations

import httpx
import pytest

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def note(peer, number: int, in_reply_to: str, content: str = "<p>Très juste, merci.</p>") -> dict:
    return {"id": f"{peer.actor_id}/statuses/{number}", "type": "Note", "attributedTo": peer.actor_id,
            "inReplyTo": in_reply_to, "content": content, "to": [PUBLIC], "cc": [peer.actor_id + "/followers"],
            "published": "2025-04-01T10:00:00Z", "url": f"http://{peer.host}/@alice/{number}"}


def activity(peer, kind: str, obj, number: int) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{peer.actor_id}/activities/{number}",
            "type": kind, "actor": peer.actor_id, "to": [PUBLIC], "object": obj}


def thread(service, url: str) -> list:
    return httpx.get(service.url("/comments/api/comments"), params={"url": url}).json()["comments"]


def posts(service):
    return [
        {"url": service.url("/dr-a/ouvert.html"), "title": "Ouvert", "date": "2024-03-01"},
        {"url": service.url("/dr-a/entre-nous.html"), "title": "Entre nous", "date": "2024-03-02", "comments": "confreres"},
        {"url": service.url("/dr-a/ferme.html"), "title": "Fermé", "date": "2024-03-03", "comments": "closed"},
    ]


@pytest.fixture
def open_service(make_service):
    service = make_service(MODERATION="none")
    assert service.announce("dr-a", posts(service)).status_code == 200
    return service


def test_a_reply_becomes_a_comment_then_follows_its_edits_and_deletion(open_service, peer):
    service = open_service
    inbox = service.url("/comments/ap/inbox")
    post_url = service.url("/dr-a/ouvert.html")
    hostile = '<p>Très juste <script>alert(1)</script><img src=x onerror="alert(1)"> <a href="javascript:x()">là</a></p>'
    answer = peer.post(inbox, activity(peer, "Create", note(peer, 1, post_url, hostile), 1))
    assert answer.status_code == 202, answer.text
    (comment,) = thread(service, post_url)
    assert comment["author"]["name"] == "Dr Alice", "the remote name, sanitised"
    assert comment["author"]["website"] == f"http://{peer.host}/@alice"
    assert not comment["author"].get("badge")
    assert "Très juste" in comment["html"] and "<script" not in comment["html"] and "onerror" not in comment["html"]
    assert "javascript:" not in comment["html"]

    # a reply to that reply, by its Note's id; and one to the post's Article id
    ((article_id,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    assert peer.post(inbox, activity(peer, "Create", note(peer, 2, f"{peer.actor_id}/statuses/1", "<p>Et aussi.</p>"),
                                     2)).status_code == 202
    assert peer.post(inbox, activity(peer, "Create", note(peer, 3, article_id, "<p>Par l'article.</p>"),
                                     3)).status_code == 202
    shown = thread(service, post_url)
    assert len(shown) == 2 and [r["html"] for r in shown[0]["replies"]] == ["<p>Et aussi.</p>"]

    # delivered twice (shared inbox and personal inbox): one comment
    assert peer.post(service.actor_url("dr-a") + "/inbox",
                     activity(peer, "Create", note(peer, 1, post_url), 4)).status_code == 202
    assert len(thread(service, post_url)) == 2

    edited = note(peer, 3, article_id, "<p>Par l'article, corrigé.</p>")
    assert peer.post(inbox, activity(peer, "Update", edited, 5)).status_code == 202
    assert "corrigé" in thread(service, post_url)[1]["html"]
    tombstone = {"id": f"{peer.actor_id}/statuses/3", "type": "Tombstone"}
    assert peer.post(inbox, activity(peer, "Delete", tombstone, 6)).status_code == 202
    assert len(thread(service, post_url)) == 1


def test_moderated_blogs_hold_the_reply(service, peer):
    service.announce("dr-a", posts(service))
    post_url = service.url("/dr-a/ouvert.html")
    assert peer.post(service.url("/comments/ap/inbox"),
                     activity(peer, "Create", note(peer, 1, post_url), 1)).status_code == 202
    assert thread(service, post_url) == [], "first-comment moderation: pending"
    assert service.sql("SELECT status, email, account_id, badge_level FROM comments") == [("pending", None, None, None)]


@pytest.mark.parametrize(("path", "status", "code"), [
    ("/dr-a/entre-nous.html", 403, "confreres_only"),
    ("/dr-a/ferme.html", 403, "comments_closed"),
    ("/dr-a/inconnu.html", 404, "unknown_post"),
])
def test_closed_confreres_and_unknown_threads_store_nothing(open_service, peer, path, status, code):
    answer = peer.post(open_service.url("/comments/ap/inbox"),
                       activity(peer, "Create", note(peer, 1, open_service.url(path)), 1))
    assert answer.status_code == status and answer.json()["error"]["code"] == code
    assert open_service.sql("SELECT COUNT(*) FROM comments")[0][0] == 0


def test_only_its_author_changes_a_reply(open_service, peer):
    from tests.fedi_peer import Peer

    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", note(peer, 1, post_url), 1))
    with Peer("mallory") as other:
        forged = {**note(peer, 1, post_url, "<p>Détourné</p>"), "attributedTo": other.actor_id}
        other.post(service.url("/comments/ap/inbox"), activity(other, "Update", forged, 1))
        other.post(service.url("/comments/ap/inbox"),
                   activity(other, "Delete", {"id": f"{peer.actor_id}/statuses/1", "type": "Tombstone"}, 2))
        stolen = other.post(service.url("/comments/ap/inbox"),
                            activity(other, "Create", {**note(peer, 9, post_url), "attributedTo": peer.actor_id}, 3))
        assert stolen.status_code == 401
    (comment,) = thread(service, post_url)
    assert "Très juste" in comment["html"]


def mastodon_create(peer, in_reply_to: str, blog_actor: str, blog_url: str) -> dict:
    """A reply as Mastodon 4 sends it (its ActivityPub documentation's shapes: the `ostatus` and `toot` context,
    a mention of the blog in `tag` and in the HTML, `contentMap`, `conversation`, `replies`)."""
    status = f"{peer.actor_id}/statuses/113270422110987654"
    mention = (f'<span class="h-card" translate="no"><a href="{blog_url}" class="u-url mention">@<span>dr-a</span>'
               "</a></span>")
    content = f"<p>{mention} Très juste, et vu aussi en garde la semaine dernière.</p>"
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", {
            "ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri", "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
            "conversation": "ostatus:conversation", "sensitive": "as:sensitive", "toot": "http://joinmastodon.org/ns#",
            "votersCount": "toot:votersCount"}],
        "id": status + "/activity", "type": "Create", "actor": peer.actor_id, "published": "2025-04-01T10:00:00Z",
        "to": [PUBLIC], "cc": [peer.actor_id + "/followers", blog_actor],
        "object": {
            "id": status, "type": "Note", "summary": None, "inReplyTo": in_reply_to,
            "published": "2025-04-01T10:00:00Z", "url": f"http://{peer.host}/@alice/113270422110987654",
            "attributedTo": peer.actor_id, "to": [PUBLIC], "cc": [peer.actor_id + "/followers", blog_actor],
            "sensitive": False, "atomUri": status, "inReplyToAtomUri": in_reply_to,
            "conversation": f"tag:{peer.host},2025-04-01:objectId=4242:objectType=Conversation",
            "content": content, "contentMap": {"fr": content}, "attachment": [],
            "tag": [{"type": "Mention", "href": blog_actor, "name": "@dr-a@127.0.0.1"}],
            "replies": {"id": status + "/replies", "type": "Collection",
                        "first": {"type": "CollectionPage", "next": status + "/replies?only_other_accounts=true&page=true",
                                  "partOf": status + "/replies", "items": []}},
        },
    }


def test_a_reply_shaped_as_mastodon_sends_it(open_service, peer):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    ((article_id,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    create = mastodon_create(peer, article_id, service.actor_url("dr-a"), service.url("/dr-a/"))
    assert peer.post(service.url("/comments/ap/inbox"), create).status_code == 202
    (comment,) = thread(service, post_url)
    assert "Très juste, et vu aussi en garde" in comment["html"] and "<span" not in comment["html"]
    assert "@dr-a" not in comment["html"], "the blog's own mention, at the head of every reply, is noise under it"


def test_a_reply_keeps_the_mentions_of_others_and_ours_further_in(open_service, peer):
    service = open_service
    post_url = service.url("/dr-a/ouvert.html")
    ((article_id,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    create = mastodon_create(peer, article_id, service.actor_url("dr-a"), service.url("/dr-a/"))
    ours = (f'<span class="h-card" translate="no"><a href="{service.url("/dr-a/")}" class="u-url mention">@<span>dr-a'
            "</span></a></span>")
    other = '<span class="h-card"><a href="https://m.example/@bob" class="u-url mention">@<span>bob</span></a></span>'
    create["object"]["content"] = f"<p>{ours} {other} Comme le dit {ours}, la garde.</p>"
    assert peer.post(service.url("/comments/ap/inbox"), create).status_code == 202
    (comment,) = thread(service, post_url)
    assert comment["html"].startswith('<p><a href="https://m.example/@bob"'), comment["html"]
    assert "Comme le dit <a" in comment["html"] and comment["html"].count("@dr-a") == 1


def test_likes_and_boosts_are_counted_once_and_undone(open_service, peer):
    service = open_service
    inbox = service.url("/comments/ap/inbox")
    post_url = service.url("/dr-a/ouvert.html")
    ((article_id,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))

    def counts():
        doc = httpx.get(article_id, headers={"Accept": "application/activity+json"}).json()
        return doc["likes"]["totalItems"], doc["shares"]["totalItems"]

    assert counts() == (0, 0)
    like = activity(peer, "Like", article_id, 1)
    assert peer.post(inbox, like).status_code == 202
    assert peer.post(inbox, {**like, "id": like["id"] + "-bis"}).status_code == 202  # the same account again
    assert peer.post(inbox, activity(peer, "Announce", post_url, 2)).status_code == 202  # by the post's URL
    assert peer.post(inbox, activity(peer, "Like", service.url("/dr-a/inconnu.html"), 3)).status_code == 202
    assert counts() == (1, 1)
    assert peer.post(inbox, activity(peer, "Undo", {**like, "id": like["id"] + "-bis"}, 4)).status_code == 202
    assert counts() == (0, 1)
    assert service.sql("SELECT COUNT(*) FROM fed_reactions")[0][0] == 1


def test_the_moderation_queue_says_where_a_reply_came_from(service, peer):
    from comments_service.core.db import connect
    from comments_service.domain.moderation import queue

    service.announce("dr-a", posts(service))
    post_url = service.url("/dr-a/ouvert.html")
    assert peer.post(service.url("/comments/ap/inbox"),
                     activity(peer, "Create", note(peer, 1, post_url), 1)).status_code == 202
    db = connect(service.app.config["DB"])
    try:
        (item,) = queue(db, {"id": 0, "role": "admin"})
    finally:
        db.close()
    assert item["row"]["fediverse"] == f"@alice@{peer.host}" and item["row"]["email"] is None


def test_a_reply_is_stored_as_markdown_the_moderators_read(service, peer):
    """The Note's HTML became the comment's source as is once: the moderation page and mail showed `<p>` tags and
    the hostile markup as text. Now its source is Markdown, the same as a comment typed under the post."""
    service.announce("dr-a", posts(service))
    post_url = service.url("/dr-a/ouvert.html")
    html = ('<p>Merci <a href="https://m.example/@bob" class="mention">@<span>bob</span></a> !</p>'
            '<p><img src=x onerror="alert(1)">Deux lignes<br>ici <script>alert(2)</script></p>')
    assert peer.post(service.url("/comments/ap/inbox"),
                     activity(peer, "Create", note(peer, 1, post_url, html), 1)).status_code == 202
    ((text, rendered),) = service.sql("SELECT text, html FROM comments")
    assert text == "Merci [@bob](https://m.example/@bob) !\n\nDeux lignes  \nici", text
    assert "<" not in text and "alert" not in text
    assert '<a href="https://m.example/@bob"' in rendered and "onerror" not in rendered and "<script" not in rendered


@pytest.mark.parametrize("nested", ["<blockquote>", "<ul><li>", "<b>", "<em>"])
def test_a_note_nested_thousands_deep_is_never_a_500(open_service, peer, nested):
    """Its HTML was turned into Markdown by recursion (markdownify): 500 tags nested deep raised RecursionError, a
    500 at the inbox (and again at each retry of its server). Now its text is kept, without the nesting; its
    edit likewise."""
    service = open_service
    inbox = service.url("/comments/ap/inbox")
    post_url = service.url("/dr-a/ouvert.html")
    content = nested * 1000 + "Très juste."
    answer = peer.post(inbox, activity(peer, "Create", note(peer, 1, post_url, content), 1))
    assert answer.status_code == 202, answer.text
    (comment,) = thread(service, post_url)
    assert "Très juste." in comment["html"]
    answer = peer.post(inbox, activity(peer, "Update", note(peer, 1, post_url, nested * 1000 + "Corrigé."), 2))
    assert answer.status_code == 202, answer.text
    (comment,) = thread(service, post_url)
    assert "Corrigé." in comment["html"]
