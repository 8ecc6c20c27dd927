"""What the federation routes answer: actors, WebFinger, NodeInfo, outboxes, followers collections, Articles.

Nothing private goes out: an actor shows its blog's public title, description, author line and public key;
a followers collection shows its count, never the list.
"""

from __future__ import annotations

import html
from urllib.parse import unquote

from comments_service.domain.posts import query_one
from comments_service.federation import articles, keys, urls
from confreres.registry import Network

CONTEXT = ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"]
ACTIVITY_JSON = "application/activity+json"
LD_PROFILE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
JRD = "application/jrd+json"
PAGE_SIZE = 20
NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.1"
SOFTWARE = {"name": "confreres", "version": "0.1.0", "homepage": "https://confreres.fr/"}


def actor(db, network: Network, name: str) -> dict:
    """The actor document of a member blog (`name`: its slug) or of the network (urls.NETWORK_ACTOR)."""
    if name == urls.NETWORK_ACTOR:
        title = network.name
        summary = network.tagline or f"Tous les billets des blogs du réseau {network.name}."
        page = network.url
        kind = "Service"
    else:
        site = network.site(name)
        title = site.title
        about = site.description or ""
        byline = site.author + (f" — {site.specialty}" if site.specialty else "")
        summary = " · ".join(part for part in (about, byline) if part)
        page = site.url
        kind = "Person"
    ident = urls.actor_id(network, name)
    return {
        "@context": CONTEXT,
        "id": ident,
        "type": kind,
        "preferredUsername": name,
        "name": title,
        "summary": f"<p>{html.escape(summary)}</p>",
        "url": page,
        # one picture for every actor (the service's static/avatar.png): Mastodon shows a grey default without
        "icon": {"type": "Image", "mediaType": "image/png", "url": f"{network.comments_url}static/avatar.png"},
        "inbox": urls.inbox(network, name),
        "outbox": urls.outbox(network, name),
        "followers": urls.followers(network, name),
        "following": urls.following(network, name),
        "endpoints": {"sharedInbox": urls.shared_inbox(network)},
        "manuallyApprovesFollowers": False,
        "discoverable": True,
        "publicKey": {"id": urls.key_id(network, name), "owner": ident, "publicKeyPem": keys.public_pem(db, name)},
    }


def webfinger_name(network: Network, resource: str) -> str | None:
    """The local actor a WebFinger `resource` names (`acct:slug@host`, `@slug@host` or the actor's id)."""
    resource = unquote(resource or "").strip()
    by_id = urls.name_of(network, resource)
    if by_id:
        return by_id
    account = resource[5:] if resource.lower().startswith("acct:") else resource
    name, at, host = account.lstrip("@").rpartition("@")
    if not at or host.lower() != network.host:
        return None
    return name if urls.is_actor(network, name) else None


def webfinger(network: Network, name: str) -> dict:
    page = network.url if name == urls.NETWORK_ACTOR else network.site(name).url
    return {
        "subject": f"acct:{name}@{network.host}",
        "aliases": [urls.actor_id(network, name), page],
        "links": [
            {"rel": "self", "type": ACTIVITY_JSON, "href": urls.actor_id(network, name)},
            {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": page},
        ],
    }


def nodeinfo_links(nodeinfo_url: str) -> dict:
    return {"links": [{"rel": NODEINFO_SCHEMA, "href": nodeinfo_url}]}


def nodeinfo(db, network: Network) -> dict:
    posts = articles.count(db, network)
    return {
        "version": "2.1",
        "software": SOFTWARE,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": ["atom1.0"]},
        "openRegistrations": False,
        "usage": {"users": {"total": len(network.sites)}, "localPosts": posts},
        "metadata": {"nodeName": network.name, "nodeDescription": network.tagline},
    }


def followers_count(db, name: str) -> int:
    return query_one(db, "SELECT COUNT(*) AS n FROM fed_followers WHERE actor = ?", (name,))["n"]


def followers(db, network: Network, name: str) -> dict:
    """The followers collection: how many, never who (the list stays in the database)."""
    return {"@context": CONTEXT[0], "id": urls.followers(network, name), "type": "OrderedCollection",
            "totalItems": followers_count(db, name)}


def following(network: Network, name: str) -> dict:
    return {"@context": CONTEXT[0], "id": urls.following(network, name), "type": "OrderedCollection",
            "totalItems": 0, "orderedItems": []}


def _create(network: Network, doc: dict) -> dict:
    return {"id": doc["id"] + "#create", "type": "Create", "actor": doc["attributedTo"],
            "published": doc.get("published"), "to": doc.get("to"), "cc": doc.get("cc"), "object": doc}


def collection(ident: str, total: int, page: int | None, items=None) -> dict:
    """An OrderedCollection of PAGE_SIZE-item pages (`page` None), or its page `page` (`items`: what it holds)."""
    if page is None:
        found = {"@context": CONTEXT[0], "id": ident, "type": "OrderedCollection", "totalItems": total}
        if total:
            found["first"] = f"{ident}?page=1"
            found["last"] = f"{ident}?page={(total - 1) // PAGE_SIZE + 1}"
        return found
    found = {"@context": CONTEXT[0], "id": f"{ident}?page={page}", "type": "OrderedCollectionPage",
             "partOf": ident, "totalItems": total, "orderedItems": items or []}
    if page * PAGE_SIZE < total:
        found["next"] = f"{ident}?page={page + 1}"
    if page > 1:
        found["prev"] = f"{ident}?page={page - 1}"
    return found


def outbox(db, network: Network, name: str, page: int | None) -> dict:
    """The outbox: an OrderedCollection of its pages (PAGE_SIZE Creates of Articles each, newest first).

    The network's outbox lists every member post (it announces them)."""
    slug = None if name == urls.NETWORK_ACTOR else name
    total, _ = articles.page(db, network, slug, 0, 0)
    docs = articles.page(db, network, slug, (page - 1) * PAGE_SIZE, PAGE_SIZE)[1] if page is not None else []
    return collection(urls.outbox(network, name), total, page, [_create(network, doc) for doc in docs])


def article(doc: dict, likes: int = 0, shares: int = 0, replies: dict | None = None) -> dict:
    """A post's Article, with how many accounts liked and boosted it (the counts only) and its `replies`
    (notes.replies: the comments its thread shows)."""
    counted = {"likes": {"id": doc["id"] + "/likes", "type": "Collection", "totalItems": likes},
               "shares": {"id": doc["id"] + "/shares", "type": "Collection", "totalItems": shares}}
    if replies is not None:
        counted["replies"] = {key: value for key, value in replies.items() if key != "@context"}
    return {"@context": CONTEXT[0], **doc, **counted}
