"""PUT /api/sites/<slug>/posts (the build) and actions.posts.sync_posts (the demo server): which posts have a thread."""

import json

from comments_service.actions.posts import sync_posts
from comments_service.commands import sync_posts_command
from comments_service.core.db import connect
from comments_service.domain.posts import get_post
from confreres.site_token import site_token


def put(client, slug, body, token=None, secret="test-secret-key"):
    token = site_token(secret, slug) if token is None else token
    return client.put(f"/api/sites/{slug}/posts", json=body, headers={"Authorization": f"Bearer {token}"})


def test_build_declares_posts(client, urls):
    new = urls.BLOG_B + "2024/nouveau/"
    response = put(client, "dr-b", {"posts": [
        {"url": urls.POST_B, "title": "Billet B", "date": "2024-02-01T09:30:00+01:00"},
        {"url": new, "title": "Nouveau", "date": "2024-05-01", "comments": "closed"},
    ]})
    assert response.status_code == 200
    assert response.get_json() == {"site": "dr-b", "created": 1, "updated": 0, "unchanged": 1, "unlisted": 0,
                                   "moved": 0, "federation": {"queued": 0}}
    thread = client.get("/api/comments", query_string={"url": new}).get_json()
    assert thread["title"] == "Nouveau" and thread["mode"] == "closed"


def test_posts_left_out_are_unlisted_and_come_back(actions, client, urls):
    actions.comment("Gardé", url=urls.POST_B)
    assert put(client, "dr-b", {"posts": []}).get_json()["unlisted"] == 1
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).status_code == 404
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 1  # comments kept
    summary = put(client, "dr-b", {"posts": [{"url": urls.POST_B, "title": "Billet B"}]}).get_json()
    assert summary["updated"] == 1
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).get_json()["total"] == 1


def test_title_change_changes_the_etag(client, urls):
    etag = client.get("/api/comments", query_string={"url": urls.POST_B}).headers["ETag"]
    put(client, "dr-b", {"posts": [{"url": urls.POST_B, "title": "Titre corrigé"}]})
    response = client.get("/api/comments", query_string={"url": urls.POST_B}, headers={"If-None-Match": etag})
    assert response.status_code == 200 and response.get_json()["title"] == "Titre corrigé"


def test_site_token_is_required_and_per_site(client, api_error, urls):
    body = {"posts": []}
    api_error(put(client, "dr-b", body, token=site_token("test-secret-key", "dr-a")), 403, "invalid_site_token")
    api_error(put(client, "dr-b", body, secret="another-secret"), 403, "invalid_site_token")
    for missing in (put(client, "dr-b", body, token=""), client.put("/api/sites/dr-b/posts", json=body)):
        api_error(missing, 401, "missing_site_token")  # no credential: 401 and its challenge; a wrong one: 403
        assert missing.headers["WWW-Authenticate"].startswith("Bearer ")


def test_unknown_site_404(client, api_error):
    api_error(put(client, "dr-z", {"posts": []}), 404, "unknown_site")


def test_only_urls_of_that_site(client, api_error, urls):
    api_error(put(client, "dr-b", {"posts": [{"url": urls.POST_A, "title": "x"}]}), 400, "url_not_owned", "posts[0].url")
    api_error(
        put(client, "dr-b", {"posts": [{"url": urls.POST_B}, {"url": "https://ailleurs.example/x"}]}),
        400, "url_not_owned", "posts[1].url",
    )
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).status_code == 200  # nothing changed


def test_payload_errors_name_the_field(client, api_error, urls):
    api_error(put(client, "dr-b", {"posts": "nope"}), 400, "invalid_type", "posts")
    api_error(put(client, "dr-b", {"posts": [{"url": urls.POST_B, "date": "hier"}]}), 400, "invalid_date", "posts[0].date")
    api_error(put(client, "dr-b", {"posts": [{"url": urls.POST_B, "comments": "maybe"}]}), 400, "invalid_choice")
    api_error(put(client, "dr-b", {"posts": [{"url": urls.POST_B}, {"url": urls.POST_B}]}), 400, "duplicate_url")
    api_error(put(client, "dr-b", {"posts": [{"url": urls.POST_B, "title": 3}]}), 400, "invalid_type", "posts[0].title")
    api_error(put(client, "dr-b", {"posts": ["x"]}), 400, "invalid_type", "posts[0]")
    response = client.put(
        "/api/sites/dr-b/posts", data="posts=", headers={"Authorization": "Bearer " + site_token("test-secret-key", "dr-b")}
    )
    api_error(response, 415)


def test_store_sync_posts_from_a_published_posts_json(app, urls, tmp_path):
    """What the demo server does with each site's posts.json."""
    posts_json = tmp_path / "posts.json"
    posts_json.write_text(json.dumps({"posts": [{"url": urls.POST_B, "title": "Billet B (relu)", "date": "2024-02-01"}]}))
    db = connect(app.config["DB"])
    try:
        summary = sync_posts(db, app.extensions["confreres_network"], "dr-b", json.loads(posts_json.read_text()))
        assert summary["updated"] == 1
        assert get_post(db, urls.POST_B)["title"] == "Billet B (relu)"
    finally:
        db.close()


def test_sync_posts_cli(runner, urls, tmp_path):
    posts_json = tmp_path / "posts.json"
    posts_json.write_text(json.dumps({"posts": [{"url": urls.POST_B, "title": "Par la ligne de commande"}]}))
    result = runner.invoke(sync_posts_command, ["dr-b", str(posts_json)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["updated"] == 1
    bad = runner.invoke(sync_posts_command, ["dr-z", str(posts_json)])
    assert bad.exit_code != 0 and "dr-z" in bad.output


def test_site_token_cli(app, confreres_for):
    result = confreres_for(app)("site-token", "dr-a")
    assert result.output.strip() == site_token("test-secret-key", "dr-a")


def test_a_big_blog_fits_but_not_an_absurd_body(client, api_error, urls):
    posts = [{"url": f"{urls.BLOG_B}{i:05d}-un-titre-de-billet-assez-long/", "title": f"Billet {i}" * 3} for i in range(2000)]
    response = put(client, "dr-b", {"posts": posts})
    assert response.status_code == 200 and response.get_json()["created"] == 2000
    api_error(put(client, "dr-b", {"posts": [], "padding": "x" * (9 * 1024 * 1024)}), 413, "payload_too_large")


def test_pelican_html_titles_become_plain_text_and_bad_reply_to_is_dropped(client, urls):
    response = put(client, "dr-b", {"posts": [
        {"url": urls.POST_B, "title": "L&#8217;hôpital <em>public</em>", "reply_to": "pas une adresse",
         "source": "billet-b.md", "date": "2024-02-01T09:30:00+01:00"},
    ], "site": "dr-b"})
    assert response.status_code == 200
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).get_json()["title"] == "L\u2019hôpital public"


NEW_BLOG = '\n[[sites]]\nslug = "dr-c"\ntitle = "Le blog du Dr C"\nauthor = "Dr C"\nurl = "https://docteur-c.example/"\n'


def test_a_blog_added_to_network_toml_is_known_without_a_restart(client, network_file, api_error):
    api_error(put(client, "dr-c", {"posts": []}), 404, "unknown_site")
    network_file.write_text(network_file.read_text(encoding="utf-8") + NEW_BLOG, encoding="utf-8")
    body = {"posts": [{"url": "https://docteur-c.example/premier.html", "title": "Premier"}]}
    assert put(client, "dr-c", body).get_json()["created"] == 1
    assert "dr-c" in [site["slug"] for site in client.get("/api/sites").get_json()["sites"]]


def test_a_broken_network_toml_keeps_the_registry_the_service_has(client, network_file, api_error, urls):
    network_file.write_text(network_file.read_text(encoding="utf-8") + NEW_BLOG + "[[sites\n", encoding="utf-8")
    api_error(put(client, "dr-c", {"posts": []}), 404, "unknown_site")
    assert put(client, "dr-b", {"posts": urls.POSTS["dr-b"]["posts"]}).status_code == 200


def test_announces_have_their_own_budget_per_blog(make_app, urls, api_error):
    client = make_app(RATE_LIMIT="2/minute", POSTS_RATE_LIMIT="3/minute").test_client()
    for _ in range(3):  # over the guests' 2 writes a minute: signed announces do not count there
        assert put(client, "dr-b", urls.POSTS["dr-b"]).status_code == 200
    api_error(put(client, "dr-b", urls.POSTS["dr-b"]), 429, "rate_limited")
    assert put(client, "dr-a", urls.POSTS["dr-a"]).status_code == 200, "each blog its own budget"
    for _ in range(2):  # unsigned: guests' writes, 2 a minute
        api_error(put(client, "dr-a", urls.POSTS["dr-a"], token="forged"), 403, "invalid_site_token")
    api_error(put(client, "dr-a", urls.POSTS["dr-a"], token="forged"), 429, "rate_limited")
