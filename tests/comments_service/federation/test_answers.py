"""A local answer to a reply that came from Mastodon reaches that reply's author: a signed `Create` of the answer's
Note, mentioning them, in their inbox, once the answer is approved, then its Update and Delete; nothing for a comment
awaiting moderation, nor for an answer to a local comment."""

from __future__ import annotations

import httpx

from comments_service.core import events
from tests.comments_service.federation.conftest import wait_for
from tests.comments_service.federation.test_notes import comment, moderate
from tests.comments_service.federation.test_replies import activity, note, posts


def test_an_answer_to_a_fediverse_reply_is_delivered_to_its_author(make_service, peer):
    service = make_service(MODERATION="first-comment")
    assert service.announce("dr-a", posts(service)).status_code == 200
    post_url = service.url("/dr-a/ouvert.html")
    ((article,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    reply = note(peer, 1, article)
    assert peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", reply, 1)).status_code == 202
    ((remote_comment, status),) = service.sql("SELECT c.id, c.status FROM comments c JOIN fed_comments f"
                                             " ON f.comment_id = c.id")
    assert status == "pending"
    moderate(service, remote_comment, "approved")  # a moderator's yes
    peer.received.clear()

    # a first-time guest answering: held for moderation, sent nowhere
    held = comment(service, post_url, "Je ne suis pas d'accord.", author="Un lecteur", parent=remote_comment)
    assert held["comment"]["status"] == "pending"
    # a guest already approved on this blog (moderation « first-comment »): shown at once, and sent
    moderate(service, held["comment"]["id"], "approved")
    answer = comment(service, post_url, "Merci Alice, bien vu.", author="Un lecteur", parent=remote_comment)
    assert answer["comment"]["status"] == "approved", answer
    created = wait_for(lambda: peer.of_type("Create"))
    assert len(created) == 1 and created[0].verified, created[0].problem
    sent = created[0].activity
    doc = sent["object"]
    assert doc["id"] == service.url(f"/comments/ap/comments/{answer['comment']['id']}") and sent["id"] == doc["id"] + "#create"
    assert doc["inReplyTo"] == reply["id"], "it answers Alice's Note"
    assert doc["tag"] == [{"type": "Mention", "href": peer.actor_id, "name": doc["tag"][0]["name"]}]
    assert peer.actor_id in sent["cc"] and sent["actor"] == service.actor_url("dr-a")
    assert "jeanne@example.test" not in created[0].body.decode(), "never an e-mail"

    # the held one, approved by a moderator later (the moderation pages emit comment.moderated): sent then
    peer.received.clear()
    with service.app.app_context():
        events.emit("comment.moderated", comment_id=held["comment"]["id"], action="approve", status="approved")
    later = wait_for(lambda: peer.of_type("Create"))
    assert [d.activity["object"]["id"] for d in later] == [service.url(f"/comments/ap/comments/{held['comment']['id']}")]

    # its writer edits it, then deletes it: the Update and the Delete follow it to Alice's server
    peer.received.clear()
    edited = httpx.patch(service.url(f"/comments/api/comments/{answer['comment']['id']}"),
                         json={"text": "Merci Alice, très bien vu."}, headers={"X-Edit-Token": answer["edit_token"]})
    assert edited.status_code == 200, edited.text
    [update] = wait_for(lambda: peer.of_type("Update"))
    assert update.verified and "très bien vu" in update.activity["object"]["content"]
    assert httpx.delete(service.url(f"/comments/api/comments/{answer['comment']['id']}"),
                        headers={"X-Edit-Token": answer["edit_token"]}).status_code in (200, 204)
    [delete] = wait_for(lambda: peer.of_type("Delete"))
    assert delete.verified and delete.activity["object"] == {"id": doc["id"], "type": "Tombstone"}

    # an answer to a local comment: nothing for anyone
    local = comment(service, post_url, "Un avis.", author="Un lecteur")["comment"]
    peer.received.clear()
    assert comment(service, post_url, "Entre lecteurs.", author="Un lecteur", parent=local["id"])["comment"]["status"] \
        == "approved"
    assert not wait_for(lambda: peer.of_type("Create"), timeout=1.0)
