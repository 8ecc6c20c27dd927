"""Answers between blogs as thread entries, /api/conversations, /api/threads/active and the /debats page."""

from __future__ import annotations

import pytest

from comments_service.core.db import connect
from comments_service.domain import comments as store
from comments_service.domain import crossblog, public
from comments_service.domain import verification as verify
from comments_service.domain.posts import find_post
from confreres.site_token import site_token
from tests.comments_service.verification_kit import CLAIRE, HELENE, KARIM, Kit, import_people
from tests.conftest import NETWORK_TOML, SECRET

BLOG_C = "https://dr-c.example/blog/"
POST_C = BLOG_C + "reponse-a-a.html"
ANSWER_KEYS = {"kind", "url", "title", "site", "site_title", "author", "excerpt", "published"}


def put_posts(client, slug, posts):
    response = client.put(
        f"/api/sites/{slug}/posts", json={"posts": posts}, headers={"Authorization": f"Bearer {site_token(SECRET, slug)}"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


@pytest.fixture
def three_blogs(make_app, tmp_path):
    """The test network plus a third blog, dr-c, on its own domain."""
    path = tmp_path / "network-3.toml"
    path.write_text(
        NETWORK_TOML + f'\n[[sites]]\nslug = "dr-c"\ntitle = "Les notes du Dr C"\nauthor = "Dr Chloé C"\n'
        f'specialty = "Pédiatrie"\nurl = "{BLOG_C}"\n',
        encoding="utf-8",
    )
    return make_app(NETWORK=str(path))


def test_an_answer_is_an_entry_of_its_own_kind_in_the_answered_thread(actions, urls):
    # conftest: POST_A2 ("Second billet", dr-a) has reply_to POST_B (dr-b)
    thread = actions.thread(urls.POST_B).get_json()
    assert thread["total"] == 0 and thread["comments"] == [] and thread["mentions"] == []
    assert thread["answers"] == [
        {
            "kind": "answer",
            "url": urls.POST_A2,
            "title": "Second billet",
            "site": "dr-a",
            "site_title": "Le carnet du Dr A",
            "author": {"name": "Dr Anne A", "badge": None},  # being in network.toml verifies nobody
            "excerpt": "",
            "published": "2024-03-08T00:00:00Z",
        }
    ]
    assert actions.thread(urls.POST_A2).get_json()["answers"] == []  # it answers; nobody answered it


def test_an_answer_arriving_changes_the_answered_threads_etag(actions, client, urls):
    first = actions.thread(urls.POST_A)
    etag = first.headers["ETag"]
    assert first.get_json()["answers"] == []
    assert actions.thread(urls.POST_A, etag=etag).status_code == 304

    answer = urls.BLOG_B + "2024/reponse/"
    excerpt = "Je ne suis <b>pas</b> d'accord &amp; je le dis. <script>alert(1)</script>" + " mot" * 200
    put_posts(client, "dr-b", [
        {"url": urls.POST_B, "title": "Billet B", "date": "2024-02-01T09:30:00+01:00"},
        {"url": answer, "title": "Réponse au Dr A", "date": "2024-03-02T08:00:00+01:00", "reply_to": urls.POST_A,
         "excerpt": excerpt},
    ])
    response = actions.thread(urls.POST_A, etag=etag)
    assert response.status_code == 200, "the answered thread changed: new ETag"
    (entry,) = response.get_json()["answers"]
    assert set(entry) == ANSWER_KEYS and entry["url"] == answer and entry["published"] == "2024-03-02T07:00:00Z"
    assert entry["excerpt"].startswith("Je ne suis pas d'accord & je le dis.")  # plain text, never HTML
    assert "<" not in entry["excerpt"] and "alert" not in entry["excerpt"]
    assert len(entry["excerpt"]) <= 300 and entry["excerpt"].endswith("…")

    # the answer's title changes: the answered thread changes too
    etag = response.headers["ETag"]
    put_posts(client, "dr-b", [
        {"url": urls.POST_B, "title": "Billet B", "date": "2024-02-01T09:30:00+01:00"},
        {"url": answer, "title": "Réponse corrigée", "date": "2024-03-02T08:00:00+01:00", "reply_to": urls.POST_A},
    ])
    response = actions.thread(urls.POST_A, etag=etag)
    assert response.status_code == 200 and response.get_json()["answers"][0]["title"] == "Réponse corrigée"

    # the answer is unpublished: it leaves the thread
    etag = response.headers["ETag"]
    put_posts(client, "dr-b", [{"url": urls.POST_B, "title": "Billet B", "date": "2024-02-01T09:30:00+01:00"}])
    response = actions.thread(urls.POST_A, etag=etag)
    assert response.status_code == 200 and response.get_json()["answers"] == []


def test_no_js_page_shows_the_answers(actions, client, urls):
    put_posts(client, "dr-a", [
        {**post, "excerpt": "<script>window.__xss=1</script>Un extrait <img src=x onerror=alert(1)>"}
        if post["url"] == urls.POST_A2 else post
        for post in urls.POSTS["dr-a"]["posts"]
    ])
    html = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Réponses des confrères" in html
    assert "Dr Anne A a répondu sur son blog" in html and f'href="{urls.POST_A2}"' in html
    assert "« Second billet »" in html and "Médecin vérifié" not in html, "dr-a's author is not verified here"
    assert "Un extrait" in html and "<img" not in html and "<script>window" not in html


def test_three_blogs_answering_in_a_chain_are_one_conversation(three_blogs, urls):
    client = three_blogs.test_client()
    put_posts(client, "dr-c", [
        {"url": POST_C, "title": "C répond à A", "date": "2024-03-20T10:00:00+01:00", "reply_to": urls.POST_A2,
         "excerpt": "Troisième voix."},
    ])
    db = connect(three_blogs.config["DB"])
    try:
        network = three_blogs.extensions["confreres_network"]
        comment_ids = []
        for url, text in ((urls.POST_B, "Sur B"), (POST_C, "Sur C"), (POST_C, "Encore sur C")):
            post = find_post(db, network, url)
            row, _ = store.add_comment(db, network, post, store.validate.comment({"url": url, "text": text}),
                                       policy="none")
            comment_ids.append(row["id"])
        pending = find_post(db, network, urls.POST_A2)
        store.add_comment(db, network, pending, store.validate.comment({"url": urls.POST_A2, "text": "En attente"}),
                          policy="all")
    finally:
        db.close()

    body = client.get("/api/conversations").get_json()
    assert body["total"] == 1
    (conversation,) = body["conversations"]
    assert conversation["root"] == urls.POST_B and conversation["title"] == "Billet B"
    assert conversation["sites"] == ["dr-b", "dr-a", "dr-c"]
    assert [(p["url"], p["depth"], p["reply_to"]) for p in conversation["posts"]] == [
        (urls.POST_B, 0, None), (urls.POST_A2, 1, urls.POST_B), (POST_C, 2, urls.POST_A2)
    ]
    assert [p["comments"] for p in conversation["posts"]] == [1, 0, 2]  # approved only
    assert conversation["answers"] == 2 and conversation["comments"] == 3 and conversation["mentions"] == 0
    assert conversation["posts"][2]["author"]["name"] == "Dr Chloé C"
    assert conversation["posts"][2]["excerpt"] == "Troisième voix."
    assert conversation["last_activity"] >= "2024-03-20T09:00:00Z" and conversation["last_activity"].endswith("Z")

    # each blog of the chain finds it; a blog outside it does not
    for slug in ("dr-a", "dr-b", "dr-c"):
        assert client.get("/api/conversations", query_string={"site": slug}).get_json()["total"] == 1
    # the thread of the middle post shows the answer it received
    assert [a["url"] for a in client.get("/api/comments", query_string={"url": urls.POST_A2}).get_json()["answers"]] == [POST_C]


def test_a_follow_up_on_the_same_blog_is_not_a_debate_between_blogs(client, urls):
    own = urls.BLOG_A + "suite.html"
    put_posts(client, "dr-a", [
        *urls.POSTS["dr-a"]["posts"],
        {"url": own, "title": "Suite de mon billet", "date": "2024-04-01", "reply_to": urls.POST_A},
    ])
    found = client.get("/api/conversations").get_json()["conversations"]
    assert [c["root"] for c in found] == [urls.POST_B]
    # it still is an answer in the thread of the post it follows
    assert [a["url"] for a in client.get("/api/comments", query_string={"url": urls.POST_A}).get_json()["answers"]] == [own]


def test_conversation_order_follows_the_last_activity(actions, client, urls):
    answer = urls.BLOG_B + "2024/reponse-ferme/"
    put_posts(client, "dr-b", [
        *urls.POSTS["dr-b"]["posts"],
        {"url": answer, "title": "Sur le billet fermé", "date": "2024-01-01", "reply_to": urls.POST_CLOSED},
    ])
    found = client.get("/api/conversations").get_json()["conversations"]
    # B <- A2 (2024-03-08) and CLOSED (2024-03-09) <- answer (2024-01-01): the closed one is newer
    assert [c["root"] for c in found] == [urls.POST_CLOSED, urls.POST_B]
    actions.approved_comment("Relance", url=urls.POST_B)  # a comment today puts B's debate first
    found = client.get("/api/conversations").get_json()["conversations"]
    assert [c["root"] for c in found] == [urls.POST_B, urls.POST_CLOSED]
    assert client.get("/api/conversations", query_string={"limit": 1}).get_json() == {
        "conversations": found[:1], "total": 2
    }
    assert client.get("/api/conversations", query_string={"days": 30}).get_json()["total"] == 1


def test_answers_looping_back_stay_one_conversation():
    posts = {
        "u1": {"site": "a", "published": "2024-01-01T00:00:00Z", "reply_to": "u2"},
        "u2": {"site": "b", "published": "2024-01-02T00:00:00Z", "reply_to": "u1"},
        "u3": {"site": "c", "published": "2024-01-03T00:00:00Z", "reply_to": "u2"},
    }
    (group,) = crossblog.trees(posts)
    assert [(url, depth) for url, depth, _ in group] == [("u1", 0), ("u2", 1), ("u3", 2)]


def test_active_threads(actions, client, urls):
    for n in range(3):
        actions.approved_comment(f"Commentaire {n} sur A", url=urls.POST_A)
    actions.approved_comment("Sur B", url=urls.POST_B)
    old = actions.approved_comment("Ancien sur A2", url=urls.POST_A2)
    actions.age(old["comment"]["id"], 20 * 24 * 60)
    actions.comment("En attente sur A2", url=urls.POST_A2, author="Inconnu")  # pending: not counted

    body = client.get("/api/threads/active", query_string={"days": 14, "limit": 10}).get_json()
    assert set(body) == {"threads"}
    assert [(t["url"], t["comments"]) for t in body["threads"]] == [(urls.POST_A, 3), (urls.POST_B, 1)]
    first = body["threads"][0]
    assert set(first) == {"url", "title", "site", "site_title", "comments", "last_activity"}
    assert first["title"] == "Premier billet" and first["site"] == "dr-a" and first["last_activity"].endswith("Z")
    assert len(client.get("/api/threads/active", query_string={"limit": 1}).get_json()["threads"]) == 1
    assert [t["url"] for t in client.get("/api/threads/active", query_string={"days": 30}).get_json()["threads"]][-1] == urls.POST_A2
    response = client.get("/api/threads/active")
    assert response.headers["ETag"] and "max-age" in response.headers["Cache-Control"]
    assert client.get("/api/threads/active", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/api/threads/active", {"days": "x"}, "days"),
        ("/api/threads/active", {"days": 0}, "days"),
        ("/api/threads/active", {"limit": 1000}, "limit"),
        ("/api/conversations", {"limit": 0}, "limit"),
        ("/api/conversations", {"site": "dr-z"}, "site"),
    ],
)
def test_bad_parameters_are_400_with_the_field(client, api_error, path, query, field):
    api_error(client.get(path, query_string=query), 400, field=field)


def test_debates_page(three_blogs, urls):
    client = three_blogs.test_client()
    put_posts(client, "dr-c", [
        {"url": POST_C, "title": "C répond à A &amp; B", "date": "2024-03-20", "reply_to": urls.POST_A2,
         "excerpt": "<script>window.__xss=1</script>Troisième voix."},
    ])
    response = client.get("/debats")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "<h1>Débats entre confrères</h1>" in html
    assert f'<a href="{urls.POST_B}">Billet B</a>' in html
    assert "Dr Anne A a répondu sur son blog" in html and "Dr Chloé C a répondu sur son blog" in html
    assert "C répond à A &amp; B" in html and "<script>window" not in html
    assert "2 réponses" in html
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]


# -- the blog authors' badges: from the verification records only (issue 6) -------------------------

@pytest.fixture
def badge_world(app, client, actions, urls, tmp_path):
    """dr-a's author is a verified physician (specialty shown); dr-b's has only declared an RPPS.

    dr-a's "Second billet" answers dr-b's post (conftest); dr-b answers dr-a's first post here.
    """
    import_people(app, tmp_path)
    kit = Kit(app, client)
    anne = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Anne A", role="author", sites=("dr-a",))
    assert client.patch("/api/account", json={"show_specialty": True}, headers=anne.headers).status_code == 200
    bruno = kit.member(display_name="Dr Bruno B", role="author", sites=("dr-b",))
    assert kit.declare(bruno, KARIM, "Benali", "Karim").status_code == 200  # declared, not verified
    answer_b = urls.BLOG_B + "2024/reponse-a-a/"
    put_posts(client, "dr-b", [
        urls.POSTS["dr-b"]["posts"][0],
        {"url": answer_b, "title": "Réponse au Dr A", "date": "2024-03-02", "reply_to": urls.POST_A},
    ])
    return kit, anne, bruno, answer_b


def site_badges(client) -> dict:
    response = client.get("/api/sites")
    assert response.status_code == 200 and response.headers["ETag"]
    return {site["slug"]: site["author"]["badge"] for site in response.get_json()["sites"]}


def test_api_sites_gives_each_blog_its_authors_badge_from_the_verification_records(badge_world, client, urls):
    kit, anne, bruno, _ = badge_world
    response = client.get("/api/sites")
    assert response.headers["Cache-Control"].startswith("public")
    sites = [dict(site) for site in response.get_json()["sites"]]
    versions = [site.pop("comments_version") for site in sites]
    assert all(isinstance(v, str) and v for v in versions), "test_crossblog_versions.py checks how it moves"
    known = {site["slug"]: site.pop("posts") for site in sites}
    assert known["dr-b"]["count"] == 2 and len(known["dr-b"]["digest"]) == 20, "test_announce.py checks its use"
    assert {"sites": sites} == {
        "sites": [
            {"slug": "dr-a", "title": "Le carnet du Dr A", "url": urls.BLOG_A,
             "author": {"name": "Dr Anne A", "badge": {"level": "verified", "label": "Médecin vérifié · Médecine générale",
                                                       "title": public.METHOD_TITLES["grant"]}}},
            {"slug": "dr-b", "title": "Le blog du Dr B", "url": urls.BLOG_B,
             "author": {"name": "Dr Bruno B", "badge": None}},
        ]
    }
    assert client.get("/api/sites", headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    text = response.get_data(as_text=True)
    for private in (anne.email, bruno.email, "LEFEBVRE", "Lefebvre", "Claire", CLAIRE, KARIM, '"id"'):
        assert private not in text

    assert client.patch("/api/account", json={"show_specialty": False}, headers=anne.headers).status_code == 200
    assert site_badges(client)["dr-a"]["label"] == "Médecin vérifié", "the specialty only if the author shows it"


def test_answers_and_conversations_show_the_badge_of_verified_authors_only(badge_world, actions, client, urls):
    _, _, _, answer_b = badge_world
    (from_a,) = actions.thread(urls.POST_B).get_json()["answers"]
    assert from_a["author"]["badge"]["label"] == "Médecin vérifié · Médecine générale"
    (from_b,) = actions.thread(urls.POST_A).get_json()["answers"]
    assert from_b["url"] == answer_b and from_b["author"] == {"name": "Dr Bruno B", "badge": None}
    posts = [p for c in client.get("/api/conversations").get_json()["conversations"] for p in c["posts"]]
    badges = {p["site"]: p["author"]["badge"] for p in posts}
    assert badges["dr-a"]["level"] == "verified" and badges["dr-b"] is None
    page_b = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Dr Anne A a répondu sur son blog" in page_b and "Médecin vérifié · Médecine générale" in page_b
    page_a = client.get("/thread", query_string={"url": urls.POST_A}).get_data(as_text=True)
    assert "Dr Bruno B a répondu sur son blog" in page_a and "Médecin vérifié" not in page_a


def test_a_change_of_an_authors_verification_gives_the_answered_threads_a_new_version(badge_world, actions, app,
                                                                                     client, urls):
    kit, anne, bruno, _ = badge_world
    etag = actions.thread(urls.POST_B).headers["ETag"]
    assert actions.thread(urls.POST_B, etag=etag).status_code == 304

    assert client.patch("/api/account", json={"show_specialty": False}, headers=anne.headers).status_code == 200
    shown = actions.thread(urls.POST_B, etag=etag)
    assert shown.status_code == 200, "the cached thread would keep the old badge"
    assert shown.get_json()["answers"][0]["author"]["badge"]["label"] == "Médecin vérifié"
    etag = shown.headers["ETag"]

    db = connect(app.config["DB"])
    try:
        with app.app_context():
            verify.revoke(app, db, anne.id, "Radiation constatée par le conseil de l'Ordre")
    finally:
        db.close()
    revoked = actions.thread(urls.POST_B, etag=etag)
    assert revoked.status_code == 200
    assert revoked.get_json()["answers"][0]["author"]["badge"] is None
    assert site_badges(client) == {"dr-a": None, "dr-b": None}

    # a verified physician becomes an author of dr-b: dr-b's answer to dr-a's post gets the badge
    etag = actions.thread(urls.POST_A).headers["ETag"]
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    assert actions.thread(urls.POST_A, etag=etag).status_code == 304, "not a blog author yet"
    kit.member(email=helene.email, sites=("dr-b",))
    linked = actions.thread(urls.POST_A, etag=etag)
    assert linked.status_code == 200
    assert linked.get_json()["answers"][0]["author"]["badge"]["level"] == "verified"
    assert site_badges(client)["dr-b"]["level"] == "verified"


def test_a_blog_with_several_verified_accounts_shows_its_named_authors_badge(app, client, tmp_path):
    import_people(app, tmp_path)
    kit = Kit(app, client)
    for rpps, last, first, name, role in ((HELENE, "Rousseau", "Hélène", "Modération", "moderator"),
                                          (CLAIRE, "Lefebvre", "Claire", "Dr Anne A", "author")):
        member = kit.verified(rpps, last, first, name, role=role, sites=("dr-a",))
        assert client.patch("/api/account", json={"show_specialty": True}, headers=member.headers).status_code == 200
        if role == "moderator":
            assert site_badges(client)["dr-a"]["label"] == "Médecin vérifié · Chirurgie infantile"
    assert site_badges(client)["dr-a"]["label"] == "Médecin vérifié · Médecine générale", "network.toml's author"
