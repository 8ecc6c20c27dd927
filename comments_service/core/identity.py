"""What the database records of the configuration it runs with, checked whenever an app opens it.

The service and its timers read their settings from /etc/confreres/env (systemd's EnvironmentFile). A command run by
hand without it silently got another configuration: a secret key of its own (var/secret_key), so the links it mailed
(sign-in, « ne plus rien recevoir », moderation) were refused by the real service, and mails written to var/mail/
and counted as sent. The database now keeps, in `service_settings` (migration m030):

- `secret_key`: an HMAC-SHA256 of a constant under the secret key, never the key. It tells two keys apart and no more:
  the database already holds values keyed by the same secret (IP, RPPS and e-mail hashes), so it adds no new way of
  guessing it;
- `mail_transport`: "smtp" once a process configured with SMTP opened the database.

The first app to open a database records them; an app with another key, or one that would write the mails to files
(MAIL_DIR) where SMTP is recorded, stops at start with one ConfigError line (gunicorn prints it, the CLI as
« Erreur : … »). `SECRET_KEY_ACCEPT` (given only by `confreres service accept-settings`, never by the environment)
records the present ones instead: a deliberate change. `SETTINGS_BY_COMMAND` (given only by `confreres service
accept-settings` and `rotate-key`) leaves both to the command, which checks and records them in the transaction
that re-keys what the key keyed (domain/rekey.py): a new key recorded and the RPPS hashes re-keyed, or neither.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import UTC, datetime

from comments_service.core.config import ConfigError, mail_transport
from comments_service.core.db import connect, write

log = logging.getLogger(__name__)

FINGERPRINT_MESSAGE = b"confreres-secret-key-fingerprint-v1"
LOAD_ENV = "Load the service's environment first (set -a; . /etc/confreres/env; set +a)"


def fingerprint(secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()


def recorded(db) -> dict[str, str]:
    """The recorded settings, by name."""
    return dict(db.execute("SELECT name, value FROM service_settings").fetchall())


def _wanted(config) -> dict[str, str | None]:
    return {"secret_key": fingerprint(str(config["SECRET_KEY"])),
            "mail_transport": "smtp" if mail_transport(config) == "smtp" else None}


def mismatch(config, found: dict[str, str]) -> str | None:
    """'secret_key' or 'mail_transport': the recorded setting this configuration contradicts; None when none does."""
    if found.get("secret_key") not in (None, _wanted(config)["secret_key"]):
        return "secret_key"
    if found.get("mail_transport") == "smtp" and mail_transport(config) == "dir":
        return "mail_transport"
    return None


def _refusal(config, found: dict[str, str]) -> str | None:
    which = mismatch(config, found)
    where = config["DB"]
    if which == "secret_key":
        local = config.get("SECRET_KEY_FILE")
        source = f" (CONFRERES_SECRET_KEY is not set: the key of {local})" if local else ""
        return (f"{where}: this database was set up with another secret key than this process's{source}; the links it "
                "would sign (sign-in, unsubscribe, moderation) would be refused. "
                f"{LOAD_ENV}; if the key was changed on purpose, run `confreres service rotate-key` (or, the old key "
                "lost, `confreres service accept-settings`; docs/operating.md).")
    if which == "mail_transport":
        return (f"{where}: this database's mail goes out by SMTP, but this process would write it as files in "
                f"{config['MAIL_DIR']} and count it as sent. {LOAD_ENV}; to stop using SMTP on purpose, run "
                "`confreres service accept-settings` (docs/operating.md).")
    return None


def record(db, config, *, replace: bool) -> None:
    """Write the present settings: the missing ones (`replace` False), or all of them (a deliberate change)."""
    verb = "INSERT OR REPLACE" if replace else "INSERT OR IGNORE"
    with write(db):
        for name, value in _wanted(config).items():
            if value is not None:
                db.execute(f"{verb} INTO service_settings (name, value, recorded) VALUES (?, ?, ?)",
                           (name, value, datetime.now(UTC).isoformat(timespec="seconds")))
            elif replace:
                db.execute("DELETE FROM service_settings WHERE name = ?", (name,))


def record_key(db, secret: str) -> None:
    """Inside the caller's transaction: `secret`'s fingerprint becomes the database's (a key changed on purpose)."""
    with write(db):
        db.execute("INSERT OR REPLACE INTO service_settings (name, value, recorded) VALUES ('secret_key', ?, ?)",
                   (fingerprint(secret), datetime.now(UTC).isoformat(timespec="seconds")))


def init_app(app) -> None:
    """Check (or record) the database's settings against the app's; ConfigError when they differ."""
    config = app.config
    db = connect(config["DB"])
    try:
        if not db["service_settings"].exists():  # not migrated yet (AUTO_MIGRATE off, before init-db)
            return
        if config.get("SETTINGS_BY_COMMAND"):  # accept-settings, rotate-key: checked and recorded by the command
            return
        found = recorded(db)
        if config.get("SECRET_KEY_ACCEPT"):
            record(db, config, replace=True)
            log.warning("recorded this process's secret key and mail transport (%s) as the database's",
                        mail_transport(config) or "none")
            return
        refusal = _refusal(config, found)
        if refusal:
            raise ConfigError(refusal)
        wanted = _wanted(config)
        if any(value is not None and found.get(name) != value for name, value in wanted.items()):
            record(db, config, replace=False)
            refusal = _refusal(config, recorded(db))  # another process recorded its own in between
            if refusal:
                raise ConfigError(refusal)
    finally:
        db.close()
