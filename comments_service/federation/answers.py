"""A local comment answering a reply that came from the fediverse is delivered to that reply's author.

Notes are otherwise fetched, not pushed (docs/federation.md): a server sees them when someone opens the post.
But the person who replied from Mastodon expects to hear the answer, as a Mastodon reply would reach them: the
answer's Note goes to their inbox (a `Create`, mentioning them), so it lands in their notifications. Only when the
answer is approved (at once, or later by a moderator): a comment awaiting moderation is sent nowhere, and only what
its Note shows goes (notes.py: the public name, the sanitised text; never an e-mail or a real name).
"""

from __future__ import annotations

from flask import current_app

from comments_service.core import events
from comments_service.core.db import connect, write
from comments_service.domain.posts import query_one
from comments_service.federation import delivery, notes, urls
from confreres.registry import Network

_APPROVALS = ("comment.created", "comment.moderated")


def queue_answer(db, network: Network, comment_id: int) -> int:
    """Queue the Note of `comment_id` for the remote author of the reply it answers; 0 when there is none to send
    (not approved, not shown to the fediverse, not an answer to a federated reply, its author unknown)."""
    found = notes.served(db, network, comment_id)
    if found is None or found[0]["parent_id"] is None:
        return 0
    row, post, article = found
    parent = query_one(db, "SELECT f.actor, f.handle FROM fed_comments f JOIN comments c ON c.id = f.comment_id"
                           " WHERE f.comment_id = ? AND c.status = 'approved'", (row["parent_id"],))
    remote = parent and query_one(db, "SELECT inbox, shared_inbox FROM fed_remote_actors WHERE id = ?",
                                  (parent["actor"],))
    if not remote:
        return 0
    doc = notes.note(db, network, row, post, article)
    doc["cc"] = [*doc["cc"], parent["actor"]]
    doc["tag"] = [{"type": "Mention", "href": parent["actor"], "name": parent["handle"]}]
    activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{doc['id']}#create", "type": "Create",
                "actor": urls.actor_id(network, post["site"]), "published": doc["published"], "to": doc["to"],
                "cc": doc["cc"], "object": doc}
    with write(db):
        delivery.queue(db, post["site"], remote["shared_inbox"] or remote["inbox"], activity)
    return 1


def _after_commit(name: str, data: dict) -> None:
    if name not in _APPROVALS or data.get("status") != "approved":
        return
    app = current_app._get_current_object()
    db = connect(app.config["DB"])
    try:
        queued = queue_answer(db, app.extensions["confreres_network"], data["comment_id"])
    finally:
        db.close()
    if queued:
        delivery.kick(app)


def init_app(app) -> None:
    events.register(app, _after_commit)
