"""Over-blog (or Eklablog) export -> the comments of one site of the network.

confreres.overblog reads the file; here each comment (and each of its `replies`, threaded) becomes an
`ImportedComment` of its post's thread, for threads.py to match (by the post's address, else its slug, as
`overblog-posts` writes it) and write as for every importer. A comment's status 1 is published; any other waits for
a moderator. The format gives no comment ids: each is keyed by a digest of its post, parent, author, date and text (a
second run finds them all present). The IP addresses of the file are never read.
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
from confreres import overblog
from confreres.french import paris_to_utc
from confreres.post_import import written_slugs
from confreres.registry import Network
from confreres.sanitize import text as plain_text

_PUBLISHED = {"1", "", "publish", "published", "approved"}  # no status said: as the blog showed it


def read_overblog_comments(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """The commented posts of an Over-blog export; ExportError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC)
    export = overblog.read_overblog(path)
    slugs = written_slugs(overblog.posts_source(export))  # what `overblog-posts` wrote them as
    threads: list[ImportedThread] = []
    for post in export.posts:
        if not post.comments:
            continue
        thread = ImportedThread(
            source_id=post.address or str(post.line), title=validate.one_line(plain_text(post.title)) or "(sans titre)",
            link="/" + post.address if post.address else "", guid="",
            slug=slugs.get(post.address or str(post.line), post.slug), post_type=post.kind,
            line=post.line,
            unpublished="" if post.status in overblog.PUBLISHED else overblog.DRAFTS.get(post.status, "non publié"))
        post_date = paris_to_utc(post.date)
        for comment in post.comments:
            created, date_from = comment.published, "gmt"
            if created is None:
                created, date_from = (post_date, "post") if post_date else (now, "import")
            thread.comments.append(imported_comment(
                source_id=comment.key, parent=comment.parent, author=comment.author, email=comment.email or None,
                website=comment.url or None, created=created.astimezone(UTC), date_from=date_from,
                source=comment.html, status="approved" if comment.status.lower() in _PUBLISHED else "pending",
                skip=None, is_post_author=False,
            ))
        threads.append(thread)
    base = export.blog_url if export.blog_url.endswith("/") or not export.blog_url else export.blog_url + "/"
    return ParsedExport("overblog", "", base, threads, len(export.posts), export.repairs, Counter())


def import_overblog(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of an Over-blog export into site `slug` (threads.import_threads' options)."""
    return import_threads(db, network, slug, path, read_overblog_comments, **options)
