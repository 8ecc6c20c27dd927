"""A comment withdrawn (deleted, rejected, spam) or edited before its notification leaves the outbox (an SMTP outage,
CONFRERES_MAIL_SEND=cron) is not mailed with its old text: the mail is dropped when it would leave, and the notices
it carried to a blog author wait for their next daily digest, which tells what is still there as it reads now.
Through a real SMTP server and the real `confreres notify` commands."""

import pytest

from tests.conftest import Actions
from tests.smtp import SmtpServer, free_port

GUEST = "lecteur@exemple.fr"
SECRET = "Le texte retiré qui ne doit plus partir"


@pytest.fixture
def app(make_app, smtp):
    return make_app(**smtp.config, MAIL_SEND="cron")  # nothing leaves before `confreres notify send`


@pytest.fixture
def anne(actions):
    return actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"], name="Dr Anne A")


def _asked(actions, urls):
    """A guest's approved comment on blog B (no moderation there), with confirmed reply notices."""
    actions.sql("INSERT INTO mail_addresses (email, created, confirmed) VALUES (?, 'x', 'x')", (GUEST,))
    return actions.comment("Une question", url=urls.POST_B, author="Paul", email=GUEST, notify=True) | {"url": urls.POST_B}


def _send(confreres):
    result = confreres("notify", "send")
    assert result.exit_code == 0, result.output
    return result


def test_a_reply_deleted_before_its_mail_leaves_is_never_mailed(actions, smtp, urls, confreres):
    reply = actions.reply(_asked(actions, urls), SECRET, author="Jeanne")
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'reply' AND sent IS NULL")[0][0] == 1
    assert actions.delete(reply["comment"]["id"], reply["edit_token"]).status_code in (200, 204)

    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if SECRET in m.text]
    assert not smtp.mailbox.to(GUEST)
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'reply'")[0][0] == 0, "dropped, not kept to retry"
    assert actions.sql("SELECT COUNT(*) FROM outbox_comments")[0][0] == 0


def test_a_reply_to_a_comment_deleted_meanwhile_does_not_quote_it(actions, smtp, urls, confreres):
    asked = _asked(actions, urls)
    actions.reply(asked, "Une réponse", author="Jeanne")
    actions.sql("UPDATE comments SET status = 'deleted' WHERE id = ?", (asked["comment"]["id"],))
    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if "Une question" in m.text]


def test_a_reply_edited_before_its_mail_leaves_is_not_mailed_with_its_old_text(actions, smtp, urls, confreres):
    reply = actions.reply(_asked(actions, urls), SECRET, author="Jeanne")
    assert actions.edit(reply["comment"]["id"], reply["edit_token"], "Une réponse sans nom").status_code == 200

    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if SECRET in m.text]
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'reply'")[0][0] == 0


def test_a_reply_left_alone_still_leaves(actions, smtp, urls, confreres):
    actions.reply(_asked(actions, urls), "Une réponse", author="Jeanne")
    _send(confreres)
    mail = smtp.mailbox.expect(to=GUEST, subject="vous a répondu")
    assert "> Une réponse" in mail.text and "> Une question" in mail.text


@pytest.mark.parametrize("decision", ["rejected", "spam"])
def test_a_pending_comment_rejected_before_its_moderation_mail_leaves_is_not_mailed(
    actions, anne, smtp, urls, confreres, decision
):
    body = actions.comment(SECRET, url=urls.POST_A, author="Paul", email=GUEST)
    assert body["status"] == "pending"
    actions.set_status(body["comment"]["id"], decision)

    _send(confreres)
    assert not [m for m in smtp.mailbox.mails if SECRET in m.text]
    assert not smtp.mailbox.to("anne@dr-a.test")


def test_a_pending_comment_approved_meanwhile_is_still_told(actions, anne, smtp, urls, confreres):
    body = actions.comment("Rien de secret", url=urls.POST_A, author="Paul", email=GUEST)
    actions.approve(body["comment"]["id"])
    _send(confreres)
    assert "> Rien de secret" in smtp.mailbox.expect(to="anne@dr-a.test").text


def test_an_edited_comment_goes_to_the_next_digest_with_its_new_text(actions, anne, smtp, urls, confreres):
    body = actions.comment(SECRET, url=urls.POST_A, author="Paul", email=GUEST)
    assert actions.edit(body["comment"]["id"], body["edit_token"], "Une patiente, vue hier").status_code == 200

    _send(confreres)
    assert not smtp.mailbox.mails, "the mail quoting the old text is dropped"
    result = confreres("notify", "digest")
    assert result.exit_code == 0, result.output
    (digest,) = smtp.mailbox.wait(1)
    assert digest.recipients == ["anne@dr-a.test"]
    assert "Une patiente, vue hier" in digest.text and SECRET not in digest.text


def test_a_digest_waiting_through_an_outage_leaves_out_a_comment_deleted_meanwhile(make_app, urls, confreres_for):
    port = free_port()  # nothing listens there yet: the digest waits in the outbox
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="Confrères <ne-pas-repondre@blogs.test>")
    actions = Actions(app, app.test_client())
    anne = actions.make_account("anne@dr-a.test", role="author", sites=["dr-a"])
    actions.sql("UPDATE accounts SET notify_comments = 'daily' WHERE id = ?", (anne["id"],))
    gone = actions.comment(SECRET, url=urls.POST_A, author="Paul", email=GUEST)
    actions.comment("Un commentaire qui reste", url=urls.POST_A, author="Jeanne")
    confreres = confreres_for(app)
    assert confreres("notify", "digest").exit_code != 0, "the relay is down: the digest waits"
    assert actions.sql("SELECT COUNT(*) FROM outbox WHERE kind = 'digest' AND sent IS NULL")[0][0] == 1

    assert actions.delete(gone["comment"]["id"], gone["edit_token"]).status_code in (200, 204)
    server = SmtpServer(port).start()
    try:
        _send(confreres)
        assert server.mailbox.mails == [], "the digest quoting the deleted comment is dropped"
        result = confreres("notify", "digest")
        assert result.exit_code == 0, result.output
        (digest,) = server.mailbox.wait(1)
        assert "Un commentaire qui reste" in digest.text and SECRET not in digest.text
        assert digest.subject == "Résumé du jour : 1 nouveau commentaire, 1 à valider"
    finally:
        server.stop()
