"""Schema, PRAGMAs, migrations, the init-db command and all-or-nothing writes."""

import sqlite3

import pytest

from comments_service.commands import init_db_command
from comments_service.core import db as dbmod
from comments_service.core.migrations import migrations
from comments_service.domain.posts import get_post


def test_connection_pragmas(app):
    db = dbmod.connect(app.config["DB"])
    try:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    finally:
        db.close()


def test_schema_tables_and_indexes(app):
    db = dbmod.connect(app.config["DB"])
    try:
        assert {"posts", "comments", "accounts", "account_sites", "reports"} <= set(db.table_names())
        indexes = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        for name in ("comments_thread", "comments_parent", "comments_status_created", "posts_site"):
            assert name in indexes
        plan = " ".join(
            str(r) for r in db.execute("EXPLAIN QUERY PLAN SELECT * FROM comments WHERE post_url = ?", ["x"])
        )
        assert "comments_thread" in plan
        assert [m.name for m in migrations.applied(db)][0] == "m001_initial"
        assert not migrations.pending(db)  # later issues append migrations (m003_import...)
    finally:
        db.close()


def test_init_db_command_is_idempotent(runner):
    result = runner.invoke(init_db_command)
    assert result.exit_code == 0, result.output
    assert "schéma à jour" in result.output


def test_init_db_creates_a_new_database(make_app, tmp_path):
    app = make_app(DB=str(tmp_path / "fresh.sqlite3"), AUTO_MIGRATE=True)
    result = app.test_cli_runner().invoke(init_db_command)
    assert "schéma à jour" in result.output


def test_init_db_without_auto_migrate(network_file, tmp_path):
    from comments_service import create_app

    app = create_app({"TESTING": True, "NETWORK": str(network_file), "DB": str(tmp_path / "n.db"), "AUTO_MIGRATE": False})
    assert not (tmp_path / "n.db").exists() or "comments" not in dbmod.connect(str(tmp_path / "n.db")).table_names()
    result = app.test_cli_runner().invoke(init_db_command)
    assert "migrations appliquées : m001_initial" in result.output


def test_a_failed_write_leaves_nothing(app):
    db = dbmod.connect(app.config["DB"])
    try:
        before = db.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
        with pytest.raises(sqlite3.IntegrityError), dbmod.write(db):
            db.conn.execute(
                "INSERT INTO comments (post_url, site, text, html, status, created) VALUES (?, ?, ?, ?, ?, ?)",
                ("http://blogs.test/dr-a/premier-billet.html", "dr-a", "x", "<p>x</p>", "approved", "2024-01-01T00:00:00Z"),
            )
            db.conn.execute(  # a bad status: the CHECK fails, the first insert is rolled back too
                "INSERT INTO comments (post_url, site, text, html, status, created) VALUES (?, ?, ?, ?, ?, ?)",
                ("http://blogs.test/dr-a/premier-billet.html", "dr-a", "x", "<p>x</p>", "weird", "2024-01-01T00:00:00Z"),
            )
        assert db.execute("SELECT COUNT(*) FROM comments").fetchone()[0] == before
        assert not db.conn.in_transaction
    finally:
        db.close()


def test_foreign_keys_are_enforced(app):
    db = dbmod.connect(app.config["DB"])
    try:
        with pytest.raises(sqlite3.IntegrityError), dbmod.write(db):
            db.conn.execute(
                "INSERT INTO comments (post_url, site, text, html, status, created) VALUES (?, ?, ?, ?, ?, ?)",
                ("http://nowhere.test/", "dr-a", "x", "x", "approved", "2024-01-01T00:00:00Z"),
            )
    finally:
        db.close()


def test_request_connection_is_closed_at_teardown(make_app):
    app = make_app(DB_REUSE=False)
    with app.test_request_context("/"):
        db = dbmod.get_db()
        assert dbmod.get_db() is db
    with pytest.raises(sqlite3.ProgrammingError):
        db.execute("SELECT 1")


def test_kept_connection_never_carries_a_transaction_over(app):
    with app.test_request_context("/"):
        db = dbmod.get_db()
        db.conn.execute("BEGIN IMMEDIATE")
        db.conn.execute("UPDATE posts SET title = 'pas commité'")
    with app.test_request_context("/"):
        again = dbmod.get_db()
        assert again is db and not again.conn.in_transaction
        assert "pas commité" not in [r[0] for r in again.execute("SELECT title FROM posts")]
    dbmod.close_kept_connection(app)


def test_store_is_usable_outside_requests(app, urls):
    db = dbmod.connect(app.config["DB"])
    try:
        post = get_post(db, urls.POST_A)
        assert post["title"] == "Premier billet"
    finally:
        db.close()


def test_writers_take_turns_on_the_lock_file_beside_the_database(tmp_path):
    """A writer waits on the lock file (flock) before it begins, so the next one wakes when the first is done
    instead of polling SQLite's lock; another process holding the turn keeps it waiting, SQLite being free."""
    import fcntl
    import os
    import subprocess
    import sys
    import threading

    path = str(tmp_path / "db.sqlite3")
    db = dbmod.connect(path)
    db.conn.execute("CREATE TABLE t (x INTEGER)")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT);"
         " fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); sys.stdin.readline()", path + ".writers-lock"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        began = threading.Event()

        def write_one():
            mine = dbmod.connect(path)
            with dbmod.write(mine):
                began.set()
                mine.conn.execute("INSERT INTO t VALUES (1)")
            mine.close()

        writer = threading.Thread(target=write_one)
        writer.start()
        assert not began.wait(0.5)  # its turn is not come
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert began.wait(10)
        writer.join(10)
    finally:
        holder.kill()
        holder.wait()
    assert db.conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
    fd = os.open(path + ".writers-lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released after the write
    os.close(fd)


def test_a_nested_write_that_fails_undoes_only_its_own_part(tmp_path):
    db = dbmod.connect(str(tmp_path / "db.sqlite3"))
    db.conn.execute("CREATE TABLE t (x INTEGER)")
    with dbmod.write(db):
        db.conn.execute("INSERT INTO t VALUES (1)")
        with dbmod.write(db):
            db.conn.execute("INSERT INTO t VALUES (2)")
            with pytest.raises(ValueError), dbmod.write(db):
                db.conn.execute("INSERT INTO t VALUES (3)")
                raise ValueError("inner")
        with pytest.raises(ValueError), dbmod.write(db):
            db.conn.execute("INSERT INTO t VALUES (4)")
            raise ValueError("second inner")
    assert [row[0] for row in db.conn.execute("SELECT x FROM t ORDER BY x")] == [1, 2]
    assert not db.conn.in_transaction


def test_a_write_goes_on_when_the_lock_file_cannot_be_made(tmp_path):
    db = dbmod.connect(str(tmp_path / "db.sqlite3"))
    db.conn.execute("CREATE TABLE t (x INTEGER)")
    db.writers_lock = str(tmp_path / "missing-folder" / "db.sqlite3.writers-lock")
    with dbmod.write(db):
        db.conn.execute("INSERT INTO t VALUES (1)")
    assert db.conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1
