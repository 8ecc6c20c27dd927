"""A real local SMTP server for the tests (aiosmtpd), and the mailbox it fills.

The service talks to it over a socket exactly as it would to a production relay: nothing of ours is
mocked. `SmtpServer(port).start()` listens on 127.0.0.1; `stop()` closes it (to test an outage).
"""

from __future__ import annotations

import email
import email.policy
import re
import socket
import threading
import time
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://[^\s<>\"']+")
ADDRESS = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Mail:
    envelope_from: str
    recipients: list[str]
    raw: bytes
    message: email.message.EmailMessage = field(repr=False)

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        return self.message.get_body(("plain",)).get_content()

    def header(self, name: str) -> str | None:
        value = self.message[name]
        return None if value is None else str(value)

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.text)

    def link(self, containing: str) -> str:
        found = [url for url in self.links if containing in url]
        assert found, f"no link with {containing!r} in:\n{self.text}"
        return found[0]

    def addresses(self) -> set[str]:
        """Every e-mail address anywhere in the message: headers, body, envelope (not the message ids: Message-ID,
        In-Reply-To, References)."""
        text = re.sub(r"(?im)^(message-id|in-reply-to|references):.*$", "", self.raw.decode("utf-8", "replace"))
        return {a.lower() for a in ADDRESS.findall(text)} | {
            r.lower() for r in self.recipients
        }


class Mailbox:
    """What the server received, with waits (the service sends from a background thread)."""

    def __init__(self):
        self.mails: list[Mail] = []
        self._cond = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        raw = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        mail = Mail(envelope.mail_from, list(envelope.rcpt_tos), raw,
                    email.message_from_bytes(raw, policy=email.policy.default))
        with self._cond:
            self.mails.append(mail)
            self._cond.notify_all()
        return "250 Message accepted"

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Mail]:
        """At least `count` mails in all; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.mails) < count:
                left = deadline - time.monotonic()
                assert left > 0, f"expected {count} mail(s), got {len(self.mails)}: {[m.subject for m in self.mails]}"
                self._cond.wait(left)
            return list(self.mails)

    def expect(
        self, to: str | None = None, subject: str | None = None, timeout: float = 10.0, since: int = 0
    ) -> Mail:
        """The first mail (from the `since`-th on) to `to` whose subject contains `subject`, waiting for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for mail in self.mails[since:]:
                    if (to is None or mail.recipients == [to]) and (subject is None or subject in mail.subject):
                        return mail
                left = deadline - time.monotonic()
                assert left > 0, (
                    f"no mail to {to!r} about {subject!r}; got {[(m.recipients, m.subject) for m in self.mails]}"
                )
                self._cond.wait(left)

    def to(self, address: str) -> list[Mail]:
        with self._cond:
            return [m for m in self.mails if m.recipients == [address]]

    def settle(self, seconds: float = 0.5) -> list[Mail]:
        """Wait until no mail arrived for `seconds`; return them all."""
        while True:
            with self._cond:
                before = len(self.mails)
                self._cond.wait(seconds)
                if len(self.mails) == before:
                    return list(self.mails)


class SmtpServer:
    """`smtputf8`: the server offers SMTPUTF8 (RFC 6531: addresses that are not ASCII), as Postfix does (aiosmtpd's
    Controller does by default); False: a relay that does not."""

    def __init__(self, port: int | None = None, mailbox: Mailbox | None = None, smtputf8: bool = True):
        self.port = port or free_port()
        self.mailbox = mailbox or Mailbox()
        self.smtputf8 = smtputf8
        self._controller: Controller | None = None

    @property
    def config(self) -> dict:
        """The service's settings to send through this server."""
        return {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_FROM": "Confrères <ne-pas-repondre@blogs.test>"}

    def start(self) -> SmtpServer:
        self._controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port, ready_timeout=10,
                                      enable_SMTPUTF8=self.smtputf8)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
