"""The moderation policy, pure: which status a new comment gets, who is trusted, which decisions exist.

A leaf (imports nothing of the service) so that the records below moderation (comments, mentions)
can ask it without importing the queue or the decisions above them.

`first-comment` (the default) works like WordPress's "previously approved author" rule: a guest
whose e-mail and name already have an approved comment on this blog is published at once; anyone
else waits for the blogger.
"""

from __future__ import annotations

from comments_service.core.errors import ApiError

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


# "block": the comment is spam and its author blocked on that blog (domain/blocks.py); comments only, not mentions
ACTIONS = {"approve": "approved", "reject": "rejected", "spam": "spam", "delete": None, "block": "spam"}
ACTION_LABELS = {
    "approve": "Approuver", "reject": "Rejeter", "spam": "Spam", "delete": "Supprimer", "block": "Bloquer l'auteur",
}
ACTION_DONE = {
    "approve": "Commentaire approuvé : il est publié.",
    "reject": "Commentaire rejeté : il ne sera pas publié.",
    "spam": "Commentaire classé comme spam.",
    "delete": "Commentaire supprimé.",
    "block": "Auteur bloqué sur ce blog : son commentaire est classé comme spam, ses prochains le seront aussi.",
}
ACTION_NAMES = "approve, reject, spam, delete ou block"
QUEUE_LIMIT = 200

MENTION_DONE = {
    "approve": "Mention approuvée : elle apparaît dans le fil du billet.",
    "reject": "Mention rejetée : elle ne sera pas publiée.",
    "spam": "Mention classée comme spam.",
    "delete": "Mention supprimée.",
}


def is_moderator(account: dict | None) -> bool:
    return bool(account) and account.get("role") in TRUSTED_ROLES


def check_action(action: str) -> None:
    if not isinstance(action, str) or action not in ACTIONS:  # [null] is unhashable: a 500 before
        raise ApiError(400, "invalid_choice", f"Action inconnue : {ACTION_NAMES}.", "action")


def check_mention_action(action: str) -> None:
    """A received mention has no author to block: approve, reject, spam or delete."""
    if not isinstance(action, str) or action not in ACTIONS or action == "block":
        raise ApiError(400, "invalid_choice", "Action inconnue : approve, reject, spam ou delete.", "action")
