"""A member whose answer to a fediverse reply was pushed to its author (a `Create` of its Note, under their name) then
deletes their account: keeping their comments anonymised, the remote server gets an `Update` of that Note under
« Compte supprimé »; erasing them, a `Delete` of it (also when a placeholder stays where others replied). Else the
remote server would keep the name, and the text the member wanted gone. Nothing for an account with no pushed answer;
a federation that fails never fails the deletion (actions/accounts.py, federation/answers.py)."""

from __future__ import annotations

import logging
from datetime import datetime

from tests.comments_service.federation.conftest import wait_for
from tests.comments_service.federation.test_notes import moderate
from tests.comments_service.federation.test_replies import activity, note, posts
from tests.comments_service.verification_kit import Kit

REAL = "Éléonore Quintard-Valmore"
EMAIL = "eleonore@cabinet-secret.test"
DELETED = "Compte supprimé"


def _scene(make_service, peer, **config):
    """A blog open to all and Alice's reply to its post from the fediverse (approved). (service, kit, Alice's
    comment)"""
    service = make_service(MODERATION="none", **config)
    assert service.announce("dr-a", posts(service)).status_code == 200
    kit = Kit(service.app, service.app.test_client())
    ((article,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (_post(service),))
    reply = note(peer, 1, article)
    assert peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", reply, 1)).status_code == 202
    ((remote_comment,),) = service.sql("SELECT c.id FROM comments c JOIN fed_comments f ON f.comment_id = c.id")
    moderate(service, remote_comment, "approved")
    return service, kit, remote_comment


def _post(service) -> str:
    return service.url("/dr-a/ouvert.html")


def _comment(service, kit, member, text: str, parent: int | None = None) -> int:
    body = {"url": _post(service), "text": text} | ({"parent": parent} if parent is not None else {})
    posted = kit.client.post("/api/comments", json=body, headers=member.headers)
    assert posted.status_code == 201, posted.get_data(as_text=True)
    return posted.get_json()["comment"]["id"]


def _answer(service, kit, peer, member, text: str, remote_comment: int) -> int:
    """The member's answer to Alice, pushed to her server (a Create under the member's name)."""
    peer.received.clear()
    answer_id = _comment(service, kit, member, text, remote_comment)
    [created] = wait_for(lambda: peer.of_type("Create"))
    assert created.activity["object"]["id"] == _note_id(service, answer_id)
    return answer_id


def _note_id(service, comment_id: int) -> str:
    return service.url(f"/comments/ap/comments/{comment_id}")


def _delete(kit, member, choice: str):
    return kit.client.delete("/api/account", json={"comments": choice}, headers=member.headers)


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _delivered(service) -> int:
    ((count,),) = service.sql("SELECT COUNT(*) FROM fed_activities")
    return count


def test_keeping_the_comments_anonymises_the_note_pushed_to_the_fediverse(make_service, peer):
    service, kit, remote_comment = _scene(make_service, peer)
    # an answer written as a guest with the same address, before signing up: the deletion anonymises it too
    peer.received.clear()
    guest = kit.client.post("/api/comments", json={"url": _post(service), "text": "Avant mon compte.",
                                                   "parent": remote_comment, "author": "Éléonore Q.", "email": EMAIL})
    assert guest.status_code == 201, guest.get_data(as_text=True)
    guest_id = guest.get_json()["comment"]["id"]
    assert wait_for(lambda: peer.of_type("Create"))
    member = kit.member(email=EMAIL, display_name=REAL)
    answer_id = _answer(service, kit, peer, member, "Merci Alice, je vous rappelle.", remote_comment)
    assert REAL in peer.of_type("Create")[0].activity["object"]["content"]
    _comment(service, kit, member, "Et pour tous.")  # on the post itself: a Note only fetched, never pushed
    earlier = {d.activity["id"] for d in peer.received}
    peer.received.clear()

    deleted = _delete(kit, member, "keep")
    assert deleted.status_code == 200, deleted.get_data(as_text=True)
    assert deleted.get_json()["comments_anonymised"] == 3
    assert service.sql("SELECT 1 FROM accounts WHERE id = ?", (member.id,)) == []

    updates = wait_for(lambda: len(peer.of_type("Update")) >= 2 and peer.of_type("Update"))
    assert sorted(u.activity["object"]["id"] for u in updates) == [_note_id(service, i) for i in (guest_id, answer_id)]
    [guest_update] = [u for u in updates if u.activity["object"]["id"] == _note_id(service, guest_id)]
    assert f"<strong>{DELETED}</strong>" in guest_update.activity["object"]["content"]
    assert "Éléonore" not in guest_update.body.decode() and EMAIL not in guest_update.body.decode()
    [update] = [u for u in updates if u.activity["object"]["id"] == _note_id(service, answer_id)]
    assert update.verified, update.problem
    sent, doc = update.activity, update.activity["object"]
    assert doc["type"] == "Note" and len(peer.received) == 2, "only the answers pushed before"
    assert f"<strong>{DELETED}</strong> a commenté" in doc["content"] and "je vous rappelle" in doc["content"]
    body = update.body.decode()
    assert REAL not in body and "Quintard" not in body and EMAIL not in body, "neither the name nor the e-mail"
    assert sent["id"] not in earlier and sent["id"].startswith(doc["id"] + "#update-")
    assert _when(doc["updated"]) > _when(doc["published"]), "later than the Create: the server keeps this version"
    assert peer.actor_id in sent["cc"] and sent["actor"] == service.actor_url("dr-a")
    assert doc["tag"][0]["href"] == peer.actor_id
    assert not wait_for(lambda: peer.of_type("Delete"), timeout=0.5)
    # what the remote server got is what the Note now serves
    served = kit.client.get(f"/ap/comments/{answer_id}", headers={"Accept": "application/activity+json"}).get_json()
    assert served["content"] == doc["content"]


def test_erasing_the_comments_deletes_the_notes_pushed_to_the_fediverse(make_service, peer):
    service, kit, remote_comment = _scene(make_service, peer)
    first = kit.member(email=EMAIL, display_name=REAL)
    kept = _answer(service, kit, peer, first, "Je garde ceci.", remote_comment)
    member = kit.member(email="paul@exemple.test", display_name="Paul Durand")
    alone = _answer(service, kit, peer, member, "Ce que je regrette d'avoir écrit.", remote_comment)
    answered = _answer(service, kit, peer, member, "Une précision.", remote_comment)
    _comment(service, kit, first, "Merci Paul.", answered)  # a placeholder will stay there
    peer.received.clear()

    deleted = _delete(kit, member, "erase")
    assert deleted.status_code == 200, deleted.get_data(as_text=True)
    assert deleted.get_json()["comments_removed"] == 2
    assert service.sql("SELECT id FROM comments WHERE id = ?", (alone,)) == []
    assert service.sql("SELECT status FROM comments WHERE id = ?", (answered,)) == [("deleted",)]

    deletes = wait_for(lambda: len(peer.of_type("Delete")) >= 2 and peer.of_type("Delete"))
    assert sorted(d.activity["object"]["id"] for d in deletes) == sorted(
        _note_id(service, i) for i in (alone, answered))
    for sent in deletes:
        assert sent.verified, sent.problem
        assert sent.activity["object"]["type"] == "Tombstone" and sent.activity["actor"] == service.actor_url("dr-a")
        assert peer.actor_id in sent.activity["cc"]
        assert "Paul" not in sent.body.decode() and "regrette" not in sent.body.decode()
    assert not wait_for(lambda: peer.of_type("Update"), timeout=0.5)
    assert _note_id(service, kept) not in {d.activity["object"]["id"] for d in peer.received}, "not the other's"


def test_an_account_with_no_pushed_answer_queues_nothing(make_service, peer):
    service, kit, remote_comment = _scene(make_service, peer)
    member = kit.member(email="paul@exemple.test", display_name="Paul Durand")
    # a comment on the post and an answer to a local comment: Notes only fetched, pushed nowhere
    top = _comment(service, kit, member, "Un avis.")
    _comment(service, kit, member, "Et moi.", top)
    # an answer to Alice that was pushed, then rejected by a moderator: no longer shown
    rejected = _answer(service, kit, peer, member, "Pas sûr.", remote_comment)
    moderate(service, rejected, "rejected")
    peer.received.clear()
    count = _delivered(service)

    assert _delete(kit, member, "keep").status_code == 200
    assert _delivered(service) == count, "nothing queued"
    other = kit.member(email="jeanne@exemple.test", display_name="Jeanne Martin")
    _comment(service, kit, other, "Bonjour.")
    assert _delete(kit, other, "erase").status_code == 200
    assert _delivered(service) == count, "nothing queued"
    assert not wait_for(lambda: peer.received, timeout=1.0)


def test_a_failing_federation_never_fails_the_deletion(make_service, peer, caplog):
    service, kit, remote_comment = _scene(make_service, peer)
    keeper = kit.member(email=EMAIL, display_name=REAL)
    kept = _answer(service, kit, peer, keeper, "Merci.", remote_comment)
    eraser = kit.member(email="paul@exemple.test", display_name="Paul Durand")
    erased = _answer(service, kit, peer, eraser, "À effacer.", remote_comment)
    # the outgoing queue refuses every write (as a full disk would): the deletion is committed before it is tried
    service.sql("CREATE TRIGGER no_queue BEFORE INSERT ON fed_activities BEGIN SELECT RAISE(ABORT, 'plein'); END")
    peer.received.clear()
    with caplog.at_level(logging.ERROR):
        assert _delete(kit, keeper, "keep").status_code == 200
        assert _delete(kit, eraser, "erase").status_code == 200
    assert service.sql("SELECT 1 FROM accounts WHERE id IN (?, ?)", (keeper.id, eraser.id)) == []
    assert service.sql("SELECT author_name FROM comments WHERE id = ?", (kept,)) == [(DELETED,)]
    assert service.sql("SELECT 1 FROM comments WHERE id = ?", (erased,)) == []
    assert caplog.text.count("after-commit listener failed on account.deleted") == 2
