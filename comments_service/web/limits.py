"""Anti-abuse: rate limits per client IP, the keyed IP hash, and its 30-day purge.

Flask-Limiter puts a strict shared budget on writes and a loose one on reads on EVERY route: each
blueprint gets both when the app is built, and the few exemptions are named in `EXEMPT`, with why
(tests/comments_service/web/test_limits.py walks the url_map). The counters live in
`CONFRERES_RATE_LIMIT_STORAGE`: by default an SQLite file beside the database
(core/ratelimit_storage.py), shared by every gunicorn worker of the machine; `redis://` or
`memcached://` for several machines. When that storage fails, the limiter counts in memory per process
until it answers again (logged), rather than refusing or failing requests.
`CONFRERES_RATE_LIMIT=off` disables every limit (benchmarks). The IP itself is never stored: only an HMAC of it keyed with the secret key,
which is enough to spot duplicates and floods, and is erased after `IP_RETENTION_DAYS`.
The honeypot and duplicate checks live in domain/validate.py and store.add_comment.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app, request
from flask_limiter import Limiter
from limits.errors import ConfigurationError

from comments_service.core import ratelimit_storage  # noqa: F401 - registers the sqlite:// storage
from comments_service.core.config import ENV_PREFIX, ConfigError, rate_limits_enabled
from comments_service.core.db import write
from comments_service.domain.comments import iso, utcnow
from confreres.site_token import check_site_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Every route has both budgets (writes: RATE_LIMIT, reads: READ_RATE_LIMIT) except these, and why.
EXEMPT = {
    "static": "the pages' own CSS and images, fetched with every page; nginx serves them in production",
}
# Not routes but requests, also exempt (see the exempt_when of each budget in init_app):
# - OPTIONS: a CORS preflight, sent by the browser itself before a write that is counted;
# - PUT /api/sites/<slug>/posts with the blog's valid site token: a build announcing its posts, under its own
#   budget per blog (POSTS_RATE_LIMIT) instead of the guests' writes (one build host announces every blog).


def client_ip() -> str:
    """The client's address (ProxyFix, when configured, has already put the real one here)."""
    return request.remote_addr or "unknown"


def ip_hash(secret: str, ip: str) -> str:
    return hmac.new(secret.encode(), b"confreres-ip:" + ip.encode(), hashlib.sha256).hexdigest()[:32]


def request_ip_hash() -> str:
    return ip_hash(current_app.config["SECRET_KEY"], client_ip())


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


def _limit(app, key: str) -> str:
    """The configured limit; "off" (exempted anyway) as a limit string Flask-Limiter parses without logging an error."""
    value = str(app.config[key])
    return "1000000/second" if value.strip().lower() == "off" else value


def init_app(app) -> Limiter:
    """One limiter per app; limits are read from the config at request time."""
    storage = str(app.config["RATE_LIMIT_STORAGE"])
    limiter = Limiter(
        key_func=client_ip,
        storage_uri=storage,
        enabled=rate_limits_enabled(app),
        headers_enabled=False,
        strategy=str(app.config["RATE_LIMIT_STRATEGY"]),
        in_memory_fallback_enabled=True,  # storage down: the same limits per process, until it is back
        swallow_errors=True,
    )
    writes = limiter.shared_limit(
        lambda: app.config["RATE_LIMIT"],
        scope="writes",
        exempt_when=lambda: request.method in SAFE_METHODS or request.endpoint in EXEMPT
        or _announcing_posts() is not None,
    )
    announces = limiter.limit(
        lambda: _limit(app, "POSTS_RATE_LIMIT"),
        key_func=lambda: "site:" + (_announcing_posts() or ""),
        exempt_when=lambda: _announcing_posts() is None or app.config["POSTS_RATE_LIMIT"] == "off",
        override_defaults=False,  # the blueprint's budgets still apply (the guests' writes exempt it when signed)
    )
    reads = limiter.shared_limit(
        lambda: _limit(app, "READ_RATE_LIMIT"),
        scope="reads",
        exempt_when=lambda: request.method not in ("GET", "HEAD") or request.endpoint in EXEMPT
        or app.config["READ_RATE_LIMIT"] == "off",
    )
    for blueprint in app.blueprints.values():  # every blueprint registered so far: call init_app last
        writes(blueprint)
        reads(blueprint)
    for endpoint, view in list(app.view_functions.items()):  # routes of the app itself
        if "." not in endpoint and endpoint not in EXEMPT:
            app.view_functions[endpoint] = writes(reads(view))
    app.view_functions["api.put_site_posts"] = announces(app.view_functions["api.put_site_posts"])
    try:
        limiter.init_app(app)
    except ConfigurationError as exc:  # an unknown scheme, or redis:// without the redis package
        raise ConfigError(f"{ENV_PREFIX}RATE_LIMIT_STORAGE={storage!r}: {exc}") from None
    return limiter
