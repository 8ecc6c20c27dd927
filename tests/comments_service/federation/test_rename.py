"""A member whose answer to a fediverse reply was pushed to its author (a `Create` of its Note, under their name) then
takes a pseudonym, or another name: the remote server gets an `Update` of that Note under the new name, else it would
keep the real name behind the pseudonym beside the comment. Only those pushed answers; nothing for an account with
none; a new activity id each time; a federation that fails never fails the rename (federation/answers.py)."""

from __future__ import annotations

import json
import logging
from datetime import datetime

from click.testing import CliRunner

from confreres.cli import cli
from tests.comments_service.federation.conftest import wait_for
from tests.comments_service.federation.test_notes import moderate
from tests.comments_service.federation.test_replies import activity, note, posts
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, KARIM, Kit, import_people
from tests.conftest import SECRET

REAL = "Éléonore Quintard-Valmore"
PSEUDO = "Stéthoscope bleu"
EMAIL = "eleonore@cabinet-secret.test"


def _scene(make_service, peer, tmp_path, **config):
    """A blog open to all, Alice's reply to its post from the fediverse (approved), and the member's answer to it,
    pushed to Alice's server under the member's real name. (service, kit, member, the answer's id, Alice's comment)"""
    service = make_service(MODERATION="none", **config)
    assert service.announce("dr-a", posts(service)).status_code == 200
    import_people(service.app, tmp_path)
    kit = Kit(service.app, service.app.test_client())
    member = kit.member(email=EMAIL, display_name=REAL)
    post_url = service.url("/dr-a/ouvert.html")
    ((article,),) = service.sql("SELECT object_id FROM fed_articles WHERE post_url = ?", (post_url,))
    reply = note(peer, 1, article)
    assert peer.post(service.url("/comments/ap/inbox"), activity(peer, "Create", reply, 1)).status_code == 202
    ((remote_comment,),) = service.sql("SELECT c.id FROM comments c JOIN fed_comments f ON f.comment_id = c.id")
    moderate(service, remote_comment, "approved")
    answer = kit.client.post("/api/comments", json={"url": post_url, "text": "Merci Alice.", "parent": remote_comment},
                             headers=member.headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    # the member's comment on the post itself: a Note only fetched (under the current name), never pushed
    assert kit.client.post("/api/comments", json={"url": post_url, "text": "Et pour tous."},
                           headers=member.headers).status_code == 201
    [created] = wait_for(lambda: peer.of_type("Create"))
    assert REAL in created.activity["object"]["content"]
    return service, kit, member, answer.get_json()["comment"]["id"], remote_comment


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _delivered(service) -> int:
    ((count,),) = service.sql("SELECT COUNT(*) FROM fed_activities")
    return count


def test_a_pseudonym_reaches_the_note_pushed_to_the_fediverse(make_service, peer, tmp_path):
    service, kit, member, answer_id, _ = _scene(make_service, peer, tmp_path)
    note_id = service.url(f"/comments/ap/comments/{answer_id}")
    earlier = {d.activity["id"] for d in peer.received}
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    peer.received.clear()

    # declared as a physician under a pseudonym (the API), then vouched for: every comment shows the pseudonym
    assert kit.declare(member, CANDIDATE, "QUINTARD-VALMORE", "Éléonore", display_name=PSEUDO).status_code == 200
    assert kit.vouch(claire, member, "Quintard-Valmore").status_code == 201
    assert kit.vouch(karim, member, "Quintard-Valmore").status_code == 201
    served = kit.client.get(f"/ap/comments/{answer_id}", headers={"Accept": "application/activity+json"}).get_json()
    assert PSEUDO in served["content"] and REAL not in served["content"]

    [update] = wait_for(lambda: peer.of_type("Update"))
    assert update.verified, update.problem
    sent = update.activity
    doc = sent["object"]
    assert doc["id"] == note_id and doc["type"] == "Note", "only the answer pushed before, not the comment on the post"
    assert f"<strong>{PSEUDO}</strong> a commenté" in doc["content"]
    body = update.body.decode()
    assert REAL not in body and "Quintard" not in body and EMAIL not in body, "never the real name, nor the e-mail"
    assert _when(doc["updated"]) > _when(doc["published"]) and sent["id"].startswith(note_id + "#update-rename-")
    assert sent["id"] not in earlier, "a new activity: servers drop an id they have seen"
    assert doc["tag"] == [{"type": "Mention", "href": peer.actor_id, "name": doc["tag"][0]["name"]}]
    assert peer.actor_id in sent["cc"] and sent["actor"] == service.actor_url("dr-a")

    # another name later (the account's API): another Update, its own id, a later `updated`
    earlier |= {sent["id"]}
    peer.received.clear()
    renamed = kit.client.patch("/api/account", json={"display_name": "Dr Bleu"}, headers=member.headers)
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    [again] = wait_for(lambda: peer.of_type("Update"))
    assert "<strong>Dr Bleu</strong>" in again.activity["object"]["content"] and PSEUDO not in again.body.decode()
    assert again.activity["id"] not in earlier and _when(again.activity["object"]["updated"]) > _when(doc["updated"])

    # the same name again, or other fields only: no rename, nothing sent
    count = _delivered(service)
    assert kit.client.patch("/api/account", json={"display_name": "Dr Bleu", "interests": "Sommeil"},
                            headers=member.headers).status_code == 200
    assert _delivered(service) == count


def test_an_account_with_no_pushed_answer_queues_nothing(make_service, peer, tmp_path):
    service, kit, _, _, remote_comment = _scene(make_service, peer, tmp_path)
    other = kit.member(email="paul@exemple.test", display_name="Paul Durand")
    post_url = service.url("/dr-a/ouvert.html")
    peer.received.clear()
    # a comment on the post and an answer to a local comment: Notes only fetched, pushed nowhere
    top = kit.client.post("/api/comments", json={"url": post_url, "text": "Un avis."}, headers=other.headers)
    assert top.status_code == 201
    assert kit.client.post("/api/comments", json={"url": post_url, "text": "Et moi.", "parent": top.get_json()[
        "comment"]["id"]}, headers=other.headers).status_code == 201
    assert not wait_for(lambda: peer.received, timeout=1.0)
    count = _delivered(service)
    assert kit.client.patch("/api/account", json={"display_name": "Paul D."}, headers=other.headers).status_code == 200
    assert service.sql("SELECT DISTINCT author_name FROM comments WHERE account_id = ?", (other.id,)) == [("Paul D.",)]
    assert _delivered(service) == count, "nothing queued"

    # an answer to Alice that was pushed, then rejected by a moderator (its Delete went): no longer shown, not updated
    held = kit.client.post("/api/comments", json={"url": post_url, "text": "Pas sûr.", "parent": remote_comment},
                           headers=other.headers)
    assert held.status_code == 201 and wait_for(lambda: peer.of_type("Create"))
    moderate(service, held.get_json()["comment"]["id"], "rejected")
    count = _delivered(service)
    assert kit.client.patch("/api/account", json={"display_name": "P. D."}, headers=other.headers).status_code == 200
    assert _delivered(service) == count, "nothing queued"
    assert not wait_for(lambda: peer.of_type("Update"), timeout=1.0)


def test_a_failing_federation_never_fails_the_rename(make_service, peer, tmp_path, caplog):
    service, kit, member, answer_id, _ = _scene(make_service, peer, tmp_path)
    # the outgoing queue refuses every write (as a full disk would): the rename is committed before it is tried
    service.sql("CREATE TRIGGER no_queue BEFORE INSERT ON fed_activities BEGIN SELECT RAISE(ABORT, 'plein'); END")
    peer.received.clear()
    with caplog.at_level(logging.ERROR):
        renamed = kit.client.patch("/api/account", json={"display_name": PSEUDO}, headers=member.headers)
    assert renamed.status_code == 200, renamed.get_data(as_text=True)
    assert renamed.get_json()["account"]["display_name"] == PSEUDO
    assert service.sql("SELECT author_name FROM comments WHERE id = ?", (answer_id,)) == [(PSEUDO,)]
    assert "after-commit listener failed on account.renamed" in caplog.text


def test_a_rename_from_the_command_line_is_queued_too(make_service, peer, tmp_path):
    service, _, _, answer_id, _ = _scene(make_service, peer, tmp_path)
    peer.received.clear()
    env = {"CONFRERES_NETWORK": str(service.network.source), "CONFRERES_DB": service.app.config["DB"],
           "CONFRERES_SECRET_KEY": SECRET, "CONFRERES_RATE_LIMIT": "off", "CONFRERES_FEDERATION_SEND": "cron",
           "CONFRERES_OUTGOING_ALLOW_HOSTS": "127.0.0.1", "CONFRERES_MAIL_DIR": str(tmp_path / "mail")}

    def confreres(*args):
        result = CliRunner().invoke(cli, ["--network", str(service.network.source), *args], env=env,
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result

    confreres("admin", "create", EMAIL, "--role", "member", "--name", PSEUDO)  # (sending left to cron, below)
    activities = [json.loads(a) for (a,) in service.sql("SELECT activity FROM fed_activities WHERE activity LIKE ?",
                                                        ("%update-rename-%",))]
    assert [a["object"]["id"] for a in activities] == [service.url(f"/comments/ap/comments/{answer_id}")]
    assert PSEUDO in activities[0]["object"]["content"] and REAL not in json.dumps(activities[0], ensure_ascii=False)
    confreres("federation", "deliver")  # what cron runs
    [update] = wait_for(lambda: peer.of_type("Update"))
    assert update.verified and PSEUDO in update.activity["object"]["content"]
