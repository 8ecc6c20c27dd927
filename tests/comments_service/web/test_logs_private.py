"""What the service writes to its logs (journalctl) holds no credential and no e-mail address: gunicorn's access
log, run with the unit's settings (comments_service/gunicorn_conf.py), writes paths without their query string, where
every mailed link carries its token (signed, not encrypted: the address it is for reads in it); an SMTP relay's
refusal, which names the recipient, is logged and kept without it."""

from __future__ import annotations

import base64
import logging
import socket
import time
from urllib.parse import quote

import httpx
from aiosmtpd.controller import Controller

from tests.comments_service.web.test_logging_gunicorn import NETWORK_TOML, SECRET
from tests.conftest import Actions
from tests.gunicorn import Gunicorn, environment
from tests.smtp import Mailbox, SmtpServer, free_port


def test_the_access_log_keeps_no_token_and_no_address(tmp_path):
    (tmp_path / "network.toml").write_text(NETWORK_TOML, encoding="utf-8")
    smtp = SmtpServer().start()
    try:
        env = environment(SECRET_KEY=SECRET, NETWORK=tmp_path / "network.toml", DB=tmp_path / "comments.sqlite3",
                          RATE_LIMIT="off", **smtp.config)
        with Gunicorn(env, tmp_path / "gunicorn.log", workers=1) as service:
            assert httpx.post(f"{service.url}/api/auth/request", json={"email": "dr.secret@example.fr"}).status_code == 202
            mail = smtp.mailbox.expect(to="dr.secret@example.fr", subject="connexion")
            link = mail.link("/auth/verify?token=")
            token = link.split("token=", 1)[1]
            opened = httpx.get(f"{service.url}/auth/verify", params={"token": token},
                               headers={"Referer": f"{service.url}/auth/verify?token={token}"})
            assert opened.status_code == 200
            unsubscribe = mail.header("List-Unsubscribe").strip("<>").split("?", 1)[1]
            assert httpx.get(f"{service.url}/notify/unsubscribe?{unsubscribe}").status_code == 200
            deadline = time.monotonic() + 10
            while "/notify/unsubscribe" not in service.output() and time.monotonic() < deadline:
                time.sleep(0.05)
            output = service.output()
    finally:
        smtp.stop()
    assert '"GET /auth/verify HTTP/1.1" 200' in output and '"GET /notify/unsubscribe HTTP/1.1" 200' in output, output
    assert '"POST /api/auth/request HTTP/1.1" 202' in output, output
    payload = token.split(".", 1)[0]
    assert "dr.secret@example.fr" in base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode(), (
        "the token spells out the address: why it must stay out of the log"
    )
    for secret in (token, payload, unsubscribe.split("=", 1)[1][:20], "dr.secret", "token="):
        assert secret not in output, (secret, output)


def test_a_path_cannot_write_lines_of_its_own_in_the_access_log(tmp_path):
    """The access log writes the decoded path: `%0A` in it made a new line, a forged entry of the journal (another
    address, a moderation that never happened); it is written escaped, on the request's own line."""
    (tmp_path / "network.toml").write_text(NETWORK_TOML, encoding="utf-8")
    env = environment(SECRET_KEY=SECRET, NETWORK=tmp_path / "network.toml", DB=tmp_path / "comments.sqlite3",
                      RATE_LIMIT="off")
    forged = '203.0.113.9 - - [07/Dec/2026:10:00:00 +0000] "POST /moderation/1 HTTP/1.1" 303 0 "Mozilla"'
    with Gunicorn(env, tmp_path / "gunicorn.log", workers=1) as service:
        path = "/forge%0D%0A" + quote(forged) + "%1B%5B2J"
        with socket.create_connection(("127.0.0.1", service.port)) as raw:  # as nginx passes it on, undecoded
            raw.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
            assert raw.recv(100).startswith(b"HTTP/1.1 404")
        deadline = time.monotonic() + 10
        while "/forge" not in service.output() and time.monotonic() < deadline:
            time.sleep(0.05)
        output = service.output()
    (line,) = [line for line in output.splitlines() if "/forge" in line]
    assert '"GET /forge\\x0d\\x0a203.0.113.9 - - ' in line and '\\x1b[2J HTTP/1.1" 404 ' in line, line
    assert not any(line.startswith("203.0.113.9") for line in output.splitlines()), output
    assert "\x1b" not in output


class Refusing(Mailbox):
    """A relay that refuses every recipient as Postfix does, naming it."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown in virtual mailbox table"


def test_a_relays_refusal_is_kept_and_logged_without_the_address(make_app, caplog):
    from comments_service.mail.outbox import deliver

    port = free_port()
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    try:
        app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=port, MAIL_SEND="cron")
        guest = Actions(app, app.test_client())
        assert guest.request_link("dr.inconnu@example.fr").status_code == 202
        with caplog.at_level(logging.WARNING):
            assert deliver(app.config)["failed"] == 1
    finally:
        controller.stop()
    (row,) = guest.sql("SELECT last_error FROM outbox")
    assert "550" in row["last_error"] and "Recipient address rejected" in row["last_error"], row["last_error"]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "not sent" in logged and "Recipient address rejected" in logged, logged
    assert "dr.inconnu" not in row["last_error"] + logged
