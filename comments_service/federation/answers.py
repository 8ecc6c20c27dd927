"""A local comment answering a reply that came from the fediverse is delivered to that reply's author.

Notes are otherwise fetched, not pushed (docs/federation.md): a server sees them when someone opens the post.
But the person who replied from Mastodon expects to hear the answer, as a Mastodon reply would reach them: the
answer's Note goes to their inbox (a `Create`, mentioning them), so it lands in their notifications. Only when the
answer is approved (at once, or later by a moderator): a comment awaiting moderation is sent nowhere, and only what
its Note shows goes (notes.py: the public name, the sanitised text; never an e-mail or a real name). Its edits
follow as an `Update`, its deletion (or a moderator's rejection) as a `Delete`. When its writer's public name
changes (`account.renamed`: a pseudonym taken, a new name), every such answer of theirs still shown is sent again as
an `Update` carrying the new name, so the remote server stops showing the old one (a real name behind a pseudonym)
beside it. When its writer deletes their account (`account.deleted`, carrying those answers as they were before the
deletion), each is sent again as an `Update` under « Compte supprimé » when kept anonymised, or as a `Delete` when
erased (or left as a placeholder where others replied).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from comments_service.core import events
from comments_service.core.db import get_db, write
from comments_service.domain.posts import query, query_one
from comments_service.federation import delivery, keys, notes, urls
from confreres.registry import Network


def _addressee(db, comment_id: int, gone: dict | None = None):
    """(its post's blog, the remote author of the reply the comment answers, where they receive), or None when it
    answers no reply from the fediverse. `gone`: the parent and post of a comment deleted with its row."""
    row = gone or query_one(db, "SELECT parent_id, post_url AS url FROM comments WHERE id = ?", (comment_id,))
    post = row and query_one(db, "SELECT site FROM posts WHERE url = ?", (row["url"],))
    parent = post and row["parent_id"] is not None and query_one(
        db, "SELECT actor, handle FROM fed_comments WHERE comment_id = ?", (row["parent_id"],))
    remote = parent and query_one(db, "SELECT inbox, shared_inbox FROM fed_remote_actors WHERE id = ?",
                                  (parent["actor"],))
    return (post["site"], parent, remote["shared_inbox"] or remote["inbox"]) if remote else None


def queue_answer(db, network: Network, comment_id: int, kind: str = "Create", gone: dict | None = None,
                 renamed: str | None = None) -> int:
    """Queue the Note of `comment_id` (`kind`: Create, or Update once edited) for the remote author of the reply it
    answers; a `Delete` of it when it is no longer shown (deleted, rejected). 0 when there is nothing to send: it
    answers no federated reply, its author is unknown, or (Create, Update) the Note is not served. `renamed` (an
    Update after its writer's new name): the moment of the rename, the Note's `updated` and in the activity's id."""
    found = _addressee(db, comment_id, gone)
    if found is None:
        return 0
    site, parent, inbox = found
    if not urls.is_actor(network, site) and not keys.made(db, site):
        return 0  # a blog taken off the fediverse (farewell.py, its key forgotten): its account and posts are gone there
    mention = {"type": "Mention", "href": parent["actor"], "name": parent["handle"]}
    actor = urls.actor_id(network, site)
    if kind == "Delete":
        note_id = notes.note_id(network, comment_id)
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{note_id}#delete", "type": "Delete",
                    "actor": actor, "to": [urls.PUBLIC], "cc": [parent["actor"]],
                    "object": {"id": note_id, "type": "Tombstone"}}
    else:
        served = notes.served(db, network, comment_id)
        if served is None:
            return 0
        doc = notes.note(db, network, *served)
        doc["cc"], doc["tag"] = [*doc["cc"], parent["actor"]], [mention]
        if renamed:  # later than any version sent before (Mastodon keeps the latest `updated`); one id per rename
            doc["updated"], suffix = renamed, f"update-rename-{renamed}"
        else:
            suffix = "create" if kind == "Create" else f"update-{doc.get('updated', '')}"
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{doc['id']}#{suffix}", "type": kind,
                    "actor": actor, "published": doc["published"], "to": doc["to"], "cc": doc["cc"], "object": doc}
    with write(db):
        delivery.queue(db, site, inbox, activity)
    return 1


def answers_of(db, account_id: int) -> list[int]:
    """The shown comments of `account_id` that answer a reply from the fediverse: those whose Note was pushed to the
    reply's author (queue_answer; a Note is otherwise only fetched, and a fetch gets the current name)."""
    return [row["id"] for row in query(
        db, "SELECT c.id FROM comments c JOIN fed_comments r ON r.comment_id = c.parent_id"
            " WHERE c.account_id = ? AND c.status = 'approved' ORDER BY c.id", (account_id,))]


def rename_stamp(moment) -> str:
    """An xsd:dateTime to the microsecond: two renames within a second still get two ids, the later one a later
    `updated`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def queue_renamed(db, network: Network, account_id: int, now=None) -> int:
    """After `account_id`'s public name changed: an `Update` of each of its answers' Notes (answers_of) for the remote
    author it went to, the Note carrying the new name; one transaction. How many were queued."""
    stamp = rename_stamp(now or datetime.now(UTC))  # not utcnow(): it drops the microseconds
    with write(db):
        return sum(queue_answer(db, network, comment_id, "Update", renamed=stamp)
                   for comment_id in answers_of(db, account_id))


def queue_account_deleted(db, network: Network, answers: list[dict], now=None) -> int:
    """After an account's deletion: for each of its answers pushed before (`answers`, captured by
    actions.accounts.delete_account before the rows went: {comment_id, parent_id, url}), an `Update` of its Note when
    it is still shown, anonymised under « Compte supprimé » (a new id and `updated`, as after a rename), else a
    `Delete` (erased, or a placeholder where others replied); one transaction. How many were queued."""
    stamp = rename_stamp(now or datetime.now(UTC))
    queued = 0
    with write(db):
        for answer in answers:
            row = query_one(db, "SELECT status FROM comments WHERE id = ?", (answer["comment_id"],))
            if row is not None and row["status"] == "approved":
                queued += queue_answer(db, network, answer["comment_id"], "Update", renamed=stamp)
            else:
                gone = {"parent_id": answer["parent_id"], "url": answer["url"]}
                queued += queue_answer(db, network, answer["comment_id"], "Delete", gone)
    return queued


def _kind(name: str, data: dict) -> str:
    """What an event means for an answer already sent (or to send): "" when nothing."""
    if name in ("comment.created", "comment.moderated") and data.get("status") == "approved":
        return "Create"
    if name == "comment.moderated":
        return "Delete"  # rejected or spam: no longer shown
    return {"comment.edited": "Update", "comment.deleted": "Delete"}.get(name, "")


def _after_commit(name: str, data: dict) -> None:
    if name in ("account.renamed", "account.deleted"):
        app = current_app._get_current_object()
        network = app.extensions["confreres_network"]
        if name == "account.renamed":
            queued = queue_renamed(get_db(), network, data["account_id"])
        else:
            queued = queue_account_deleted(get_db(), network, data.get("answers") or [])
        if queued:
            delivery.kick(app)
        return
    if not (kind := _kind(name, data)) or "comment_id" not in data or data.get("parent_id", True) is None:
        return  # a comment on the post itself (most of them: said by the event) answers nobody
    app = current_app._get_current_object()
    gone = {"parent_id": data.get("parent_id"), "url": data["url"]} if name == "comment.deleted" and data.get(
        "url") else None
    # the request's connection (kept between requests): no new one on the write path
    queued = queue_answer(get_db(), app.extensions["confreres_network"], data["comment_id"], kind, gone)
    if queued:
        delivery.kick(app)


def init_app(app) -> None:
    events.register(app, _after_commit)
