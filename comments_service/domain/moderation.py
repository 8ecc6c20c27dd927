"""Which status a new comment gets, from the site's policy (network.toml) and who writes it.

`first-comment` (the default) works like WordPress's "previously approved author" rule: a guest
whose e-mail and name already have an approved comment on this blog is published at once; anyone
else waits for the blogger. Below: the moderation queue of an account, its decisions, and the signed
one-click links of the notification mails.
"""

from __future__ import annotations

TRUSTED_ROLES = frozenset({"moderator", "admin"})


def initial_status(
    policy: str,
    *,
    account: dict | None = None,
    is_site_author: bool = False,
    returning_author: bool = False,
) -> str:
    """'approved' or 'pending' for a new comment."""
    if is_site_author or (account and account.get("role") in TRUSTED_ROLES):
        return "approved"
    if policy == "none":
        return "approved"
    if policy == "all":
        return "pending"
    # first-comment: a returning author, or a verified physician (identified, accountable: domain/verification.py)
    verified = bool(account and account.get("badge_level") == "verified")
    return "approved" if returning_author or verified else "pending"


# -- the queue and the decisions (web/moderation_pages.py serves them as pages and JSON) ----------------

ACTIONS = {"approve": "approved", "reject": "rejected", "spam": "spam", "delete": None}
ACTION_LABELS = {"approve": "Approuver", "reject": "Rejeter", "spam": "Spam", "delete": "Supprimer"}
ACTION_DONE = {
    "approve": "Commentaire approuvé : il est publié.",
    "reject": "Commentaire rejeté : il ne sera pas publié.",
    "spam": "Commentaire classé comme spam.",
    "delete": "Commentaire supprimé.",
}
ACTION_SALT = "confreres-moderation-act"
QUEUE_LIMIT = 200


def is_moderator(account: dict | None) -> bool:
    return bool(account) and account.get("role") in TRUSTED_ROLES


def moderated_sites(db, account: dict | None) -> list[str] | None:
    """The blogs an account moderates: None for all (network moderators and admins), else its own."""
    from comments_service.domain.accounts import sites_of

    if account is None:
        return []
    if is_moderator(account):
        return None
    return sites_of(db, account["id"])


def can_moderate(db, account: dict | None, site: str) -> bool:
    sites = moderated_sites(db, account)
    return sites is None or site in sites


def queue(db, account: dict, limit: int = QUEUE_LIMIT) -> list[dict]:
    """Pending comments and reported public ones, oldest first, of the blogs the account moderates.

    Each item is the row (e-mail included: the page is private to moderators) with post title,
    parent author, and its open reports.
    """
    from comments_service.domain.comments import query

    sites = moderated_sites(db, account)
    if sites == []:
        return []
    where = (
        "(c.status = 'pending' OR (c.status = 'approved' AND EXISTS"
        " (SELECT 1 FROM reports r WHERE r.comment_id = c.id AND r.resolved IS NULL)))"
    )
    params: list = []
    if sites is not None:
        where += f" AND c.site IN ({','.join('?' * len(sites))})"
        params.extend(sites)
    rows = query(
        db,
        # a physician's address may reveal who a pseudonym is: only the network's admins know (domain/verification.py)
        "SELECT c.id, c.post_url, c.site, c.parent_id, c.author_name,"
        " CASE WHEN EXISTS (SELECT 1 FROM verifications v WHERE v.account_id = c.account_id) THEN NULL"
        " ELSE c.email END AS email, c.website, c.text, c.html, c.status,"
        " c.created, c.edited, c.badge_level, c.badge_specialty, c.account_id, p.title AS post_title,"
        " pc.author_name AS parent_author"
        " FROM comments c JOIN posts p ON p.url = c.post_url LEFT JOIN comments pc ON pc.id = c.parent_id"
        f" WHERE {where} ORDER BY c.created, c.id LIMIT ?",
        (*params, limit),
    )
    reports: dict[int, list] = {}
    if rows:
        ids = [r["id"] for r in rows]
        for report in query(
            db,
            f"SELECT comment_id, reason, created FROM reports WHERE resolved IS NULL AND comment_id IN ({','.join('?' * len(ids))})"
            " ORDER BY created",
            ids,
        ):
            reports.setdefault(report["comment_id"], []).append({"reason": report["reason"], "created": report["created"]})
    return [{"row": row, "reports": reports.get(row["id"], [])} for row in rows]


def _check_action(action: str) -> None:
    from comments_service.core.errors import ApiError

    if action not in ACTIONS:
        raise ApiError(400, "invalid_choice", "Action inconnue : approve, reject, spam ou delete.", "action")


def act(db, account: dict, comment_id: int, action: str, now=None) -> dict:
    """Apply a moderator's decision in one transaction; returns {"id", "action", "status"}.

    Approving also dismisses the comment's reports and queues the reply notification it may call for
    (mail/notices.py); every decision bumps the post's version, so the cached thread and its ETag change.
    """
    from comments_service.core.errors import ApiError
    from comments_service.domain import comments as store
    from comments_service.mail import notices as notify

    _check_action(action)
    moment = now or store.utcnow()
    with store.write(db):
        row = store.get_comment(db, comment_id)
        if row is None:
            raise ApiError(404, "unknown_comment", "Ce commentaire n'existe pas.")
        if not can_moderate(db, account, row["site"]):
            raise ApiError(403, "not_moderator", "Vous ne modérez pas le blog de ce commentaire.")
        db.conn.execute(
            "UPDATE reports SET resolved = ?, resolved_by = ? WHERE comment_id = ? AND resolved IS NULL",
            (store.iso(moment), account["id"], comment_id),
        )
        if action == "delete":
            outcome = store.remove_comment(db, comment_id, now=moment)
            return {"id": comment_id, "action": action, "status": "deleted", "placeholder": outcome == "soft"}
        updated = store.set_status(db, comment_id, ACTIONS[action], now=moment)
        db.conn.execute("UPDATE comments SET moderated_by = ? WHERE id = ?", (account["id"], comment_id))
        if action == "approve":
            notify.reply_posted(db, updated, now=moment)
        return {"id": comment_id, "action": action, "status": updated["status"]}


# -- received Webmentions: the same queue page and rights as comments --------------------------------

MENTION_DONE = {
    "approve": "Mention approuvée : elle apparaît dans le fil du billet.",
    "reject": "Mention rejetée : elle ne sera pas publiée.",
    "spam": "Mention classée comme spam.",
    "delete": "Mention supprimée.",
}


def mention_queue(db, account: dict, limit: int = QUEUE_LIMIT) -> list:
    """Pending mentions of the blogs the account moderates, oldest first, with their post's title."""
    from comments_service.domain.comments import query

    sites = moderated_sites(db, account)
    if sites == []:
        return []
    where, params = "m.status = 'pending'", []
    if sites is not None:
        where += f" AND m.site IN ({','.join('?' * len(sites))})"
        params.extend(sites)
    return query(
        db,
        "SELECT m.*, p.title AS post_title FROM mentions m JOIN posts p ON p.url = m.post_url"
        f" WHERE {where} ORDER BY m.created, m.id LIMIT ?",
        (*params, limit),
    )


def act_on_mention(db, account: dict, mention_id: int, action: str) -> dict:
    """A moderator's decision on a received mention, in one transaction; the thread's version is bumped
    (web/webmention.py), so an approved mention shows in the thread at once."""
    from comments_service.core.errors import ApiError
    from comments_service.domain import comments as store
    from comments_service.web import webmention

    _check_action(action)
    with store.write(db):
        row = webmention.get_mention(db, mention_id)
        if row is None:
            raise ApiError(404, "unknown_mention", "Cette mention n'existe pas.")
        if not can_moderate(db, account, row["site"]):
            raise ApiError(403, "not_moderator", "Vous ne modérez pas le blog de cette mention.")
        if action == "delete":
            webmention.remove_mention(db, mention_id)
            return {"id": mention_id, "action": action, "status": "deleted"}
        updated = webmention.set_mention_status(db, mention_id, ACTIONS[action])
        return {"id": mention_id, "action": action, "status": updated["status"]}


TARGET_KEYS = {"comment": "c", "mention": "m"}


def make_action_token(target_id: int, action: str, account_id: int, kind: str = "comment") -> str:
    """A one-click link's token (mail to a blog author), for a pending comment or a pending mention
    (`kind`): signed, expiring, single use (its nonce)."""
    import secrets

    from flask import current_app
    from itsdangerous import URLSafeTimedSerializer

    payload = {TARGET_KEYS[kind]: target_id, "a": action, "u": account_id, "n": secrets.token_urlsafe(12)}
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=ACTION_SALT).dumps(payload)


def read_action_token(secret: str, token: str, max_age: int) -> tuple[dict, object]:
    """(payload, signed_at) of a valid link; accounts.LinkError('invalid' | 'expired') otherwise.

    The payload names its target with exactly one of "c" (a comment) or "m" (a mention); `action_target`
    tells which.
    """
    from comments_service.domain.accounts import LinkError, load_link

    payload, signed_at = load_link(secret, ACTION_SALT, token, max_age)
    if (
        not isinstance(payload, dict)
        or [key for key in TARGET_KEYS.values() if isinstance(payload.get(key), int)] == []
        or all(key in payload for key in TARGET_KEYS.values())
        or payload.get("a") not in ("approve", "reject")
        or not isinstance(payload.get("u"), int)
        or not isinstance(payload.get("n"), str)
    ):
        raise LinkError("invalid")
    return payload, signed_at


def action_target(payload: dict) -> tuple[str, int]:
    """("comment" | "mention", id) of a valid action link's payload."""
    return ("mention", payload["m"]) if "m" in payload else ("comment", payload["c"])
