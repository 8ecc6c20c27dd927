"""A received Webmention rejected, marked spam, deleted (by a moderator, or because its source is gone) or changed by
its source before its notification leaves the outbox (an SMTP outage, CONFRERES_MAIL_SEND=cron) is not mailed with
what it said: the mail is dropped when it would leave, as for comments (test_notices_withdrawn.py), and the notices it
carried wait for the author's next daily digest, which tells what is still there as it reads now.

Real mentions (a page served on loopback, sent as a Webmention, verified by the service's drain), a real SMTP server
and the real `confreres notify` commands.
"""

from __future__ import annotations

import pytest

from comments_service.actions import mentions as mention_actions
from comments_service.core.db import connect
from comments_service.domain import mentions as mention_store
from tests.comments_service.mail.test_notices_mentions import send
from tests.conftest import Actions
from tests.loopback import LoopbackServer
from tests.smtp import SmtpServer, free_port

SECRET = "Le texte retiré qui ne doit plus partir"


@pytest.fixture
def server():
    with LoopbackServer() as running:
        yield running


@pytest.fixture
def app(make_app, smtp, server):
    # nothing leaves before `confreres notify send`
    return make_app(**smtp.config, WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False, MAIL_SEND="cron")


@pytest.fixture
def anne(actions):
    return actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")


def _send(confreres):
    result = confreres("notify", "send")
    assert result.exit_code == 0, result.output
    return result


def _decide(app, mention_id: int, status: str | None) -> None:
    """A moderator's decision (domain/mentions.py): a status, or None to delete the mention."""
    db = connect(app.config["DB"])
    try:
        if status is None:
            mention_store.remove_mention(db, mention_id)
        else:
            mention_store.set_mention_status(db, mention_id, status)
    finally:
        db.close()


def _waiting(actions, kind: str) -> int:
    return actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = ? AND sent IS NULL", (kind,))[0][0]


@pytest.mark.parametrize("decision", ["rejected", "spam", None])
def test_a_mention_withdrawn_before_its_mail_leaves_is_not_mailed(actions, anne, smtp, server, urls, confreres,
                                                                  decision):
    result = send(actions.app, server, "/sur-a.html", urls.POST_A, SECRET)
    assert result["status"] == "pending" and _waiting(actions, "new_mention") == 1
    _decide(actions.app, result["mention"], decision)

    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if SECRET in m.text]
    assert not smtp.mailbox.to("anne@dr-a.test")
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'new_mention'")[0][0] == 0, "dropped, not kept"
    assert actions.sql("SELECT COUNT(*) FROM outbox_mentions")[0][0] == 0


def test_a_mention_whose_source_is_gone_before_its_mail_leaves_is_not_mailed(actions, anne, smtp, server, urls,
                                                                             confreres):
    send(actions.app, server, "/sur-a.html", urls.POST_A, SECRET)
    server.route("/sur-a.html", "<p>Page retirée</p>", status=410)
    actions.app.test_client().post("/webmention", data={"source": server.url("/sur-a.html"), "target": urls.POST_A})
    (gone,) = mention_actions.drain(actions.app)
    assert gone["result"] == "deleted", gone
    assert actions.sql("SELECT COUNT(*) FROM mentions")[0][0] == 0

    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if SECRET in m.text]


def test_a_mention_changed_by_its_source_goes_to_the_next_digest_with_its_new_text(actions, anne, smtp, server, urls,
                                                                                  confreres):
    send(actions.app, server, "/sur-a.html", urls.POST_A, SECRET)
    again = send(actions.app, server, "/sur-a.html", urls.POST_A, "Je cite le blog A, sans nom.")
    assert again["result"] == "updated"

    _send(confreres)
    assert not smtp.mailbox.mails, "the mail quoting what the source said before is dropped"
    result = confreres("notify", "digest")
    assert result.exit_code == 0, result.output
    (digest,) = smtp.mailbox.wait(1)
    assert digest.recipients == ["anne@dr-a.test"]
    assert "Je cite le blog A, sans nom." in digest.text and SECRET not in digest.text


def test_a_mention_left_alone_or_approved_meanwhile_still_leaves(actions, anne, smtp, server, urls, confreres):
    approved = send(actions.app, server, "/un.html", urls.POST_A, "Approuvée entre-temps.")
    send(actions.app, server, "/deux.html", urls.POST_A2, "Laissée telle quelle.")
    _decide(actions.app, approved["mention"], "approved")
    _send(confreres)
    assert "Approuvée entre-temps." in smtp.mailbox.expect(to="anne@dr-a.test", subject="Premier billet").text
    assert "Laissée telle quelle." in smtp.mailbox.expect(to="anne@dr-a.test", subject="Second billet").text


def test_a_digest_waiting_through_an_outage_leaves_out_a_mention_rejected_meanwhile(make_app, server, urls,
                                                                                    confreres_for):
    port = free_port()  # nothing listens there yet: the digest waits in the outbox
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="Confrères <ne-pas-repondre@blogs.test>",
                   WEBMENTION_ALLOW_HOSTS=server.host, WEBMENTION_WORKER=False)
    actions = Actions(app, app.test_client())
    anne = actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"])
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (anne["id"],))
    rejected = send(app, server, "/un.html", urls.POST_A, SECRET)
    send(app, server, "/deux.html", urls.POST_A2, "Une mention qui reste.")
    confreres = confreres_for(app)
    assert confreres("notify", "digest").exit_code != 0, "the relay is down: the digest waits"
    assert _waiting(actions, "digest") == 1
    _decide(app, rejected["mention"], "rejected")

    relay = SmtpServer(port).start()
    try:
        _send(confreres)
        assert relay.mailbox.mails == [], "the digest quoting the rejected mention is dropped"
        result = confreres("notify", "digest")
        assert result.exit_code == 0, result.output
        (digest,) = relay.mailbox.wait(1)
        assert "Une mention qui reste." in digest.text and SECRET not in digest.text
        assert digest.subject == "Résumé du jour : 1 mention à valider"
    finally:
        relay.stop()
