"""Received Webmentions once accepted: their rows, their moderation status, their public shape.

The queue of requests to verify is domain/mention_queue.py, the reading of a source page
domain/mention_source.py, the verification actions/mentions.py; this module holds the mentions themselves:
what verification saves and what moderation and the threads read and change.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import public
from comments_service.domain.mention_source import Entry
from comments_service.domain.policy import initial_status
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


def save_mention(db, post, source: str, target: str, entry: Entry, policy: str, now: datetime | None = None):
    """Create or update the mention of `post` by `source`; returns (created | updated | unchanged, row)."""
    stamp = store.iso(now or store.utcnow())
    digest = entry.digest()
    with write(db):
        row = store.query_one(db, "SELECT * FROM mentions WHERE source = ? AND post_url = ?", (source, post["url"]))
        fields = (entry.type, entry.url, entry.author_name, entry.author_url, entry.title, entry.html, entry.published)
        if row is None:
            origin = "{0.scheme}://{0.netloc}/".format(urlsplit(source))
            returning = store.query_one(
                db,
                "SELECT 1 FROM mentions WHERE site = ? AND status = 'approved' AND substr(source, 1, ?) = ? LIMIT 1",
                (post["site"], len(origin), origin),
            )
            status = initial_status(policy, returning_author=bool(returning))
            cursor = db.conn.execute(
                "INSERT INTO mentions (source, target, post_url, site, type, url, author_name, author_url, title, html,"
                " published, content_hash, status, created, verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, target, post["url"], post["site"], *fields, digest, status, stamp, stamp),
            )
            action, mention_id = "created", cursor.lastrowid
            if status == "approved":
                bump_post(db, post["url"])  # a pending one is mailed by the caller (actions/mentions.py)
        elif row["content_hash"] == digest and row["target"] == target:
            db.conn.execute("UPDATE mentions SET verified = ? WHERE id = ?", (stamp, row["id"]))
            action, mention_id = "unchanged", row["id"]
        else:
            db.conn.execute(
                "UPDATE mentions SET target = ?, type = ?, url = ?, author_name = ?, author_url = ?, title = ?, html = ?,"
                " published = ?, content_hash = ?, updated = ?, verified = ? WHERE id = ?",
                (target, *fields, digest, stamp, stamp, row["id"]),
            )
            action, mention_id = "updated", row["id"]
            if row["status"] == "approved":
                bump_post(db, post["url"])
        return action, get_mention(db, mention_id)
