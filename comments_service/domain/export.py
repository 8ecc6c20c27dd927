"""Export of the comments as JSON, and online backup of the database (`confreres export comments`, `confreres backup`).

The public export is the threads exactly as the API shows them (`store.assemble`, `domain/tree.py` + `domain/public.py`, the
one place that decides which fields leave the service): approved comments, placeholders that keep
a thread's shape, `author.profile` for members whose profile is public, never an e-mail, IP hash,
account id, edit nonce or Markdown source. The private
export (the network admin's own backups) adds every status, the source text and the e-mail; still no
IP hash, account id or nonce.

The backup uses SQLite's online backup API in one step: a read snapshot of a WAL database, taken
while the service keeps writing (readers never block the writer), written to a temporary file, checked
with `PRAGMA integrity_check`, fsynced, then renamed into place, and its folder fsynced (the rename durable).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from comments_service.core.errors import storage_error
from comments_service.domain import comments as store
from comments_service.domain import public, tree
from confreres.registry import Network

FORMAT = "confreres-comments"
FORMAT_VERSION = 1

PRIVATE_COLUMNS = (
    "id, parent_id, author_name, email, website, badge_level, badge_specialty, is_post_author, text, html, status,"
    " created, edited, moderated, notify"
)


def _private_comment(row) -> dict:
    node = public.comment(row) if row["status"] != "deleted" else public.placeholder(row)
    node["status"] = row["status"]
    node["email"] = row["email"]
    node["text"] = row["text"]
    node["moderated"] = row["moderated"]
    node["notify"] = bool(row["notify"])
    return node


def _private_tree(rows, depth: int) -> tuple[list[dict], int]:
    """Every comment, whatever its status, shaped by domain/tree.py as the public threads are."""
    shape = tree.build(
        rows, depth=depth, visible=lambda row: True, make=lambda row, _replies: _private_comment(row),
        hole=lambda row, _replies: _private_comment(row), name=lambda row: row["author_name"] or public.ANONYMOUS,
    )
    return shape.page()[0], shape.total


def profile_handles(db, post_url: str) -> dict[int, str]:
    """{comment id: profile handle} of a thread's comments whose writer's profile is public (as the API)."""
    rows = store.query(
        db,
        "SELECT c.id, a.public_id FROM comments c JOIN accounts a ON a.id = c.account_id"
        " WHERE c.post_url = ? AND a.profile_public = 1 AND a.public_id IS NOT NULL",
        (post_url,),
    )
    return {r["id"]: r["public_id"] for r in rows}


def _add_profiles(nodes: list[dict], handles: dict[int, str], comments_url: str) -> None:
    """`author.profile` as the API gives it (public.author), which needs the app: the export has none."""
    stack = list(nodes)
    while stack:
        node = stack.pop()
        url = public.profile_url(handles.get(node["id"]), comments_url)
        if url and not node.get("deleted"):
            node["author"]["profile"] = url
        stack.extend(node.get("replies") or [])


def threads(
    db, network: Network, *, site: str | None = None, private: bool = False, depth: int = tree.DEFAULT_DEPTH
) -> Iterator[dict]:
    """Each post that has comments to export, with its comments nested `depth` levels deep at most (domain/tree.py:
    `parent` keeps the real shape), one thread at a time."""
    members = {s.slug for s in network.sites}
    where, params = ["EXISTS (SELECT 1 FROM comments c WHERE c.post_url = p.url)"], []
    if site:
        where.append("p.site = ?")
        params.append(site)
    if not private:
        where.append("p.listed = 1")
    posts = store.query(
        db,
        f"SELECT url, site, title, published, reply_to, comments_mode, listed FROM posts p WHERE {' AND '.join(where)}"
        " ORDER BY p.site, p.published, p.url",
        params,
    )
    for post in posts:
        if not private and post["site"] not in members:
            continue
        if private:
            rows = store.query(
                db, f"SELECT {PRIVATE_COLUMNS} FROM comments WHERE post_url = ? ORDER BY id", (post["url"],)
            )
            roots, total = _private_tree(rows, depth)
        else:
            roots, total = store.assemble(store.thread_rows(db, post["url"]), depth=depth)
            if not roots:
                continue
        _add_profiles(roots, profile_handles(db, post["url"]), network.comments_url)
        thread = {
            "url": post["url"],
            "site": post["site"],
            "title": post["title"],
            "published": post["published"],
            "total": total,
            "comments": roots,
        }
        if private:
            thread["listed"] = bool(post["listed"])
        yield thread


def write_export(
    db, network: Network, out, *, site: str | None = None, private: bool = False, depth: int = tree.DEFAULT_DEPTH
) -> dict:
    """Write the JSON document to the text stream `out`, one thread at a time; return the counts.

    The whole export reads one snapshot of the database: one read transaction (WAL: the service keeps writing
    meanwhile, unseen), so a comment posted, moved or deleted while the export runs is in it everywhere or nowhere
    (a reply never without its parent, the counts those of one moment). Inside a caller's transaction, that one."""
    own = not db.conn.in_transaction
    if own:
        db.conn.execute("BEGIN")  # deferred: its first read fixes the snapshot, and it never takes the write lock
    try:
        return _write_export(db, network, out, site=site, private=private, depth=depth)
    finally:
        if own and db.conn.in_transaction:
            db.conn.execute("ROLLBACK")  # it wrote nothing


def _write_export(db, network: Network, out, *, site, private, depth) -> dict:
    counts = {"threads": 0, "comments": 0}
    header = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported": store.iso(store.utcnow()),
        "network": network.name,
        "site": site,
        "private": private,
    }
    out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "threads": [')
    for i, thread in enumerate(threads(db, network, site=site, private=private, depth=depth)):
        out.write(("," if i else "") + "\n" + json.dumps(thread, ensure_ascii=False))
        counts["threads"] += 1
        counts["comments"] += thread["total"]
    out.write("\n]}\n")
    return counts


# -- backup --------------------------------------------------------------------------------------

COUNTED = ("posts", "comments", "accounts", "reports", "imports")


@dataclass
class BackupResult:
    path: Path
    size: int
    integrity: str
    counts: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def table_counts(conn: sqlite3.Connection) -> tuple[dict[str, int], dict[str, int]]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in COUNTED if t in tables}
    statuses = {}
    if "comments" in tables:
        statuses = dict(conn.execute("SELECT status, COUNT(*) FROM comments GROUP BY status ORDER BY status"))
    return counts, statuses


class BackupError(RuntimeError):
    pass


def _disk_refused(exc: BaseException) -> bool:
    """Whether `exc` is a disk that refused the copy: SQLite's « database or disk is full » or « disk I/O error »
    (a file size limit), or the same from the system (the temporary file, its fsync)."""
    if isinstance(exc, sqlite3.Error):
        error = storage_error(exc)
        return error is not None and error.code in ("storage_full", "storage_unavailable")
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def fsync_folder(path: Path) -> None:
    """Make a rename (or a file created) in the folder `path` durable: a renamed file is in its folder's entries,
    which its own fsync does not write."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def backup(source: str | Path, dest: str | Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the live database `source` to `dest` (a file, or a folder to put a dated file in), then check it."""
    import time

    started = time.perf_counter()
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} : base de données introuvable")
    dest = Path(dest)
    if dest.is_dir():
        dest = dest / f"comments-{store.utcnow().strftime('%Y%m%d-%H%M%S')}.sqlite3"
    if dest.exists() and not overwrite:
        raise BackupError(f"{dest} existe déjà : choisissez un autre chemin (ou --force)")
    if dest.resolve() == source.resolve():
        raise BackupError("la sauvegarde ne peut pas remplacer la base elle-même")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _backups_turn(dest.parent):
        _drop_unfinished(dest)
        return _backup(source, dest, started)


BACKUP_LOCK = ".confreres-backup.lock"


@contextlib.contextmanager
def _backups_turn(folder: Path) -> Iterator[None]:
    """One backup at a time into `folder` (the nightly timer and one run by hand): the kernel frees it if one dies."""
    handle = os.open(folder / BACKUP_LOCK, os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


def _drop_unfinished(dest: Path) -> None:
    """Remove the unfinished copies of backups killed before they ended (the OOM killer, `kill -9`; under
    _backups_turn, none runs): `.<name>.<random>.tmp` (and SQLite's journal of it), each the size of the database,
    which neither a later backup nor the timer's pruning (`comments-*.sqlite3`) removed."""
    unfinished = re.compile(rf"\.(comments-\d{{8}}-\d{{6}}\.sqlite3|{re.escape(dest.name)})\.[a-z0-9_]{{8}}"
                            r"\.tmp(-journal|-wal|-shm)?")
    with contextlib.suppress(OSError):
        for entry in os.scandir(dest.parent):
            if unfinished.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)


def _backup(source: Path, dest: Path, started: float) -> BackupResult:
    import time

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(source, timeout=10)
        try:
            src.execute("PRAGMA busy_timeout=10000")
            copy = sqlite3.connect(tmp)
            try:
                src.backup(copy)  # one step: a consistent snapshot, the writer never waits
                copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
                integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
                fk_errors = copy.execute("PRAGMA foreign_key_check").fetchall()
                counts, statuses = table_counts(copy)
            finally:
                copy.close()
        finally:
            src.close()
        if integrity != "ok":
            raise BackupError(f"la vérification d'intégrité de la copie a échoué : {integrity}")
        if fk_errors:
            raise BackupError(f"la vérification des clés étrangères de la copie a échoué : {len(fk_errors)} lignes")
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())  # the copy's bytes on disk before its name points at them
        os.replace(tmp, dest)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if _disk_refused(exc):
            raise BackupError(f"la copie n'a pas pu être écrite dans {dest.parent} (disque plein, quota ou taille de "
                              "fichier limitée ?) : aucune sauvegarde écrite, la base en service n'a pas changé") from None
        raise
    fsync_folder(dest.parent)  # the rename itself: a crash right after must not bring back the old name, or none
    return BackupResult(dest, dest.stat().st_size, integrity, counts, statuses, time.perf_counter() - started)
