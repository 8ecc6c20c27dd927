"""Announcing a blog's posts, federated: the use case of PUT /api/sites/<slug>/posts (actions/posts.py) and, in
the same transaction, the Articles it changes queued for the followers (articles.sync, delivery).

The federation's part runs in a savepoint: should it fail, the posts are still taken (logged; nothing queued),
so a fault of the federation never refuses a push. Nothing remote is contacted here.
"""

from __future__ import annotations

import logging

from comments_service.actions import posts as post_actions
from comments_service.core.db import write
from comments_service.federation import articles, delivery, keys
from confreres.registry import Network

log = logging.getLogger(__name__)


def announce_posts(db, network: Network, slug: str, payload: dict, now=None) -> dict:
    """actions.posts.announce_posts, then the deliveries it calls for; the summary gains `federation.queued`."""
    with write(db):
        summary = post_actions.announce_posts(db, network, slug, payload, now=now)
        try:
            with write(db):
                keys.keep(db, slug)  # a blog taken off the fediverse (farewell.py) and back in network.toml
                queued = delivery.queue_post_changes(db, network, slug, articles.sync(db, network, slug, payload, now),
                                                     now)
        except Exception:  # noqa: BLE001 - the posts commit without their deliveries rather than not at all
            log.exception("federation: the posts of %s were taken, their deliveries not queued", slug)
            queued = 0
    summary["federation"] = {"queued": queued}
    return summary
