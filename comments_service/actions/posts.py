"""Use cases on the posts a blog announces: the sync, and the answer notices it calls for.

`sync_posts` has the effect the sync always had (the list, the versions, the answers recorded for
mail/notices.py); `announce_posts` is what PUT /api/sites/<slug>/posts and `sync-posts` do: the same
plus the answer notices queued, in one transaction. The caller emits `posts.synced` after the commit
when it wants the mails sent at once (the API does; the CLI leaves them to `confreres notify send`).
"""

from __future__ import annotations

from datetime import datetime

from comments_service.core.db import write
from comments_service.domain import posts, secrecy
from comments_service.mail import notices
from confreres.registry import Network


def sync_posts(db, network: Network, slug: str, payload: dict, now: datetime | None = None) -> dict:
    """Make the site's list of posts exactly `payload["posts"]` and record the answers to tell (one
    transaction: domain/posts.sync + notices.record_answers), with each post's medical secrecy warnings
    (domain/secrecy.record_posts); returns the summary."""
    with write(db):
        summary, pairs = posts.sync(db, network, slug, payload, now=now)
        secrecy.record_posts(db, slug, payload)
        notices.record_answers(db, pairs, now=now)
    return summary


def announce_posts(db, network: Network, slug: str, payload: dict, now: datetime | None = None) -> dict:
    """`sync_posts` and the answer notices it calls for, queued in the same transaction; the summary."""
    with write(db):  # the posts and the mails of the answers between blogs they bring commit together
        summary = sync_posts(db, network, slug, payload, now=now)
        notices.queue_answer_notices(db)
    return summary
