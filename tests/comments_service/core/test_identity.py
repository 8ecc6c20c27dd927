"""The database records a fingerprint of its secret key and its mail transport; an app with other ones stops at start.

A command run by hand without /etc/confreres/env used to get another configuration silently: a key of its own (its
links refused by the service) and mails written to files. Real SQLite files, real apps (create_app).
"""

from __future__ import annotations

import pytest

from comments_service.core import identity
from comments_service.core.config import ConfigError
from comments_service.core.db import connect
from tests.conftest import SECRET


def settings(app) -> dict[str, str]:
    db = connect(app.config["DB"])
    try:
        return identity.recorded(db)
    finally:
        db.close()


def test_the_first_app_records_a_fingerprint_of_its_key_never_the_key(app):
    recorded = settings(app)
    assert recorded["secret_key"] == identity.fingerprint(SECRET)
    assert SECRET not in str(recorded) and "mail_transport" not in recorded  # no transport configured: nothing said
    assert identity.fingerprint(SECRET) != identity.fingerprint(SECRET + "x")


def test_an_app_with_another_key_stops_with_one_line_and_changes_nothing(make_app):
    app = make_app()
    before = settings(app)
    with pytest.raises(ConfigError) as refused:
        make_app(SECRET_KEY="another-key-made-by-a-command-run-by-hand")
    line = str(refused.value)
    assert "\n" not in line and app.config["DB"] in line
    assert "another secret key" in line and "set -a; . /etc/confreres/env; set +a" in line
    assert "confreres service accept-settings" in line
    assert settings(app) == before
    make_app()  # the right key still opens it


def test_a_command_named_its_local_key_file(make_app, tmp_path):
    make_app()
    with pytest.raises(ConfigError, match=r"CONFRERES_SECRET_KEY is not set: the key of /x/var/secret_key"):
        make_app(SECRET_KEY="local", SECRET_KEY_FILE="/x/var/secret_key")


def test_mails_are_not_written_to_files_where_smtp_is_recorded(make_app, tmp_path):
    app = make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=9)
    assert settings(app)["mail_transport"] == "smtp"
    with pytest.raises(ConfigError, match="mail goes out by SMTP, but this process would write it as files in "):
        make_app(MAIL_DIR=str(tmp_path / "mail"))
    assert not (tmp_path / "mail").exists()
    make_app()  # no transport at all: the mails wait in the outbox, and `notify send` says it has no transport


def test_a_change_on_purpose_is_recorded_and_the_old_key_then_refused(make_app, tmp_path):
    make_app(SMTP_HOST="127.0.0.1", SMTP_PORT=9)
    app = make_app(SECRET_KEY="the-new-key", MAIL_DIR=str(tmp_path / "mail"), SECRET_KEY_ACCEPT=True)
    assert settings(app) == {"secret_key": identity.fingerprint("the-new-key")}  # SMTP no longer recorded
    make_app(SECRET_KEY="the-new-key", MAIL_DIR=str(tmp_path / "mail"))
    with pytest.raises(ConfigError, match="another secret key"):
        make_app()


def test_the_environment_cannot_accept_any_key(make_app, monkeypatch):
    """Left in /etc/confreres/env, such a switch would accept whatever key a command has: only the command gives it."""
    make_app()
    monkeypatch.setenv("CONFRERES_SECRET_KEY_ACCEPT", "1")
    with pytest.raises(ConfigError, match="another secret key"):
        make_app(SECRET_KEY="another")


def test_a_database_not_migrated_yet_is_left_to_init_db(network_file, tmp_path):
    from comments_service import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "NETWORK": str(network_file),
                      "DB": str(tmp_path / "later.sqlite3"), "AUTO_MIGRATE": False})
    db = connect(app.config["DB"])
    try:
        assert not db["service_settings"].exists()
    finally:
        db.close()
