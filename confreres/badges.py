"""The blog authors' badges as the comment service decides them, read by the build over HTTP.

`GET <comments_url>api/sites` gives, for each blog of network.toml, its author's current badge,
worked out by the service from its verification records (an account linked to the blog whose
verification is at level `verified`); `null` when none is. Being listed in network.toml verifies
nobody. The planet (plugins/planet), the blogs' cross-links (plugins/crosslinks) and the build's
check of stale cross-links (confreres.build) all read it through `fetch` (over confreres.service_client).

A service that is down, slow or answers badly never fails a build: `fetch` returns None (badges
unknown: none shown) and logs a warning.
"""

from __future__ import annotations

from confreres import service_client

TIMEOUT = service_client.TIMEOUT


def fetch(comments_url: str, timeout: float = TIMEOUT) -> dict[str, dict] | None:
    """{slug: {"label", "title"}} for the blogs whose author the service says is verified; None when unavailable."""
    sites = service_client.sites(comments_url, timeout)
    return None if sites is None else verified(sites)


def verified(sites: list) -> dict[str, dict]:
    """{slug: {"label", "title"}} of the blogs whose author is verified, from `GET api/sites`'s list."""
    badges: dict[str, dict] = {}
    for site in sites:
        if not isinstance(site, dict) or not isinstance(site.get("slug"), str):
            continue
        author = site.get("author")
        badge = author.get("badge") if isinstance(author, dict) else None
        if isinstance(badge, dict) and badge.get("level") == "verified" and isinstance(badge.get("label"), str):
            badges[site["slug"]] = {"label": badge["label"], "title": str(badge.get("title") or "")}
    return badges
