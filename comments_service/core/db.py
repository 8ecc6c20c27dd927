"""The database connection: one SQLite connection per request, its PRAGMAs, and `write()`.

WAL lets readers run beside the single writer; `busy_timeout` makes a second writer wait
instead of failing; every write goes through `write()` (BEGIN IMMEDIATE), so two workers can
never deadlock upgrading a read lock, and a failed write leaves no half-written row.
The schema and its migrations live in `core/migrations.py`.

A request takes its connection lazily (`get_db()` on `g`) and gives it back at teardown. Opening
and closing a WAL database costs ~0.5 ms (schema parse, -shm mapping, a checkpoint when the last
connection closes): more than a whole cached thread read. So each worker thread keeps its
connection between requests (`DB_REUSE`, on by default); teardown rolls back anything left open,
so a request never inherits another's transaction. `DB_REUSE=False` closes it every time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator

from flask import current_app, g
from sqlite_utils import Database

from comments_service.core.config import ConfigError
from comments_service.core.errors import storage_error
from comments_service.core.migrations import migrate

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",  # persistent in the file; cheap to re-assert
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
    "PRAGMA synchronous=NORMAL",
)


def connect(path: str) -> Database:
    """Open `path` with the service's PRAGMAs; used per request and by CLI commands and scripts."""
    conn = sqlite3.connect(path, timeout=5.0, cached_statements=512)  # the service has ~250 statements
    for pragma in PRAGMAS:
        conn.execute(pragma)
    db = Database(conn, execute_plugins=False, recursive_triggers=False)
    db.writers_lock = None if str(path) in ("", ":memory:") else f"{path}.writers-lock"
    return db


# Writers take turns on a lock file beside the database before BEGIN IMMEDIATE. SQLite alone makes a second
# writer poll, sleeping 1, 2, 5, 10... ms between tries: with two workers a third of the CPU sat idle while
# writes queued (bench/comments.py). flock wakes the next writer as soon as the first one is done, and the kernel
# releases it if its process dies. SQLite's locking still guards the data: a writer that does not take its
# turn here (another tool on the file) is waited for by busy_timeout as before.
class _TurnFiles(threading.local):
    def __init__(self):
        self.fds: dict[tuple[int, str], int | None] = {}  # (pid, lock path) -> its open file (None: unusable)


_turn_files = _TurnFiles()


@contextlib.contextmanager
def _writers_turn(path: str | None) -> Iterator[None]:
    if path is None:
        yield
        return
    files = _turn_files.fds
    key = (os.getpid(), path)  # one open file per process and thread: flock excludes other open files only
    if key not in files:
        try:
            files[key] = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # e.g. a read-only folder: SQLite's own waiting still orders the writers
            log.warning("writers' lock file %s unusable (%s): writers wait on SQLite alone", path, exc)
            files[key] = None
    fd = files[key]
    if fd is None:
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


class _ThreadConnections(threading.local):
    db: Database | None = None


def get_db() -> Database:
    """The request's connection, taken on first use (the thread's kept one when DB_REUSE is on)."""
    if "confreres_db" not in g:
        app = current_app
        if app.config.get("DB_REUSE", True):
            kept = app.extensions.setdefault("confreres_connections", _ThreadConnections())
            if kept.db is None:
                kept.db = connect(app.config["DB"])
            g.confreres_db = kept.db
        else:
            g.confreres_db = connect(app.config["DB"])
    return g.confreres_db


def close_db(_exc=None) -> None:
    db = g.pop("confreres_db", None)
    if db is None:
        return
    kept = current_app.extensions.get("confreres_connections")
    if kept is not None and kept.db is db:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        return
    db.close()


def close_kept_connection(app) -> None:
    """Close this thread's kept connection (tests, shutdown)."""
    kept = app.extensions.get("confreres_connections")
    if kept is not None and kept.db is not None:
        kept.db.close()
        kept.db = None


@contextlib.contextmanager
def write(db: Database) -> Iterator[Database]:
    """One write transaction: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception.

    Nested use becomes a savepoint, so store functions compose. A storage failure
    (disk full, still locked after busy_timeout, I/O error), at any statement or at the COMMIT itself, rolls
    back and becomes a 503 ApiError (`errors.storage_error`): the caller sees a clear refusal, never a
    half-written row, and the same connection writes again once the cause is gone.
    """
    if db.conn.in_transaction:
        # A savepoint, as sqlite-utils' atomic() makes, but always of one name (SQLite nests same-named ones): its
        # statements stay in the connection's cache instead of being prepared again under a random name each time.
        db.conn.execute("SAVEPOINT nested_write")
        try:
            yield db
        except BaseException:
            if db.conn.in_transaction:  # a RAISE(ROLLBACK) may have ended the whole transaction already
                db.conn.execute("ROLLBACK TO nested_write")
                db.conn.execute("RELEASE nested_write")
            raise
        db.conn.execute("RELEASE nested_write")
        return
    try:
        with _writers_turn(getattr(db, "writers_lock", None)):
            db.conn.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.conn.execute("COMMIT")
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK")
                raise
    except sqlite3.Error as exc:
        refusal = storage_error(exc)
        if refusal is None:
            raise
        log.error("write refused, nothing written: %s (%s)", exc, refusal.code)
        raise refusal from exc


# Why pending migrations could not be applied, for the operator (storage_error's code: what SQLite met).
MIGRATION_REFUSALS = {
    "storage_busy": "une autre écriture tient la base depuis plus de 5 s (une importation, une rotation de clé…) ; "
                    "relancez une fois qu'elle est finie",
    "storage_full": "plus de place sur son disque ; libérez-en, puis relancez",
    "storage_unavailable": "son disque refuse l'écriture (lecture seule, erreur d'entrée-sortie)",
}


def migrate_or_refuse(db: Database, path: str) -> list[str]:
    """`migrate`, with a storage failure (still locked after busy_timeout, disk full, read-only) said in one French
    line (ConfigError: the CLI prints it, gunicorn stops with it) instead of a traceback; nothing was applied."""
    try:
        return migrate(db)
    except sqlite3.Error as exc:
        refusal = storage_error(exc)
        if refusal is None:
            raise
        raise ConfigError(f"{path} : migrations du schéma non appliquées, la base n'a pas changé : "
                          f"{MIGRATION_REFUSALS[refusal.code]}.") from None


def init_app(app) -> None:
    app.teardown_appcontext(close_db)
    if app.config["AUTO_MIGRATE"]:
        db = connect(app.config["DB"])
        try:
            for name in migrate_or_refuse(db, app.config["DB"]):
                log.info("applied migration %s", name)  # at start, in the service's log (journalctl)
        finally:
            db.close()
