"""Which status a new comment gets, from the site's policy (network.toml) and who writes it.

`first-comment` (the default) works like WordPress's "previously approved author" rule: a guest
whose e-mail and name already have an approved comment on this blog is published at once; anyone
else waits for the blogger. Moderation pages (queue, approve links) build on this module later.
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
    return "approved" if returning_author else "pending"
