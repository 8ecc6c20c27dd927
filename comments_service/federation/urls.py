"""Where each federation object lives: `<comments_url>ap/...`, built from the registry's `comments_url`.

The ids must be absolute and stable (remote instances store them), and known outside a request (the
delivery worker signs with them), so they are built from network.toml, never from the request.
"""

from __future__ import annotations

import hashlib

from confreres.registry import NETWORK_ACTOR, Network  # noqa: F401 (the federation reads it here)

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def base(network: Network) -> str:
    return network.comments_url.rstrip("/") + "/ap"


def actor_id(network: Network, name: str) -> str:
    return network.actor_url(name)  # the blogs' pages link to it too (themes/confreres: rel="alternate")


def key_id(network: Network, name: str) -> str:
    return actor_id(network, name) + "#main-key"


def inbox(network: Network, name: str) -> str:
    return actor_id(network, name) + "/inbox"


def outbox(network: Network, name: str) -> str:
    return actor_id(network, name) + "/outbox"


def followers(network: Network, name: str) -> str:
    return actor_id(network, name) + "/followers"


def following(network: Network, name: str) -> str:
    return actor_id(network, name) + "/following"


def shared_inbox(network: Network) -> str:
    return base(network) + "/inbox"


def article_key(post_url: str) -> str:
    """The opaque part of a post's Article id: stable for the post's URL."""
    return hashlib.sha256(post_url.encode()).hexdigest()[:24]


def article_id(network: Network, post_url: str) -> str:
    return f"{base(network)}/articles/{article_key(post_url)}"


def actor_names(network: Network) -> list[str]:
    """Every local actor: the network's, then each member blog's (its slug)."""
    return [NETWORK_ACTOR] + [site.slug for site in network.sites if site.slug != NETWORK_ACTOR]


def is_actor(network: Network, name: str) -> bool:
    return name in actor_names(network)


def name_of(network: Network, url: str) -> str | None:
    """The local actor whose id is `url` (one trailing slash allowed: some servers add it to the address they
    were given, a Follow then named `…/actors/dr-a/`), else None."""
    prefix = base(network) + "/actors/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    name = url[len(prefix):].removesuffix("/")
    return name if is_actor(network, name) else None
