"""The outbox keeps a mail's copy 30 days (mail/outbox.KEEP_SENT), as docs/comments.md says, and `confreres notify
send` (its timer, every 5 minutes) is what purges it: a sent copy 30 days after it left, and a mail that never could
leave (its address refused for good by the relay) 30 days after it was queued, where it was retried every pass and
kept, with its text and its address, for ever. Through a real relay that refuses it, and the command cron runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller

from comments_service.domain.posts import iso, utcnow
from tests.comments_service.web.test_logs_private import Refusing
from tests.smtp import free_port


@pytest.fixture
def relay():
    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    yield {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port}
    controller.stop()


@pytest.fixture
def app(make_app, relay):
    return make_app(**relay, MAIL_SEND="cron")


def ago(days: int) -> str:
    return iso(utcnow() - timedelta(days=days))


def test_notify_send_purges_what_the_outbox_keeps_past_30_days(actions, confreres, urls):
    actions.comment("Prévenez-moi", url=urls.POST_B, author="Irène", email="irene.refusee@exemple.fr", notify=True)
    actions.comment("Moi aussi", url=urls.POST_A, author="Hugo", email="hugo.refuse@exemple.fr", notify=True)
    (old, recent) = [row["id"] for row in actions.sql("SELECT id FROM outbox WHERE kind = 'confirm' ORDER BY id")]
    actions.sql("UPDATE outbox SET created = ? WHERE id = ?", (ago(31), old))
    actions.sql("UPDATE outbox SET created = ? WHERE id = ?", (ago(29), recent))
    for days in (31, 29):
        actions.sql("INSERT INTO outbox (kind, recipient, recipient_key, subject, message, created, sent)"
                    " VALUES ('reply', ?, ?, 's', 'Réponse citée', ?, ?)",
                    (f"copie{days}@exemple.fr", f"copie{days}@exemple.fr", ago(days + 1), ago(days)))

    result = confreres("notify", "send")
    assert "0 e-mail(s) envoyé(s), 1 en échec, 1 en attente." in result.output, result.output  # tried: Hugo's only
    left = {row["recipient"]: row["attempts"] for row in actions.sql("SELECT recipient, attempts FROM outbox")}
    assert left == {"hugo.refuse@exemple.fr": 1, "copie29@exemple.fr": 0}, (
        "the copy sent 31 days ago and the mail refused for 31 days are gone; the others wait their turn"
    )


def test_a_sent_mail_keeps_no_text_in_the_outbox(make_app, smtp, urls):
    """A blog author's notice quoted the comment; its writer deleted it at once, but the sent copy kept the words for
    30 days in the database (and its nightly copies). Once handed to the relay, a mail's text is erased; its row keeps
    what the caps and the export read (kind, recipient, subject, dates)."""
    from tests.comments_service.web.test_account import sent
    from tests.conftest import Actions

    app = make_app(**smtp.config)
    guest = Actions(app, app.test_client(), smtp.mailbox)
    author = guest.make_account("auteur.b@exemple.fr", role="author", sites=("dr-b",))
    assert author["email"] == "auteur.b@exemple.fr"
    written = guest.comment("Ce que je retire aussitôt écrit", url=urls.POST_B, author="Irène", email="irene@exemple.fr")
    notice = smtp.mailbox.expect(to="auteur.b@exemple.fr")
    assert "Ce que je retire" in notice.text
    sent(guest, "new_comment")  # marked sent by the background sender once the relay took it
    assert guest.delete(written["comment"]["id"], written["edit_token"]).status_code == 200
    rows = [dict(row) for row in guest.sql("SELECT kind, recipient, subject, message, sent FROM outbox")]
    assert rows and all(row["sent"] and row["message"] == "" for row in rows), rows
    assert "retire" not in str(rows)
