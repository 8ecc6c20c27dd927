"""Received Webmentions once accepted: their rows, their moderation status, their public shape.

The queue of requests to verify, the fetch and the parsing stay with the receiving endpoint
(web/webmention.py); this module holds what moderation and the threads read and change.
"""

from __future__ import annotations

from datetime import datetime

from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import public
from comments_service.domain.posts import bump_post

STATUSES = ("approved", "pending", "rejected", "spam")


def get_mention(db, mention_id: int):
    return store.query_one(db, "SELECT * FROM mentions WHERE id = ?", (mention_id,))


def delete_mention(db, source: str, post_url: str) -> bool:
    """Forget the mention of `post_url` by `source` (gone, or no longer linking); True if there was one."""
    with write(db):
        row = store.query_one(db, "SELECT id, status FROM mentions WHERE source = ? AND post_url = ?", (source, post_url))
        if row is None:
            return False
        db.conn.execute("DELETE FROM mentions WHERE id = ?", (row["id"],))
        if row["status"] == "approved":
            bump_post(db, post_url)
    return True


def set_mention_status(db, mention_id: int, status: str, now: datetime | None = None):
    """A moderator's decision on a mention; the thread's ETag changes."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with write(db):
        row = get_mention(db, mention_id)
        if row is None:
            raise ApiError(404, "unknown_mention", "Cette mention n'existe pas.")
        db.conn.execute(
            "UPDATE mentions SET status = ?, moderated = ? WHERE id = ?", (status, store.iso(now or store.utcnow()), mention_id)
        )
        bump_post(db, row["post_url"], public=not {row["status"], status} <= store.HIDDEN)
        return get_mention(db, mention_id)


def remove_mention(db, mention_id: int) -> None:
    with write(db):
        row = get_mention(db, mention_id)
        if row is None:
            raise ApiError(404, "unknown_mention", "Cette mention n'existe pas.")
        db.conn.execute("DELETE FROM mentions WHERE id = ?", (mention_id,))
        bump_post(db, row["post_url"], public=row["status"] not in store.HIDDEN)


def mentions_for(db, post_url: str) -> list[dict]:
    """The approved mentions of a post, oldest first, in their public shape."""
    rows = store.query(
        db,
        "SELECT * FROM mentions WHERE post_url = ? AND status = 'approved' ORDER BY coalesce(published, created), id",
        (post_url,),
    )
    return [public.mention(row) for row in rows]


def list_mentions(db, *, status: str | None = None, sites: list[str] | None = None, limit: int = 100):
    """Mentions for moderators (every field but what never leaves: nothing private is stored)."""
    where, params = [], []
    if status:
        where.append("status = ?")
        params.append(status)
    if sites:
        where.append(f"site IN ({','.join('?' * len(sites))})")
        params.extend(sites)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return store.query(db, f"SELECT * FROM mentions {clause} ORDER BY created DESC, id DESC LIMIT ?", (*params, limit))
