"""The blog authors' badges as the comment service decides them, read by the build over HTTP.

`GET <comments_url>api/sites` gives, for each blog of network.toml, its author's current badge,
worked out by the service from its verification records (an account linked to the blog whose
verification is at level `verified`); `null` when none is. Being listed in network.toml verifies
nobody. The planet (plugins/planet), the blogs' cross-links (plugins/crosslinks) and the build's
check of stale cross-links (confreres.build) all read it through `fetch`.

A service that is down, slow or answers badly never fails a build: `fetch` returns None (badges
unknown: none shown) and logs a warning.
"""

from __future__ import annotations

import contextlib
import logging

import httpx

log = logging.getLogger(__name__)
TIMEOUT = 3.0
ROUTE = "api/sites"


def service_client(timeout: float = TIMEOUT) -> httpx.Client:
    """The build's client for the comment service: short timeouts, JSON, no redirects."""
    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)),
                        headers={"Accept": "application/json"}, follow_redirects=False)


def fetch_sites(comments_url: str, timeout: float = TIMEOUT, unless: str = "badges des auteurs non affichés",
                client: httpx.Client | None = None) -> list | None:
    """The blogs as `GET api/sites` lists them; None when unavailable (a warning: « `unless`: ... »)."""
    if not comments_url:
        return None
    api = comments_url.rstrip("/") + "/" + ROUTE
    try:
        with contextlib.nullcontext(client) if client else service_client(timeout) as used:
            response = used.get(api)
            response.raise_for_status()
            data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("%s : service de commentaires injoignable à %s (%s)", unless, api, exc.__class__.__name__)
        return None
    sites = data.get("sites") if isinstance(data, dict) else None
    if not isinstance(sites, list):
        log.warning("%s : réponse inattendue de %s", unless, api)
        return None
    return sites


def fetch(comments_url: str, timeout: float = TIMEOUT) -> dict[str, dict] | None:
    """{slug: {"label", "title"}} for the blogs whose author the service says is verified; None when unavailable."""
    sites = fetch_sites(comments_url, timeout)
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
