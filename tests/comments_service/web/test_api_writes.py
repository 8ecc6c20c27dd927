"""POST, PATCH, DELETE: moderation policies, edit tokens and window, soft delete, duplicates, honeypot."""

from comments_service.core import tokens

# -- posting and moderation -------------------------------------------------------------------------

def test_created_response_contract(actions, urls):
    response = actions.post("Bonjour", url=urls.POST_A, author="Claire", email="claire@example.org")
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"comment", "status", "text", "editable_until", "edit_token", "edit_window_minutes", "message"}
    assert body["message"] == "Votre commentaire est en attente de validation."  # what the widget says, as it is
    assert body["text"] == "Bonjour"  # the writer's own source (never in a thread: web/test_api_own_source.py)
    assert body["status"] == "pending"  # first comment of a guest on a first-comment blog
    assert body["comment"]["status"] == "pending"
    assert body["comment"]["author"]["name"] == "Claire"
    assert body["edit_window_minutes"] == 15
    claim = tokens.read_edit_token(urls.SECRET, body["edit_token"])
    assert claim.comment_id == body["comment"]["id"]


def test_first_comment_policy_trusts_a_returning_author(actions, urls):
    first = actions.comment("Premier", url=urls.POST_A, author="Claire", email="claire@example.org")
    assert first["status"] == "pending"
    second = actions.comment("Encore", url=urls.POST_A, author="Claire", email="claire@example.org")
    assert second["status"] == "pending"  # still nothing approved
    actions.approve(first["comment"]["id"])
    third = actions.comment("Et encore", url=urls.POST_A2, author="claire", email="CLAIRE@example.org")
    assert third["status"] == "approved"
    # the same e-mail with another name, or no e-mail, is not trusted
    assert actions.comment("Usurpation", url=urls.POST_A, author="Autre", email="claire@example.org")["status"] == "pending"
    assert actions.comment("Sans e-mail", url=urls.POST_A, author="Claire")["status"] == "pending"


def test_site_policy_none_and_all(make_app, urls):
    app = make_app()
    client = app.test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "a"}).get_json()["status"] == "approved"


def test_moderation_override_all(make_app, urls):
    client = make_app(MODERATION="all").test_client()
    assert client.post("/api/comments", json={"url": urls.POST_B, "text": "a"}).get_json()["status"] == "pending"


def test_moderation_override_none(make_app, urls):
    client = make_app(MODERATION="none").test_client()
    assert client.post("/api/comments", json={"url": urls.POST_A, "text": "a"}).get_json()["status"] == "approved"


def test_markdown_is_rendered_once_and_source_kept(actions, urls):
    body = actions.comment("**gras** et https://exemple.fr\nligne", url=urls.POST_B)
    html = body["comment"]["html"]
    assert "<strong>gras</strong>" in html
    assert '<a href="https://exemple.fr" rel="nofollow ugc noopener">' in html
    assert "<br>" in html
    row = actions.sql("SELECT text, html FROM comments WHERE id = ?", (body["comment"]["id"],))[0]
    assert row["text"] == "**gras** et https://exemple.fr\nligne" and row["html"] == html


def test_client_sent_badge_and_author_flags_are_ignored(actions, urls):
    body = actions.comment(
        "Je suis médecin, promis",
        url=urls.POST_B,
        author="Dr Faux",
        badge={"level": "verified", "label": "Médecin vérifié"},
        badge_level="verified",
        is_post_author=True,
        status="approved",
        account_id=1,
        role="admin",
    )
    author = body["comment"]["author"]
    assert author["badge"] is None and author["is_post_author"] is False
    row = actions.sql("SELECT badge_level, is_post_author, account_id FROM comments")[0]
    assert tuple(row) == (None, 0, None)


def test_ip_is_stored_only_as_a_keyed_hash(actions, urls):
    actions.client.post(
        "/api/comments", json={"url": urls.POST_B, "text": "a"}, environ_base={"REMOTE_ADDR": "203.0.113.7"}
    )
    row = actions.sql("SELECT * FROM comments")[0]
    assert "203.0.113.7" not in str(tuple(row))
    assert len(row["ip_hash"]) == 32


def test_honeypot_pretends_success_and_stores_nothing(actions, urls):
    response = actions.post("Achetez !", url=urls.POST_B, confreres_hp="http://spam.example/")
    assert response.status_code == 201
    assert response.get_json() == {"comment": None, "status": "pending", "edit_token": None,
                                   "message": "Votre commentaire est en attente de validation."}
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0


def test_reply_must_be_on_the_same_thread(actions, urls, api_error):
    other = actions.comment("Ailleurs", url=urls.POST_B)
    api_error(actions.post("R", url=urls.POST_A, parent=other["comment"]["id"]), 400, "invalid_parent", "parent")
    api_error(actions.post("R", url=urls.POST_A, parent=99999), 400, "invalid_parent", "parent")


def test_reply_to_a_pending_comment_is_refused(actions, urls, api_error):
    pending = actions.comment("En attente", url=urls.POST_A)
    api_error(actions.post("R", url=urls.POST_A, parent=pending["comment"]["id"]), 400, "invalid_parent", "parent")


def test_duplicate_is_refused(actions, urls, api_error):
    actions.comment("Même texte", url=urls.POST_B)
    api_error(actions.post("Même texte", url=urls.POST_B), 409, "duplicate", "text")
    # another thread, or another text, is fine
    actions.comment("Même texte", url=urls.POST_A)
    actions.comment("Autre texte", url=urls.POST_B)


def test_duplicate_window_passes(actions, urls):
    first = actions.comment("Même texte", url=urls.POST_B)
    actions.age(first["comment"]["id"], 11)
    actions.comment("Même texte", url=urls.POST_B)


def test_closed_and_confreres_threads(actions, urls, api_error):
    api_error(actions.post("a", url=urls.POST_CLOSED), 403, "comments_closed")
    api_error(actions.post("a", url=urls.POST_CONFRERES), 403, "confreres_only")


def test_hooks_fire_after_commit(app, actions, urls):
    from comments_service.core import events as hooks

    seen = []

    def listener(event, data):
        # the comment is committed: another connection sees it
        count = actions.sql("SELECT COUNT(*) FROM comments WHERE id = ?", (data.get("comment_id"),))[0][0]
        seen.append((event, count))

    hooks.register(app, listener)
    hooks.register(app, lambda event, data: 1 / 0)  # a broken listener does not break the request
    body = actions.comment("Bonjour", url=urls.POST_B)
    actions.edit(body["comment"]["id"], body["edit_token"])
    assert seen == [("comment.created", 1), ("comment.edited", 1)]


# -- edit ---------------------------------------------------------------------------------------------

def test_edit_within_window(actions, urls):
    body = actions.comment("Faute de frappe", url=urls.POST_B)
    response = actions.edit(body["comment"]["id"], body["edit_token"], "Sans *faute*")
    assert response.status_code == 200
    comment = response.get_json()["comment"]
    assert comment["html"] == "<p>Sans <em>faute</em></p>" and comment["edited"]
    assert actions.thread(urls.POST_B).get_json()["comments"][0]["html"] == "<p>Sans <em>faute</em></p>"


def test_edit_with_x_edit_token_header(actions, urls):
    body = actions.comment("a", url=urls.POST_B)
    response = actions.client.patch(
        f"/api/comments/{body['comment']['id']}", json={"text": "b"}, headers={"X-Edit-Token": body["edit_token"]}
    )
    assert response.status_code == 200


def test_edit_after_window(actions, urls, api_error):
    body = actions.comment("a", url=urls.POST_B)
    actions.age(body["comment"]["id"], 16)
    api_error(actions.edit(body["comment"]["id"], body["edit_token"]), 403, "edit_window_closed")
    api_error(actions.delete(body["comment"]["id"], body["edit_token"]), 403, "edit_window_closed")


def test_zero_minute_window_forbids_every_edit(make_app, urls, api_error):
    client = make_app(EDIT_WINDOW=0).test_client()
    body = client.post("/api/comments", json={"url": urls.POST_B, "text": "a"}).get_json()
    assert body["edit_window_minutes"] == 0
    response = client.patch(
        f"/api/comments/{body['comment']['id']}", json={"text": "b"},
        headers={"Authorization": "Bearer " + body["edit_token"]},
    )
    api_error(response, 403, "edit_window_closed")


def test_edit_token_errors(actions, urls, api_error):
    one = actions.comment("un", url=urls.POST_B)
    two = actions.comment("deux", url=urls.POST_B)
    cid = one["comment"]["id"]
    missing = actions.client.patch(f"/api/comments/{cid}", json={"text": "x"})
    api_error(missing, 401, "missing_token")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="confreres"'
    api_error(actions.edit(cid, two["edit_token"]), 403, "invalid_token")  # someone else's token
    api_error(actions.edit(cid, "not-a-token"), 403, "invalid_token")
    forged = tokens.make_edit_token("another-secret", cid, "nonce")
    api_error(actions.edit(cid, forged), 403, "invalid_token")
    stale_nonce = tokens.make_edit_token(urls.SECRET, cid, "wrong-nonce")
    api_error(actions.edit(cid, stale_nonce), 403, "invalid_token")
    api_error(actions.edit(424242, one["edit_token"]), 403, "invalid_token")


def test_edit_unknown_comment(actions, urls, api_error):
    token = tokens.make_edit_token(urls.SECRET, 424242, "n")
    api_error(actions.edit(424242, token), 404, "unknown_comment")
    api_error(actions.delete(424242, token), 404, "unknown_comment")


def test_edit_validates_text(actions, urls, api_error):
    body = actions.comment("a", url=urls.POST_B)
    api_error(actions.edit(body["comment"]["id"], body["edit_token"], ""), 400, "missing_field", "text")
    api_error(actions.edit(body["comment"]["id"], body["edit_token"], "x" * 10_001), 400, "too_long", "text")


def test_edit_a_comment_refused_by_moderation(actions, urls, api_error):
    body = actions.comment("a", url=urls.POST_B)
    actions.set_status(body["comment"]["id"], "rejected")
    api_error(actions.edit(body["comment"]["id"], body["edit_token"]), 409, "comment_moderated")


# -- delete -------------------------------------------------------------------------------------------

def test_delete_without_replies_removes_the_row(actions, urls):
    body = actions.comment("a", url=urls.POST_B)
    response = actions.delete(body["comment"]["id"], body["edit_token"])
    assert response.status_code == 200
    assert response.get_json() == {"id": body["comment"]["id"], "deleted": True, "placeholder": False}
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0
    assert actions.thread(urls.POST_B).get_json()["comments"] == []


def test_delete_with_replies_keeps_a_placeholder(actions, urls, api_error):
    root = actions.comment("Racine", url=urls.POST_B, author="Zoé", email="zoe@example.org", website="https://z.example/")
    reply = actions.comment("Réponse", url=urls.POST_B, parent=root["comment"]["id"])
    response = actions.delete(root["comment"]["id"], root["edit_token"])
    assert response.get_json()["placeholder"] is True
    thread = actions.thread(urls.POST_B).get_json()
    assert thread["total"] == 1
    placeholder = thread["comments"][0]
    assert placeholder["deleted"] is True and placeholder["html"] == ""
    assert placeholder["author"] == {"name": "", "website": None, "badge": None, "is_post_author": False}
    assert placeholder["replies"][0]["id"] == reply["comment"]["id"]
    row = actions.sql("SELECT * FROM comments WHERE id = ?", (root["comment"]["id"],))[0]
    assert (row["text"], row["email"], row["website"], row["author_name"], row["ip_hash"]) == ("", None, None, "", None)
    # a deleted comment can be neither edited nor deleted again
    api_error(actions.edit(root["comment"]["id"], root["edit_token"]), 409, "comment_deleted")
    api_error(actions.delete(root["comment"]["id"], root["edit_token"]), 409, "comment_deleted")
    # replying to the placeholder is refused
    api_error(actions.post("r", url=urls.POST_B, parent=root["comment"]["id"]), 400, "invalid_parent")


def test_deleting_the_last_reply_removes_the_placeholder(actions, urls):
    root = actions.comment("Racine", url=urls.POST_B)
    reply = actions.comment("Réponse", url=urls.POST_B, parent=root["comment"]["id"])
    actions.delete(root["comment"]["id"], root["edit_token"])
    actions.delete(reply["comment"]["id"], reply["edit_token"])
    assert actions.sql("SELECT COUNT(*) FROM comments")[0][0] == 0
    assert actions.thread(urls.POST_B).get_json()["comments"] == []


# -- report -------------------------------------------------------------------------------------------

def test_report_a_comment(actions, urls, api_error):
    body = actions.comment("Il s'agit de Mme X., vue hier", url=urls.POST_B)
    cid = body["comment"]["id"]
    response = actions.client.post(f"/api/comments/{cid}/report", json={"reason": "Secret médical"})
    assert response.status_code == 201 and response.get_json()["status"] == "received"
    again = actions.client.post(f"/api/comments/{cid}/report", json={"reason": "Encore"})
    assert again.get_json()["report"] == response.get_json()["report"]  # one per reader
    assert actions.sql("SELECT reason FROM reports")[0]["reason"] == "Secret médical"
    api_error(actions.client.post(f"/api/comments/{cid}/report", json={}), 400, "missing_field", "reason")
    api_error(actions.client.post("/api/comments/999/report", json={"reason": "x"}), 404, "unknown_comment")
