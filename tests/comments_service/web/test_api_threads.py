"""GET /api/comments: the contract's shape, nesting, placeholders, ETag/304, cache headers, pending visibility."""

import re

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
COMMENT_KEYS = {"id", "parent", "author", "html", "created", "edited", "deleted", "status", "replies"}


def test_empty_thread_has_the_contract_shape(actions, urls):
    response = actions.thread(urls.POST_A)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.get_json() == {
        "url": urls.POST_A,
        "title": "Premier billet",
        "site": "dr-a",
        "mode": "open",
        "total": 0,
        "comments": [],
        "answers": [],  # posts of the network answering it (issue 5)
        "mentions": [],  # approved Webmentions (issue 5)
        "fediverse": {"likes": 0, "boosts": 0},  # likes and boosts from the fediverse (issue 13)
        "page": {"depth": 5, "offset": 0, "skip": 0, "limit": 50, "threads": 0, "count": 0, "next": None,
                     "next_skip": 0},  # pages (issue 10)
    }


def test_nested_thread_shape(actions, urls):
    first = actions.approved_comment("Premier", author="Alice", website="https://alice.example/")
    second = actions.approved_comment("Second", author="Bob")
    reply = actions.reply(first, "Réponse à Alice", author="Bob")
    actions.approve(reply["comment"]["id"])
    deep = actions.reply(reply, "Plus profond", author="Alice", website="https://alice.example/")
    # Alice's name and e-mail are not known: she has no e-mail, so every comment of hers waits
    actions.approve(deep["comment"]["id"])

    thread = actions.thread(urls.POST_A).get_json()
    assert thread["total"] == 4
    roots = thread["comments"]
    assert [c["id"] for c in roots] == [first["comment"]["id"], second["comment"]["id"]]
    node = roots[0]
    assert set(node) == COMMENT_KEYS
    assert node["parent"] is None
    assert node["author"] == {
        "name": "Alice", "website": "https://alice.example/", "badge": None, "is_post_author": False,
    }
    assert node["html"] == "<p>Premier</p>"
    assert ISO_UTC.match(node["created"]) and node["edited"] is None and node["deleted"] is False
    assert node["status"] == "approved"
    child = node["replies"][0]
    assert child["parent"] == node["id"] and child["html"] == "<p>Réponse à Alice</p>"
    assert child["replies"][0]["html"] == "<p>Plus profond</p>"
    assert roots[1]["replies"] == []


def test_anonymous_author_name(actions, urls):
    actions.comment("Sans nom", url=urls.POST_B)
    assert actions.thread(urls.POST_B).get_json()["comments"][0]["author"]["name"] == "Anonyme"


def test_private_fields_never_appear(actions, urls):
    actions.comment("Bonjour", url=urls.POST_B, author="Zoé", email="zoe.secret@example.org", website="https://z.example/")
    raw = actions.thread(urls.POST_B).get_data(as_text=True)
    for secret in ("zoe.secret@example.org", "ip_hash", "edit_nonce", "account_id", "email"):
        assert secret not in raw


def test_pending_comment_is_hidden_from_others(actions, urls):
    body = actions.comment("En attente", url=urls.POST_A, author="Nouveau")
    assert body["status"] == "pending"
    public = actions.thread(urls.POST_A)
    assert public.get_json()["total"] == 0
    assert "public" in public.headers["Cache-Control"]


def test_pending_comment_is_shown_to_its_author_privately(actions, urls):
    body = actions.comment("En attente", url=urls.POST_A, author="Nouveau")
    response = actions.thread(urls.POST_A, tokens=[body["edit_token"]])
    thread = response.get_json()
    assert thread["total"] == 1
    assert thread["comments"][0]["status"] == "pending"
    assert thread["comments"][0]["id"] == body["comment"]["id"]
    assert response.headers["Cache-Control"].startswith("private")
    assert "X-Confreres-Tokens" in response.headers["Vary"]
    etag = response.headers["ETag"]
    assert actions.thread(urls.POST_A, tokens=[body["edit_token"]], etag=etag).status_code == 304


def test_tokens_of_others_or_forged_do_not_reveal_pending(actions, urls):
    mine = actions.comment("À moi", url=urls.POST_A, author="Moi")
    other = actions.comment("À l'autre", url=urls.POST_A, author="Autre")
    thread = actions.thread(urls.POST_A, tokens=[mine["edit_token"]]).get_json()
    assert [c["id"] for c in thread["comments"]] == [mine["comment"]["id"]]
    forged = actions.thread(urls.POST_A, tokens=["forged.token.value", other["edit_token"][:-3] + "abc"])
    assert forged.get_json()["total"] == 0
    assert forged.headers["Cache-Control"].startswith("public")


def test_etag_and_304(actions, urls):
    first = actions.thread(urls.POST_B)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=10, must-revalidate"
    assert "Origin" in first.headers["Vary"]
    again = actions.thread(urls.POST_B, etag=etag)
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    actions.comment("Du nouveau", url=urls.POST_B)
    changed = actions.thread(urls.POST_B, etag=etag)
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["total"] == 1


def test_etag_changes_on_every_kind_of_write(actions, urls):
    body = actions.comment("Un", url=urls.POST_B)
    tags = {actions.thread(urls.POST_B).headers["ETag"]}
    actions.edit(body["comment"]["id"], body["edit_token"], "Un corrigé")
    tags.add(actions.thread(urls.POST_B).headers["ETag"])
    actions.set_status(body["comment"]["id"], "spam")
    tags.add(actions.thread(urls.POST_B).headers["ETag"])
    assert len(tags) == 3


def test_cached_bytes_are_served_until_the_version_changes(app, actions, urls):
    actions.comment("Un", url=urls.POST_B)
    one = actions.thread(urls.POST_B).data
    cache = app.extensions["confreres_thread_cache"]
    assert cache.get(f"{urls.POST_B} 0 0 50", _version(actions, urls.POST_B)).body == one
    # an edit made behind the service's back (another worker) is seen through the version
    actions.sql("UPDATE comments SET html = '<p>changé</p>'")
    assert actions.thread(urls.POST_B).data == one  # same version: cached bytes
    actions.sql("UPDATE posts SET version = version + 1 WHERE url = ?", (urls.POST_B,))
    assert b"chang" in actions.thread(urls.POST_B).data


def _version(actions, url):
    return actions.sql("SELECT version FROM posts WHERE url = ?", (url,))[0]["version"]


def test_thread_url_is_normalised(actions, urls):
    actions.comment("Un", url=urls.POST_B)
    variant = urls.POST_B.replace("https://docteur-b.example", "HTTPS://Docteur-B.example") + "?utm=x#comments"
    thread = actions.thread(variant).get_json()
    assert thread["url"] == urls.POST_B and thread["total"] == 1


def test_modes_are_reported(actions, urls):
    assert actions.thread(urls.POST_CLOSED).get_json()["mode"] == "closed"
    assert actions.thread(urls.POST_CONFRERES).get_json()["mode"] == "confreres"


def test_deep_threads_are_stored_at_any_depth_and_shown_five_levels_deep(actions, urls):
    ids = [actions.comment("Niveau 1", url=urls.POST_B, author="Niveau 1")["comment"]["id"]]
    for depth in range(2, 10):
        ids.append(actions.comment(f"Niveau {depth}", url=urls.POST_B, author=f"Niveau {depth}", parent=ids[-1])["comment"]["id"])
    node = actions.thread(urls.POST_B).get_json()["comments"][0]
    levels = [[node]]
    while levels[-1][0]["replies"]:
        levels.append(levels[-1][0]["replies"])
    assert len(levels) == 5  # levels 6 to 9 are listed at level 5, after level 5, in conversation order
    assert [c["id"] for c in levels[4]] == ids[4:]
    assert [c["parent"] for c in levels[4]] == ids[3:-1]  # the real parent is kept
    assert "in_reply_to" not in levels[4][0]
    assert [c["in_reply_to"] for c in levels[4][1:]] == [{"id": ids[i], "name": f"Niveau {i + 1}"} for i in range(4, 8)]


def test_replies_to_a_rejected_comment_keep_their_place(actions, urls):
    root = actions.comment("Racine", url=urls.POST_B)
    reply = actions.comment("Réponse", url=urls.POST_B, parent=root["comment"]["id"])
    actions.set_status(root["comment"]["id"], "spam")
    thread = actions.thread(urls.POST_B).get_json()
    assert thread["total"] == 1
    placeholder = thread["comments"][0]
    assert placeholder["deleted"] is True and placeholder["html"] == "" and placeholder["author"]["name"] == ""
    assert placeholder["replies"][0]["id"] == reply["comment"]["id"]
    assert "Racine" not in actions.thread(urls.POST_B).get_data(as_text=True)


def test_head_request(actions, client, urls):
    response = client.head("/api/comments", query_string={"url": urls.POST_A})
    assert response.status_code == 200
