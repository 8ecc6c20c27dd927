"""Is a built blog's static copy of its comments (or the planet's counts and debates) out of date?

A blog's pages carry a snapshot of their comment threads taken at build time (plugins/comments), and
the planet shows comment counts and « Débats en cours » asked of the service at build time. A cron
`confreres build` skips a blog whose files did not change (its sha256 fingerprint); this module
tells it which blogs to rebuild anyway, for their comments, at the cost of two small HTTP requests:

- `GET <comments_url>api/sites`: each blog's `comments_version`, an opaque digest that moves
  whenever what its pages show of its threads changes: approved comments, answers, approved mentions,
  badges and names; not a comment awaiting moderation (comments_service.domain.crossblog.comments_versions);
- `GET <comments_url>api/threads/active`: what « Débats en cours » shows (it changes as days pass).

The same `GET api/sites` gives each blog's `posts.digest`, over the URLs of the posts the service knows
(accepts comments on). Each build records in the state file the digest of the posts it published (and
announced); a blog whose live release is current but whose posts the service does not know (a database
started empty on a new server, restored from an older backup) is announced again from its posts.json,
without a Pelican run (`posts_unknown`).

Each build records, in the release's state file (build.STATE_FILE), the version it was given for the
blog (asked *before* the blog's own snapshot, so a comment that arrives in between only costs one
more rebuild, never a stale page), or None when its snapshot was incomplete (service down) so that
it is retaken when the service answers again. A service that is down, slow or answers badly gives no
state (`fetch` returns None): nothing is compared, nothing is rebuilt for comments, the build goes on.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from confreres import service_client
from confreres.releases import POSTS_FILE

log = logging.getLogger(__name__)
TIMEOUT = service_client.TIMEOUT
ACTIVE_PARAMS = {"days": 14, "limit": 10}  # what the planet asks (plugins/planet/generator.py: fetch_debates)
SNAPSHOT_FILE = "comments.json"  # written by plugins/comments into the blog's output: {"complete": bool}


@dataclass(frozen=True)
class ServiceState:
    versions: dict[str, str]  # slug -> comments_version
    badges: dict[str, dict]  # slug -> its author's badge (confreres.badges.verified), verified authors only
    planet: str  # digest of all the planet shows from the service: badges, comment versions, debates
    posts: dict[str, str] = field(default_factory=dict)  # slug -> digest of the posts the service knows


def fetch(comments_url: str, timeout: float = TIMEOUT) -> ServiceState | None:
    """The service's current versions; None when it is unavailable (then nothing is compared)."""
    if not comments_url:
        return None
    from confreres.badges import verified

    api = service_client.api_url(comments_url, service_client.ACTIVE)
    client = service_client.client(timeout)  # one client (one TLS context, one connection) for both requests
    try:
        listed = service_client.sites(comments_url, timeout, unless="commentaires non comparés", http=client)
        if listed is None:
            return None
        active = service_client.active_threads(client, comments_url, **ACTIVE_PARAMS)
    except service_client.UNAVAILABLE as exc:
        log.warning("commentaires non comparés : service de commentaires injoignable à %s (%s)", api,
                    exc.__class__.__name__)
        return None
    finally:
        client.close()
    versions = comment_versions(listed)
    posts = {
        site["slug"]: site["posts"]["digest"]
        for site in listed
        if isinstance(site, dict) and isinstance(site.get("slug"), str) and isinstance(site.get("posts"), dict)
        and isinstance(site["posts"].get("digest"), str)
    }
    # the planet does not show which posts the service knows: announcing new ones must not rebuild it
    shown = [{k: v for k, v in site.items() if k != "posts"} if isinstance(site, dict) else site for site in listed]
    digest = hashlib.sha256(json.dumps([shown, active], sort_keys=True, ensure_ascii=False).encode())
    return ServiceState(versions=versions, badges=verified(listed), planet=digest.hexdigest(), posts=posts)


def comment_versions(listed: list) -> dict[str, str]:
    """slug -> comments_version, from `GET api/sites`'s list."""
    return {
        site["slug"]: site["comments_version"]
        for site in listed
        if isinstance(site, dict) and isinstance(site.get("slug"), str) and isinstance(site.get("comments_version"), str)
    }


def posts_digest(posts: list[dict]) -> str:
    """The digest GET api/sites gives of a blog's posts (comments_service.domain.crossblog.posts_digests):
    the first 20 hex digits of the sha256 of their URLs, sorted, one per line."""
    urls = sorted(post["url"] for post in posts if isinstance(post, dict) and isinstance(post.get("url"), str))
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()[:20]


def published_posts(live: Path) -> list[dict]:
    """The posts a live release published (its posts.json); [] when it has none."""
    try:
        posts = json.loads((Path(live) / POSTS_FILE).read_text(encoding="utf-8")).get("posts", [])
    except (OSError, ValueError, AttributeError):
        return []
    return posts if isinstance(posts, list) else []


def posts_unknown(state: dict, live: Path, service: ServiceState | None, slug: str) -> bool:
    """The service does not know the posts the blog's live release published (its digest differs or is
    missing); False when the service did not answer (nothing is compared)."""
    if service is None:
        return False
    announced = state.get("posts") or posts_digest(published_posts(live))  # releases built before it was recorded
    return service.posts.get(slug) != announced


def recorded(release: Path, version: str | None) -> dict:
    """What a blog's state file keeps of its comments: the version its snapshot is of (None: incomplete).

    A blog built without the comments plugin has no snapshot (`"snapshots": false`): never rebuilt for comments.
    """
    try:
        marker = json.loads((Path(release) / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"snapshots": False}
    complete = isinstance(marker, dict) and marker.get("complete") is True
    return {"snapshots": True, "comments": version if complete else None}


def comments_stale(state: dict, version: str | None) -> bool:
    """The blog's live snapshot is not of `version` (None: the service did not say; nothing is compared)."""
    if version is None or not state.get("snapshots", True):
        return False
    return state.get("comments") != version


def planet_stale(state: dict, fingerprint: str, service: ServiceState | None) -> bool:
    """The live planet was built from other files or member blogs, or other counts, debates or badges."""
    if state.get("fingerprint") != fingerprint:
        return True
    return service is not None and state.get("service") != service.planet
