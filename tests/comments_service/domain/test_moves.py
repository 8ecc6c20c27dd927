"""A published post changes address (title, Slug or permalinks edited): its thread follows it (domain/moves.py).

The build lists the post at its new address with `moved_from` (plugins/comments); the announce moves what the
service kept for the old address, in its transaction.
"""

import json

from tests.comments_service.actions.test_posts import put
from tests.conftest import POSTS

NEW_A = "http://blogs.test/dr-a/2024/03/premier-billet-corrige.html"


def posts_of(slug, **changes):
    """The blog's posts as its build lists them, with some posts replaced: {old url: new entry}."""
    return {"posts": [changes.get(p["url"], p) for p in POSTS[slug]["posts"]]}


def move_a(client, urls, new=NEW_A, moved_from=None):
    entry = {"url": new, "title": "Premier billet (corrigé)", "date": "2024-03-01",
             "moved_from": [urls.POST_A] if moved_from is None else moved_from}
    response = put(client, "dr-a", posts_of("dr-a", **{urls.POST_A: entry}))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_the_comments_follow_the_post_and_the_old_address_leads_to_them(actions, client, urls):
    first = actions.approved_comment("Premier commentaire.")
    actions.approve(actions.reply(first, "Une réponse.")["comment"]["id"])
    summary = move_a(client, urls)
    assert summary["moved"] == 1 and summary["created"] == 1 and summary["unlisted"] == 1
    thread = client.get("/api/comments", query_string={"url": NEW_A}).get_json()
    assert thread["total"] == 2 and thread["title"] == "Premier billet (corrigé)"
    assert "Premier commentaire" in thread["comments"][0]["html"]
    # a page read before the move: its thread, its count, a comment sent from it
    old = client.get("/api/comments", query_string={"url": urls.POST_A}).get_json()
    assert old["total"] == 2
    assert actions.post("Envoyé depuis l'ancienne page.", url=urls.POST_A).status_code == 201
    rows = actions.sql("SELECT post_url, COUNT(*) FROM comments GROUP BY post_url")
    assert [tuple(r) for r in rows] == [(NEW_A, 3)]
    # every later build lists the move again: nothing more moves, no new version (the blog is not rebuilt)
    version = actions.sql("SELECT version FROM posts WHERE url = ?", (NEW_A,))[0][0]
    again = move_a(client, urls)
    assert again["moved"] == 0 and again["created"] == 0 and again["unchanged"] == 4
    assert actions.sql("SELECT version FROM posts WHERE url = ?", (NEW_A,))[0][0] == version
    assert [tuple(r) for r in actions.sql("SELECT post_url, COUNT(*) FROM comments GROUP BY post_url")] == [(NEW_A, 3)]


def test_subscriptions_follow_the_post(actions, client, urls):
    actions.comment("Prévenez-moi.", email="lecteur@example.org", notify=True, author="Lecteur")
    assert actions.sql("SELECT post_url FROM subscriptions")[0][0] == urls.POST_A
    move_a(client, urls)
    assert [r[0] for r in actions.sql("SELECT post_url FROM subscriptions")] == [NEW_A]


def test_an_answer_from_another_blog_still_answers_the_post(actions, client, urls):
    # dr-a's second post answers dr-b's post; dr-b's post moves; dr-a's next build still says the old address
    new_b = urls.BLOG_B + "2024/billet-b-corrige/"
    put(client, "dr-b", {"posts": [{"url": new_b, "title": "Billet B", "moved_from": [urls.POST_B]}]})
    thread = client.get("/api/comments", query_string={"url": new_b}).get_json()
    assert [a["url"] for a in thread["answers"]] == [urls.POST_A2]
    put(client, "dr-a", POSTS["dr-a"])  # Reply_to: the old address, as written in the Markdown
    thread = client.get("/api/comments", query_string={"url": new_b}).get_json()
    assert [a["url"] for a in thread["answers"]] == [urls.POST_A2]
    assert actions.sql("SELECT reply_to FROM posts WHERE url = ?", (urls.POST_A2,))[0][0] == new_b


def test_another_blogs_post_cannot_be_taken(actions, client, urls):
    actions.approved_comment("Sur le blog A.")
    new_b = urls.BLOG_B + "2024/autre/"
    summary = put(client, "dr-b", {"posts": [{"url": urls.POST_B, "title": "Billet B"},
                                             {"url": new_b, "title": "Autre", "moved_from": [urls.POST_A]}]}).get_json()
    assert summary["moved"] == 0
    assert client.get("/api/comments", query_string={"url": urls.POST_A}).get_json()["total"] == 1
    assert client.get("/api/comments", query_string={"url": new_b}).get_json()["total"] == 0


def test_an_address_another_post_has_now_moves_nothing(actions, client, urls):
    actions.approved_comment("Sur le second billet.", url=urls.POST_A2)
    # the first post takes the second's address while the second is still listed there: not a move
    listed = posts_of("dr-a")
    listed["posts"][0]["moved_from"] = [urls.POST_A2]
    assert put(client, "dr-a", listed).get_json()["moved"] == 0
    assert client.get("/api/comments", query_string={"url": urls.POST_A2}).get_json()["total"] == 1


def test_hostile_or_odd_moved_from_is_left_out_not_refused(client, urls):
    for value in ("http://blogs.test/dr-a/x.html", 42, None, {"a": 1}, ["javascript:alert(1)", 7, "", "x" * 5000],
                  [urls.BLOG_B + "volé/"], ["http://ailleurs.example/dr-a/premier-billet.html"]):
        response = put(client, "dr-a", posts_of("dr-a", **{urls.POST_A: {"url": urls.POST_A, "moved_from": value}}))
        assert response.status_code == 200 and response.get_json()["moved"] == 0


def test_a_post_moved_twice_or_back_is_found_at_every_address(actions, client, urls):
    actions.approved_comment("Toujours là.")
    move_a(client, urls)
    third = "http://blogs.test/dr-a/troisieme-adresse.html"
    move_a(client, urls, new=third, moved_from=[urls.POST_A, NEW_A])
    for url in (urls.POST_A, NEW_A, third):
        assert client.get("/api/comments", query_string={"url": url}).get_json()["total"] == 1, url
    # back at its first address
    summary = put(client, "dr-a", posts_of("dr-a", **{urls.POST_A: {
        "url": urls.POST_A, "title": "Premier billet", "moved_from": [NEW_A, third]}})).get_json()
    assert summary["moved"] == 2
    assert [tuple(r) for r in actions.sql("SELECT post_url, COUNT(*) FROM comments GROUP BY post_url")] == [
        (urls.POST_A, 1)]
    for url in (urls.POST_A, NEW_A, third):
        assert client.get("/api/comments", query_string={"url": url}).get_json()["total"] == 1, url
    assert actions.sql("SELECT COUNT(*) FROM post_moves WHERE old_url = ?", (urls.POST_A,))[0][0] == 0


def test_the_fediverse_article_keeps_its_id(actions, client, urls):
    put(client, "dr-a", POSTS["dr-a"])  # announced by a build: each post is an Article (federation/articles.py)
    before = actions.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (urls.POST_A,))
    assert before
    move_a(client, urls)
    moved = actions.sql("SELECT object_id, article FROM fed_articles WHERE post_url = ?", (NEW_A,))
    assert [r[0] for r in moved] == [before[0][0]] and json.loads(moved[0][1])["url"] == NEW_A
    assert json.loads(moved[0][1])["id"] == before[0][0]
    assert not actions.sql("SELECT 1 FROM fed_articles WHERE post_url = ?", (urls.POST_A,))  # no Delete sent
