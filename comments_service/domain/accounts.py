"""Accounts, sessions and single-use links: the data side of sign-in, profiles and GDPR rights.

Passwordless: an account exists once its owner has followed a magic link sent to its address, so
the address is proven. A sign-in creates a *session*: a random token given to the browser (an
HttpOnly cookie on the service's own pages, or a bearer token the widget keeps for blogs on other
origins); only its SHA-256 is stored, so a copy of the database cannot be replayed as a session.
Deleting the row signs the session out everywhere it was used.

Single-use signed links (sign-in, one-click moderation) carry a random nonce; `use_nonce` records it
in the write that acts, so a replayed link finds it and is refused. Like domain/comments.py, every function
takes the database explicitly and each write is one transaction.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

from comments_service.core.addresses import normalise_email
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import render, validate
from comments_service.domain.comments import iso, query, query_one, utcnow
from comments_service.domain.posts import bump_post, bump_site_answers
from confreres.names import name_index
from confreres.registry import Network, origin_of

SESSION_PREFIX = "cfs1_"  # tells a session token from an edit token in `Authorization: Bearer`
SESSION_KINDS = ("cookie", "bearer")
ROLES = ("member", "author", "moderator", "admin")
NOTIFY_MODES = ("immediate", "daily", "never")
MAX_DISPLAY_NAME = validate.MAX_AUTHOR
MAX_INTERESTS = 5000
DELETED_NAME = "Compte supprimé"


# -- tokens ---------------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_session_token() -> str:
    return SESSION_PREFIX + secrets.token_urlsafe(32)


def looks_like_session(token: str | None) -> bool:
    return bool(token) and token.startswith(SESSION_PREFIX) and 20 < len(token) < 200


def use_nonce(db, nonce: str, purpose: str, expires: datetime, now: datetime | None = None) -> bool:
    """Record a single-use link's nonce; False when it was used already. Purges expired records."""
    moment = now or utcnow()
    with write(db):
        db.conn.execute("DELETE FROM used_tokens WHERE expires < ?", (iso(moment),))
        cursor = db.conn.execute(
            "INSERT OR IGNORE INTO used_tokens (nonce, purpose, used, expires) VALUES (?, ?, ?, ?)",
            (nonce, purpose, iso(moment), iso(max(expires, moment))),
        )
        return cursor.rowcount == 1


def nonce_used(db, nonce: str) -> bool:
    return query_one(db, "SELECT 1 FROM used_tokens WHERE nonce = ?", (nonce,)) is not None


# -- input ------------------------------------------------------------------------------------------

def email_input(value, field: str = "email") -> str:
    """A well-formed address (the form and the API share the rule), in its canonical form (validate.email_address)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ApiError(400, "missing_field", "Indiquez votre adresse e-mail.", field)
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", "L'adresse e-mail doit être une chaîne.", field)
    address = validate.email_address(value)
    if address is None:
        raise ApiError(400, "invalid_email", "Cette adresse e-mail n'est pas valide.", field)
    return address


def return_input(network: Network, value, field: str = "return") -> str:
    """Where to go after signing in: a path of the service ("/moderation"), or a page of a member blog.

    Anything else is refused (an open redirect would carry the session token to a stranger).
    Returns "" for none (absent or ""; a JSON null is refused like any non-string), a path, or an absolute URL
    without fragment.
    """
    if value == "":
        return ""
    if not isinstance(value, str) or len(value) > validate.MAX_URL:
        raise ApiError(400, "invalid_return", "Adresse de retour invalide.", field)
    value = value.strip()
    if value.startswith("/") and not value.startswith("//") and "\\" not in value and validate.is_http_url(
        "http://x" + value
    ):
        return value
    if not validate.is_http_url(value):
        raise ApiError(400, "invalid_return", "Adresse de retour invalide.", field)
    allowed = set(network.origins) | {origin_of(network.comments_url)}
    if origin_of(value) not in allowed:
        raise ApiError(400, "invalid_return", "Cette adresse de retour n'appartient pas au réseau.", field)
    parts = urlsplit(value)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def _flag(value, field: str, label: str) -> bool:
    """A JSON boolean, as the OpenAPI document says (the profile form passes bools too): 0, 1, "on" are refused."""
    if isinstance(value, bool):
        return value
    raise ApiError(400, "invalid_type", f"{label} doit valoir true ou false.", field)


def profile_input(payload) -> dict:
    """A PATCH /api/account body (or the profile form): only the keys given, validated."""
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    changes: dict = {}
    if "display_name" in payload:
        value = payload["display_name"]
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_type", "Le nom doit être une chaîne.", "display_name")
        # the length the API document gives, of the text as sent (tidied after: never longer)
        if len(value or "") > MAX_DISPLAY_NAME:
            raise ApiError(
                400, "too_long", f"Le nom est trop long ({MAX_DISPLAY_NAME} caractères au plus).", "display_name"
            )
        changes["display_name"] = validate.one_line(value or "")
    if "show_specialty" in payload:
        changes["show_specialty"] = int(_flag(payload["show_specialty"], "show_specialty", "« show_specialty »"))
    if "interests" in payload:
        value = payload["interests"]
        if value is not None and not isinstance(value, str):
            raise ApiError(400, "invalid_type", "Les liens d'intérêts déclarés doivent être du texte.", "interests")
        value = value or ""
        if len(value) > MAX_INTERESTS:  # of the text as sent, as the API document gives (tidied after: never longer)
            raise ApiError(
                400, "too_long",
                f"Les liens d'intérêts déclarés sont trop longs ({MAX_INTERESTS} caractères au plus).", "interests",
            )
        value = validate.markdown_links(validate._CONTROL.sub("", value.replace("\r\n", "\n")).strip(), "interests")
        changes["interests"] = value
        changes["interests_html"] = render.to_html(value) if value else ""
    if "notify_comments" in payload:
        if payload["notify_comments"] not in NOTIFY_MODES:
            raise ApiError(
                400, "invalid_choice", "« notify_comments » vaut immediate, daily ou never.", "notify_comments"
            )
        changes["notify_comments"] = payload["notify_comments"]
    if "notify_replies" in payload:
        changes["notify_replies"] = int(_flag(payload["notify_replies"], "notify_replies", "« notify_replies »"))
    if "public_profile" in payload:  # « Profil public » (web/profiles.py); stored as accounts.profile_public
        changes["profile_public"] = int(_flag(payload["public_profile"], "public_profile", "« public_profile »"))
    return changes


# -- accounts ----------------------------------------------------------------------------------------

def get_account(db, account_id: int) -> sqlite3.Row | None:
    return query_one(db, "SELECT * FROM accounts WHERE id = ?", (account_id,))


def find_account(db, email: str) -> sqlite3.Row | None:
    return query_one(db, "SELECT * FROM accounts WHERE email = ?", (normalise_email(email),))


def sites_of(db, account_id: int) -> list[str]:
    return [r["site"] for r in query(db, "SELECT site FROM account_sites WHERE account_id = ? ORDER BY site", (account_id,))]


def ensure_account(
    db,
    email: str,
    *,
    role: str | None = None,
    display_name: str | None = None,
    sites: tuple[str, ...] | list[str] = (),
    now: datetime | None = None,
) -> tuple[sqlite3.Row, bool]:
    """The account of `email`, created (role member unless given) when missing; (row, created).

    `role` and `display_name`, when given, replace the stored ones; `sites` are added (the account
    becomes an author of those blogs), never removed.
    """
    if role is not None and role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if display_name is not None:  # from the admin's terminal (`confreres admin create --name`): one line too
        display_name = validate.one_line(display_name)
    stamp = iso(now or utcnow())
    with write(db):
        row = find_account(db, email)
        created = row is None
        if created:
            cursor = db.conn.execute(
                # show_specialty = 0: showing one's specialty is opt-in (db.m007_verification_privacy)
                "INSERT INTO accounts (email, display_name, name_key, name_words, name_sig, role, created, show_specialty)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
                (normalise_email(email), display_name or "", *name_index(display_name or ""), role or "member", stamp),
            )
            account_id = cursor.lastrowid
        else:
            account_id = row["id"]
            if role is not None:
                db.conn.execute("UPDATE accounts SET role = ? WHERE id = ?", (role, account_id))
            if display_name is not None:
                set_display_name(db, account_id, display_name)
        linked = 0
        for slug in sites:
            linked += db.conn.execute(
                "INSERT OR IGNORE INTO account_sites (account_id, site) VALUES (?, ?)", (account_id, slug)
            ).rowcount
        if linked:
            bump_site_answers(db, account_id)  # a verified author's badge now shows on their answers
        return get_account(db, account_id), created


def remove_site(db, account_id: int, slug: str) -> bool:
    """The account no longer writes blog `slug` (`confreres admin remove-site`); False when it did not. Its role is
    left as it is. The threads its posts on that blog answer get new versions (their author badge goes), and the
    notices of that blog not yet mailed to it (new comments, mentions, answers waiting for a digest) are dropped:
    it hears no more of a blog it no longer writes."""
    with write(db):
        if query_one(db, "SELECT 1 FROM account_sites WHERE account_id = ? AND site = ?", (account_id, slug)) is None:
            return False
        bump_site_answers(db, account_id)  # before the link goes: it finds the threads through it
        db.conn.execute("DELETE FROM account_sites WHERE account_id = ? AND site = ?", (account_id, slug))
        db.conn.execute(
            "DELETE FROM author_notices WHERE account_id = ? AND queued IS NULL AND comment_id IN"
            " (SELECT c.id FROM comments c JOIN posts p ON p.url = c.post_url WHERE p.site = ?)",
            (account_id, slug),
        )
        db.conn.execute(
            "DELETE FROM mention_notices WHERE account_id = ? AND queued IS NULL AND mention_id IN"
            " (SELECT id FROM mentions WHERE site = ?)",
            (account_id, slug),
        )
        db.conn.execute(
            "DELETE FROM answer_notices WHERE account_id = ? AND queued IS NULL AND answered_url IN"
            " (SELECT url FROM posts WHERE site = ?)",
            (account_id, slug),
        )
    return True


def session_account(row) -> dict:
    """The dict put on `g.confreres_account` (see web/auth.py); store.add_comment reads only this.

    Badge fields come from the verification layer's columns when they exist (issue 4); the
    specialty is given only when the member chose to show it.
    """
    keys = row.keys()
    level = row["badge_level"] if "badge_level" in keys else None
    specialty = row["badge_specialty"] if "badge_specialty" in keys else None
    if not row["show_specialty"]:
        specialty = None
    return {
        "id": row["id"],
        "email": row["email"],
        "display_name": row["display_name"],
        "role": row["role"],
        "badge_level": level,
        "badge_specialty": specialty,
    }


def set_display_name(db, account_id: int, name: str) -> bool:
    """The one writer of an account's public name (ensure_account's INSERT aside, which indexes it the same way);
    True when it changed. The name's index (accounts.name_key, name_words, name_sig: names.name_index) is written
    with it, so that the guests' check (verification.check_author_name) finds the new name and no longer the old.

    A comment written signed in shows its author's *current* public name: the name it was written under is
    replaced on every past comment of the account (a deleted one keeps nothing), so a member who takes a
    pseudonym or changes their name never has an older comment show the old name beside their profile's
    link. Every output reads `comments.author_name` (threads, no-JS pages, profiles, moderation, feeds,
    exports, mails not yet written such as daily digests), so this one UPDATE reaches them all; each thread
    touched gets a new version (ETag, cache, `comments_version`: the static snapshots are rebuilt), and so do
    the threads their blogs answer (which author's badge a blog shows depends on the name).
    """
    with write(db):
        row = query_one(db, "SELECT display_name FROM accounts WHERE id = ?", (account_id,))
        if row is None or row["display_name"] == name:
            return False
        db.conn.execute(  # with the index of the name that check_author_name reads (confreres.names.name_index)
            "UPDATE accounts SET display_name = ?, name_key = ?, name_words = ?, name_sig = ? WHERE id = ?",
            (name, *name_index(name), account_id),
        )
        touched = query(
            db,
            "SELECT post_url, MAX(status = 'approved') AS shown FROM comments"
            " WHERE account_id = ? AND status != 'deleted' AND author_name != ? GROUP BY post_url",
            (account_id, name),
        )
        db.conn.execute(
            "UPDATE comments SET author_name = ? WHERE account_id = ? AND status != 'deleted' AND author_name != ?",
            (name, account_id, name),
        )
        for row in touched:
            bump_post(db, row["post_url"], public=bool(row["shown"]))
        bump_site_answers(db, account_id)
    return True


def update_profile(db, account_id: int, changes: dict) -> sqlite3.Row:
    allowed = {
        "show_specialty", "interests", "interests_html", "notify_comments", "notify_replies", "profile_public",
    }
    fields = [key for key in changes if key in allowed]
    with write(db):
        store.check_signed_in(db, {"id": account_id})  # deleted while the change waited for its turn: 401, not a 500
        if "display_name" in changes:
            set_display_name(db, account_id, changes["display_name"])
        if fields:
            db.conn.execute(
                f"UPDATE accounts SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                (*[changes[k] for k in fields], account_id),
            )
        return get_account(db, account_id)


# -- sessions ----------------------------------------------------------------------------------------

def create_session(db, account_id: int, kind: str, days: int, now: datetime | None = None) -> tuple[str, str]:
    """A new session for the account; returns (token, expiry ISO). Expired sessions are purged."""
    if kind not in SESSION_KINDS:
        raise ValueError(kind)
    moment = now or utcnow()
    token = new_session_token()
    expires = iso(moment + timedelta(days=days))
    with write(db):
        db.conn.execute("DELETE FROM sessions WHERE expires <= ?", (iso(moment),))
        db.conn.execute(
            "INSERT INTO sessions (token_hash, account_id, kind, created, expires) VALUES (?, ?, ?, ?, ?)",
            (hash_token(token), account_id, kind, iso(moment), expires),
        )
        db.conn.execute("UPDATE accounts SET last_seen = ? WHERE id = ?", (iso(moment), account_id))
    return token, expires


def resolve_session(db, token: str, now: datetime | None = None) -> sqlite3.Row | None:
    """The account behind a live session token (with `session_expires`, `session_kind`), else None."""
    if not looks_like_session(token):
        return None
    return query_one(
        db,
        "SELECT a.*, s.expires AS session_expires, s.kind AS session_kind FROM sessions s"
        " JOIN accounts a ON a.id = s.account_id WHERE s.token_hash = ? AND s.expires > ?",
        (hash_token(token), iso(now or utcnow())),
    )


def delete_session(db, token: str) -> bool:
    with write(db):
        return db.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (hash_token(token),)).rowcount > 0


def delete_sessions(db, account_id: int) -> int:
    with write(db):
        return db.conn.execute("DELETE FROM sessions WHERE account_id = ?", (account_id,)).rowcount


def count_sessions(db, account_id: int, now: datetime | None = None) -> int:
    row = query_one(
        db, "SELECT COUNT(*) AS n FROM sessions WHERE account_id = ? AND expires > ?", (account_id, iso(now or utcnow()))
    )
    return row["n"]


# -- GDPR: export and deletion ---------------------------------------------------------------------

def own_comments_where() -> str:
    return "(c.account_id = ? OR (c.email IS NOT NULL AND c.email = ? COLLATE NOCASE))"


def fediverse_answers(db, account_id: int) -> list[dict]:
    """The account's own shown comments (own_comments_where) that answer a reply from the fediverse: those whose Note
    was pushed to that reply's author (federation/answers.py), each as {comment_id, parent_id, url}: what a `Delete`
    of it needs once delete_account has erased the row. [] for an unknown account."""
    row = get_account(db, account_id)
    if row is None:
        return []
    return [{"comment_id": c["id"], "parent_id": c["parent_id"], "url": c["post_url"]} for c in query(
        db, "SELECT c.id, c.parent_id, c.post_url FROM comments c JOIN fed_comments r ON r.comment_id = c.parent_id"
            f" WHERE {own_comments_where()} AND c.status = 'approved' ORDER BY c.id", (account_id, row["email"]))]


def delete_account(db, account_id: int, *, keep_comments: bool = False, now: datetime | None = None) -> dict:
    """Erase the account, its sessions, subscriptions, mails (to it, and the sent copies quoting its comments) and
    address record, in one transaction; an address that asked « ne plus rien recevoir » keeps that block (the address
    and when), so that it is still honoured.

    Its comments (signed in, or as a guest with the same address) are removed like an author's own
    delete — a placeholder stays where others replied — or, with `keep_comments`, kept anonymised:
    shown under « Compte supprimé », with no e-mail, website, badge or link to anyone.
    """
    moment = now or utcnow()
    with write(db):
        row = get_account(db, account_id)
        if row is None:
            raise ApiError(404, "unknown_account", "Ce compte n'existe pas.")
        email = row["email"]
        own = query(
            db, f"SELECT c.id, c.post_url FROM comments c WHERE {own_comments_where()} ORDER BY c.id DESC",
            (account_id, email),
        )
        # The copies of mails already sent that quote them (a reply to its author, a blog author's notice or digest),
        # kept 30 days and never read again, would keep the words and name erased here until then.
        db.conn.execute(
            "DELETE FROM outbox WHERE sent IS NOT NULL AND id IN (SELECT o.outbox_id FROM outbox_comments o"
            f" JOIN comments c ON c.id = o.comment_id WHERE {own_comments_where()})",
            (account_id, email),
        )
        removed = kept = 0
        for comment in own:
            if keep_comments:
                db.conn.execute(
                    "UPDATE comments SET author_name = ?, email = NULL, website = NULL, account_id = NULL,"
                    " badge_level = NULL, badge_specialty = NULL, is_post_author = 0, notify = 0, ip_hash = NULL,"
                    " edit_nonce = NULL WHERE id = ? AND status != 'deleted'",
                    (DELETED_NAME, comment["id"]),
                )
                bump_post(db, comment["post_url"])
                kept += 1
            elif store.get_comment(db, comment["id"]) is not None:
                store.remove_comment(db, comment["id"], now=moment)
                removed += 1
        db.conn.execute("DELETE FROM subscriptions WHERE email = ? COLLATE NOCASE", (email,))
        db.conn.execute("DELETE FROM mail_addresses WHERE email = ? COLLATE NOCASE AND blocked IS NULL", (email,))
        # « Ne plus rien recevoir » outlives the account (mail/outbox.is_blocked: else a stranger typing the address
        # could have mail sent to an inbox that refused all): the block alone stays, no consent given before.
        db.conn.execute(
            "UPDATE mail_addresses SET confirm_sent = NULL, confirmed = NULL WHERE email = ? COLLATE NOCASE", (email,)
        )
        db.conn.execute("DELETE FROM outbox WHERE recipient = ? COLLATE NOCASE", (email,))
        bump_site_answers(db, account_id)  # their blogs' answers lose the author's badge
        db.conn.execute("DELETE FROM accounts WHERE id = ?", (account_id,))
    return {"deleted": True, "comments_removed": removed, "comments_anonymised": kept}


def staff(db) -> list[sqlite3.Row]:
    """The accounts that are not plain members (authors of a blog, moderators, admins), by role then e-mail.

    Each row: `email`, `role`, `display_name`, `sites` (the blogs it writes, comma-separated, or None).
    """
    return query(
        db,
        "SELECT a.email, a.role, a.display_name, group_concat(s.site, ', ') AS sites FROM accounts a"
        " LEFT JOIN account_sites s ON s.account_id = a.id"
        " WHERE a.role != 'member' OR s.site IS NOT NULL GROUP BY a.id ORDER BY a.role, a.email",
    )
