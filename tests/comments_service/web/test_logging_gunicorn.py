"""The service's log under gunicorn, as `journalctl -u confreres-comments` shows it: every line with its time and level.

Python's last-resort handler printed the service's warnings bare (« mail signin to outbox #1 not sent: … », no time,
no level) and dropped its INFO lines, so the migrations applied at start were never logged. The app now writes
through gunicorn's error log (comments_service.configure_logging). A real gunicorn, as deploy/systemd runs it.
"""

from __future__ import annotations

import re
import time

import httpx

from tests.conftest import NETWORK_TOML, SECRET
from tests.gunicorn import Gunicorn, environment
from tests.smtp import free_port

STAMP = r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] "  # gunicorn's: [time] [pid] [LEVEL] message


def test_migrations_and_warnings_are_logged_with_time_and_level(tmp_path):
    (tmp_path / "network.toml").write_text(NETWORK_TOML, encoding="utf-8")
    env = environment(SECRET_KEY=SECRET, NETWORK=tmp_path / "network.toml", DB=tmp_path / "comments.sqlite3",
                      RATE_LIMIT="off", SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())  # nothing listens: refused
    with Gunicorn(env, tmp_path / "gunicorn.log", workers=1) as service:
        assert httpx.post(f"{service.url}/api/auth/request", json={"email": "dr.a@example.fr"}).status_code == 202
        deadline = time.monotonic() + 20  # the background sender tries after the commit
        while "not sent" not in service.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        output = service.output()
    lines = output.splitlines()
    assert re.search(STAMP + r"\[INFO\] applied migration m001_initial$", output, re.M), output
    assert re.search(STAMP + r"\[INFO\] applied migration m030_service_settings$", output, re.M), output
    refused = [line for line in lines if "not sent" in line]
    assert refused and all(re.match(STAMP + r"\[WARNING\] mail signin to outbox #1 not sent: ", line)
                           for line in refused), output
