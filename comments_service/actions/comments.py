"""Use cases on comments: write one (API and no-JS page alike), edit, delete, report it, and the
moderators' decisions (on comments and on received mentions).

Each is one transaction: the domain change (domain/comments.py, domain/mentions.py) and the mail it
calls for (mail/notices.py), so a new comment and its notices commit together; the named event
(core/events.py) follows the commit. The decisions leave their event to the caller: the one-click
link spends its nonce in an outer transaction, and the event must wait for that commit.
"""

from __future__ import annotations

from flask import current_app

from comments_service.core import events
from comments_service.core.errors import ApiError
from comments_service.domain import blocks, mentions, secrecy, verification
from comments_service.domain import comments as store
from comments_service.domain.moderation import can_moderate
from comments_service.domain.policy import ACTIONS, check_action, check_mention_action
from comments_service.mail import notices as notify


def create_comment(db, network, post, data, *, account, ip_hash) -> tuple:
    """Store a new comment and queue the mails it calls for, in one transaction, then emit
    `comment.created`; returns (row, edit nonce) as domain/comments.add_comment does. A guest's name that
    passes its writer off as a member or a physician is refused first (ApiError 400). The moderation policy
    and the duplicate window are the app's settings (MODERATION, DUPLICATE_WINDOW). A text that could identify
    a patient (confreres.secrecy) waits for moderation whatever the policy, its reason stored (domain/secrecy.py)."""
    config = current_app.config
    verification.check_author_name(current_app, db, data.author, account)
    # Rendered and read for secrecy before the transaction: the other writers wait for the SQL alone.
    html, held = store.render_text(data.text), secrecy.hold(data.text)
    with store.write(db):  # the comment and the mails it calls for (mail/notices.py) commit together
        row, nonce = store.add_comment(
            db, network, post, data, policy=config["MODERATION"] or None, account=account, ip_hash=ip_hash,
            duplicate_minutes=int(config["DUPLICATE_WINDOW"]), secrecy=held, html=html, secret=config["SECRET_KEY"],
        )
        if not row["blocked"]:
            notify.comment_created(db, row)
        else:  # a blocked author's comment (domain/blocks.py) mails no one but, as anyone's, its writer's confirmation
            notify.writer_subscription(db, row)
    events.emit("comment.created", comment_id=row["id"], status=row["status"], url=post["url"], site=post["site"],
                parent_id=row["parent_id"])
    return row, nonce


def edit_comment(db, comment_id: int, nonce, text: str, *, window_minutes: int, account_id=None):
    """The owner's edit (domain/comments.edit_comment), held again when the new text calls for it (as a new
    comment is), then `comment.edited`; returns the row."""
    with store.write(db):
        row = store.edit_comment(db, comment_id, nonce, text, window_minutes=window_minutes, account_id=account_id)
        secrecy.hold_edited(db, row)
        row = store.get_comment(db, comment_id)
    events.emit("comment.edited", comment_id=comment_id, url=row["post_url"], site=row["site"])
    return row


def delete_comment(db, comment_id: int, nonce, *, window_minutes: int, account_id=None) -> str:
    """The owner's deletion (domain/comments.delete_comment), then `comment.deleted`; returns the outcome."""
    before = store.get_comment(db, comment_id)  # a hard delete leaves no row: what listeners need of it, kept
    outcome = store.delete_comment(db, comment_id, nonce, window_minutes=window_minutes, account_id=account_id)
    events.emit("comment.deleted", comment_id=comment_id, outcome=outcome,
                parent_id=before["parent_id"] if before else None, url=before["post_url"] if before else None)
    return outcome


def report_comment(db, comment_id: int, reason: str, *, ip_hash) -> int:
    """A reader's report (domain/comments.report_comment), then `comment.reported`; returns its id."""
    report_id = store.report_comment(db, comment_id, reason, ip_hash=ip_hash)
    events.emit("comment.reported", comment_id=comment_id, report_id=report_id)
    return report_id


def moderate(db, account: dict, comment_id: int, action: str, now=None, *, address: bool = False) -> dict:
    """Apply a moderator's decision in one transaction; returns {"id", "action", "status"}.

    Approving also dismisses the comment's reports and queues the reply notification it may call for
    (mail/notices.py); every decision bumps the post's version, so the cached thread and its ETag change.
    "block" marks the comment spam and blocks its author on the comment's blog (domain/blocks.py; by their
    network address too when `address`): their comments pending there become spam ("block" and "spammed" in
    the result).
    """
    check_action(action)
    moment = now or store.utcnow()
    with store.write(db):
        store.check_signed_in(db, account)  # a moderator deleted while the decision waited decides nothing
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
        block = None
        if action == "block":
            if row["status"] == "deleted":
                raise ApiError(409, "comment_deleted", "Ce commentaire a été supprimé.")
            block = blocks.block_author(
                db, current_app.config["SECRET_KEY"], row, by=account["id"], address=address, now=moment
            )
        updated = store.set_status(db, comment_id, ACTIONS[action], now=moment)
        db.conn.execute("UPDATE comments SET moderated_by = ? WHERE id = ?", (account["id"], comment_id))
        if action == "approve":
            notify.reply_posted(db, updated, now=moment)
        if block is not None:
            return {"id": comment_id, "action": action, "status": updated["status"],
                    "block": {"id": block["id"], "by": block["by"]},
                    "spammed": [i for i in block["spammed"] if i != comment_id]}
        return {"id": comment_id, "action": action, "status": updated["status"]}


def moderate_mention(db, account: dict, mention_id: int, action: str) -> dict:
    """A moderator's decision on a received mention, in one transaction; the thread's version is bumped
    (domain/mentions.py), so an approved mention shows in the thread at once."""
    check_mention_action(action)
    with store.write(db):
        store.check_signed_in(db, account)
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


def unblock_author(db, account: dict, block_id: int) -> dict:
    """A moderator lifts a block of their blog (domain/blocks.py); the comments it made spam stay spam."""
    with store.write(db):
        store.check_signed_in(db, account)
        block = blocks.get_block(db, block_id)
        if block is None:
            raise ApiError(404, "unknown_block", "Ce blocage n'existe pas (ou plus).")
        if not can_moderate(db, account, block["site"]):
            raise ApiError(403, "not_moderator", "Vous ne modérez pas le blog de ce blocage.")
        blocks.unblock(db, block_id)
    return {"id": block_id, "site": block["site"], "unblocked": True}
