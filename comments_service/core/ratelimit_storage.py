"""A storage for the `limits` library in one SQLite file: rate limits shared by the workers of one machine.

The `limits` library's `memory://` counts per process, so N gunicorn workers let N times the limit through; Redis
or memcached share counters between machines but are one more service to run. This storage keeps the
counters in a small SQLite file (beside the comment database by default) that every worker process opens:
registered for the `sqlite://` scheme, e.g. `sqlite:///var/lib/confreres/comments-limits.sqlite3`.

Only the storage is ours: the strategies (moving window, sliding window counter, fixed window) stay the
library's, which calls `acquire_entry`/`get_moving_window`, `acquire_sliding_window_entry` or `incr`/`get`.
Each call is one short SQLite transaction (`BEGIN IMMEDIATE` where it reads then writes, so two workers
never both take the last unit of a budget). The data is ephemeral (a lost counter after a power cut only forgets a minute of history), hence WAL with
`synchronous=OFF`: no fsync on the request path.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from math import floor

from limits.storage import MovingWindowSupport, SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

SCHEME = "sqlite"
PURGE_SECONDS = 60.0  # how often a process sweeps out the expired rows of idle keys
BUSY_TIMEOUT = 5.0  # seconds a worker waits for another's transaction before the limiter's fallback takes over

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires REAL NOT NULL)
    WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (key TEXT NOT NULL, at REAL NOT NULL, expires REAL NOT NULL);
CREATE INDEX IF NOT EXISTS entries_by_key ON entries (key, at);
"""


def uri_for(path: os.PathLike | str) -> str:
    """The storage URI of a file: `sqlite:///abs/path` for an absolute path."""
    return f"{SCHEME}://{path}"


def path_of(uri: str) -> str:
    """The file named by a `sqlite://` URI (`sqlite:///abs/path`, or `sqlite://relative/path`)."""
    prefix = SCHEME + "://"
    if not uri.startswith(prefix) or not uri[len(prefix):]:
        raise ValueError(f"{uri!r}: expected {prefix}/path/to/file.sqlite3")
    return uri[len(prefix):]



def _prepare(conn: sqlite3.Connection) -> None:
    """WAL and the tables, once per file. Workers starting together on a new file race for it: switching to WAL
    takes a lock SQLite does not wait for (`database is locked` at once), so the loser tries again."""
    deadline = time.monotonic() + BUSY_TIMEOUT
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class SQLiteStorage(Storage, MovingWindowSupport, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """Counters (fixed and sliding windows) and moving-window entries in one SQLite file.

    One connection per process and thread; every worker of the machine opens the same file.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        self.path = path_of(uri or "")
        self._local = threading.local()
        self._purged = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection, opened again after a fork (gunicorn --preload builds the app in the master)."""
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=OFF")
            _prepare(conn)
            local.conn, local.pid = conn, os.getpid()
        return local.conn

    def _begin(self) -> sqlite3.Connection:
        conn = self._conn()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        if now - self._purged > PURGE_SECONDS:  # keys of clients that never came back
            self._purged = now
            conn.execute("DELETE FROM counters WHERE expires <= ?", (now,))
            conn.execute("DELETE FROM entries WHERE expires <= ?", (now,))
        return conn

    # -- fixed window (the library's `incr`, `get`, `get_expiry`)
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self._incr(self._conn(), key, expiry, amount, time.time())

    @staticmethod
    def _incr(conn: sqlite3.Connection, key: str, expiry: float, amount: int, now: float) -> int:
        (value,) = conn.execute(
            "INSERT INTO counters (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN expires <= ? THEN excluded.value ELSE value + excluded.value END, "
            "expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END RETURNING value",
            (key, amount, now + expiry, now, now),
        ).fetchone()
        return value

    def get(self, key: str) -> int:
        return self._get(self._conn(), key, time.time())

    @staticmethod
    def _get(conn: sqlite3.Connection, key: str, now: float) -> int:
        row = conn.execute("SELECT value FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        now = time.time()
        row = self._conn().execute("SELECT expires FROM counters WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return row[0] if row else now

    # -- moving window (the library's `acquire_entry`, `get_moving_window`)
    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        conn = self._begin()
        try:
            conn.execute("DELETE FROM entries WHERE key = ? AND at <= ?", (key, now - expiry))
            (count,) = conn.execute("SELECT count(*) FROM entries WHERE key = ?", (key,)).fetchone()
            taken = count + amount <= limit
            if taken:
                conn.executemany("INSERT INTO entries VALUES (?, ?, ?)", [(key, now, now + expiry)] * amount)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return taken

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        oldest, count = self._conn().execute(
            "SELECT min(at), count(*) FROM entries WHERE key = ? AND at > ?", (key, now - expiry)
        ).fetchone()
        return (oldest, count) if count else (now, 0)

    # -- sliding window counter (the library's `acquire_sliding_window_entry`, `get_sliding_window`)
    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """The memory storage's weighted count, read and bumped in one transaction (no race to revert)."""
        if amount > limit:
            return False
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        conn = self._begin()
        try:
            previous, previous_ttl, current, _ = self._sliding(conn, previous_key, current_key, expiry, now)
            taken = floor(previous * previous_ttl / expiry + current) + amount <= limit
            if taken:
                self._incr(conn, current_key, 2 * expiry, amount, now)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return taken

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        now = time.time()
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        return self._sliding(self._conn(), previous_key, current_key, expiry, now)

    def _sliding(self, conn, previous_key: str, current_key: str, expiry: int, now: float):
        previous, current = self._get(conn, previous_key, now), self._get(conn, current_key, now)
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        for window_key in self.sliding_window_keys(key, expiry, time.time()):
            self.clear(window_key)

    # -- housekeeping
    def clear(self, key: str) -> None:
        conn = self._conn()
        conn.execute("DELETE FROM counters WHERE key = ?", (key,))
        conn.execute("DELETE FROM entries WHERE key = ?", (key,))

    def reset(self) -> int | None:
        conn = self._begin()
        try:
            keys = conn.execute(
                "SELECT count(*) FROM (SELECT key FROM counters UNION SELECT key FROM entries)"
            ).fetchone()[0]
            conn.execute("DELETE FROM counters")
            conn.execute("DELETE FROM entries")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return keys

    def check(self) -> bool:
        try:
            self._conn().execute("SELECT 1 FROM counters LIMIT 1").fetchall()
        except sqlite3.Error:
            self._local = threading.local()  # reopen next time (the file may have been replaced)
            return False
        return True
