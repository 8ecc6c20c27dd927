"""Blocked commenters: a blog's moderators block the author of a comment on that blog (WordPress's « Disallowed
Comment Keys », per blog). Their next comments on that blog are stored as spam and answered exactly as a pending
comment is, so that a troll learns nothing; other blogs of the network are not affected.

An author is identified by their account when they were signed in, and by their e-mail address (normalised: case,
surrounding spaces, a `+tag`; not a verified physician's, hidden from moderators: it may tell who a pseudonym is), and, when the moderator asks for it, by their network address (the comment's keyed IP hash,
an IPv6 client by its /64: web/limits.request_ip_hash). The table keeps keyed hashes only (HMAC with the app's
secret key), never an e-mail or an IP; with the display name at the time, who blocked, when and from which comment,
for the moderation page's list. Nothing of it leaves the moderation page and API (domain/public.py never sees it).

`comments.blocked` marks the comments a block made spam: their writer keeps seeing them as pending (the owner's
views: web/api.py, domain/comments.thread_tree). Unblocking leaves them as they are.
"""

from __future__ import annotations

import hmac
import sqlite3

from comments_service.core.addresses import address_key
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain.posts import bump_post, iso, query, query_one, utcnow


def email_hash(secret: str, email: str | None) -> str | None:
    """The keyed hash a block keeps of an e-mail address (None without one), of its address_key: a `+tag` added to
    the address (`troll+2@…`) is still the blocked author."""
    key = address_key(email)
    if not key:
        return None
    return hmac.digest(secret.encode(), b"confreres-email:" + key.encode(), "sha256").hex()[:32]


def forget_email_of(db, account_id: int) -> None:
    """Inside the declaration's transaction (domain/verification.py): an account that becomes a physician's has its
    blocks keep no key of its e-mail, as block_author would not make one now (its address is hidden from moderators
    and may tell who a pseudonym is); the blocks still name the account."""
    db.conn.execute("UPDATE author_blocks SET email_hash = NULL WHERE account_id = ?", (account_id,))


def matching(db, site: str, *, account_id: int | None, email_key: str | None, ip_hash: str | None):
    """The block of this blog that names this author (their account, e-mail hash or IP hash), or None."""
    if account_id is None and email_key is None and ip_hash is None:
        return None
    return query_one(
        db,
        "SELECT id FROM author_blocks WHERE site = ? AND ((? IS NOT NULL AND account_id = ?)"
        " OR (? IS NOT NULL AND email_hash = ?) OR (? IS NOT NULL AND ip_hash = ?)) LIMIT 1",
        (site, account_id, account_id, email_key, email_key, ip_hash, ip_hash),
    )


def is_blocked(db, site: str, *, account_id: int | None, email_key: str | None, ip_hash: str | None) -> bool:
    return matching(db, site, account_id=account_id, email_key=email_key, ip_hash=ip_hash) is not None


def block_author(db, secret: str, row, *, by: int, address: bool = False, now=None) -> dict:
    """Inside the moderator's transaction: block the author of comment `row` on its blog; make their comments pending
    there spam (marked `blocked`). Returns {"id": block id, "by": what identifies them, "spammed": ids}.

    400 when nothing identifies the author (no account, no e-mail, and no address asked or known) or when the author
    is the blog's own (an author of that blog)."""
    site = row["site"]
    account_id = row["account_id"]
    if account_id is not None and query_one(
        db, "SELECT 1 FROM account_sites WHERE account_id = ? AND site = ?", (account_id, site)
    ):
        raise ApiError(400, "own_author", "L'auteur de ce blog ne peut pas y être bloqué.", "action")
    # a physician's address may tell who a pseudonym is, and the blog's moderators never see it (moderation.queue):
    # a block keyed by it would let them try addresses as a guest and see which one lands in spam, never in their
    # queue. Such an author is blocked by their account (and their network address when asked).
    hidden = account_id is not None and query_one(
        db, "SELECT 1 FROM verifications WHERE account_id = ?", (account_id,)
    ) is not None
    email_key = None if hidden else email_hash(secret, row["email"])
    ip_key = row["ip_hash"] if address else None
    if address and not ip_key:
        raise ApiError(
            400, "no_address",
            "L'adresse réseau de ce commentaire n'est plus connue (effacée après quelques semaines, ou commentaire"
            " importé) : décochez la case pour bloquer l'auteur par son compte ou son e-mail.", "address",
        )
    if account_id is None and email_key is None and ip_key is None:
        raise ApiError(
            400, "unidentified",
            "Ce commentaire n'a ni compte ni e-mail : seule son adresse réseau permet de bloquer son auteur"
            " (cochez la case).", "address",
        )
    stamp = iso(now or utcnow())
    with write(db):
        existing = query_one(
            db,
            "SELECT id FROM author_blocks WHERE site = ? AND account_id IS ? AND email_hash IS ?"
            " AND (ip_hash IS ? OR ? IS NULL)",
            (site, account_id, email_key, ip_key, ip_key),
        )
        if existing is not None:  # the same author blocked again: one line in the list
            block_id = existing["id"]
        else:
            block_id = db.conn.execute(
                "INSERT INTO author_blocks (site, account_id, email_hash, ip_hash, author_name, comment_id, blocked_by,"
                " created) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (site, account_id, email_key, ip_key, row["author_name"] or "", row["id"], by, stamp),
            ).lastrowid
        spammed = _spam_pending(db, secret, site, account_id=account_id, email_key=email_key, ip_key=ip_key, now=stamp)
    return {"id": block_id, "by": [name for name, key in (("account", account_id), ("email", email_key),
                                                            ("address", ip_key)) if key is not None],
            "spammed": spammed}


def _spam_pending(db, secret: str, site: str, *, account_id, email_key, ip_key, now: str) -> list[int]:
    """The author's comments pending on that blog become spam, marked as made so by a block."""
    candidates = query(
        db, "SELECT id, post_url, account_id, email, ip_hash FROM comments WHERE site = ? AND status = 'pending'", (site,)
    )
    hit = [
        r for r in candidates
        if (account_id is not None and r["account_id"] == account_id)
        or (email_key is not None and email_hash(secret, r["email"]) == email_key)
        or (ip_key is not None and r["ip_hash"] == ip_key)
    ]
    for r in hit:
        db.conn.execute("UPDATE comments SET status = 'spam', blocked = 1, moderated = ? WHERE id = ?", (now, r["id"]))
    for url in {r["post_url"] for r in hit}:
        bump_post(db, url, public=False)  # the writer's own view of the thread changes, not the public one
    return [r["id"] for r in hit]


def listed(db, sites: list[str] | None, site: str | None = None) -> list[sqlite3.Row]:
    """The blocks of these blogs (None: every blog), newest first, with the name of who blocked (None: no display name, or
    an account deleted since; never their e-mail)."""
    where, params = [], []
    if sites is not None:
        if not sites:
            return []
        where.append(f"b.site IN ({','.join('?' * len(sites))})")
        params.extend(sites)
    if site is not None:
        where.append("b.site = ?")
        params.append(site)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    return query(
        db,
        "SELECT b.id, b.site, b.author_name, b.comment_id, b.created, b.account_id IS NOT NULL AS by_account,"
        " b.email_hash IS NOT NULL AS by_email, b.ip_hash IS NOT NULL AS by_address,"
        " NULLIF(a.display_name, '') AS blocked_by_name"
        f" FROM author_blocks b LEFT JOIN accounts a ON a.id = b.blocked_by {clause} ORDER BY b.created DESC, b.id DESC",
        params,
    )


def get_block(db, block_id: int) -> sqlite3.Row | None:
    return query_one(db, "SELECT id, site, author_name FROM author_blocks WHERE id = ?", (block_id,))


def unblock(db, block_id: int) -> None:
    """Lift a block; the comments it made spam stay spam."""
    with write(db):
        db.conn.execute("DELETE FROM author_blocks WHERE id = ?", (block_id,))
