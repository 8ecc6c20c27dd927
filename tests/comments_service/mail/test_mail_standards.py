"""The mails as mail clients and providers read them, captured by a real SMTP server (aiosmtpd) and parsed by
Python's `email` package: addresses that are not ASCII (RFC 6531/6532)."""

from __future__ import annotations

import email
import email.policy

import pytest

from tests.conftest import Actions
from tests.smtp import SmtpServer

JOSE = "josé@exemple.fr"


def test_an_address_that_is_not_ascii_gets_its_mail_over_smtputf8(make_app, smtp):
    app = make_app(**smtp.config)  # the relay offers SMTPUTF8
    actions = Actions(app, app.test_client(), smtp.mailbox)
    assert actions.request_link(JOSE).status_code == 202
    mail = smtp.mailbox.expect(to=JOSE, subject="connexion")
    assert f"\r\nTo: {JOSE}\r\n".encode() in mail.raw, "written as is (RFC 6532), not as an encoded word"
    parsed = email.message_from_string(mail.raw.decode("utf-8"), policy=email.policy.default)  # as such clients do
    assert parsed["To"].addresses[0].addr_spec == JOSE and parsed["Subject"] == "Votre lien de connexion à Confrères"
    assert mail.link("/auth/verify")


@pytest.fixture
def relay_ascii():
    server = SmtpServer(smtputf8=False).start()
    yield server
    server.stop()


def test_without_smtputf8_only_that_mail_waits_and_the_others_leave(make_app, relay_ascii, confreres_for):
    smtp = relay_ascii
    app = make_app(**smtp.config, MAIL_SEND="cron")
    actions = Actions(app, app.test_client(), smtp.mailbox)
    assert actions.request_link(JOSE).status_code == 202
    assert actions.request_link("paul@exemple.fr").status_code == 202
    run = confreres_for(app)
    result = run("notify", "send")  # smtplib's UnicodeEncodeError used to end the pass with a traceback
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "1 e-mail(s) envoyé(s), 1 en échec" in result.output, result.output
    (paul,) = smtp.mailbox.settle(0.3)
    assert paul.recipients == ["paul@exemple.fr"]
    assert paul.raw.split(b"\r\n\r\n", 1)[0].isascii(), "an ASCII address keeps ASCII headers (RFC 2047 words)"
    (row,) = actions.sql("SELECT recipient, sent, last_error FROM outbox WHERE sent IS NULL")
    assert row["recipient"] == JOSE and "SMTPUTF8" in row["last_error"]
    again = run("notify", "send")
    assert "0 e-mail(s) envoyé(s), 1 en échec" in again.output, "retried, still waiting, never a traceback"
