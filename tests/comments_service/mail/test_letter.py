"""« La lettre des confrères » through a real SMTP server: subscribe (double opt-in), receive, unsubscribe."""

from __future__ import annotations

import pytest

from tests.comments_service.mail.letter_kit import NEW_A, NEW_A_ANSWER, NEW_B, recent_posts, subscribe


@pytest.fixture
def mail_app(make_app, smtp):
    return make_app(**smtp.config)


@pytest.fixture
def reader(mail_app, smtp):
    from tests.conftest import Actions

    return Actions(mail_app, mail_app.test_client(), smtp.mailbox)


def letters(smtp, to=None):
    return [m for m in smtp.mailbox.mails if "La lettre des confrères" in m.subject and not m.subject.startswith("Confirmez")
            and (to is None or m.recipients == [to])]


def test_subscribe_confirm_receive(mail_app, reader, smtp, confreres_for):
    recent_posts(mail_app)
    subscribe(reader, "lectrice@example.org")
    result = confreres_for(mail_app)("letter", "send")
    assert result.exit_code == 0, result.output
    (mail,) = letters(smtp)
    print(result.output)
    print(mail.raw.decode())
