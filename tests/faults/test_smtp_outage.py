"""The SMTP relay down, then refusing (4xx, then 5xx), then back (issue 12, item 3): mails wait in the outbox,
leave when it answers again, and none is sent twice, even with the background sender and cron at the same time.

A real aiosmtpd server on a fixed local port (tests/smtp.py), stopped and started again; while it refuses, its
handler answers DATA with the refusal, so the service meets a real SMTP error reply. Each mail is told apart by
the comment it is about (the text is quoted in it).
"""

from __future__ import annotations

import threading
import time

from comments_service.mail.outbox import deliver
from tests.conftest import Actions
from tests.smtp import Mailbox, SmtpServer, free_port

GUEST = "visiteur@example.org"
AUTHOR = "anne@dr-a.test"


class Relay(Mailbox):
    """A mailbox that can refuse: `refusal` is the SMTP reply given to DATA instead of accepting (None: accept)."""

    def __init__(self):
        super().__init__()
        self.refusal: str | None = None
        self.refused = 0

    async def handle_DATA(self, server, session, envelope):
        if self.refusal:
            self.refused += 1
            return self.refusal
        return await super().handle_DATA(server, session, envelope)


def waiting(actions) -> list:
    return actions.sql("SELECT id, attempts, last_error FROM outbox WHERE sent IS NULL ORDER BY id")


def wait_tried(actions, count: int) -> None:
    """The background sender has tried (and failed) `count` of the waiting mails at least once."""
    deadline = time.monotonic() + 20
    while len([r for r in waiting(actions) if r["attempts"] >= 1 and r["last_error"]]) < count:
        assert time.monotonic() < deadline, [dict(r) for r in waiting(actions)]
        time.sleep(0.05)


def test_mails_wait_while_smtp_is_down_or_refusing_and_leave_once_when_it_is_back(make_app, urls, confreres_for):
    port = free_port()  # nothing listens there yet
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_FROM="Confrères <ne-pas-repondre@blogs.test>",
                   SMTP_TIMEOUT=5)
    actions = Actions(app, app.test_client())
    actions.make_account(AUTHOR, role="author", sites=["dr-a"])
    send = confreres_for(app)
    texts = []

    def comment(text):
        texts.append(text)
        assert actions.comment(text, url=urls.POST_A, email=GUEST)["status"] == "pending"  # the author is mailed

    for n in range(3):
        comment(f"Pendant la panne, commentaire {n}")
    wait_tried(actions, 1)  # a pass stops at the relay's first failure: the others wait untried
    assert len(waiting(actions)) == 3 and any("Connection refused" in (r["last_error"] or "") for r in waiting(actions))

    relay = Relay()
    server = SmtpServer(port, relay).start()
    try:
        for refusal in ("451 4.3.0 Surcharge temporaire, réessayez", "554 5.7.1 Relais refusé"):
            relay.refusal = refusal
            comment(f"Pendant le refus {refusal[:3]}")
            wait_tried(actions, len(texts))
            result = send("notify", "send")
            assert result.exit_code == 1 and f"0 e-mail(s) envoyé(s), {len(texts)} en échec" in result.output
            assert refusal[:3] in waiting(actions)[-1]["last_error"]
        assert relay.mails == [] and relay.refused >= 2 * len(texts)

        relay.refusal = None  # back: the cron command and the background sender race for the same mails
        racing = [threading.Thread(target=deliver, args=(app.config,)) for _ in range(2)]
        for thread in racing:
            thread.start()
        result = send("notify", "send")
        for thread in racing:
            thread.join(30)
        assert result.exit_code == 0, result.output
        relay.settle(0.5)
        assert waiting(actions) == []
        assert send("notify", "send").output.startswith("0 e-mail(s) envoyé(s), 0 en échec, 0 en attente")

        comment("Après le retour du relais")  # the background sender, at once
        relay.wait(len(texts))
        mails = relay.settle(0.5)
    finally:
        server.stop()
    assert all(mail.recipients == [AUTHOR] for mail in mails)
    about = {text: sum(text in mail.text for mail in mails) for text in texts}
    assert about == dict.fromkeys(texts, 1), about  # every mail once, none twice
    assert len(mails) == len(texts)


def test_a_relay_that_accepts_and_never_answers_costs_a_sending_pass_one_timeout_not_one_per_mail(make_app, urls):
    """A relay that takes the connection and says nothing (no greeting): the first mail waits SMTP_TIMEOUT, and
    the pass stops there; without that, cron's pass and the background sender would each wait once per mail."""
    from tests.faults.slow_server import SlowServer
    from tests.faults.test_slow_sources import finishes_within

    timeout = 1.0
    with SlowServer() as relay:
        app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=relay.port, SMTP_TIMEOUT=timeout, MAIL_SEND="cron",
                       SMTP_FROM="Confrères <ne-pas-repondre@blogs.test>")
        actions = Actions(app, app.test_client())
        actions.make_account(AUTHOR, role="author", sites=["dr-a"])
        for n in range(8):
            actions.comment(f"Relais muet {n}", url=urls.POST_A, email=GUEST)
        counts = finishes_within(3 * timeout, lambda: deliver(app.config))
    assert counts == {"sent": 0, "failed": 1, "dropped": 0}
    assert len(waiting(actions)) == 8, "every mail still waits for the next pass"
