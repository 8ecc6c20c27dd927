"""Anti-abuse: rate limits per client IP, the keyed IP hash, and its 30-day purge.

Flask-Limiter (memory storage, one limiter per app so test apps never share counters) puts a
strict shared budget on writes and a loose one on reads; `CONFRERES_RATE_LIMIT=off` disables
both (benchmarks). The IP itself is never stored: only an HMAC of it keyed with the secret key,
which is enough to spot duplicates and floods, and is erased after `IP_RETENTION_DAYS`.
The honeypot and duplicate checks live in domain/validate.py and store.add_comment.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta

from flask import current_app, request
from flask_limiter import Limiter

from comments_service.core.config import rate_limits_enabled
from comments_service.core.db import write
from comments_service.domain.comments import iso, utcnow
from confreres.site_token import check_site_token

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LIMITED_BLUEPRINTS = ("api", "pages", "feeds", "crossblog", "webmention", "account", "verification",  # account: sign-in
                      "secrecy", "letter")  # letter: its form (not the links of its mails)
READ_LIKE = frozenset({"secrecy.check"})  # POSTs asked while typing, that store nothing: the reads' budget


def _reading() -> bool:
    return request.method in ("GET", "HEAD") or request.endpoint in READ_LIKE


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
    limiter = Limiter(
        key_func=client_ip,
        storage_uri="memory://",
        enabled=rate_limits_enabled(app),
        headers_enabled=False,
        strategy="moving-window",
    )
    writes = limiter.shared_limit(
        lambda: app.config["RATE_LIMIT"],
        scope="writes",
        exempt_when=lambda: request.method in SAFE_METHODS or _reading() or _announcing_posts() is not None,
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
        exempt_when=lambda: not _reading() or app.config["READ_RATE_LIMIT"] == "off",
    )
    for name in LIMITED_BLUEPRINTS:
        blueprint = app.blueprints[name]
        writes(blueprint)
        reads(blueprint)
    app.view_functions["api.put_site_posts"] = announces(app.view_functions["api.put_site_posts"])
    limiter.init_app(app)
    return limiter
