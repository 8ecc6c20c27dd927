"""Blogger export (the backup's .xml or Takeout's feed.atom) -> the comments of one site of the network.

confreres.blogger reads the file (both formats); here each comment becomes an `ImportedComment` of its post's
thread, for threads.py to match and write as for every importer: threading (a reply's parent comment), dates,
the blog author's own answers (a Blogger account with the post author's profile), comments removed by their
author skipped with their replies kept, trashed ones skipped, spam kept as spam. Blogger puts a commenter's
profile or website in `<uri>`: kept as the website; the e-mail only when a real one is given.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.importers.threads import (
    ImportedThread,
    ImportReport,
    ParsedExport,
    import_threads,
    imported_comment,
)
from confreres import blogger
from confreres.post_import import written_slugs
from confreres.registry import Network
from confreres.sanitize import text as plain_text

_STATUS = {"live": "approved", "spam": "spam"}  # anything else waits for a moderator
_ANONYMOUS = {"anonymous", "anonyme", "unknown", "inconnu"}


def read_blogger_comments(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """The commented posts of a Blogger export; ExportError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC)
    export = blogger.read_blogger(path)
    slugs = written_slugs(blogger.posts_source(export))  # what `blogger-posts` wrote them as (a second « garde »: -2)
    posts = {entry.id: entry for entry in export.posts()}
    threads: dict[str, ImportedThread] = {}
    skipped: Counter = Counter()
    for comment in export.comments():
        post = posts.get(comment.post_id)
        if post is None:
            skipped["no_thread"] += 1
            continue
        thread = threads.get(post.id)
        if thread is None:
            thread = threads[post.id] = ImportedThread(
                source_id=post.id, title=validate.one_line(plain_text(post.title)) or "(sans titre)",
                link=post.url or post.path, guid="", slug=slugs.get(post.id, blogger.slug_of(post)), post_type=post.kind, line=post.line,
                unpublished=blogger.UNPUBLISHED.get(post.status, ""))
        skip = "deleted" if comment.removed else "trash" if comment.status == "trashed" else None
        same_account = (comment.author_uri == post.author_uri) if post.author_uri else comment.author == post.author
        # Blogger names every anonymous commenter « Anonymous » (in English, whatever the blog's language): the
        # network's own word for them is shown instead
        author = "" if comment.author.strip().lower() in _ANONYMOUS and not comment.author_is_blogger else comment.author
        thread.comments.append(imported_comment(
            source_id=comment.id, parent=comment.parent_id, author=author, email=comment.author_email or None,
            website=comment.author_uri or None, created=comment.published or now,
            date_from="gmt" if comment.published else "import", source=comment.html,
            status=None if skip else _STATUS.get(comment.status, "pending"), skip=skip,
            is_post_author=comment.author_is_blogger and bool(comment.author) and same_account,
        ))
    first = next((p.url for p in posts.values() if p.url), "")
    base_url = f"{urlsplit(first).scheme}://{urlsplit(first).netloc}/" if first else ""
    return ParsedExport("blogger", export.format, base_url, list(threads.values()), len(posts), export.repairs,
                        skipped)


def import_blogger(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of a Blogger export into site `slug` (threads.import_threads' options)."""
    return import_threads(db, network, slug, path, read_blogger_comments, **options)
