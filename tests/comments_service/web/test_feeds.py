"""Atom feeds of a thread, a blog and the network: valid, public fields only."""

import feedparser


def _seed(actions, urls):
    actions.comment("Sur le billet B", url=urls.POST_B, author="Zoé", email="zoe.secret@example.org", website="https://z.example/")
    body = actions.comment("Sur le billet A", url=urls.POST_A, author="Yves", email="yves.secret@example.org")
    actions.approve(body["comment"]["id"])
    actions.comment("En attente", url=urls.POST_A, author="Xavier", email="x.secret@example.org")


def test_thread_feed(actions, client, urls):
    _seed(actions, urls)
    response = client.get("/feeds/thread.atom", query_string={"url": urls.POST_B})
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = feedparser.parse(response.data)
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Commentaires sur « Billet B »"
    assert len(feed.entries) == 2  # the comment, then (older) Dr A's answer on her blog: POST_A2 answers POST_B
    entry = feed.entries[0]
    assert entry.author == "Zoé"
    assert entry.link.startswith(urls.POST_B + "#comment-")
    assert "Sur le billet B" in entry.summary
    assert feed.entries[1].title == "Dr Anne A a répondu sur son blog : « Second billet »"
    assert feed.entries[1].link == urls.POST_A2


def test_site_and_recent_feeds(actions, client, urls):
    _seed(actions, urls)
    site = feedparser.parse(client.get("/feeds/site/dr-a.atom").data)
    assert [e.author for e in site.entries] == ["Yves"]  # the pending one is not there
    recent = feedparser.parse(client.get("/feeds/recent.atom").data)
    assert {e.author for e in recent.entries} == {"Zoé", "Yves"}


def test_feeds_never_carry_private_fields(actions, client, urls):
    _seed(actions, urls)
    for path in ("/feeds/thread.atom?url=" + urls.POST_A, "/feeds/site/dr-a.atom", "/feeds/site/dr-b.atom", "/feeds/recent.atom"):
        raw = client.get(path).get_data(as_text=True)
        for secret in ("secret@example.org", "ip_hash", "En attente", "Xavier"):
            assert secret not in raw, (path, secret)
        assert "<email>" not in raw


def test_feed_errors(client):
    assert client.get("/feeds/site/dr-z.atom").status_code == 404
    assert client.get("/feeds/thread.atom?url=https://ailleurs.example/").status_code == 404
    assert client.get("/feeds/thread.atom").status_code == 400


def test_feed_conditional_get(actions, client, urls):
    _seed(actions, urls)
    first = client.get("/feeds/recent.atom")
    again = client.get("/feeds/recent.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_the_network_feed_leaves_out_a_blog_removed_from_network_toml(actions, client, urls, network_file):
    from tests.comments_service.web.test_api_counts import without_blog_b

    actions.comment("Sur le blog B", url=urls.POST_B)
    actions.approved_comment("Sur le blog A", url=urls.POST_A)
    without_blog_b(actions.app, network_file)
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).status_code == 404
    entries = feedparser.parse(client.get("/feeds/recent.atom").data).entries
    assert [entry.link for entry in entries] == [f"{urls.POST_A}#comment-2"]


def test_a_title_in_guillemets_is_quoted_once(app, client, urls):
    """« “Schizo”, la série », not « « Schizo », la série »: the page, the feed (and the mails) quote a title once."""
    from comments_service.actions.posts import sync_posts
    from comments_service.core.db import connect
    from tests.conftest import POSTS

    title = "« Schizo », la série"
    with app.app_context():
        db = connect(app.config["DB"])
        try:
            sync_posts(db, app.extensions["confreres_network"], "dr-b",
                       {"posts": [{**POSTS["dr-b"]["posts"][0], "title": title}]})
        finally:
            db.close()
    feed = feedparser.parse(client.get("/feeds/thread.atom", query_string={"url": urls.POST_B}).data)
    assert feed.feed.title == "Commentaires sur « “Schizo”, la série »"
    page = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Commentaires sur « “Schizo”, la série »" in page and "« «" not in page


def test_each_feed_is_its_own_with_its_public_address(actions, client, urls):
    """RFC 4287: one atom:id per feed. The blog's feed of comments had the blog's address for id, the blog's own
    feed's; the network's had the network's, the planet's feed's. Each is its public address now (rel="self" too,
    never with what a client added to the request)."""
    import xml.etree.ElementTree as ET
    from urllib.parse import quote

    from tests.conftest import COMMENTS_URL

    _seed(actions, urls)
    atom = "{http://www.w3.org/2005/Atom}"
    expected = {"/feeds/recent.atom?utm_source=x": f"{COMMENTS_URL}feeds/recent.atom",
                "/feeds/site/dr-a.atom": f"{COMMENTS_URL}feeds/site/dr-a.atom",
                f"/feeds/thread.atom?url={quote(urls.POST_B)}&x=1": f"{COMMENTS_URL}feeds/thread.atom?url={quote(urls.POST_B, safe='')}"}
    for path, address in expected.items():
        root = ET.fromstring(client.get(path).data)
        selfs = [link.get("href") for link in root.findall(f"{atom}link") if link.get("rel") == "self"]
        assert (root.findtext(f"{atom}id"), selfs) == (address, [address]), path
        assert root.findtext(f"{atom}id") not in (urls.BLOG_A, "http://blogs.test/", urls.POST_B)


def test_a_comment_keeps_its_id_when_its_post_moves(actions, client, urls):
    """A corrected title moves the post, and its comments with it: in the feeds they stay the entries they were
    (their id made from the post's first address), never new ones; their links lead to where the post is now."""
    from tests.comments_service.domain.test_moves import NEW_A, move_a

    actions.approved_comment("Avant le déplacement.")
    paths = ("/feeds/site/dr-a.atom", "/feeds/recent.atom")
    before = {path: [e.id for e in feedparser.parse(client.get(path).data).entries] for path in paths}
    before["thread"] = [e.id for e in feedparser.parse(
        client.get("/feeds/thread.atom", query_string={"url": urls.POST_A}).data).entries]
    assert before["thread"] and before["thread"][0].startswith(urls.POST_A + "#comment-")
    move_a(client, urls)
    after = {path: feedparser.parse(client.get(path).data).entries for path in paths}
    after["thread"] = feedparser.parse(client.get("/feeds/thread.atom", query_string={"url": NEW_A}).data).entries
    for name, entries in after.items():
        assert [e.id for e in entries] == before[name], name
        assert all(e.link.startswith(NEW_A + "#comment-") for e in entries if "comment" in e.link), name
    # moved again: still the first address's
    move_a(client, urls, new=NEW_A.replace(".html", "-bis.html"), moved_from=[urls.POST_A, NEW_A])
    entries = feedparser.parse(client.get("/feeds/site/dr-a.atom").data).entries
    assert [e.id for e in entries] == before["/feeds/site/dr-a.atom"]


def test_an_answer_from_a_blog_keeps_its_id_when_it_moves(client, urls):
    from tests.comments_service.actions.test_posts import put
    from tests.comments_service.domain.test_moves import posts_of

    def ids():
        feed = feedparser.parse(client.get("/feeds/thread.atom", query_string={"url": urls.POST_B}).data)
        return [(e.id, e.link) for e in feed.entries]

    ((before, _),) = ids()  # Dr A's second post answers POST_B
    moved = urls.BLOG_A + "second-billet-corrige.html"
    entry = {"url": moved, "title": "Second billet", "date": "2024-03-08", "reply_to": urls.POST_B,
             "moved_from": [urls.POST_A2]}
    assert put(client, "dr-a", posts_of("dr-a", **{urls.POST_A2: entry})).status_code == 200
    assert ids() == [(before, moved)]


def test_the_network_feed_pages_past_a_removed_blog_s_newest_comments(actions, urls, app):
    """The member blogs are checked on the rows read (not bound one parameter per blog): when a removed blog has
    the newest comments, the feed reads on, page after page, and still shows the members' newest, in order."""
    from comments_service.core.db import connect
    from comments_service.domain import comments as store

    ours = [actions.approved_comment(f"Sur le blog A {n}", url=urls.POST_A)["comment"]["id"] for n in range(4)]
    theirs = [actions.approved_comment(f"Sur le blog B {n}", url=urls.POST_B)["comment"]["id"] for n in range(7)]  # newer
    db = connect(app.config["DB"])
    try:
        for member, limit, expected in [(lambda slug: slug == "dr-a", 3, ours[::-1][:3]),
                                        (lambda slug: slug == "dr-a", 10, ours[::-1]),
                                        (None, 3, theirs[::-1][:3]),
                                        (lambda slug: False, 3, [])]:
            rows = store.recent(db, member=member, limit=limit)
            assert [row["id"] for row in rows] == expected
    finally:
        db.close()
