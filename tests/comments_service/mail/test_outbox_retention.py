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
