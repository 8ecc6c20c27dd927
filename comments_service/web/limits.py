"""Anti-abuse: rate limits per client IP, the keyed IP hash, and its 30-day purge.

Every request to any route spends a budget per client IP before its view runs — a strict one for writes,
a loose one for reads — except the few exemptions named in `EXEMPT`, with why
(tests/comments_service/web/test_limits.py walks the url_map). The `limits` library counts, in
`CONFRERES_RATE_LIMIT_STORAGE`: by default an SQLite file beside the database
(core/ratelimit_storage.py), shared by every gunicorn worker of the machine; `redis://` or
`memcached://` for several machines. When that storage fails, each process counts in memory until it
answers again (logged), rather than refusing or failing requests. `CONFRERES_RATE_LIMIT=off` disables
every limit (benchmarks). An IPv6 client is counted by its /64 (`budget_key`). The IP itself is never stored: only an HMAC of it keyed with the secret key,
which is enough to spot duplicates and floods, and is erased after `IP_RETENTION_DAYS`. The honeypot and duplicate checks live in domain/validate.py and store.add_comment.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from datetime import datetime, timedelta

from flask import current_app, g, request
from limits import RateLimitItem
from limits import parse as parse_limit
from limits.errors import ConfigurationError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import STRATEGIES

from comments_service.core import ratelimit_storage  # noqa: F401 - registers the sqlite:// storage
from comments_service.core.config import ENV_PREFIX, ConfigError, rate_limits_enabled
from comments_service.core.db import write
from comments_service.core.errors import FRENCH_HTTP_MESSAGES, ApiError
from comments_service.domain.comments import iso, utcnow
from confreres.site_token import check_site_token

STORAGE_RETRY_SECONDS = 10  # after the storage failed, how long a process counts alone before trying it again

# Every route has both budgets (writes: RATE_LIMIT, reads: READ_RATE_LIMIT) except these, and why.
EXEMPT = {
    "static": "the pages' own CSS and images, fetched with every page; nginx serves them in production",
}
# Writes that spend the reads' budget instead, and why.
READ_LIKE = {
    "secrecy.check": "asked while a reader types a comment (debounced); it stores nothing",
    "letter_links.unsubscribe": "RFC 8058 one-click unsubscribes are POSTed by mail providers, many readers per address",
}
# Writes from other servers: a budget per sending address (FEDERATION_RATE_LIMIT), not the guests' writes.
FEDERATION_INBOXES = frozenset({"federation.actor_inbox", "federation.shared_inbox"})
# Not routes but requests, also apart (RateLimits.budget):
# - OPTIONS: a CORS preflight, sent by the browser itself before a write that is counted;
# - PUT /api/sites/<slug>/posts with the blog's valid site token: a build announcing its posts, under its own
#   budget per blog (POSTS_RATE_LIMIT) instead of the guests' writes (one build host announces every blog).


def client_ip() -> str:
    """The client's address (ProxyFix, when configured, has already put the real one here)."""
    return request.remote_addr or "unknown"


def budget_key(ip: str) -> str:
    """What a rate limit counts for a client: its IPv4 address, or its IPv6 /64 (one subscriber's network: every
    home and phone is given 2^64 addresses, one a request would get a whole budget each)."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return ip


def ip_hash(secret: str, ip: str) -> str:
    return hmac.new(secret.encode(), b"confreres-ip:" + ip.encode(), hashlib.sha256).hexdigest()[:32]


def request_ip_hash() -> str:
    """The keyed hash stored with a comment or a report: of the client's `budget_key`, so that an IPv6 client is known by
    its /64 (a duplicate, a second report, a blocked author's address: domain/blocks.py) as the rate limits know it.
    Made once a request: the rate limit asks for it first, then the write that stores it."""
    if "ip_hash" not in g:
        g.ip_hash = ip_hash(current_app.config["SECRET_KEY"], budget_key(client_ip()))
    return g.ip_hash


def purge_ip_hashes(db, days: int, now: datetime | None = None) -> int:
    """Erase IP hashes older than `days`; return how many rows were touched."""
    cutoff = iso((now or utcnow()) - timedelta(days=days))
    with write(db):
        touched = db.conn.execute(
            "UPDATE comments SET ip_hash = NULL WHERE ip_hash IS NOT NULL AND created < ?", (cutoff,)
        ).rowcount
        touched += db.conn.execute(
            "UPDATE reports SET ip_hash = NULL WHERE ip_hash IS NOT NULL AND created < ?", (cutoff,)
        ).rowcount
    return touched


def site_token_of_request() -> str:
    """The bearer token of the request ("" without one)."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def _announcing_posts() -> str | None:
    """The blog whose build announces its posts with its own valid site token, else None.

    A build announces every blog from one address: under the guests' write budget (RATE_LIMIT per IP) the
    12th blog was refused. Announces have their own budget per blog (POSTS_RATE_LIMIT); a request without
    a valid token stays a guest's write.
    """
    if request.endpoint != "api.put_site_posts" or request.method != "PUT":
        return None
    slug = (request.view_args or {}).get("slug", "")
    token = site_token_of_request()
    if token and check_site_token(current_app.config["SECRET_KEY"], slug, token):
        return slug
    return None


class RateLimits:
    """The budgets every request spends, counted by the `limits` library in the configured storage.

    One `before_request` hook for the whole app, so a route added later is limited too. Flask-Limiter did
    this before, at ~180 µs of bookkeeping per request (resolving each blueprint's limits), more than half
    a cached thread read: the budgets here are a table lookup, the counting the `limits` library's.
    """

    def __init__(self, app):
        self.app = app
        self.enabled = rate_limits_enabled(app)
        uri = str(app.config["RATE_LIMIT_STORAGE"])
        try:
            storage = storage_from_string(uri)
        except ConfigurationError as exc:  # an unknown scheme, or redis:// without the redis package
            raise ConfigError(f"{ENV_PREFIX}RATE_LIMIT_STORAGE={uri!r}: {exc}") from None
        strategy = STRATEGIES[str(app.config["RATE_LIMIT_STRATEGY"])]
        self.limiter = strategy(storage)
        self.fallback = strategy(MemoryStorage())  # this process's counts while the storage fails
        self.failed_until = 0.0  # time.monotonic() before which the storage is not tried again
        self._items: dict[str, RateLimitItem] = {}

    def item(self, key: str) -> RateLimitItem | None:
        """The limit configured under `key` (read at each request: tests change it), None when "off"."""
        value = str(self.app.config[key]).strip()
        if value.lower() == "off":
            return None
        item = self._items.get(value)
        if item is None:
            item = self._items[value] = parse_limit(value)
        return item

    def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        if time.monotonic() >= self.failed_until:
            try:
                return self.limiter.hit(item, *identifiers)
            except Exception:  # noqa: BLE001 - whatever the storage's client raises
                self.failed_until = time.monotonic() + STORAGE_RETRY_SECONDS
                self.app.logger.exception(
                    "rate-limit storage failed: this process counts alone for %d s", STORAGE_RETRY_SECONDS
                )
        return self.fallback.hit(item, *identifiers)

    def budget(self) -> tuple[str, str, str] | None:
        """(setting, key, scope) of the budget this request spends; None when it spends none (EXEMPT)."""
        method = request.method
        if method == "OPTIONS" or request.endpoint is None or request.endpoint in EXEMPT:
            return None  # a preflight; no route (404, 405: answered before any work)
        # the client is counted by its keyed hash (request_ip_hash: its address or IPv6 /64), never by its address:
        # the counters are a file on disk (or a Redis) that would otherwise list every visitor's address
        if method in ("GET", "HEAD") or request.endpoint in READ_LIKE:
            return "READ_RATE_LIMIT", request_ip_hash(), "reads"
        if request.endpoint in FEDERATION_INBOXES:
            # per sending address, before any signature is checked: keyed by the keyId's host a request names, anyone
            # could spend a real instance's budget, or escape every budget by naming a new host each time
            return "FEDERATION_RATE_LIMIT", "inbox:" + request_ip_hash(), "inboxes"
        slug = _announcing_posts()
        if slug is not None:
            return "POSTS_RATE_LIMIT", "site:" + slug, "announces"
        return "RATE_LIMIT", request_ip_hash(), "writes"

    def before_request(self) -> None:
        budget = self.budget() if self.enabled else None
        if budget is None:
            return
        setting, key, scope = budget
        item = self.item(setting)
        if item is not None and not self.hit(item, key, scope):
            code, message = FRENCH_HTTP_MESSAGES[429]
            raise ApiError(429, code, message, headers={"Retry-After": str(item.get_expiry())})


def init_app(app) -> RateLimits:
    """The app's budgets; every request spends one (or none, when exempt) before its view runs."""
    limits = RateLimits(app)
    app.before_request(limits.before_request)
    return limits
