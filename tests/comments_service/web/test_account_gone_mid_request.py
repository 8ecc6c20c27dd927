"""An account deleted while one of its requests waits for its turn to write, under real gunicorn.

A worker reads the session (its account) before its write transaction; the account can be deleted in between (the
member deletes it from another tab, an admin removes it) while the request waits for the writers' lock. The write
must then be refused as a dead session (401 `not_signed_in`, as the widget knows it), not fail on the account's
foreign key with a 500, and nothing is stored under the gone account.

The interleaving is made, not hoped for: the test holds the writers' lock file beside the database (core/db.py), waits
until the kernel lists the worker blocked on it (/proc/locks), deletes the account by the domain's own code on a
connection that does not take the lock (SQLite still orders the two writes), then lets the worker go.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from comments_service import create_app
from comments_service.core.db import connect
from comments_service.domain import accounts
from comments_service.domain import verification as verify
from comments_service.domain.rpps import import_directory
from tests.comments_service.directory_kit import CANDIDATE, CLAIRE, write_extract
from tests.conftest import POST_B, seeded_service
from tests.gunicorn import Gunicorn, environment

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.skipif(not Path("/proc/locks").exists(), reason="needs Linux's /proc/locks")


@pytest.fixture
def service(tmp_path):
    network_file, db_path = seeded_service(tmp_path)
    import_directory(write_extract(tmp_path / "PS_LibreAcces_Personne_activite_202611230000.txt"),
                     str(tmp_path / "directory.sqlite3"))  # the DIRECTORY_DB beside DB, for RPPS declarations
    secret = "race-" + os.urandom(8).hex()
    env = environment(NETWORK=network_file, DB=db_path, SECRET_KEY=secret, RATE_LIMIT="off",
                      READ_RATE_LIMIT="off", MODERATION="none", MAIL_SEND="cron")
    env["PYTHONPATH"] = str(ROOT)
    with Gunicorn(env, tmp_path / "gunicorn.log") as server:
        server.app_config = {"NETWORK": str(network_file), "DB": str(db_path), "SECRET_KEY": secret,
                             "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off", "MAIL_SEND": "cron"}
        yield server, db_path


def _blocked_on(path: Path) -> bool:
    """Whether some process waits for a flock on `path` (a `->` line of /proc/locks names its inode)."""
    st = os.stat(path)
    device_inode = (os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if "->" in fields and fields[fields.index("->") + 1] == "FLOCK":
            major, minor, inode = fields[-3].split(":")
            if (int(major, 16), int(minor, 16), int(inode)) == device_inode:
                return True
    return False


def _while_the_write_waits(db_path: Path, send, meanwhile) -> httpx.Response:
    """Hold the writers' turn, `send()` in a thread, run `meanwhile()` once the worker waits for it, release."""
    lock_path = Path(f"{db_path}.writers-lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    answer: list = []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        thread = threading.Thread(target=lambda: answer.append(send()))
        thread.start()
        deadline = time.monotonic() + 30
        while not _blocked_on(lock_path):
            assert time.monotonic() < deadline, "the worker never reached its write"
            time.sleep(0.01)
        meanwhile()
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    thread.join(30)
    return answer[0]


def _account(db_path: Path, email: str, role: str = "member") -> tuple[int, str]:
    db = connect(str(db_path))
    try:
        row, _ = accounts.ensure_account(db, email, role=role, display_name="Dr Partie")
        token, _ = accounts.create_session(db, row["id"], "bearer", 30)
        return row["id"], token
    finally:
        db.close()


def _delete_without_taking_the_turn(db_path: Path, account_id: int) -> None:
    db = connect(str(db_path))
    db.writers_lock = None  # the test holds the turn; SQLite's own lock still orders this write
    try:
        accounts.delete_account(db, account_id)
    finally:
        db.close()


def _count(db_path: Path, sql: str, params=()) -> int:
    db = connect(str(db_path))
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.close()


def _refused_as_signed_out(server, db_path: Path, account_id: int, method: str, path: str, body: dict, token: str):
    """`method path` sent with `token` while the test holds the writers' turn; the account deleted meanwhile; then
    the request goes on: a 401 not_signed_in, no traceback."""
    response = _while_the_write_waits(
        db_path,
        lambda: httpx.request(method, f"{server.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                              timeout=60),
        lambda: _delete_without_taking_the_turn(db_path, account_id),
    )
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "not_signed_in"
    assert "Traceback" not in server.output()


def test_a_comment_of_an_account_deleted_meanwhile_is_refused_as_signed_out(service):
    server, db_path = service
    account_id, token = _account(db_path, "partie@exemple.fr")

    _refused_as_signed_out(server, db_path, account_id, "POST", "/api/comments",
                           {"url": POST_B, "text": "Écrit juste avant de partir"}, token)
    assert _count(db_path, "SELECT COUNT(*) FROM comments") == 0


def test_a_decision_of_a_moderator_deleted_meanwhile_is_refused_as_signed_out(service):
    server, db_path = service
    comment = httpx.post(f"{server.url}/api/comments", json={"url": POST_B, "text": "À modérer", "author": "Paul"},
                         timeout=30).json()["comment"]
    moderator_id, token = _account(db_path, "moderatrice@exemple.fr", role="moderator")

    _refused_as_signed_out(server, db_path, moderator_id, "POST", f"/api/moderation/{comment['id']}",
                           {"action": "reject"}, token)
    thread = httpx.get(f"{server.url}/api/comments", params={"url": POST_B}, timeout=30).json()
    assert [c["id"] for c in thread["comments"]] == [comment["id"]], "the decision of a gone moderator is not applied"


def test_a_profile_change_of_an_account_deleted_meanwhile_is_refused_as_signed_out(service):
    server, db_path = service
    account_id, token = _account(db_path, "profil@exemple.fr")

    _refused_as_signed_out(server, db_path, account_id, "PATCH", "/api/account",
                           {"notify_replies": False, "display_name": "Dr Autre"}, token)


def test_an_rpps_declaration_of_an_account_deleted_meanwhile_is_refused_as_signed_out(service):
    server, db_path = service
    account_id, token = _account(db_path, "declarante@exemple.fr")

    _refused_as_signed_out(server, db_path, account_id, "POST", "/api/verification",
                           {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}, token)
    assert _count(db_path, "SELECT COUNT(*) FROM verifications") == 0
    assert _count(db_path, "SELECT COUNT(*) FROM verification_attempts") == 0


def test_a_vouch_of_a_voucher_deleted_meanwhile_is_refused_as_signed_out(service):
    server, db_path = service
    candidate_id, candidate_token = _account(db_path, "candidate@exemple.fr")
    declared = httpx.post(f"{server.url}/api/verification",
                          json={"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"},
                          headers={"Authorization": f"Bearer {candidate_token}"}, timeout=30)
    assert declared.status_code == 200, declared.text
    voucher_id, voucher_token = _account(db_path, "parrain@exemple.fr")
    app = create_app(server.app_config)
    db = connect(str(db_path))
    try:
        with app.app_context():
            verify.grant(app, db, voucher_id, CLAIRE, "LEFEBVRE", "Claire", reason="membre fondateur (test)")
        link = verify.vouch_link(db, candidate_id)
    finally:
        db.close()

    _refused_as_signed_out(server, db_path, voucher_id, "POST", f"/api/verification/vouch/{link}",
                           {"last_name": "Quintard-Valmore"}, voucher_token)
    assert _count(db_path, "SELECT COUNT(*) FROM vouches") == 0
