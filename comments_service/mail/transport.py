"""Mail transport: build an RFC 5322 message, and hand it to SMTP or write it as an .eml file.

Nothing here decides who gets what (mail/notices.py does) and nothing here touches the database: the
outbox gives a stored message, `send` delivers it or raises MailError. Messages are plain text (the letter
adds an HTML alternative), UTF-8, 8bit (readable as is in an .eml file; quoted-printable for a part with a line
past 998 octets), no tracking, one recipient each.

Settings (core/config.py, `CONFRERES_<KEY>`): SMTP_HOST, SMTP_PORT, SMTP_STARTTLS, SMTP_USER,
SMTP_PASSWORD, SMTP_FROM, SMTP_TIMEOUT; MAIL_DIR writes files instead (the demo: var/mail).
"""

from __future__ import annotations

import email.policy
import hashlib
import os
import re
import smtplib
import ssl
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from comments_service.core.config import mail_transport

LINE_MAX = 998  # octets of a line, CRLF excluded (RFC 5322 2.1.1, RFC 5321 4.5.3.1.6)
VERBATIM = frozenset({"list-unsubscribe", "list-unsubscribe-post", "message-id", "in-reply-to", "references"})


class _Policy(email.policy.EmailPolicy):
    """SMTP's policy, with header lines folded at 76 columns, under RFC 5322's 78 (folded at 998, as before, one
    encoded word of a French subject ran to 90 characters and more, past RFC 2047's 75), and some headers written by
    this class rather than by the email package's folder:

    - `VERBATIM` (a URL, message ids), as they are: folding a long token would encode it, and mail providers read the
      URL of List-Unsubscribe as written;
    - Subject, when it is not ASCII, as encoded words by `email.header.Header`: the folder of Python 3.11 drops the
      space between two encoded words it folds apart (« 1 réponse » read « 1réponse »). (From's name, « Confrères »,
      fits in one encoded word: never folded.)"""

    def _line(self, name: str, value) -> str | None:
        key, text, end = name.lower(), str(value), self.linesep
        if key in VERBATIM and text.isascii() and len(name) + 2 + len(text) <= LINE_MAX:
            return f"{name}: {text}{end}"
        if key == "subject" and not (self.utf8 or text.isascii()):
            return f"{name}: {Header(text, 'utf-8', maxlinelen=76, header_name=name).encode(linesep=end)}{end}"
        return None

    def fold(self, name, value):
        return self._line(name, value) or super().fold(name, value)

    def fold_binary(self, name, value):
        line = self._line(name, value)
        return line.encode("ascii") if line else super().fold_binary(name, value)


POLICY = _Policy(linesep="\r\n", max_line_length=76)


class MailError(Exception):
    """A mail that could not be handed over; it stays in the outbox for a later try.

    `relay_down`: the relay itself failed (refused, timed out, closed the connection, answered 421), not this
    mail: the next mails would fail the same way, each after up to SMTP_TIMEOUT, so the outbox stops its pass.
    """

    def __init__(self, message: str, relay_down: bool = False):
        super().__init__(message)
        self.relay_down = relay_down


def default_sender(comments_url: str) -> str:
    host = (urlsplit(comments_url).hostname or "localhost").lower()
    if host.replace(".", "").isdigit() or ":" in host or "." not in host:
        host = "localhost"
    return f"Confrères <ne-pas-repondre@{host}>"


def sender(config, comments_url: str) -> str:
    return str(config.get("SMTP_FROM") or "").strip() or default_sender(comments_url)


def is_address(value: str) -> bool:
    """Whether a setting (SMTP_REPLY_TO) is one address, with or without a name, that a header can hold."""
    found = getaddresses([value])
    if len(found) != 1 or "\n" in value or "\r" in value:
        return False
    local, at, domain = found[0][1].rpartition("@")
    return bool(at and local and "." in domain and found[0][1].isascii())


def reply_to(config) -> str:
    """SMTP_REPLY_TO: where a member's reply to a mail about their verification goes ("": none; the sender's
    address, `ne-pas-repondre@…` by default, is not read)."""
    return str(config.get("SMTP_REPLY_TO") or "").strip()


def build(
    *, sender: str, to: str, subject: str, text: str, headers: dict[str, str] | None = None, now: datetime | None = None,
    html: str | None = None, thread: str | None = None,
) -> str:
    """The whole message as text (CRLF lines, ASCII headers folded at 76, UTF-8 8bit body; with `html`,
    multipart/alternative). `thread` (a post's URL): the mail refers to that post's stable id (`thread_id`), so that
    mail clients show the mails about one post as one conversation.

    An address that is not ASCII (`josé@…`: the forms accept it) cannot be written in ASCII headers (an encoded word
    is not allowed in an address): the headers are then UTF-8 (RFC 6532), and `Relay` sends it with SMTPUTF8."""
    international = not (to.isascii() and parseaddr(sender)[1].isascii())  # the name is encoded anyway
    message = EmailMessage(policy=POLICY.clone(utf8=True) if international else POLICY)
    message["From"] = sender
    message["To"] = to
    message["Subject"] = " ".join(subject.split())  # no CR/LF can reach a header
    message["Date"] = format_datetime(now or datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    if thread:
        message["In-Reply-To"] = message["References"] = thread_id(thread, domain)
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    for key, value in (headers or {}).items():
        message[key] = value
    message.set_content(text, charset="utf-8", cte=_encoding(text))
    if html is not None:
        message.add_alternative(html, subtype="html", charset="utf-8", cte=_encoding(html))
    return message.as_bytes().decode("utf-8")


def thread_id(key: str, domain: str) -> str:
    """The message id that every mail about `key` (a post's URL) refers to (In-Reply-To, References), the way forges
    thread their notifications: Thunderbird, Apple Mail and the clients that thread by References group them under
    it (Gmail and Outlook also need the same subject). No mail bears it (a hash of the public URL, under the sender's
    domain)."""
    return f"<fil.{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def _encoding(body: str) -> str:
    """8bit (readable as is) when every line fits in 998 octets; quoted-printable otherwise (lines of 76): a line
    past 998 (a revocation's reason of 1,000 accented characters, say) is cut or refused by relays."""
    return "8bit" if all(len(line.encode("utf-8")) <= LINE_MAX for line in body.splitlines()) else "quoted-printable"


transport = mail_transport  # 'dir', 'smtp' or '' (core/config: the database records it too, core/identity)


def send(config, *, recipient: str, message: str, name: str, relay: Relay | None = None) -> None:
    """Deliver one stored message; `name` names its .eml file in MAIL_DIR mode; `relay` keeps the SMTP
    connection of a run of sends (outbox.deliver) instead of opening one per mail."""
    mode = transport(config)
    if mode == "dir":
        _write_file(Path(config["MAIL_DIR"]), name, message)
    elif mode == "smtp":
        (relay or Relay(config, keep=False)).send(recipient, message)
    else:
        raise MailError("no mail transport: set CONFRERES_SMTP_HOST (or CONFRERES_MAIL_DIR)")


def _write_file(folder: Path, name: str, message: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"{name}.eml"
        partial = folder / f".{name}.tmp"
        partial.write_bytes(message.encode("utf-8"))
        os.replace(partial, target)
    except OSError as exc:
        raise MailError(f"{folder}: {exc}") from None


class Relay:
    """The SMTP server, over one connection kept open for a run of mails (`keep`), closed after any error so
    the next mail starts afresh: a letter to 10,000 readers is not 10,000 connections and TLS handshakes."""

    def __init__(self, config, keep: bool = True):
        self.config = config
        self.keep = keep
        self.smtp: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        config = self.config
        smtp = smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=float(config["SMTP_TIMEOUT"]))
        try:
            smtp.ehlo()
            if config.get("SMTP_STARTTLS"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, recipient: str, message: str) -> None:
        envelope_from = parseaddr(message_header(message, "From"))[1]
        data = message.encode("utf-8")
        international = not (recipient.isascii() and envelope_from.isascii())
        while True:
            reused = self.smtp is not None
            try:
                if self.smtp is None:
                    self.smtp = self._open()
                options = ["BODY=8BITMIME"] if self.smtp.has_extn("8bitmime") else []
                if international:  # RFC 6531; without it smtplib raised UnicodeEncodeError, which ended the whole pass
                    if not self.smtp.has_extn("smtputf8"):
                        if not self.keep:
                            self.close()
                        raise MailError("an address that is not ASCII needs SMTPUTF8, which the relay does not offer")
                    options.append("SMTPUTF8")
                self.smtp.sendmail(envelope_from, [recipient], data, mail_options=options)
                break
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                if reused and isinstance(exc, (smtplib.SMTPServerDisconnected, ConnectionError)):
                    continue  # the server closed a kept connection (idle, or its per-connection cap): a new one
                if isinstance(exc, smtplib.SMTPException):  # itself an OSError: the relay answered, or hung up
                    down = isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError) or (
                        isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code == 421)
                else:  # refused, unreachable, timed out
                    down = True
                raise MailError(without_addresses(f"{type(exc).__name__}: {exc}"), relay_down=down) from None
        if not self.keep:
            self.close()

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (OSError, smtplib.SMTPException):
                self.smtp.close()
            self.smtp = None


ADDRESS = re.compile(r"""[^\s<>()\[\]{}",;:]+@[^\s<>()\[\]{}'",;:]+""")  # « jean.d'arc@… » whole


def without_addresses(text: str) -> str:
    """An SMTP error as the outbox keeps it (`last_error`) and the service logs it (journalctl): relays name the
    recipient (« 550 5.1.1 <jean@…>: Recipient address rejected », smtplib's refusals are keyed by it), and an
    address has no place in a log; the outbox row says whose mail it was."""
    return ADDRESS.sub("<adresse>", text)


def message_header(message: str, name: str) -> str:
    """A header of a built message, unfolded (a long From is on two lines)."""
    head = re.sub(r"\r\n(?=[ \t])", "", message.split("\r\n\r\n", 1)[0])
    prefix = name.lower() + ":"
    for line in head.split("\r\n"):
        if line.lower().startswith(prefix):
            return line[len(prefix):].strip()
    return ""
