"""A comment's Markdown source and edit deadline go to its owner only (the widget edits from them).

Owner: whoever holds the edit token (X-Edit-Token or Authorization: Bearer), or the session of the
account that wrote it — for reading the source, editing and deleting (a member on another device). Threads, feeds and every other public read never carry `text` nor
`editable_until` (the privacy scan in test_verification_privacy.py covers every GET route).
"""

from __future__ import annotations

from datetime import timedelta

from comments_service.domain.comments import iso, parse_iso
from tests.comments_service.verification_kit import Kit

SOURCE = "Un *avis* avec [un lien](https://exemple.fr/)."


def own(client, comment_id, **headers):
    return client.get(f"/api/comments/{comment_id}", headers=headers)


def test_the_edit_token_gets_the_source_and_the_deadline(actions, client, urls):
    created = actions.comment(SOURCE, url=urls.POST_B, author="Léa")
    cid, token = created["comment"]["id"], created["edit_token"]
    assert created["text"] == SOURCE
    deadline = parse_iso(created["comment"]["created"]) + timedelta(minutes=15)
    assert created["editable_until"] == iso(deadline)

    for headers in ({"X-Edit-Token": token}, {"Authorization": f"Bearer {token}"}):
        response = own(client, cid, **headers)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["text"] == SOURCE and body["editable_until"] == iso(deadline)
        assert body["comment"]["id"] == cid and "<em>avis</em>" in body["comment"]["html"]
        assert response.headers["Cache-Control"] == "private, no-store"

    edited = client.patch(f"/api/comments/{cid}", json={"text": "Corrigé **ici**."}, headers={"X-Edit-Token": token})
    assert edited.status_code == 200
    assert edited.get_json()["text"] == "Corrigé **ici**."
    assert own(client, cid, **{"X-Edit-Token": token}).get_json()["text"] == "Corrigé **ici**."


def test_nobody_else_gets_the_source(actions, client, urls, api_error):
    first = actions.comment(SOURCE, url=urls.POST_B)
    second = actions.comment("Un autre commentaire.", url=urls.POST_B)
    cid = first["comment"]["id"]
    api_error(own(client, cid), 401, "missing_token")
    api_error(own(client, cid, **{"X-Edit-Token": second["edit_token"]}), 403, "invalid_token")
    api_error(own(client, cid, **{"X-Edit-Token": "forged"}), 403, "invalid_token")
    api_error(own(client, 9999, **{"X-Edit-Token": first["edit_token"]}), 404, "unknown_comment")

    thread = actions.thread(urls.POST_B, tokens=[first["edit_token"]]).get_data(as_text=True)
    assert "avec [un lien]" not in thread and "editable_until" not in thread and '"text"' not in thread

    # once deleted, the old token reads nothing
    assert client.delete(f"/api/comments/{cid}", headers={"X-Edit-Token": first["edit_token"]}).status_code == 200
    api_error(own(client, cid, **{"X-Edit-Token": first["edit_token"]}), 404, "unknown_comment")


def test_the_writers_session_gets_its_own_source_and_no_one_elses(app, client, urls, api_error):
    kit = Kit(app, client)
    writer, other = kit.member(display_name="Dr Plume"), kit.member(display_name="Dr Autre")
    posted = client.post("/api/comments", json={"url": urls.POST_B, "text": SOURCE}, headers=writer.headers)
    assert posted.status_code == 201
    cid = posted.get_json()["comment"]["id"]
    assert own(client, cid, **writer.headers).get_json()["text"] == SOURCE
    api_error(own(client, cid, **other.headers), 403, "not_owner")


def test_a_dead_session_is_refused_rather_than_posting_as_a_guest(app, client, actions, urls, api_error):
    kit = Kit(app, client)
    member = kit.member(display_name="Dr Expirée")
    guest = actions.comment("Un invité.", url=urls.POST_B)["comment"]["id"]
    actions.sql("UPDATE sessions SET expires = '2000-01-01T00:00:00Z'")
    api_error(
        client.post("/api/comments", json={"url": urls.POST_B, "text": "Sans session"}, headers=member.headers),
        401, "not_signed_in",
    )
    assert client.get("/api/comments", query_string={"url": urls.POST_B}).get_json()["total"] == 1
    api_error(own(client, guest, **member.headers), 401, "not_signed_in")


def test_the_account_document_carries_the_badge_the_server_gives(app, client, tmp_path):
    """The widget's « Connecté·e » line shows `account.badge` as is: the server decides it, label and tooltip."""
    from tests.comments_service.verification_kit import CLAIRE, import_people

    import_people(app, tmp_path)
    kit = Kit(app, client)
    plain = kit.member(display_name="Dr Sans-Badge")
    assert client.get("/api/account", headers=plain.headers).get_json()["account"]["badge"] is None
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    badge = client.get("/api/account", headers=claire.headers).get_json()["account"]["badge"]
    assert badge["level"] == "verified" and badge["label"].startswith("Médecin vérifié")
    assert badge["title"] == "Inscription au RPPS vérifiée (membre fondateur, vérifié par l'administrateur du réseau)"


def test_the_writers_session_edits_and_deletes_within_the_window_and_no_other_does(app, client, actions, urls, api_error):
    kit = Kit(app, client)
    writer, other = kit.member(display_name="Dr Plume"), kit.member(display_name="Dr Autre")

    def post(text):
        response = client.post("/api/comments", json={"url": urls.POST_B, "text": text}, headers=writer.headers)
        assert response.status_code == 201
        return response.get_json()["comment"]["id"]

    cid, second, late = post(SOURCE), post("Un second."), post("Trop tard.")
    guest = actions.comment("Un invité.", url=urls.POST_B)["comment"]["id"]

    edited = client.patch(f"/api/comments/{cid}", json={"text": "Corrigé *ailleurs*."}, headers=writer.headers)
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["text"] == "Corrigé *ailleurs*." and "<em>ailleurs</em>" in edited.get_json()["comment"]["html"]

    for method in ("patch", "delete"):
        call = getattr(client, method)
        api_error(call(f"/api/comments/{cid}", json={"text": "Pirate"}, headers=other.headers), 403, "not_owner")
        api_error(call(f"/api/comments/{guest}", json={"text": "Pirate"}, headers=writer.headers), 403, "not_owner")
        api_error(call(f"/api/comments/{cid}", json={"text": "Anonyme"}), 401, "missing_token")
    api_error(client.patch("/api/comments/9999", json={"text": "x"}, headers=writer.headers), 404, "unknown_comment")

    actions.sql(
        "UPDATE comments SET created = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-20 minutes') WHERE id = ?", (late,)
    )
    api_error(client.patch(f"/api/comments/{late}", json={"text": "x"}, headers=writer.headers), 403, "edit_window_closed")
    api_error(client.delete(f"/api/comments/{late}", headers=writer.headers), 403, "edit_window_closed")

    deleted = client.delete(f"/api/comments/{second}", headers=writer.headers)
    assert deleted.get_json() == {"id": second, "deleted": True, "placeholder": False}
    texts = {c["id"]: c["html"] for c in actions.thread(urls.POST_B).get_json()["comments"]}
    assert second not in texts and "Pirate" not in str(texts) and "<em>ailleurs</em>" in texts[cid]

    actions.sql("UPDATE sessions SET expires = '2000-01-01T00:00:00Z' WHERE account_id = ?", (writer.id,))
    api_error(client.patch(f"/api/comments/{cid}", json={"text": "x"}, headers=writer.headers), 401, "not_signed_in")


def test_the_account_lists_its_own_comments_of_a_thread_and_nothing_else(app, client, actions, urls, api_error):
    kit = Kit(app, client)
    writer, other = kit.member(display_name="Dr Plume"), kit.member(display_name="Dr Autre")
    ids = []
    for member, url in ((writer, urls.POST_B), (other, urls.POST_B), (writer, urls.POST_A), (writer, urls.POST_B)):
        response = client.post("/api/comments", json={"url": url, "text": f"Texte {len(ids)}"}, headers=member.headers)
        assert response.status_code == 201
        ids.append(response.get_json()["comment"])
    actions.comment("Un invité.", url=urls.POST_B)

    listed = client.get("/api/account/comments", query_string={"url": urls.POST_B}, headers=writer.headers)
    assert listed.status_code == 200 and listed.headers["Cache-Control"] == "private, no-store"
    body = listed.get_json()
    assert body["url"] == urls.POST_B
    assert [c["id"] for c in body["comments"]] == [ids[0]["id"], ids[3]["id"]]
    first = body["comments"][0]
    assert first["editable_until"] == iso(parse_iso(ids[0]["created"]) + timedelta(minutes=15))
    assert set(first) == {"id", "status", "editable_until"}
    assert [c["id"] for c in client.get(
        "/api/account/comments", query_string={"url": urls.POST_B}, headers=other.headers
    ).get_json()["comments"]] == [ids[1]["id"]]

    api_error(client.get("/api/account/comments", query_string={"url": urls.POST_B}), 401, "not_signed_in")
    api_error(client.get("/api/account/comments", headers=writer.headers), 400, field="url")
    api_error(
        client.get("/api/account/comments", query_string={"url": "https://ailleurs.example/x"}, headers=writer.headers),
        404, "not_in_network",
    )
    thread = client.get("/api/comments", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert '"account_id"' not in thread and '"editable_until"' not in thread, "the public thread says whose nothing is"
