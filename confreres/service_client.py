"""The only HTTP client of the comment service on the static side: one timeout policy, one batch size.

The build (confreres.build, .badges, .freshness) and the Pelican plugins (comments, planet) ask the service
over HTTP only, never by importing it: the blogs' author badges and comment versions (`GET api/sites`), the
active threads (`GET api/threads/active`), comment counts (`GET api/counts`, `COUNTS_BATCH` URLs a request)
and threads (`GET api/comments`), and the blog's list of posts (`PUT api/sites/<slug>/posts`, signed,
retried; each built post with its medical secrecy warnings, confreres.checks.with_secrecy). Reads use `client(timeout)`: short timeouts (connect at most 1 s), JSON, no redirects; each
caller keeps its own timeout as the default of the function it calls.

A service that is down, slow or answers badly never fails a build: reads raise one of `UNAVAILABLE`, which
the caller catches to go on without what it asked (and says so in its own warning), or return None.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator

import httpx

log = logging.getLogger(__name__)
TIMEOUT = 3.0  # seconds: the build's reads (badges, versions, snapshots)
PLANET_TIMEOUT = 2.0  # seconds: the planet's counts and debates (its site.toml may say otherwise)
PUT_TIMEOUT = 10  # seconds: announcing a blog's posts
COUNTS_BATCH = 40  # URLs per /api/counts request, to keep the query string short
RETRY_AFTER_MAX = 10  # seconds: a longer Retry-After is not waited for
SITES = "api/sites"
ACTIVE = "api/threads/active"
COUNTS = "api/counts"
COMMENTS = "api/comments"
UNAVAILABLE = (httpx.HTTPError, ValueError)  # a read that failed: down, slow, an error status, not JSON


def api_url(comments_url: str, route: str) -> str:
    """`<comments_url>/<route>`, whether the service's URL ends with a slash or not."""
    return comments_url.rstrip("/") + "/" + route


def client(timeout: float = TIMEOUT) -> httpx.Client:
    """The build's client for the comment service: short timeouts, JSON, no redirects."""
    from confreres import tls

    return httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 1.0)), verify=tls.CONTEXT,
                        headers={"Accept": "application/json"}, follow_redirects=False)


def sites(comments_url: str, timeout: float = TIMEOUT, unless: str = "badges des auteurs non affichés",
          http: httpx.Client | None = None) -> list | None:
    """The blogs as `GET api/sites` lists them; None when unavailable (a warning: « `unless`: ... »)."""
    if not comments_url:
        return None
    api = api_url(comments_url, SITES)
    try:
        with contextlib.nullcontext(http) if http else client(timeout) as used:
            response = used.get(api)
            response.raise_for_status()
            data = response.json()
    except UNAVAILABLE as exc:
        log.warning("%s : service de commentaires injoignable à %s (%s)", unless, api, exc.__class__.__name__)
        return None
    listed = data.get("sites") if isinstance(data, dict) else None
    if not isinstance(listed, list):
        log.warning("%s : réponse inattendue de %s", unless, api)
        return None
    return listed


def active_threads(http: httpx.Client, comments_url: str, days: int, limit: int):
    """The JSON of `GET api/threads/active?days=&limit=` (raises one of UNAVAILABLE)."""
    response = http.get(api_url(comments_url, ACTIVE), params={"days": days, "limit": limit})
    response.raise_for_status()
    return response.json()


def count_batches(http: httpx.Client, comments_url: str, urls: list[str]) -> Iterator:
    """The JSON of `GET api/counts?url=...`, one request per `COUNTS_BATCH` URLs (raises one of UNAVAILABLE)."""
    api = api_url(comments_url, COUNTS)
    for start in range(0, len(urls), COUNTS_BATCH):
        response = http.get(api, params=[("url", u) for u in urls[start : start + COUNTS_BATCH]])
        response.raise_for_status()
        yield response.json()


def thread(http: httpx.Client, comments_url: str, url: str) -> tuple[int, object]:
    """(status, JSON when 200 else None) of `GET api/comments?url=` (the first page of a thread)."""
    response = http.get(api_url(comments_url, COMMENTS), params={"url": url})
    return response.status_code, response.json() if response.status_code == 200 else None


def put_posts(comments_url: str, slug: str, posts: list[dict], bearer: str, *, attempts: int, backoff: float,
              timeout: float = PUT_TIMEOUT, answer: dict | None = None) -> str | None:
    """`PUT api/sites/<slug>/posts` signed with `bearer`; None when the service took the list, else why not (French).

    `answer`, when given, receives the service's summary (e.g. `federation.queued`: deliveries it queued).

    Connection errors, 5xx and 429 are tried `attempts` times, waiting `backoff` seconds then twice as long
    each time (at least a 429's Retry-After, up to RETRY_AFTER_MAX); any other refusal is final.
    """
    url = f"{comments_url}api/sites/{slug}/posts"
    headers = {"Authorization": f"Bearer {bearer}"}
    reason = ""
    for attempt in range(1, max(1, attempts) + 1):
        wait = backoff * 2 ** (attempt - 1)
        try:
            response = httpx.put(url, json={"posts": posts}, headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            reason = f"service injoignable à {comments_url} ({exc.__class__.__name__})"
        else:
            if response.status_code < 400:
                if answer is not None:
                    with contextlib.suppress(ValueError, TypeError):
                        answer.update(response.json())
                return None
            reason = f"le service a répondu {response.status_code}{_service_message(response)}"
            if response.status_code != 429 and response.status_code < 500:
                break  # refused for good: another try would be refused the same way
            if response.status_code == 429:
                wait = max(wait, min(_retry_after(response), RETRY_AFTER_MAX))
        if attempt < attempts:
            time.sleep(wait)
    return reason


def _service_message(response) -> str:
    """" : <the service's French message>" from its JSON error, or ""."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" : {message}" if isinstance(message, str) and message else ""


def _retry_after(response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return 0.0
