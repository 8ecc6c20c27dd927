"""Use cases on comments: the moderators' decisions (on comments and on received mentions).

A decision is one transaction: the domain change (domain/comments.py, domain/mentions.py) and the mail
it calls for (mail/notices.py), so approving a reply queues its notification in the same commit.
"""

from __future__ import annotations

from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import mentions
from comments_service.domain.moderation import can_moderate
from comments_service.domain.policy import ACTIONS, check_action
from comments_service.mail import notices as notify


def moderate(db, account: dict, comment_id: int, action: str, now=None) -> dict:
    """Apply a moderator's decision in one transaction; returns {"id", "action", "status"}.

    Approving also dismisses the comment's reports and queues the reply notification it may call for
    (mail/notices.py); every decision bumps the post's version, so the cached thread and its ETag change.
    """
    check_action(action)
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


def moderate_mention(db, account: dict, mention_id: int, action: str) -> dict:
    """A moderator's decision on a received mention, in one transaction; the thread's version is bumped
    (domain/mentions.py), so an approved mention shows in the thread at once."""
    check_action(action)
    with store.write(db):
        row = mentions.get_mention(db, mention_id)
        if row is None:
            raise ApiError(404, "unknown_mention", "Cette mention n'existe pas.")
        if not can_moderate(db, account, row["site"]):
            raise ApiError(403, "not_moderator", "Vous ne modérez pas le blog de cette mention.")
        if action == "delete":
            mentions.remove_mention(db, mention_id)
            return {"id": mention_id, "action": action, "status": "deleted"}
        updated = mentions.set_mention_status(db, mention_id, ACTIONS[action])
        return {"id": mention_id, "action": action, "status": updated["status"]}
