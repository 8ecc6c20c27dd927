"""Cross-blog HTTP: GET /api/conversations, /api/sites, /api/threads/active and the /debats page.

What they show (the thread document, answers between blogs, badges, versions, conversations, active
threads) is read by domain/crossblog.py; this module parses the query and caches the JSON answer.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, current_app, render_template, request

from comments_service.core import ids
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import public
from comments_service.domain.crossblog import (
    active_threads,
    comments_versions,
    conversations,
    posts_digests,
    site_badges,
)

bp = Blueprint("crossblog", __name__)

CONVERSATIONS_LIMIT = (20, 100)  # default, maximum
ACTIVE_DAYS = (14, 365)
ACTIVE_LIMIT = (10, 100)


def _network():
    return current_app.extensions["confreres_network"]


# -- views -------------------------------------------------------------------------------------------

def int_arg(name: str, default: int, maximum: int, minimum: int = 1) -> int:
    return ids.query_int(name, default, minimum, maximum)


def _json(obj, max_age: int = 60):
    body = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:20])
    response.headers["Cache-Control"] = f"public, max-age={max_age}, must-revalidate"
    return response.make_conditional(request)


@bp.get("/api/conversations")
def get_conversations():
    network = _network()
    site = request.args.get("site") or None
    if site is not None:
        try:
            network.site(site)
        except KeyError:
            raise ApiError(400, "unknown_site", "Ce blog n'appartient pas au réseau.", "site") from None
    days = int_arg("days", 0, ACTIVE_DAYS[1], minimum=0) or None
    limit = int_arg("limit", *CONVERSATIONS_LIMIT)
    found, total = conversations(get_db(), network, site=site, days=days, limit=limit)
    return _json({"conversations": found, "total": total})


@bp.get("/api/sites")
def get_sites():
    """Each blog of the network, its author's current badge, the version of its comment threads and the digest
    of its posts the service knows (the planet, the blogs and `confreres build`'s checks of stale snapshots and
    of unknown posts ask it at build time)."""
    network = _network()
    db = get_db()
    badges = site_badges(db, network)
    versions = comments_versions(db, network)
    known = posts_digests(db, network)
    return _json({"sites": [public.site_summary(site, badges[site.slug], versions[site.slug], known[site.slug])
                            for site in network.sites]})


@bp.get("/api/threads/active")
def get_active_threads():
    days = int_arg("days", *ACTIVE_DAYS)
    limit = int_arg("limit", *ACTIVE_LIMIT)
    return _json({"threads": active_threads(get_db(), _network(), days=days, limit=limit)})


@bp.get("/debats")
def debates():
    """« Débats entre confrères »: every live conversation between blogs, and the busiest threads."""
    network = _network()
    db = get_db()
    found, total = conversations(db, network, limit=CONVERSATIONS_LIMIT[1])
    active = active_threads(db, network, days=ACTIVE_DAYS[0], limit=ACTIVE_LIMIT[0])
    response = current_app.make_response(
        render_template("debates.html", network=network, conversations=found, total=total, active=active,
                        days=ACTIVE_DAYS[0])
    )
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
