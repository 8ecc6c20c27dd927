"""The disk holding the comment database fills up (issue 12, item 3): a clear 503, nothing half-written, and the
service writes again as soon as space returns, without a restart.

The database lives on a real 4 MiB tmpfs when the tests run as root and may mount one; the disk is filled with a
ballast file until the kernel answers ENOSPC, so SQLite's own write fails with SQLITE_FULL. Elsewhere (no right to
mount, the tmpfs case is skipped) the ceiling is also SQLite's `PRAGMA max_page_count` on the service's connection:
the same SQLITE_FULL, raised by SQLite itself. Both run here; the test id says which.
"""

from __future__ import annotations

import errno
import sqlite3
import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from flask import g

from comments_service.core.db import get_db
from tests.conftest import Actions, assert_api_error

FILLER = "Une longue réflexion sur la permanence des soins en zone rurale. " * 130  # ~8.5 kB: pages fill fast


class Disk:
    """The database's folder, and a way to make it full and give the space back."""

    def __init__(self, folder: Path, kind: str):
        self.folder = folder
        self.kind = kind  # "tmpfs" or "max_page_count"
        self.ballast = folder / "ballast.bin"

    def fill(self, app) -> None:
        if self.kind == "tmpfs":
            chunk = b"\0" * 65536
            # unbuffered: a write the disk takes in part leaves nothing behind for close() to fail on again
            with open(self.ballast, "wb", buffering=0) as handle:
                try:
                    while True:
                        handle.write(chunk)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
        else:
            with app.app_context():
                db = get_db()  # the kept connection of this thread: the one the test client's requests use
                pages = db.execute("PRAGMA page_count").fetchone()[0]
                db.execute(f"PRAGMA max_page_count = {pages}")
                g.pop("confreres_db")

    def free(self, app) -> None:
        if self.kind == "tmpfs":
            self.ballast.unlink()
        else:
            with app.app_context():
                get_db().execute("PRAGMA max_page_count = 1073741823")
                g.pop("confreres_db")


@pytest.fixture(params=["tmpfs", "max_page_count"])
def disk(tmp_path, request):
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = request.param == "tmpfs" and subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(folder)], capture_output=True
    ).returncode == 0
    if request.param == "tmpfs" and not mounted:
        pytest.skip("no right to mount a tmpfs here (not root): the max_page_count run covers SQLITE_FULL")
    try:
        yield Disk(folder, request.param)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], check=False)


def rows(app) -> list[tuple]:
    conn = sqlite3.connect(app.config["DB"])
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT id, text, html != '' FROM comments ORDER BY id").fetchall()
    finally:
        conn.close()


def write_until_refused(actions, url, marker: str) -> tuple[list[int], object]:
    """Post ~8.5 kB comments until one is refused (the WAL's slack used up); (ids accepted, the refusal)."""
    accepted = []
    for n in range(400):
        response = actions.post(f"{marker} {n}. {FILLER}", url=url, author=f"Lecteur {n}")
        if response.status_code != 201:
            return accepted, response
        accepted.append(response.get_json()["comment"]["id"])
    raise AssertionError(f"{len(accepted)} comments written on a full disk ({marker})")


def test_a_full_disk_refuses_with_a_503_writes_nothing_and_recovers(make_app, disk, urls):
    app = make_app(DB=str(disk.folder / "comments.sqlite3"), MODERATION="none")
    actions = Actions(app, app.test_client())
    before = [actions.comment(f"Avant la panne {n}", url=urls.POST_B)["comment"]["id"] for n in range(3)]

    disk.fill(app)
    accepted, refused = write_until_refused(actions, urls.POST_B, "Pendant la panne")
    error = assert_api_error(refused, 503, "storage_full", field=None)
    assert "place" in error["message"] and "rien n'a été enregistré" in error["message"], error
    assert refused.headers["Retry-After"]

    stored = rows(app)
    assert [r[0] for r in stored] == before + accepted, "every acknowledged comment, nothing else"
    assert all(r[2] for r in stored), "no row without its HTML"
    assert not any(r[1].startswith(f"Pendant la panne {len(accepted)}.") for r in stored), "the refused one is not there"
    thread = actions.thread(urls.POST_B)
    assert thread.status_code == 200 and thread.get_json()["total"] == len(stored)
    assert actions.counts(urls.POST_B).get_json()[urls.POST_B] == len(stored)

    # The no-JS form, same full disk: the page comes back with what was typed and the French reason.
    page = actions.client.get("/thread", query_string={"url": urls.POST_B})
    typed = f"Texte tapé sans JavaScript pendant la panne. {FILLER}"
    answer = actions.submit(page, "/thread", text=typed, author="Zoé")
    assert answer.status_code == 503
    soup = BeautifulSoup(answer.get_data(as_text=True), "html.parser")
    assert soup.find("textarea", attrs={"name": "text"}).text.strip() == typed.strip()
    assert soup.find("input", attrs={"name": "author"})["value"] == "Zoé"
    assert error["message"] in soup.get_text()
    assert len(rows(app)) == len(stored)

    disk.free(app)  # space returns; the same processes, no restart
    again = actions.comment("Après la panne", url=urls.POST_B)
    assert again["status"] == "approved"
    assert actions.thread(urls.POST_B).get_json()["total"] == len(stored) + 1
    assert [r[1] for r in rows(app)][-1] == "Après la panne"


def test_a_database_still_locked_after_busy_timeout_answers_503_and_writes_once_free(make_app, urls):
    """Another process holds the write lock past the 5 s busy_timeout (a long cron job, a stuck backup)."""
    app = make_app(MODERATION="none")
    actions = Actions(app, app.test_client())
    holder = sqlite3.connect(app.config["DB"], isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        refused = actions.post("Pendant le verrou", url=urls.POST_B)
        error = assert_api_error(refused, 503, "storage_busy", field=None)
        assert "rien n'a été enregistré" in error["message"] and refused.headers["Retry-After"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert [r[1] for r in rows(app)] == []
    assert actions.comment("Après le verrou", url=urls.POST_B)["status"] == "approved"
