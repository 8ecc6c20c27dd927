"""A blog removed from network.toml, taken off the fediverse: its followers' servers drop their copies.

Removing a blog from network.toml makes its actor, outbox and Articles answer 404 at once (articles._live), but the
servers that follow it keep what they were sent. `farewell` (`confreres federation delete-blog SLUG`) queues, signed
by the blog's own key (which the followers' servers kept with its account), a `Delete` of each of its live Articles
(a Tombstone, as a removed post's), then a `Delete` of the actor itself (Mastodon's own account deletion: the
receiving server deletes the account and every status it kept of it). They go to the blog's followers and the
network actor's (who saw its posts through the network's boosts), each instance's shared inbox once, through the
ordinary delivery queue (retries included). In the same transaction the Articles are marked deleted, the blog's
followers forgotten, what was still queued for it but a Delete abandoned, and its key marked to be forgotten once
those deliveries are done (keys.forget_retired).

Exactly once: what is sent is what was still live (Articles not deleted, followers), and the transaction that
queues it also ends it; a second run (or two at once: the write lock orders them) finds nothing left to send.

Never automatic: the service reloads network.toml within seconds of an edit, and a typo in a slug, a bad merge or
a half-written file would otherwise wipe a blog off its followers' servers for good (a deleted account cannot be
followed back). The operator names the blog, which must already be absent from network.toml; `candidates` lists the
blogs in that state (`confreres federation status`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from comments_service.core.db import write
from comments_service.domain.posts import iso, query, utcnow
from comments_service.federation import delivery, keys, urls
from confreres.registry import Network

ABANDONED = "blog retiré du réseau"


class FarewellError(Exception):
    """The blog cannot be taken off the fediverse (still a member, or unknown): nothing was changed."""


@dataclass
class Farewell:
    slug: str
    articles: int  # Articles deleted
    inboxes: int  # inboxes each Delete goes to
    deliveries: int  # deliveries queued
    followers: int  # followers forgotten
    abandoned: int  # deliveries queued before for the blog, abandoned

    @property
    def done_before(self) -> bool:
        return not (self.articles or self.followers or self.abandoned)


def _known(db) -> dict[str, dict]:
    """What the federation still holds of each blog: live Articles, followers, key."""
    found: dict[str, dict] = {}
    for row in query(db, "SELECT site AS name, COUNT(*) AS n FROM fed_articles WHERE deleted IS NULL GROUP BY site"):
        found.setdefault(row["name"], {"articles": 0, "followers": 0})["articles"] = row["n"]
    for row in query(db, "SELECT actor AS name, COUNT(*) AS n FROM fed_followers GROUP BY actor"):
        found.setdefault(row["name"], {"articles": 0, "followers": 0})["followers"] = row["n"]
    return found


def candidates(db, network: Network) -> list[dict]:
    """The blogs network.toml no longer lists whose followers or posts the fediverse still has: {name, articles,
    followers}, by name."""
    members = set(urls.actor_names(network))
    return [{"name": name, **counts} for name, counts in sorted(_known(db).items()) if name not in members]


def _check(db, network: Network, slug: str) -> None:
    if urls.is_actor(network, slug) or slug == urls.NETWORK_ACTOR:
        raise FarewellError(f"« {slug} » est encore dans network.toml : retirez-en d'abord le blog (rien n'a changé)")
    if not query(db, "SELECT 1 FROM fed_actors WHERE name = ? UNION ALL SELECT 1 FROM fed_articles WHERE site = ?"
                     " UNION ALL SELECT 1 FROM fed_followers WHERE actor = ? LIMIT 1", (slug, slug, slug)):
        raise FarewellError(f"le fédivers n'a jamais connu de blog « {slug} » (rien n'a changé)")


def _delete(actor: str, object_, ident: str, cc: list[str]) -> dict:
    return {"@context": "https://www.w3.org/ns/activitystreams", "id": ident, "type": "Delete", "actor": actor,
            "to": [urls.PUBLIC], "cc": cc, "object": object_}


def farewell(db, network: Network, slug: str, now=None, dry_run: bool = False) -> Farewell:
    """Queue the Deletes of the removed blog `slug` (its live Articles, then its actor) for its followers' and the
    network's followers' inboxes, and forget its followers; one transaction. FarewellError when `slug` is still in
    network.toml or was never known here. `dry_run`: what would be done, nothing written."""
    _check(db, network, slug)
    stamp = iso(now or utcnow())
    blog = urls.actor_id(network, slug)
    with write(db):
        if not dry_run:  # what was queued for followers before goes to them as they are now, before they go
            delivery.expand(db, now)
        rows = query(db, "SELECT article FROM fed_articles WHERE site = ? AND deleted IS NULL"
                         " ORDER BY published, post_url", (slug,))
        followers = db.conn.execute("SELECT COUNT(*) FROM fed_followers WHERE actor = ?", (slug,)).fetchone()[0]
        targets = sorted(set(delivery.inboxes(db, slug)) | set(delivery.inboxes(db, urls.NETWORK_ACTOR)))
        if not keys.made(db, slug):  # its actor was never served: no server holds its account or can verify a
            targets = []  # Delete (signing would make a key nobody knows, and keep it)
        # its Creates and Updates, and the network's boosts of its posts, still waiting (a retry): pointless now,
        # and never to arrive after its Deletes
        pending = [row["id"] for row in query(
            db, "SELECT d.id FROM fed_deliveries d JOIN fed_activities a ON a.id = d.activity_id"
                " WHERE d.state = 'queued' AND ((a.actor = ? AND json_extract(a.activity, '$.type') != 'Delete')"
                " OR (a.actor = ? AND json_extract(a.activity, '$.type') = 'Announce' AND json_extract(a.activity,"
                " '$.object') IN (SELECT object_id FROM fed_articles WHERE site = ?)))",
            (slug, urls.NETWORK_ACTOR, slug))]
        activities = []
        for row in rows:
            doc = json.loads(row["article"])
            activities.append(_delete(blog, {"id": doc["id"], "type": "Tombstone"}, f"{doc['id']}#delete-{stamp}",
                                      doc.get("cc") or [urls.followers(network, slug)]))
        if rows or followers:  # the account itself: the servers that kept it drop it, with all they kept of it
            activities.append(_delete(blog, blog, f"{blog}#delete-{stamp}", [urls.followers(network, slug)]))
        summary = Farewell(slug, len(rows), len(targets), len(activities) * len(targets), followers, len(pending))
        if dry_run:
            return summary
        if targets:
            for activity in activities:  # in this order: the Articles' Deletes are claimed before the actor's
                delivery.queue_for(db, slug, targets, activity, now)
        db.conn.execute("UPDATE fed_articles SET deleted = ? WHERE site = ? AND deleted IS NULL", (stamp, slug))
        db.conn.execute("DELETE FROM fed_followers WHERE actor = ?", (slug,))
        db.conn.executemany("UPDATE fed_deliveries SET state = 'failed', last_error = ?, done = ? WHERE id = ?",
                            [(ABANDONED, stamp, ident) for ident in pending])
        keys.retire(db, slug, stamp)
    return summary
