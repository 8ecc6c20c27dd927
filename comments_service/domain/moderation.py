"""The moderation queue of an account: which blogs it moderates, its pending and reported comments,
its pending Webmentions. Reads only: the decisions are use cases (actions/comments.py), the policy
and the list of decisions a leaf (domain/policy.py), the one-click links' tokens in core/tokens.py.
"""

from __future__ import annotations

from comments_service.domain.accounts import sites_of
from comments_service.domain.comments import query
from comments_service.domain.policy import QUEUE_LIMIT, is_moderator


def moderated_sites(db, account: dict | None) -> list[str] | None:
    """The blogs an account moderates: None for all (network moderators and admins), else its own."""
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
        " c.created, c.edited, c.badge_level, c.badge_specialty, c.account_id, c.secrecy, p.title AS post_title,"
        " pc.author_name AS parent_author, f.handle AS fediverse"  # fediverse: the remote account of a reply from there
        " FROM comments c JOIN posts p ON p.url = c.post_url LEFT JOIN comments pc ON pc.id = c.parent_id"
        " LEFT JOIN fed_comments f ON f.comment_id = c.id"
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


def mention_queue(db, account: dict, limit: int = QUEUE_LIMIT) -> list:
    """Pending mentions of the blogs the account moderates, oldest first, with their post's title."""
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
