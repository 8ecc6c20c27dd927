"""The outbox keeps one SMTP connection per run (transport.Relay), over a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import time

from aiosmtpd.controller import Controller

from comments_service.mail import transport
from tests.smtp import Mailbox, free_port


class Counting(Mailbox):
    """Counts the SMTP sessions (one EHLO each)."""

    def __init__(self):
        super().__init__()
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sessions += 1
        session.host_name = hostname
        return responses


def test_one_connection_for_many_mails_and_a_new_one_when_the_server_drops_it():
    mailbox, port = Counting(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, ready_timeout=10, timeout=1)
    controller.start()
    config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_TIMEOUT": 5}
    relay = transport.Relay(config)
    try:
        for n in range(5):
            message = transport.build(sender="Confrères <a@blogs.test>", to=f"r{n}@example.org", subject="Essai", text="Essai.\n")
            relay.send(f"r{n}@example.org", message)
        assert len(mailbox.wait(5)) == 5 and mailbox.sessions == 1
        time.sleep(1.5)  # the server closes the idle connection the relay kept
        relay.send("r5@example.org", message)
        assert len(mailbox.wait(6)) == 6 and mailbox.sessions == 2
    finally:
        relay.close()
        controller.stop()
