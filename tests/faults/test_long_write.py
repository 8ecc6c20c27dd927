"""Another process holds the comment database's write lock longer than busy_timeout (an import, a key rotation):
the service's workers still start, commands still run, and an upgrade's migration is refused in one French line.

Real processes on a real SQLite file: gunicorn (tests/faults/kit.py), the `confreres` CLI, and a holder that keeps
`BEGIN IMMEDIATE` open until told to stop.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time

import httpx
import pytest

from comments_service.core.db import connect
from comments_service.core.migrations import migrations
from tests.faults import kit

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("CREATE TABLE IF NOT EXISTS long_import (n)")
print("verrou pris", flush=True)
sys.stdin.read()  # until the test closes it
conn.execute("ROLLBACK")
"""


@pytest.fixture
def holder():
    """hold(db): a process keeping the database's write lock until the test ends."""
    procs = []

    def hold(db):
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                text=True)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "verrou pris"
        return proc

    yield hold
    for proc in procs:
        proc.stdin.close()
        proc.wait(30)


def test_workers_and_commands_start_while_another_process_writes_for_long(tmp_path, holder):
    """A worker started (gunicorn replacing one) while the lock was held waited 5 s for it to migrate nothing,
    then failed to boot, and gunicorn stopped the whole service; every `confreres` command failed the same way."""
    network, db, service = kit.start_service(tmp_path)
    try:
        holding = holder(db)
        service.kill("workers")  # gunicorn's master forks new workers, which load the app
        deadline = time.monotonic() + 60
        answered = None
        while service.proc.poll() is None and time.monotonic() < deadline:
            try:
                answered = httpx.get(service.url + "api/sites", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        assert service.proc.poll() is None, f"gunicorn stopped:\n{(tmp_path / 'gunicorn.log').read_text()[-2000:]}"
        assert answered is not None and answered.status_code == 200
        assert holding.poll() is None, "the lock was held all along"

        done = kit.confreres(network, db, "service", "init-db")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "schéma à jour" in done.stdout
    finally:
        service.stop()


def test_a_migration_refused_while_the_database_is_held_says_so_and_applies_later(tmp_path, holder):
    network = kit.make_blogs(tmp_path, "http://127.0.0.1:9/")
    db = tmp_path / "var" / "comments.sqlite3"
    db.parent.mkdir()
    last = [m.name for m in migrations._migrations][-1]
    before = connect(str(db))  # the database of the version before the upgrade (WAL, as the service keeps it)
    migrations.apply(before, stop_before=last)
    before.close()

    holding = holder(db)
    refused = kit.confreres(network, db, "service", "init-db")
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert "Traceback" not in refused.stderr and "database is locked" not in refused.stderr, refused.stderr
    assert "migrations du schéma non appliquées, la base n'a pas changé : une autre écriture tient la base" \
        in refused.stderr, refused.stderr
    holding.stdin.close()
    holding.wait(30)

    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert last not in {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
    finally:
        conn.close()
    applied = kit.confreres(network, db, "service", "init-db")  # the app migrates as it starts, the command checks
    assert applied.returncode == 0, applied.stdout + applied.stderr
    conn = sqlite3.connect(db)
    try:
        assert last in {r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")}
    finally:
        conn.close()
