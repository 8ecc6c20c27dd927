"""Every read and write of threads and comments (the posts they hang on: domain/posts.py).

Functions take the database explicitly (the request's, a CLI's or a script's) so the API, the
no-JS pages, the feeds, the seed data and the tests share one implementation. Each write runs in
one `db.write()` transaction and bumps its post's `version`, which is what the thread ETag and
the in-process JSON cache key on: a read of an unchanged thread costs one small query.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from datetime import datetime, timedelta

from comments_service.core import tokens
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import blocks, public, render, tree, validate
from comments_service.domain.policy import initial_status
from comments_service.domain.posts import bump_post, comments_mode, iso, parse_iso, query, query_one, utcnow
from confreres import sanitize
from confreres.registry import Network

PUBLIC_STATUSES = ("approved",)


# Statuses of comments (and mentions) that only the moderators and their author see.
HIDDEN = frozenset(("pending", "rejected", "spam"))


# -- threads ------------------------------------------------------------------------------------

THREAD_COLUMNS = (
    "c.id, c.parent_id, c.author_name, c.website, c.badge_level, c.badge_specialty, c.is_post_author, c.html,"
    " c.status, c.created, c.edited, c.edit_nonce, c.blocked"
)
# What the writer's account adds (domain/public.py): how they were verified (the badge's tooltip), their current
# level (a revoked member shows no badge), their declaration of interests and, when public, their profile's handle.
ACCOUNT_COLUMNS = (
    "v.method AS badge_method, v.level AS account_level, a.interests_html AS interests_html,"
    " CASE WHEN a.profile_public THEN a.public_id END AS profile_id"
)
ACCOUNT_JOIN = "LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN verifications v ON v.account_id = c.account_id"


def thread_rows(db, url: str) -> list[sqlite3.Row]:
    """Every comment of the thread, oldest first, with every column the public view needs."""
    return query(
        db,
        f"SELECT {THREAD_COLUMNS}, {ACCOUNT_COLUMNS} FROM comments c {ACCOUNT_JOIN} WHERE c.post_url = ? ORDER BY c.created, c.id",
        (url,),
    )


SHAPE_COLUMNS = "c.id, c.parent_id, c.status, c.edit_nonce, c.author_name, c.blocked"


def owner_status(row) -> str:
    """A comment's status as its writer is told it: a comment stored as spam because its author is blocked on that
    blog (domain/blocks.py) is "pending" to them, as it would be to anyone not blocked."""
    return "pending" if row["status"] == "spam" and row["blocked"] else row["status"]


def shape_rows(db, url: str) -> list[sqlite3.Row]:
    """Every comment of the thread, oldest first, with only what its shape needs (thread_tree): a page of a
    10,000-comment thread then reads the full columns of its own comments only (rows_by_id)."""
    return query(db, f"SELECT {SHAPE_COLUMNS} FROM comments c WHERE c.post_url = ? ORDER BY c.created, c.id", (url,))


def rows_by_id(db, ids: list[int]) -> dict[int, sqlite3.Row]:
    """{id: row} with the public view's columns, for these comments."""
    found: dict[int, sqlite3.Row] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in query(
            db, f"SELECT {THREAD_COLUMNS}, {ACCOUNT_COLUMNS} FROM comments c {ACCOUNT_JOIN} WHERE c.id IN ({marks})", chunk
        ):
            found[row["id"]] = row
    return found


def pending_owned(db, url: str, owned: dict[int, str]) -> dict[int, str]:
    """The subset of `owned` ({id: nonce} from the caller's tokens) that are pending comments of this thread (to their
    writer: owner_status)."""
    if not owned:
        return {}
    ids = list(owned)[: tokens.MAX_OWNER_TOKENS]
    marks = ",".join("?" * len(ids))
    rows = query(
        db,
        f"SELECT id, edit_nonce FROM comments WHERE post_url = ? AND (status = 'pending' OR (status = 'spam' AND blocked))"
        f" AND id IN ({marks})",
        (url, *ids),
    )
    return {r["id"]: owned[r["id"]] for r in rows if tokens.nonce_matches(r["edit_nonce"], owned[r["id"]])}


def thread_tree(rows, owned: dict[int, str] | None = None, depth: int = tree.DEFAULT_DEPTH, load=None) -> tree.Tree:
    """The thread's shape (domain/tree.py): visible are approved comments, plus pending ones whose nonce the caller
    proved; any other comment that still has visible replies becomes a placeholder so the thread keeps its shape.
    `rows`: thread_rows, or shape_rows with `load` = rows_by_id."""
    owned = owned or {}

    def visible(row) -> bool:
        if row["status"] == "approved":
            return True
        return owner_status(row) == "pending" and tokens.nonce_matches(row["edit_nonce"], owned.get(row["id"], ""))

    return tree.build(
        rows, depth=depth, visible=visible, make=public.comment, hole=public.placeholder,
        name=lambda row: row["author_name"] or public.ANONYMOUS, load=load,
    )


def assemble(rows, owned: dict[int, str] | None = None, depth: int = tree.DEFAULT_DEPTH) -> tuple[list[dict], int]:
    """The whole thread nested, capped at `depth` levels; (roots, number of visible comments)."""
    shape = thread_tree(rows, owned, depth)
    return shape.page()[0], shape.total


def thread_document(
    db, network: Network, post, owned: dict[int, str] | None = None, *, depth: int = tree.DEFAULT_DEPTH,
    offset: int = 0, limit: int = tree.DEFAULT_LIMIT, skip: int = 0,
) -> dict:
    """One page of the public thread: `limit` top-level comments from `offset`, with their replies, at most
    `limit` * tree.PAGE_COMMENTS comments (a larger top-level thread goes on on the next page: `skip`).

    `total` counts the whole thread's visible comments; `page` says where this one sits and how to go on.
    """
    shape = thread_tree(shape_rows(db, post["url"]), owned, depth, load=lambda ids: rows_by_id(db, ids))
    most = limit * tree.PAGE_COMMENTS
    comments, count = shape.page(offset, limit, skip, most)
    following = shape.extent(offset, limit, skip, most)[1]
    return {
        "url": post["url"],
        "title": post["title"],
        "site": post["site"],
        "mode": comments_mode(network, post),
        "total": shape.total,
        "comments": comments,
        "page": {
            "depth": depth,
            "offset": offset,
            "skip": skip,
            "limit": limit,
            "threads": len(shape.roots),
            "count": count,
            "next": following[0] if following else None,
            "next_skip": following[1] if following else 0,
        },
    }


# -- comments -----------------------------------------------------------------------------------

def get_comment(db, comment_id: int) -> sqlite3.Row | None:
    return query_one(db, f"SELECT c.*, {ACCOUNT_COLUMNS} FROM comments c {ACCOUNT_JOIN} WHERE c.id = ?", (comment_id,))


# The same text on the same post, from the same address or e-mail, within the window: one index lookup
# (comments_duplicate, migrations m019_write_indexes and m021_duplicate_key), however many comments the thread has.
DUPLICATE_SQL = (
    "SELECT 1 FROM comments WHERE post_url = ? AND text_key = ? AND created >= ? AND status != 'deleted'"
    " AND ((? IS NOT NULL AND ip_hash = ?) OR (? IS NOT NULL AND email = ? COLLATE NOCASE)) LIMIT 1"
)


def duplicate_key(html: str) -> str:
    """What a reader sees of a comment, for the duplicate check: its text once rendered (escapes, entities and
    markup gone), compatibility-normalised (decomposed accents, no-break spaces), case-folded, without invisible
    format characters (zero-width, soft hyphen, BOM), its spaces collapsed; and where its links lead."""
    plain = unicodedata.normalize("NFKC", sanitize.text(html)).casefold()
    text = " ".join("".join(ch for ch in plain if unicodedata.category(ch) != "Cf").split())
    return " ".join([text, *_HREF.findall(html)])


_HREF = re.compile(r'<a [^>]*href="([^"]*)"')  # the sanitiser writes every attribute in double quotes


def render_text(text: str) -> str:
    """A comment's stored HTML (domain/render.py); ApiError 400 when nothing shows once rendered."""
    html = render.to_html(text)
    if render.is_blank(html):
        raise ApiError(400, "empty_text", "Le commentaire est vide une fois mis en forme.", "text")
    return html


def check_signed_in(db, account: dict | None) -> None:
    """Inside a write transaction: the signed-in account a request read before it still exists, else the 401 of a dead
    session. It may have been deleted (another tab of its owner, an admin) while the request waited for its turn to
    write: its id would fail the foreign keys (a 500), and nothing must be written in its name any more."""
    if account is not None and query_one(db, "SELECT 1 FROM accounts WHERE id = ?", (account["id"],)) is None:
        raise ApiError(401, "not_signed_in", "Connectez-vous pour continuer (lien de connexion par e-mail).")


def add_comment(
    db,
    network: Network,
    post,
    data: validate.CommentInput,
    *,
    policy: str | None = None,
    account: dict | None = None,
    ip_hash: str | None = None,
    duplicate_minutes: int = 10,
    now: datetime | None = None,
    secrecy: str | None = None,
    html: str | None = None,
    secret: str | None = None,
) -> tuple[sqlite3.Row, str]:
    """Store a new comment; return (row, edit nonce). `policy` overrides the site's moderation policy;
    `secrecy` (domain/secrecy.hold) holds it for moderation whatever the policy, and says why; `html` is
    render_text(data.text) when the caller made it before its transaction. `secret` (the app's secret key) lets a
    blocked author be recognised by their e-mail's keyed hash (domain/blocks.py): their comment is stored as spam,
    marked `blocked`, and its writer is answered as for a pending one.

    `account` (from the sign-in layer, when there is one) decides the badge and the post-author
    mark on the server; nothing of the kind is read from the client's payload.
    """
    mode = comments_mode(network, post)
    if mode == "closed":
        raise ApiError(403, "comments_closed", "Les commentaires sont fermés sur ce billet.")
    if mode == "confreres" and not (account and account.get("badge_level") == "verified"):
        raise ApiError(
            403, "confreres_only", "Ce fil est réservé aux médecins vérifiés : connectez-vous et faites vérifier votre inscription."
        )
    html = render_text(data.text) if html is None else html
    moment = now or utcnow()
    stamp = iso(moment)
    try:
        site = network.site(post["site"])
        site_policy = policy or network.moderation_for(site)
    except KeyError:
        site_policy = policy or network.policies.moderation
    nonce = tokens.new_nonce()
    author = data.author
    email = data.email
    if account:
        author = account.get("display_name") or author
        email = account.get("email") or email

    with write(db):
        check_signed_in(db, account)
        if data.parent is not None:
            parent = query_one(db, "SELECT post_url, status FROM comments WHERE id = ?", (data.parent,))
            if parent is None or parent["post_url"] != post["url"] or parent["status"] != "approved":
                raise ApiError(
                    400, "invalid_parent", "Le commentaire auquel vous répondez n'existe pas sur ce fil.", "parent"
                )
        since = iso(moment - timedelta(minutes=duplicate_minutes))
        key = duplicate_key(html)
        duplicate = query_one(db, DUPLICATE_SQL, (post["url"], key, since, ip_hash, ip_hash, email, email))
        if duplicate:
            raise ApiError(409, "duplicate", "Vous avez déjà envoyé ce commentaire sur ce billet.", "text")
        is_site_author = bool(
            account
            and query_one(
                db, "SELECT 1 FROM account_sites WHERE account_id = ? AND site = ?", (account["id"], post["site"])
            )
        )
        if account:
            returning = query_one(
                db,
                "SELECT 1 FROM comments WHERE account_id = ? AND site = ? AND status = 'approved' LIMIT 1",
                (account["id"], post["site"]),
            )
        elif email:
            returning = query_one(
                db,
                "SELECT 1 FROM comments WHERE email = ? COLLATE NOCASE AND author_name = ? COLLATE NOCASE"
                " AND site = ? AND status = 'approved' LIMIT 1",
                (email, author, post["site"]),
            )
        else:
            returning = None
        status = "pending" if secrecy else initial_status(
            site_policy, account=account, is_site_author=is_site_author, returning_author=bool(returning)
        )
        blocked = not is_site_author and blocks.is_blocked(
            db, post["site"], account_id=account["id"] if account else None,
            email_key=blocks.email_hash(secret, email) if secret else None, ip_hash=ip_hash,
        )
        if blocked:
            status = "spam"
        cursor = db.conn.execute(
            "INSERT INTO comments (post_url, site, parent_id, account_id, author_name, email, website,"
            " badge_level, badge_specialty, is_post_author, text, html, status, created, ip_hash, notify, edit_nonce,"
            " secrecy, text_key, blocked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                post["url"], post["site"], data.parent, account["id"] if account else None, author, email,
                data.website, (account or {}).get("badge_level"), (account or {}).get("badge_specialty"),
                int(is_site_author), data.text, html, status, stamp, ip_hash, int(data.notify), nonce, secrecy, key,
                int(blocked),
            ),
        )
        bump_post(db, post["url"], public=status not in HIDDEN)
        row = get_comment(db, cursor.lastrowid)
    return row, nonce


def account_comments(db, account_id: int, post_url: str, window_minutes: int) -> list[dict]:
    """The comments an account wrote on one thread (not deleted), oldest first: id, status and the end of
    the edit window; for that account only (GET /api/account/comments), never in a public read."""
    window = timedelta(minutes=window_minutes)
    rows = query(
        db,
        "SELECT id, status, blocked, created FROM comments WHERE post_url = ? AND account_id = ? AND status != 'deleted'"
        " ORDER BY id",
        (post_url, account_id),
    )
    return [
        {"id": r["id"], "status": owner_status(r), "editable_until": iso(parse_iso(r["created"]) + window)} for r in rows
    ]


def check_owner(row, nonce: str | None = None, account_id: int | None = None) -> None:
    """The caller wrote this comment: it holds its edit token (`nonce`) or, without one, the session of the
    account that wrote it (`account_id`, a signed-in member on another device); 403 otherwise."""
    if account_id is not None and nonce is None:
        if row["account_id"] != account_id:
            raise ApiError(403, "not_owner", "Ce commentaire n'a pas été écrit depuis ce compte.")
    elif not tokens.nonce_matches(row["edit_nonce"], nonce or ""):
        raise ApiError(403, "invalid_token", "Jeton de modification invalide pour ce commentaire.")


def _owner_row(
    db, comment_id: int, nonce: str | None, window_minutes: int, now: datetime, account_id: int | None = None
) -> sqlite3.Row:
    row = get_comment(db, comment_id)
    if row is None:
        raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
    if row["status"] == "deleted":
        raise ApiError(409, "comment_deleted", "Ce commentaire a été supprimé.")
    check_owner(row, nonce, account_id)
    if (now - parse_iso(row["created"])).total_seconds() >= window_minutes * 60:
        raise ApiError(
            403, "edit_window_closed",
            f"Le délai de modification ({window_minutes} min après l'envoi) est dépassé.",
        )
    return row


def edit_comment(
    db, comment_id: int, nonce: str | None, text: str, *, window_minutes: int, now: datetime | None = None,
    account_id: int | None = None,
):
    """The author's edit (edit token's `nonce`, or `account_id` of the writer's session), within the window:
    new source, new HTML, `edited` set. Status unchanged."""
    html = render_text(text)
    moment = now or utcnow()
    with write(db):
        row = _owner_row(db, comment_id, nonce, window_minutes, moment, account_id)
        if owner_status(row) in ("rejected", "spam"):
            raise ApiError(409, "comment_moderated", "Ce commentaire a été refusé par la modération.")
        db.conn.execute(
            "UPDATE comments SET text = ?, html = ?, text_key = ?, edited = ? WHERE id = ?",
            (text, html, duplicate_key(html), iso(moment), comment_id),
        )
        bump_post(db, row["post_url"], public=row["status"] not in HIDDEN)
        return get_comment(db, comment_id)


def delete_comment(
    db, comment_id: int, nonce: str | None, *, window_minutes: int, now: datetime | None = None,
    account_id: int | None = None,
) -> str:
    """The author's delete (edit token or session, as edit_comment), within the window; 'soft' (placeholder
    kept for its replies) or 'hard'."""
    with write(db):
        row = _owner_row(db, comment_id, nonce, window_minutes, now or utcnow(), account_id)
        return remove_comment(db, row["id"], now=now)


def remove_comment(db, comment_id: int, now: datetime | None = None) -> str:
    """Remove a comment (author or moderator): a placeholder when it has replies, else the row itself.

    A placeholder keeps only id, parent and date: text, name, e-mail, website, badge, IP hash and
    nonce are erased. Removing the last reply of a placeholder removes the placeholder too.
    """
    with write(db):
        row = get_comment(db, comment_id)
        if row is None:
            raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
        if query_one(db, "SELECT 1 FROM comments WHERE parent_id = ? LIMIT 1", (comment_id,)):
            db.conn.execute(
                "UPDATE comments SET status = 'deleted', text = '', html = '', author_name = '', email = NULL,"
                " website = NULL, badge_level = NULL, badge_specialty = NULL, is_post_author = 0, notify = 0,"
                " edit_nonce = NULL, ip_hash = NULL, account_id = NULL, edited = ? WHERE id = ?",
                (iso(now or utcnow()), comment_id),
            )
            outcome, public = "soft", row["status"] not in HIDDEN
        else:
            db.conn.execute("DELETE FROM comments WHERE id = ?", (comment_id,))
            public = row["status"] not in HIDDEN
            parent_id = row["parent_id"]
            while parent_id is not None:
                parent = query_one(db, "SELECT id, parent_id, status FROM comments WHERE id = ?", (parent_id,))
                if parent is None or parent["status"] != "deleted":
                    break
                if query_one(db, "SELECT 1 FROM comments WHERE parent_id = ? LIMIT 1", (parent_id,)):
                    break
                db.conn.execute("DELETE FROM comments WHERE id = ?", (parent_id,))
                parent_id, public = parent["parent_id"], True  # a placeholder shown went
            outcome = "hard"
        if row["email"]:
            _forget_address(db, row["email"], row["post_url"])
        bump_post(db, row["post_url"], public=public)
    return outcome


def _forget_address(db, email: str, post_url: str) -> None:
    """Inside remove_comment: what a guest's address left once its comment is gone. Its reply subscription to the
    thread, when no comment of that address there still asks for replies (a notice answers a comment: none is left
    to answer); its double opt-in record, when nothing of that address is left at all (no comment, subscription or
    account). A guest who deleted their only comment left their address in both, for ever. « Ne plus rien
    recevoir » (blocked) stays: it must outlive everything (mail/outbox.is_blocked)."""
    db.conn.execute(
        "DELETE FROM subscriptions WHERE email = ? AND post_url = ? AND NOT EXISTS (SELECT 1 FROM comments"
        " WHERE email = ? COLLATE NOCASE AND post_url = ? AND notify = 1)", (email, post_url, email, post_url),
    )
    db.conn.execute(
        "DELETE FROM mail_addresses WHERE email = ? AND blocked IS NULL"
        " AND NOT EXISTS (SELECT 1 FROM comments WHERE email = ? COLLATE NOCASE)"
        " AND NOT EXISTS (SELECT 1 FROM subscriptions WHERE email = ?) AND NOT EXISTS (SELECT 1 FROM accounts WHERE email = ?)",
        (email, email, email, email),
    )


def set_status(db, comment_id: int, status: str, now: datetime | None = None) -> sqlite3.Row:
    """A moderator's decision (approve, reject, spam, back to pending); the thread's ETag changes."""
    if status not in ("approved", "pending", "rejected", "spam"):
        raise ValueError(f"unknown status {status!r}")
    with write(db):
        row = get_comment(db, comment_id)
        if row is None:
            raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
        if row["status"] == "deleted":
            raise ApiError(409, "comment_deleted", "Ce commentaire a été supprimé.")
        db.conn.execute(
            "UPDATE comments SET status = ?, moderated = ? WHERE id = ?", (status, iso(now or utcnow()), comment_id)
        )
        bump_post(db, row["post_url"], public=not {row["status"], status} <= HIDDEN)
        return get_comment(db, comment_id)


def report_comment(db, comment_id: int, reason: str, *, ip_hash: str | None = None, now: datetime | None = None) -> int:
    """Queue a public comment for the moderators with the reader's reason; one report per reader and comment."""
    with write(db):
        row = query_one(db, "SELECT status FROM comments WHERE id = ?", (comment_id,))
        if row is None or row["status"] != "approved":
            raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
        if ip_hash:
            existing = query_one(
                db, "SELECT id FROM reports WHERE comment_id = ? AND ip_hash = ? AND resolved IS NULL",
                (comment_id, ip_hash),
            )
            if existing:
                return existing["id"]
        cursor = db.conn.execute(
            "INSERT INTO reports (comment_id, reason, created, ip_hash) VALUES (?, ?, ?, ?)",
            (comment_id, reason, iso(now or utcnow()), ip_hash),
        )
        return cursor.lastrowid


# -- lists ---------------------------------------------------------------------------------------

def counts(db, urls: list[str], network: Network | None = None) -> dict[str, int]:
    """Approved comments per post URL, in one query; 0 for unknown URLs. Keys are the URLs as given.

    What the threads show (posts.find_post): an earlier address of a moved post counts its thread at its new
    address; a post its blog removed (no longer listed), or of a blog no longer in `network`, counts 0, as its
    thread answers 404."""
    normalized = {}
    for url in urls:
        try:
            normalized[url] = validate.normalize_url(url)
        except ValueError:
            normalized[url] = url
    keys = sorted(set(normalized.values()))
    found: dict[str, int] = {}
    if keys:
        for row in query(
            db,
            # each address leads where find_post leads: its listed post, else the post it moved to (one post per
            # address, hence one blog: p.site is that post's)
            f"SELECT k.column1 AS url, p.site AS site, COUNT(*) AS n FROM (VALUES {','.join(['(?)'] * len(keys))}) AS k"
            " JOIN posts p ON p.url = COALESCE((SELECT url FROM posts WHERE url = k.column1 AND listed = 1),"
            " (SELECT new_url FROM post_moves WHERE old_url = k.column1), k.column1)"
            " AND p.listed = 1"
            " JOIN comments c ON c.post_url = p.url AND c.status = 'approved' GROUP BY k.column1",
            keys,
        ):
            # the member blogs checked here, not bound into the query: 12,000 blogs made 12,000 parameters (3 ms)
            if network is None or network.has_site(row["site"]):
                found[row["url"]] = row["n"]
    return {url: found.get(key, 0) for url, key in normalized.items()}


FEED_COLUMNS = (
    "c.id, c.parent_id, c.author_name, c.website, c.badge_level, c.badge_specialty, c.is_post_author, c.html,"
    " c.status, c.created, c.edited, c.post_url, p.title AS post_title, p.site AS site"
)


def recent(db, *, site: str | None = None, url: str | None = None, member=None, limit: int = 50) -> list[sqlite3.Row]:
    """Latest approved comments of listed posts, newest first: the whole network, one site, or one thread. `member`:
    whether a blog's slug is still the network's (Network.has_site: a blog removed from network.toml has no threads
    any more), checked on the rows read, page after page, instead of one query parameter per member blog."""
    where = ["c.status = 'approved'", "p.listed = 1"]
    params: list = []
    if site:
        where.append("c.site = ?")
        params.append(site)
    if url:
        where.append("c.post_url = ?")
        params.append(url)
    select = (f"SELECT {FEED_COLUMNS}, {ACCOUNT_COLUMNS} FROM comments c JOIN posts p ON p.url = c.post_url"
              f" {ACCOUNT_JOIN} WHERE {' AND '.join(where)}")
    newest = " ORDER BY c.created DESC, c.id DESC LIMIT ?"
    if member is None:
        return query(db, select + newest, [*params, limit])
    kept: list[sqlite3.Row] = []
    last = None
    while len(kept) < limit:
        # the next page after the last row read (created, id): rows written meanwhile neither repeat nor shift it
        page = query(db, select + (" AND (c.created, c.id) < (?, ?)" if last else "") + newest,
                     [*params, *(last or ()), limit])
        kept += [row for row in page if member(row["site"])]
        if len(page) < limit:
            break
        last = (page[-1]["created"], page[-1]["id"])
    return kept[:limit]
