"""The queue of received Webmentions waiting to be verified: one row per (source, target) request.

Each request is claimed in its own transaction (several processes may drain at once), retried at most
MAX_ATTEMPTS times in all after a transient failure, and its outcome (a French reason a sender can read)
is kept KEEP_DAYS days for its status URL. The verification itself is actions/mentions.py.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from comments_service.core.db import write
from comments_service.domain import comments as store

MAX_ATTEMPTS = 3
RETRY_SECONDS = (60, 600)  # before the 2nd and the 3rd attempt after a transient failure
STALE_CLAIM_SECONDS = 600  # a request "processing" longer than this was abandoned (process killed)
KEEP_DAYS = 30  # finished requests are kept this long for their status URL


def enqueue(db, source: str, target: str, post_url: str, now: datetime | None = None) -> str:
    """Queue a pair; the same pair still waiting is not queued twice. Returns the status token."""
    stamp = store.iso(now or store.utcnow())
    with write(db):
        waiting = store.query_one(
            db, "SELECT token FROM webmention_requests WHERE source = ? AND target = ? AND state = 'queued'",
            (source, target),
        )
        if waiting is not None:
            db.conn.execute(
                "UPDATE webmention_requests SET not_before = ?, post_url = ? WHERE token = ?",
                (stamp, post_url, waiting["token"]),
            )
            return waiting["token"]
        token = secrets.token_urlsafe(16)
        db.conn.execute(
            "INSERT INTO webmention_requests (token, source, target, post_url, received, not_before)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token, source, target, post_url, stamp, stamp),
        )
    return token


def claim(db, now: datetime | None = None):
    moment = now or store.utcnow()
    stamp = store.iso(moment)
    stale = store.iso(moment - timedelta(seconds=STALE_CLAIM_SECONDS))
    with write(db):  # an abandoned claim (process killed while verifying) counts as an attempt, within the bound
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'failed', result = 'abandoned', processed = ?, error = ?"
            " WHERE state = 'processing' AND claimed < ? AND attempts >= ?",
            (stamp, f"Vérification interrompue {MAX_ATTEMPTS} fois : abandonnée.", stale, MAX_ATTEMPTS),
        )
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'queued' WHERE state = 'processing' AND claimed < ?", (stale,)
        )
        row = store.query_one(
            db,
            "SELECT * FROM webmention_requests WHERE state = 'queued' AND not_before <= ? ORDER BY id LIMIT 1",
            (stamp,),
        )
        if row is None:
            return None
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'processing', claimed = ?, attempts = attempts + 1 WHERE id = ?",
            (stamp, row["id"]),
        )
        return store.query_one(db, "SELECT * FROM webmention_requests WHERE id = ?", (row["id"],))


def purge(db, now: datetime | None = None) -> int:
    cutoff = store.iso((now or store.utcnow()) - timedelta(days=KEEP_DAYS))
    with write(db):
        return db.conn.execute(
            "DELETE FROM webmention_requests WHERE state IN ('done', 'failed') AND processed < ?", (cutoff,)
        ).rowcount


def finish(db, job, state: str, result: str, error: str | None = None, now: datetime | None = None) -> dict:
    with write(db):
        db.conn.execute(
            "UPDATE webmention_requests SET state = ?, result = ?, error = ?, processed = ? WHERE id = ?",
            (state, result, error, store.iso(now or store.utcnow()), job["id"]),
        )
    return {"token": job["token"], "source": job["source"], "target": job["target"], "state": state,
            "result": result, "error": error}


def retry_or_fail(db, job, error: str, now: datetime | None = None, result: str = "unreachable") -> dict:
    attempts = job["attempts"]
    if attempts >= MAX_ATTEMPTS:
        return finish(db, job, "failed", result, error, now)
    moment = now or store.utcnow()
    later = store.iso(moment + timedelta(seconds=RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1]))
    with write(db):
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'queued', not_before = ?, error = ?, result = 'retrying'"
            " WHERE id = ?",
            (later, error, job["id"]),
        )
    return {"token": job["token"], "source": job["source"], "target": job["target"], "state": "queued",
            "result": "retrying", "error": error}
