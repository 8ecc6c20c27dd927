"""Receiving Webmentions (W3C Recommendation): an outside page says it links to a post of the network.

`POST /webmention` (form-encoded `source` and `target`, as the spec says; outside /api/, whose writes
are JSON-only) checks at once what needs no request: both http(s) URLs, different, the target a
listed post of a member blog open to comments. It queues the pair and answers 202 with the URL of
its status (`GET /webmention/<token>`, under the configured comments_url: a forged Host header changes nothing). Verification happens later, never inside the request: a
worker thread of the app (started on the first Webmention, stopped when idle) or
`confreres webmention process` (cron) drains the queue (actions/mentions.py).

Verifying fetches the source through confreres.safe_http (no private address unless allow-listed,
5 s timeouts, 3 redirects each checked, 1 MB cap), requires an `<a href>` or `<link href>`
resolving to the exact target URL, reads the h-entry with mf2py (author name and URL, content or
summary, published; the <title> when there is no h-entry), sanitises it with the network's one
sanitiser and stores it as a mention of the post, moderated by the blog's policy like a comment; a
mention left pending is mailed to the blog's authors like a pending comment (actions/mentions.py).
Sending the same pair again updates the mention; a source that now answers 410 or no longer links
to the target deletes it. Every outcome is recorded on the request.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from comments_service.actions.mentions import worker
from comments_service.core.db import get_db
from comments_service.core.errors import ApiError, error_response
from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.domain.mention_queue import enqueue
from comments_service.domain.posts import comments_mode, find_post
from comments_service.mail import outbox

bp = Blueprint("webmention", __name__)

FORM = "application/x-www-form-urlencoded"


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return error_response(err)  # senders are programs: the JSON error shape, as under /api/


def _url_field(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        raise ApiError(400, "missing_field", f"Le champ « {name} » est requis.", name)
    if len(value) > validate.MAX_URL or not validate.is_http_url(value):
        raise ApiError(400, "invalid_url", f"« {name} » doit être une adresse http(s) valide.", name)
    return value


def target_post(db, network, target: str):
    """The listed post `target` designates, or ApiError(400) as the spec asks for a target we do not accept."""
    try:
        post = find_post(db, network, target, "target")
    except ApiError as err:
        raise ApiError(400, err.code, err.message, "target") from None
    if comments_mode(network, post) != "open":
        raise ApiError(400, "mentions_closed", "Ce billet n'accepte pas de mentions.", "target")
    return post


@bp.post("/webmention")
def receive():
    if request.mimetype != FORM:
        raise ApiError(415, "unsupported_media_type", f"Envoyez source et target en {FORM}.")
    source = _url_field("source")
    target = _url_field("target")
    if validate.normalize_url(source) == validate.normalize_url(target):  # « HTTP://… », « …? », « …# » alike
        raise ApiError(400, "same_url", "La source et la cible sont la même adresse.", "source")
    db = get_db()
    post = target_post(db, current_app.extensions["confreres_network"], target)
    token = enqueue(db, source, target, post["url"])
    if current_app.config.get("WEBMENTION_WORKER", True):
        worker(current_app._get_current_object()).kick()
    # from the configured comments_url, as every link the service hands out, never from the request's Host header
    location = outbox.external("webmention.status", token=token)
    response = current_app.json.response({"status": "queued", "location": location})
    response.status_code = 202
    response.headers["Location"] = location
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/webmention/<token>")
def status(token: str):
    row = store.query_one(get_db(), "SELECT * FROM webmention_requests WHERE token = ?", (token,))
    if row is None:
        raise ApiError(404, "unknown_webmention", "Aucune Webmention reçue sous cette adresse.")
    response = current_app.json.response(
        {
            "source": row["source"],
            "target": row["target"],
            "status": row["state"],  # queued | processing | done | failed
            "result": row["result"],  # created | updated | unchanged | deleted | gone | no_link | refused ...
            "error": row["error"],
            "received": row["received"],
            "processed": row["processed"],
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response
