"""Movable Type export (Movable Type, TypePad, Hautetfort…) -> the comments of one site of the network.

confreres.movable_type reads the file; here each COMMENT of an entry becomes an `ImportedComment` of its thread,
for threads.py to match (by the entry's slug: its BASENAME, else its title made a slug, as `movabletype-posts`
writes it) and write as for every importer. The format has no threads, no comment ids and no status: comments are
in the order written, each keyed by a digest of its entry, author, date and text (a second run finds them all
present), published as they were (unless they would identify a patient: threads.py holds those), trackbacks
(PING) skipped and counted. The IP addresses of the file are never read.
"""

from __future__ import annotations

import hashlib
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
from confreres import movable_type
from confreres.french import paris_to_utc
from confreres.post_import import written_slugs
from confreres.registry import Network
from confreres.sanitize import text as plain_text


def read_mt_comments(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """The commented entries of a Movable Type export; ExportError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC)
    export = movable_type.read_mt(path)
    slugs = written_slugs(movable_type.posts_source(export))  # what `movabletype-posts` wrote them as
    threads: list[ImportedThread] = []
    skipped: Counter = Counter()
    for entry in export.entries:
        if not entry.comments:
            continue
        thread = ImportedThread(
            source_id=str(entry.line), title=validate.one_line(plain_text(entry.title)) or "(sans titre)", link="",
            guid="", slug=slugs.get(str(entry.line), entry.slug), post_type="post", line=entry.line,
            unpublished="" if entry.no_entry else movable_type.UNPUBLISHED.get(entry.status, ""))
        post_date = paris_to_utc(entry.date)
        seen: Counter = Counter()
        for comment in entry.comments:
            # from what the file writes (the date as written: its reading depends on the whole file, which a later
            # export of the same blog may change)
            key = hashlib.sha256("\x00".join((entry.slug, comment.author, comment.written_date,
                                              comment.text)).encode()).hexdigest()[:16]
            seen[key] += 1
            created, date_from = paris_to_utc(comment.date), "local"
            if created is None:
                created, date_from = (post_date, "post") if post_date else (now, "import")
            thread.comments.append(imported_comment(
                source_id=f"{key}-{seen[key]}" if seen[key] > 1 else key, parent="", author=comment.author,
                email=comment.email or None, website=comment.url or None, created=created, date_from=date_from,
                source=comment.text, status=None if comment.trackback else "approved",
                skip="trackback" if comment.trackback else None, is_post_author=False,
            ))
        threads.append(thread)
    return ParsedExport("movabletype", export.encoding, "", threads, len(export.entries), export.repairs, skipped)


def import_mt(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of a Movable Type export into site `slug` (threads.import_threads' options)."""
    return import_threads(db, network, slug, path, read_mt_comments, **options)
