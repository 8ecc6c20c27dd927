"""Use cases on accounts: the GDPR export (the account, its comments, mails and sessions, and its
verification and letter: composing them here keeps accounts from importing verification, which builds on
accounts), the deletion followed by its event, and the event of a new public name.
"""

from __future__ import annotations

from datetime import datetime

from comments_service.core import events
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import accounts, letter, verification
from comments_service.domain.posts import iso, query, query_one, utcnow


def export(db, account_id: int, now: datetime | None = None) -> dict:
    """Everything the service holds about the account's owner, and nothing about anyone else.

    Own comments are those written signed in, and those written as a guest with the same address
    (signing in proved the address). Replies by others are not included, only their count.
    """
    row = accounts.get_account(db, account_id)
    if row is None:
        raise ApiError(404, "unknown_account", "Ce compte n'existe pas.")
    email = row["email"]
    account = dict(row)
    account["sites"] = accounts.sites_of(db, account_id)
    comments = [
        {
            "id": c["id"],
            "post_url": c["post_url"],
            "post_title": c["post_title"],
            "site": c["site"],
            "parent": c["parent_id"],
            "author_name": c["author_name"],
            "email": c["email"],
            "website": c["website"],
            "text": c["text"],
            "html": c["html"],
            "status": c["status"],
            "created": c["created"],
            "edited": c["edited"],
            "notify": bool(c["notify"]),
            "signed_in": c["account_id"] == account_id,
            "replies": c["replies"],
        }
        for c in query(
            db,
            "SELECT c.*, p.title AS post_title,"
            " (SELECT COUNT(*) FROM comments r WHERE r.parent_id = c.id) AS replies"
            f" FROM comments c LEFT JOIN posts p ON p.url = c.post_url WHERE {accounts.own_comments_where()}"
            " ORDER BY c.id",
            (account_id, email),
        )
    ]
    subscriptions = [
        {"post_url": s["post_url"], "created": s["created"]}
        for s in query(db, "SELECT post_url, created FROM subscriptions WHERE email = ? COLLATE NOCASE ORDER BY created", (email,))
    ]
    address = query_one(db, "SELECT confirmed, blocked, created FROM mail_addresses WHERE email = ? COLLATE NOCASE", (email,))
    sessions = [
        {"kind": s["kind"], "created": s["created"], "expires": s["expires"]}
        for s in query(db, "SELECT kind, created, expires FROM sessions WHERE account_id = ? ORDER BY created", (account_id,))
    ]
    mails = [
        {"kind": m["kind"], "subject": m["subject"], "created": m["created"], "sent": m["sent"]}
        for m in query(db, "SELECT kind, subject, created, sent FROM outbox WHERE recipient = ? COLLATE NOCASE ORDER BY id", (email,))
    ]
    return {
        "exported": iso(now or utcnow()),
        "account": account,
        "comments": comments,
        "subscriptions": subscriptions,
        "mail_address": dict(address) if address else None,
        "sessions": sessions,
        "mails": mails,
        "letter": letter.export_own(db, email),
        "verification": verification.export_own(db, account_id),
    }


def delete_account(db, account_id: int, *, keep_comments: bool = False) -> dict:
    """domain/accounts.delete_account and the letter's subscription of its address (one transaction), then
    `account.deleted`; returns its summary.

    The event carries `answers`: the account's comments whose Note was pushed to the fediverse (answers to a remote
    reply), read in the same transaction, before the rows go, so that federation.answers can send each an `Update`
    (anonymised) or a `Delete` (erased) once the account is gone; `keep_comments` says which was asked."""
    with write(db):
        answers = accounts.fediverse_answers(db, account_id)
        row = accounts.get_account(db, account_id)
        subscriber = letter.find(db, row["email"]) if row is not None else None
        summary = accounts.delete_account(db, account_id, keep_comments=keep_comments)
        if subscriber is not None:  # « abonnements … effacés »: the letter to its address too (its page showed it)
            letter.remove(db, subscriber["id"])
    events.emit("account.deleted", account_id=account_id, keep_comments=keep_comments, answers=answers)
    return summary


def announce_rename(db, account_id: int, before: str | None) -> bool:
    """`account.renamed` when the account's public name is no longer `before`, the one it had before a write that
    may have changed it (accounts.set_display_name: every past comment of the account now shows the new name), and
    which has committed. True when emitted. Every path that may rename calls it: the account's page and API, a
    declaration under a pseudonym (web.verification), the CLI; federation.answers updates the Notes sent away."""
    row = accounts.get_account(db, account_id)
    if row is None or row["display_name"] == before:
        return False
    events.emit("account.renamed", account_id=account_id)
    return True
