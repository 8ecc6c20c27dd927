"""GET /api/counts: approved comments of many posts in one request."""


def test_counts_for_an_index_page(actions, urls):
    actions.comment("un", url=urls.POST_B)
    actions.comment("deux", url=urls.POST_B)
    pending = actions.comment("en attente", url=urls.POST_A)
    assert pending["status"] == "pending"
    response = actions.counts(urls.POST_A, urls.POST_B, "https://ailleurs.example/x")
    assert response.status_code == 200
    assert response.get_json() == {urls.POST_A: 0, urls.POST_B: 2, "https://ailleurs.example/x": 0}
    actions.approve(pending["comment"]["id"])
    assert actions.counts(urls.POST_A).get_json() == {urls.POST_A: 1}


def test_counts_match_the_thread_total(actions, urls):
    root = actions.comment("racine", url=urls.POST_B)
    actions.comment("réponse", url=urls.POST_B, parent=root["comment"]["id"])
    actions.delete(root["comment"]["id"], root["edit_token"])  # placeholder
    assert actions.counts(urls.POST_B).get_json()[urls.POST_B] == actions.thread(urls.POST_B).get_json()["total"] == 1


def test_counts_keys_are_the_urls_as_given(actions, urls):
    actions.comment("un", url=urls.POST_B)
    variant = urls.POST_B + "#comments"
    assert actions.counts(variant).get_json() == {variant: 1}


def test_counts_etag(actions, urls):
    first = actions.counts(urls.POST_B)
    again = actions.client.get("/api/counts", query_string={"url": urls.POST_B}, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_counts_errors(client, api_error):
    api_error(client.get("/api/counts"), 400, "missing_field", "url")
    api_error(client.get("/api/counts", query_string=[("url", f"http://blogs.test/{i}") for i in range(201)]), 400, "too_many")


def test_counts_is_one_query(app, urls):
    from comments_service.core.db import connect
    from comments_service.domain import comments as store

    db = connect(app.config["DB"])
    statements = []
    db.conn.set_trace_callback(statements.append)
    try:
        store.counts(db, [urls.POST_A, urls.POST_B, urls.POST_A2])
    finally:
        db.close()
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 1


def without_blog_b(app, network_file):
    """network.toml with the dr-b blog taken out, reloaded as the service does every few seconds."""
    from comments_service.core.config import refresh_network

    text = network_file.read_text(encoding="utf-8")
    network_file.write_text(text[: text.index('[[sites]]\nslug = "dr-b"')], encoding="utf-8")
    assert refresh_network(app, force=True)


def test_a_post_its_blog_removed_counts_nothing_as_its_thread_is_gone(actions, client, urls):
    from tests.comments_service.actions.test_posts import put

    actions.comment("Gardé", url=urls.POST_B)
    assert put(client, "dr-b", {"posts": []}).get_json()["unlisted"] == 1
    assert actions.thread(urls.POST_B).status_code == 404
    assert actions.counts(urls.POST_B).get_json() == {urls.POST_B: 0}


def test_a_blog_removed_from_network_toml_counts_nothing_as_its_threads_are_gone(actions, urls, network_file):
    actions.comment("Gardé", url=urls.POST_B)
    actions.comment("Sur A", url=urls.POST_A)
    actions.approve(actions.sql("SELECT id FROM comments WHERE post_url = ?", (urls.POST_A,))[0][0])
    without_blog_b(actions.app, network_file)
    assert actions.thread(urls.POST_B).status_code == 404
    assert actions.counts(urls.POST_A, urls.POST_B).get_json() == {urls.POST_A: 1, urls.POST_B: 0}


def test_the_old_address_of_a_moved_post_counts_its_thread(actions, client, urls):
    from tests.comments_service.actions.test_posts import put

    actions.comment("Suivi", url=urls.POST_B)
    new_b = urls.BLOG_B + "2024/billet-b-renomme/"
    put(client, "dr-b", {"posts": [{"url": new_b, "title": "Billet B", "moved_from": [urls.POST_B]}]})
    assert actions.thread(urls.POST_B).get_json()["total"] == 1
    assert actions.counts(urls.POST_B, new_b).get_json() == {urls.POST_B: 1, new_b: 1}
