"""Isso's database -> the comments of one site of the network.

    report = import_isso(db, network, "dr-martin", "/var/lib/isso/comments.db")

A blog that ran Isso is most often a static site already (Pelican, Hugo, Jekyll): its Markdown posts move as they
are, and its comments are in Isso's one SQLite file: `threads` (the page's path as Isso saw it, its title) and
`comments` (Markdown text, author, e-mail, website, date, `mode` 1 published / 2 waiting / 4 deleted, the
comment answered). The file is opened read-only; threads.py matches each thread to a post of the blog by its path
(else its last segment) and writes its comments, each once, under the key (site, "isso", Isso comment id).

The text is Markdown, as Isso keeps it: it is rendered and sanitised as a new comment's is (`render.to_html`), the
source kept. Deleted comments (Isso keeps them, emptied, while they have replies) are skipped, their replies hang
from the nearest ancestor kept; IP addresses are never imported, nor Isso's votes; nobody is subscribed to replies
by the import (what a reader agreed to on the old blog was Isso's mails, not ours).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from comments_service.domain import comments as store
from comments_service.domain import render, validate
from comments_service.importers.threads import (
    ImportedThread,
    ImportReport,
    ParsedExport,
    import_threads,
    imported_comment,
)
from confreres.registry import Network
from confreres.sanitize import text as plain_text
from confreres.xml_input import ExportError

_STATUS = {1: "approved", 2: "pending"}  # 4: deleted
_NEEDED = {"threads": {"id", "uri", "title"}, "comments": {"tid", "id", "parent", "created", "mode", "text", "author"}}


def _open(path: Path) -> sqlite3.Connection:
    try:
        with open(path, "rb") as handle:
            magic = handle.read(16)
    except OSError as exc:
        raise ExportError(f"fichier illisible ({exc.strerror})") from None
    if magic != b"SQLite format 3\x00":
        raise ExportError("ce n'est pas une base Isso : le fichier n'est pas une base SQLite (Isso garde ses "
                          "commentaires dans le fichier que désigne `dbpath` dans isso.cfg, souvent comments.db)")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        for table, columns in _NEEDED.items():
            found = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not found:
                raise ExportError(f"ce n'est pas une base Isso : pas de table « {table} »")
            if missing := sorted(columns - found):
                raise ExportError(f"ce n'est pas une base Isso : la table « {table} » n'a pas de colonne "
                                  + ", ".join(f"« {name} »" for name in missing))
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ExportError(f"base SQLite illisible ({exc})") from None
    except ExportError:
        conn.close()
        raise
    return conn


def _created(value) -> tuple[datetime | None, str]:
    try:
        return datetime.fromtimestamp(float(value), UTC), "gmt"
    except (TypeError, ValueError, OverflowError, OSError):
        return None, "import"


def read_isso(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """Isso's threads that carry comments, from its database; ExportError when it is not one."""
    now = (now or store.utcnow()).astimezone(UTC)
    conn = _open(Path(path))
    try:
        threads = {
            row["id"]: ImportedThread(source_id=str(row["id"]), title=validate.one_line(plain_text(row["title"] or ""))
                                      or "(sans titre)", link=(row["uri"] or "").strip(), guid="", slug="",
                                      post_type="post", line=0)
            for row in conn.execute("SELECT id, uri, title FROM threads ORDER BY id")
        }
        columns = {row["name"] for row in conn.execute("PRAGMA table_info(comments)")}
        optional = ", ".join(f"{name}" if name in columns else f"NULL AS {name}" for name in ("email", "website"))
        orphans = 0
        for row in conn.execute(f"SELECT tid, id, parent, created, mode, text, author, {optional} FROM comments"
                                " ORDER BY id"):
            thread = threads.get(row["tid"])
            if thread is None:
                orphans += 1
                continue
            created, date_from = _created(row["created"])
            text = row["text"] if isinstance(row["text"], str) else ""
            skip = "deleted" if row["mode"] == 4 else None
            thread.comments.append(imported_comment(
                source_id=str(row["id"]),
                parent="" if row["parent"] is None else str(row["parent"]),
                author=row["author"] if isinstance(row["author"], str) else "",
                email=row["email"] if isinstance(row["email"], str) else None,
                website=row["website"] if isinstance(row["website"], str) else None,
                created=created or now,
                date_from=date_from,
                source=text,
                html=None if skip else render.to_html(text),
                status=_STATUS.get(row["mode"], "pending"),  # an unknown mode waits for a moderator
                skip=skip,
                is_post_author=False,
            ))
    except sqlite3.DatabaseError as exc:
        raise ExportError(f"base SQLite illisible ({exc})") from None
    finally:
        conn.close()
    skipped = Counter({"no_thread": orphans} if orphans else {})
    return ParsedExport("isso", "", "", [t for t in threads.values() if t.comments], len(threads), Counter(), skipped)


def import_isso(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of an Isso database into site `slug` (threads.import_threads: `dry_run`,
    `extra_candidates`, `now`). KeyError for an unknown site, ExportError for a file that is not Isso's."""
    return import_threads(db, network, slug, path, read_isso, **options)
