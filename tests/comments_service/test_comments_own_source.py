"""A comment's Markdown source and edit deadline go to its owner only (the widget edits from them).

Owner: whoever holds the edit token (X-Edit-Token or Authorization: Bearer), or the session of the
account that wrote it. Threads, feeds and every other public read never carry `text` nor
`editable_until` (the privacy scan in test_verification_privacy.py covers every GET route).
"""

from __future__ import annotations

from datetime import timedelta

from comments_service.store import iso, parse_iso
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
    api_error(own(client, cid), 403, "missing_token")
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
    api_error(own(client, cid, **other.headers), 403, "missing_token")


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
