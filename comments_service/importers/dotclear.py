"""Dotclear export (its flat backup of one blog) -> the comments of one site of the network.

confreres.dotclear reads the file; here each row of its `comment` table becomes an `ImportedComment` of its post's
thread, for threads.py to match (by the post's slug, the last part of its `post_url`, as `dotclear-posts` writes
it) and write as for every importer. Dotclear's comments are not threaded; `comment_dt` is in the comment's own
`comment_tz`. Status 1 is published, 0 (unpublished) and -1 (pending) wait for a moderator, -2 is spam; trackbacks
are skipped. The IP addresses of the file are never read.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.importers.threads import (
    ImportedThread,
    ImportReport,
    ParsedExport,
    import_threads,
    imported_comment,
)
from confreres import dotclear
from confreres.french import paris_to_utc
from confreres.post_import import written_slugs
from confreres.registry import Network
from confreres.sanitize import text as plain_text

_STATUS = {"1": "approved", "-2": "spam"}  # anything else waits for a moderator


def read_dotclear_comments(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """The commented posts of a Dotclear export; ExportError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC)
    export = dotclear.read_dotclear(path)
    # what `dotclear-posts` wrote them as (and a file of several blogs refused, as it refuses it)
    slugs = written_slugs(dotclear.posts_source(export))
    posts = {row.get("post_id", ""): row for row in export.rows("post")}
    threads: dict[str, ImportedThread] = {}
    skipped: Counter = Counter()
    for row in export.rows("comment"):
        post = posts.get(row.get("post_id", ""))
        if post is None:
            skipped["no_thread"] += 1
            continue
        thread = threads.get(post["post_id"])
        if thread is None:
            status = post.get("post_status", "1").strip()
            thread = threads[post["post_id"]] = ImportedThread(
                source_id=post["post_id"], title=validate.one_line(plain_text(post.get("post_title", ""))) or
                "(sans titre)", link="", guid="", slug=slugs.get(post["post_id"], dotclear.slug_of(post)),
                post_type="page" if post.get("post_type") == "page" else "post", line=int(post.get("_line", "0")),
                unpublished="" if status in dotclear.PUBLISHED else dotclear.UNPUBLISHED.get(status, "non publié"))
        trackback = row.get("comment_trackback", "0").strip() == "1"
        created = paris_to_utc(dotclear.local_time(row.get("comment_dt", ""), row.get("comment_tz", "")))
        date_from = "local"
        if created is None:
            created, date_from = now, "import"
        thread.comments.append(imported_comment(
            source_id=row.get("comment_id", ""), parent="", author=row.get("comment_author", ""),
            email=row.get("comment_email") or None, website=row.get("comment_site") or None, created=created,
            date_from=date_from, source=row.get("comment_content", ""),
            status=None if trackback else _STATUS.get(row.get("comment_status", "").strip(), "pending"),
            skip="trackback" if trackback else None, is_post_author=False,
        ))
    return ParsedExport("dotclear", export.version, "", list(threads.values()), len(posts), export.repairs, skipped)


def import_dotclear(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of a Dotclear export into site `slug` (threads.import_threads' options)."""
    return import_threads(db, network, slug, path, read_dotclear_comments, **options)
