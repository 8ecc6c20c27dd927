"""GET /api/sites's `comments_version`: the build's cheap way to know a blog's static comments are out of date.

It must move for a blog whenever what its pages show of its threads may have changed (a comment approved,
edited, deleted, rejected; an answer or mention on a commented post), for that blog only, and stay put
when nothing did, including when the build announces its posts again or new posts without comments.
"""

from __future__ import annotations

from tests.comments_service.web.test_crossblog import put_posts


def versions(client) -> dict[str, str]:
    response = client.get("/api/sites")
    assert response.status_code == 200
    return {site["slug"]: site["comments_version"] for site in response.get_json()["sites"]}


def test_the_version_moves_for_the_blog_whose_thread_changed_and_only_for_it(client, actions, urls):
    for slug in ("dr-a", "dr-b"):
        put_posts(client, slug, urls.POSTS[slug]["posts"])
    start = versions(client)
    assert versions(client) == start, "nothing changed: the same version (and the same ETag)"

    body = actions.approved_comment("Merci pour ce billet.", url=urls.POST_A)
    after_comment = versions(client)
    assert after_comment["dr-a"] != start["dr-a"] and after_comment["dr-b"] == start["dr-b"]

    actions.approved_comment("Sur le billet B.", url=urls.POST_B)
    after_b = versions(client)
    assert after_b["dr-b"] != after_comment["dr-b"] and after_b["dr-a"] == after_comment["dr-a"]

    assert actions.edit(body["comment"]["id"], body["edit_token"], "Texte corrigé.").status_code == 200
    after_edit = versions(client)
    assert after_edit["dr-a"] != after_b["dr-a"], "an edited comment"

    actions.set_status(body["comment"]["id"], "rejected")
    after_rejection = versions(client)
    assert after_rejection["dr-a"] not in (after_edit["dr-a"], start["dr-a"]), "the post has no comment shown any more"
    assert after_rejection["dr-b"] == after_b["dr-b"]


def test_announcing_posts_again_or_new_posts_without_comments_leaves_it(client, actions, urls):
    for slug in ("dr-a", "dr-b"):
        put_posts(client, slug, urls.POSTS[slug]["posts"])
    actions.approved_comment("Merci pour ce billet.", url=urls.POST_A)
    before = versions(client)
    put_posts(client, "dr-a", urls.POSTS["dr-a"]["posts"])  # every build announces the blog's posts
    put_posts(client, "dr-a", urls.POSTS["dr-a"]["posts"] + [
        {"url": urls.BLOG_A + "nouveau.html", "title": "Nouveau billet", "date": "2024-04-01"},
    ])
    assert versions(client) == before, "a new post has no comments: the static snapshots did not change"


def test_the_version_reveals_nothing_of_the_threads(client, actions, urls):
    put_posts(client, "dr-a", urls.POSTS["dr-a"]["posts"])
    actions.comment("Un commentaire en attente de modération.", url=urls.POST_A, author="Paul Secret",
                    email="paul.secret@exemple.test")
    text = client.get("/api/sites").get_data(as_text=True)
    for private in ("Paul", "Secret", "exemple.test", urls.POST_A, "attente"):
        assert private not in text


def test_a_comment_awaiting_moderation_moves_it_only_once_approved(client, actions, urls):
    """The static pages show approved comments only: a pending one, edited or rejected while it waits, would
    cost `confreres build` a useless rebuild of the blog and the planet."""
    for slug in ("dr-a", "dr-b"):
        put_posts(client, slug, urls.POSTS[slug]["posts"])
    actions.approved_comment("Déjà publié.", url=urls.POST_A, author="Anne", email="anne@exemple.test")
    before = versions(client)

    waiting = actions.comment("En attente.", url=urls.POST_A, author="Paul", email="paul@exemple.test")
    first = actions.comment("Premier commentaire du billet.", url=urls.POST_A2, author="Léa", email="lea@exemple.test")
    assert waiting["status"] == first["status"] == "pending"
    assert versions(client) == before, "a pending comment, on a commented post or on a post without comments"
    assert actions.edit(waiting["comment"]["id"], waiting["edit_token"], "En attente, corrigé.").status_code == 200
    actions.set_status(first["comment"]["id"], "rejected")
    assert versions(client) == before, "edited or rejected while it waited: still nothing shown"
    own = actions.thread(urls.POST_A, tokens=[waiting["edit_token"]]).get_json()
    assert "corrigé" in next(c["html"] for c in own["comments"] if c["id"] == waiting["comment"]["id"]), \
        "its author sees it edited: the thread's own version moved"

    actions.set_status(waiting["comment"]["id"], "approved")
    approved = versions(client)
    assert approved["dr-a"] != before["dr-a"] and approved["dr-b"] == before["dr-b"]
    actions.set_status(waiting["comment"]["id"], "rejected")
    assert versions(client)["dr-a"] not in (approved["dr-a"], before["dr-a"]), "an approved comment withdrawn"


def test_the_migration_keeps_every_blogs_version(tmp_path):
    """Posts with comments start their public version at their version: the digest is the one the last
    build recorded, so upgrading the service rebuilds nothing."""
    from comments_service.core import db as dbmod
    from comments_service.core.migrations import migrate, migrations

    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m009_public_versions")
    stamp = "2026-01-01T00:00:00Z"
    db.conn.executemany("INSERT INTO posts (url, site, synced, version) VALUES (?, 'b', ?, ?)",
                        [("http://b.test/commented", stamp, 41), ("http://b.test/quiet", stamp, 7)])
    db.conn.execute("INSERT INTO comments (post_url, site, created) VALUES ('http://b.test/commented', 'b', ?)",
                    (stamp,))
    db.conn.commit()
    assert migrate(db)[0] == "m009_public_versions"  # later ones follow
    found = dict(db.conn.execute("SELECT url, public_version FROM posts").fetchall())
    assert found == {"http://b.test/commented": 41, "http://b.test/quiet": 0}
    db.close()
