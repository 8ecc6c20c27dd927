"""What a signed activity posted to an inbox does.

Every request must be signed (signatures.verify) by the key of the activity's `actor`; the key of an actor
not seen before is fetched (remote.fetch), and fetched again once when a known key no longer verifies (the
actor changed keys). Blocked instances (blocklist.py) are refused before anything is fetched. Handled: Follow (stored, answered by an Accept through the delivery queue), Undo of a Follow, Delete
of the actor itself (its follows go), Create / Update / Delete of a public Note replying to a post (replies.py: a
comment; a private one is acknowledged and kept nowhere), Like / Announce of a post and their Undo (counted). Anything else is acknowledged and ignored for now.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from comments_service.core.db import write
from comments_service.domain.posts import iso, utcnow
from comments_service.federation import blocklist, delivery, remote, replies, signatures, urls
from confreres.registry import Network

log = logging.getLogger(__name__)


class InboxError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class Received:
    kind: str
    actor: str
    queued: int = 0  # deliveries queued in answer (an Accept)
    comment: int | None = None  # the comment a reply became


def _authenticate(db, network: Network, config, method: str, path: str, headers, body: bytes):
    params = signatures.parameters(headers)
    key_id = params.get("keyId", "")
    if not key_id or not params.get("signature"):
        raise InboxError(401, "unsigned", "Requête non signée (HTTP Signatures).")
    if remote.host_of(key_id) in blocklist.hosts(db, config):
        raise InboxError(403, "blocked_instance", "Cette instance est bloquée par la modération du réseau.")
    with remote.guard(config) as client:
        try:
            actor, fresh = remote.for_key(db, network, client, key_id)
        except remote.RemoteError as exc:
            raise InboxError(401, "unknown_key", f"Clé de signature introuvable : {exc}.") from None
        try:
            signatures.verify(actor["public_pem"], method, path, headers, body)
        except signatures.BadSignature as exc:
            if fresh:
                raise InboxError(401, "bad_signature", f"Signature refusée : {exc}.") from None
            try:  # the actor may have changed keys since we kept it
                actor, _ = remote.for_key(db, network, client, key_id, refresh=True)
                signatures.verify(actor["public_pem"], method, path, headers, body)
            except (remote.RemoteError, signatures.BadSignature) as again:
                raise InboxError(401, "bad_signature", f"Signature refusée : {again}.") from None
    return actor


def _deletes_an_unknown_account(db, body: bytes) -> bool:
    """A server deleting an account tells every server it knows, signed with a key nobody can fetch any more:
    when we never stored that account, acknowledging it (rather than 401, which has it retried) is harmless."""
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        return False
    return (isinstance(activity, dict) and activity.get("type") == "Delete"
            and isinstance(activity.get("actor"), str) and _object_id(activity.get("object")) == activity["actor"]
            and remote.by_id(db, activity["actor"]) is None)


def _object_id(value) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) else None


def receive(app, db, network: Network, name: str | None, method: str, path: str, headers, body: bytes) -> Received:
    """Authenticate and apply one activity posted to `name`'s inbox (None: the shared inbox)."""
    try:
        actor = _authenticate(db, network, app.config, method, path, headers, body)
    except InboxError as exc:
        if exc.code == "unknown_key" and _deletes_an_unknown_account(db, body):
            return Received("Delete", "")  # an account we never knew, gone with its key: nothing to do
        raise
    try:
        activity = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: JSON nested thousands deep
        raise InboxError(400, "invalid_json", "Le corps de la requête n'est pas un JSON valide.") from None
    if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
        raise InboxError(400, "invalid_activity", "Activité ActivityPub attendue.")
    if _object_id(activity.get("actor")) != actor["id"]:
        raise InboxError(401, "actor_mismatch", "L'activité n'est pas signée par son acteur.")
    kind = activity["type"]
    if kind == "Follow":
        return _follow(db, network, name, actor, activity)
    if kind == "Undo":
        inner = activity.get("object")
        if isinstance(inner, dict) and inner.get("type") in ("Like", "Announce"):
            replies.undo_reaction(db, actor, inner)
            return Received(kind, actor["id"])
        if not isinstance(inner, dict):
            replies.undo_reaction(db, actor, inner)  # an Undo naming only the id: a like or boost, if it was one
        return _undo(db, network, actor, activity)
    if kind in ("Like", "Announce"):
        replies.reaction(db, network, actor, activity)
        return Received(kind, actor["id"])
    obj = activity.get("object")
    if kind == "Update" and _object_id(obj) == actor["id"]:
        return _profile_edited(app, db, network, actor)
    if kind == "Delete" and _object_id(obj) == actor["id"]:
        with write(db):
            db.conn.execute("DELETE FROM fed_remote_actors WHERE id = ?", (actor["id"],))
        return Received("Delete", actor["id"])
    try:
        if kind == "Create" and isinstance(obj, dict) and obj.get("type") in replies.KINDS:
            if _object_id(obj.get("attributedTo")) not in (None, actor["id"]):
                raise InboxError(401, "actor_mismatch", "La note n'est pas de l'acteur qui l'envoie.")
            if not obj.get("inReplyTo"):
                return Received(kind, actor["id"])  # a mention, not a reply: nothing to show
            if not replies.is_public(obj, activity):
                log.info("non-public note %s of %s not kept", _object_id(obj), actor["id"])
                return Received(kind, actor["id"])  # a private mention or a followers-only reply: never public
            comment = replies.create(app, db, network, actor, obj)
            return Received(kind, actor["id"], comment=comment)
        if kind == "Update" and isinstance(obj, dict) and obj.get("type") in replies.KINDS:
            replies.update(db, network, actor, obj, activity)
        elif kind == "Delete":
            replies.delete(db, actor, _object_id(obj))
    except replies.ReplyRefused as exc:
        raise InboxError(exc.status, exc.code, exc.message) from None
    return Received(kind, actor["id"])


def _profile_edited(app, db, network: Network, actor) -> Received:
    """An `Update` of the actor itself: fetched again (the embedded copy is not trusted apart from its origin's
    checks, remote.fetch), its comments follow its new name (replies.refresh_author). Unreachable: kept as is."""
    with remote.guard(app.config) as client:
        try:
            fresh = remote.fetch(db, network, client, actor["key_id"], actor["key_id"])
        except remote.RemoteError as exc:
            log.info("profile of %s not fetched again: %s", actor["id"], exc)
            return Received("Update", actor["id"])
    if fresh["id"] == actor["id"]:
        replies.refresh_author(app, db, fresh)
    return Received("Update", actor["id"])


def _follow(db, network: Network, name: str | None, actor, activity: dict) -> Received:
    target = urls.name_of(network, _object_id(activity.get("object")) or "")
    follow_id = _object_id(activity)
    if target is None or (name is not None and target != name) or not follow_id:
        raise InboxError(404, "unknown_actor", "Aucun acteur de ce réseau à suivre à cette adresse.")
    accept = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{urls.actor_id(network, target)}#accept-{urls.article_key(follow_id)}",
        "type": "Accept",
        "actor": urls.actor_id(network, target),
        "object": {"id": follow_id, "type": "Follow", "actor": actor["id"], "object": urls.actor_id(network, target)},
    }
    with write(db):
        db.conn.execute(
            "INSERT INTO fed_followers (actor, follower, follow_id, created) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (actor, follower) DO UPDATE SET follow_id = excluded.follow_id",
            (target, actor["id"], follow_id, iso(utcnow())),
        )
        delivery.queue(db, target, actor["inbox"], accept)
    return Received("Follow", actor["id"], queued=1)


def _undo(db, network: Network, actor, activity: dict) -> Received:
    inner = activity.get("object")
    inner_id = _object_id(inner)
    kind = inner.get("type") if isinstance(inner, dict) else None
    with write(db):
        if kind in (None, "Follow"):
            db.conn.execute("DELETE FROM fed_followers WHERE follower = ? AND follow_id = ?", (actor["id"], inner_id))
            if isinstance(inner, dict):
                target = urls.name_of(network, _object_id(inner.get("object")) or "")
                if target:
                    db.conn.execute("DELETE FROM fed_followers WHERE follower = ? AND actor = ?", (actor["id"], target))
    return Received("Undo", actor["id"])
