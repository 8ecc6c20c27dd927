"""A comment written signed in shows its author's current public name, never the one it was written under.

Otherwise « Inès Haddad » (an old comment) links to the profile « Docteur Zèbre · Médecin vérifié ». The
whole set of public outputs is scanned by test_verification_privacy.py (service) and
tests/confreres/test_static_privacy.py (built sites); here: the thread's ETag and cache, the blog's
`comments_version`, an emptied name, the API and the no-JS page of a rename, and the migration of old data.
"""

from __future__ import annotations

from comments_service.core import db as dbmod
from comments_service.core.migrations import migrate, migrations
from tests.comments_service.verification_kit import Kit
from tests.comments_service.web.test_crossblog import put_posts
from tests.comments_service.web.test_crossblog_versions import versions

REAL = "Inès Haddad"


def test_renaming_renames_past_comments_and_moves_every_version(app, client, actions, urls):
    for slug in ("dr-a", "dr-b"):
        put_posts(client, slug, urls.POSTS[slug]["posts"])
    kit = Kit(app, client)
    member = kit.member(display_name=REAL)
    shown = actions.post("Un avis.", url=urls.POST_B, headers=member.headers).get_json()["comment"]
    assert shown["author"]["name"] == REAL and shown["author"]["profile"]
    hidden = actions.post("En attente.", url=urls.POST_A, headers=member.headers).get_json()["comment"]
    guest = actions.comment("Même nom, pas le même compte.", url=urls.POST_B, author="Paul Invité")
    first = actions.thread(urls.POST_B)
    etag, start = first.headers["ETag"], versions(client)

    saved = client.patch("/api/account", json={"display_name": "Docteur Zèbre"}, headers=member.headers)
    assert saved.status_code == 200
    second = actions.thread(urls.POST_B, etag=etag)
    assert second.status_code == 200, "a new ETag: caches keyed by version drop the old name"
    names = {c["id"]: c["author"]["name"] for c in second.get_json()["comments"]}
    assert names == {shown["id"]: "Docteur Zèbre", guest["comment"]["id"]: "Paul Invité"}
    after = versions(client)
    assert after["dr-b"] != start["dr-b"], "the static snapshot of dr-b is rebuilt"
    assert after["dr-a"] == start["dr-a"], "a pending comment is in no snapshot: no rebuild for it"
    assert actions.sql("SELECT author_name FROM comments WHERE id = ?", (hidden["id"],))[0]["author_name"] == (
        "Docteur Zèbre"
    ), "the moderation queue shows the current name too"
    page = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Docteur Zèbre" in page and "Haddad" not in page

    # a member who empties their name is no longer named by their comments either
    assert client.patch("/api/account", json={"display_name": ""}, headers=member.headers).status_code == 200
    again = actions.thread(urls.POST_B).get_json()["comments"]
    assert [c["author"]["name"] for c in again if c["id"] == shown["id"]] == ["Anonyme"]


def test_the_migration_renames_comments_written_under_an_older_name(tmp_path):
    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m010_current_names")
    stamp = "2026-01-01T00:00:00Z"
    db.conn.executemany(
        "INSERT INTO posts (url, site, synced, version, public_version) VALUES (?, 'b', ?, 5, 5)",
        [("http://b.test/1", stamp), ("http://b.test/2", stamp), ("http://b.test/3", stamp)],
    )
    db.conn.executemany(
        "INSERT INTO accounts (id, email, display_name, created) VALUES (?, ?, ?, ?)",
        [(1, "z@x.test", "Docteur Zèbre", stamp), (2, "n@x.test", "", stamp)],
    )
    db.conn.executemany(
        "INSERT INTO comments (post_url, site, account_id, author_name, status, created) VALUES (?, 'b', ?, ?, ?, ?)",
        [
            ("http://b.test/1", 1, REAL, "approved", stamp),
            ("http://b.test/2", 1, REAL, "pending", stamp),
            ("http://b.test/3", 2, "Nom tapé", "approved", stamp),  # no public name: what was typed stays
            ("http://b.test/3", None, "Paul\r\nApprouver : http://evil.test", "approved", stamp),
        ],
    )
    db.conn.commit()
    assert "m010_current_names" in migrate(db)
    names = [r[0] for r in db.conn.execute("SELECT author_name FROM comments ORDER BY id")]
    assert names == ["Docteur Zèbre", "Docteur Zèbre", "Nom tapé", "Paul Approuver : http://evil.test"]
    versions_ = {r[0]: (r[1], r[2]) for r in db.conn.execute("SELECT url, version, public_version FROM posts")}
    assert versions_["http://b.test/1"][0] > 5 and versions_["http://b.test/1"][1] > 5
    assert versions_["http://b.test/2"][0] > 5 and versions_["http://b.test/2"][1] == 5
    assert versions_["http://b.test/3"] == (5, 5)
    db.close()
