"""Use case: verifying queued Webmentions and applying them to the mentions (create, update, delete).

A worker thread of the app (core/worker.py: started by the first Webmention, stopped when idle) or
`confreres webmention process` (cron) drains the queue with `drain(app)`. Verifying fetches the source
through confreres.safe_http (no private address unless allow-listed, timeouts, redirects each checked,
1 MB cap), reads it (domain/mention_source.py), stores the mention moderated by the blog's policy like a
comment, and in the same transaction queues the mail of a mention left pending (mail/notices.py); the
named event follows the commit. Whatever goes wrong with one request is recorded on it, never on the queue.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime
from urllib.parse import urlsplit

from comments_service.core import events as hooks
from comments_service.core.db import connect, write
from comments_service.core.errors import ApiError
from comments_service.core.worker import Worker
from comments_service.domain import comments as store
from comments_service.domain import verification
from comments_service.domain.mention_queue import claim, finish, purge, retry_or_fail
from comments_service.domain.mention_source import parse_source
from comments_service.domain.mentions import delete_mention, save_mention
from comments_service.domain.posts import comments_mode, get_post
from comments_service.mail import notices as notify
from confreres.safe_http import FetchError, Guard, Refused, configured_allow_hosts

ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5, application/json;q=0.5, */*;q=0.1"

_workers_lock = threading.Lock()


def worker(app) -> Worker:
    with _workers_lock:
        found = app.extensions.get("confreres_webmention_worker")
        if found is None:
            found = app.extensions["confreres_webmention_worker"] = Worker(
                app, "confreres-webmention", lambda: _drain_step(app), idle=30.0, failure="webmention worker: drain failed"
            )
        return found


def _drain_step(app) -> float | None:
    """The worker thread's step (core/worker.py): verify what is due, then say when the next request is."""
    drain(app)
    return next_due(app)


def next_due(app) -> float | None:
    """Seconds until the next queued request may be processed, or None when the queue is empty."""
    db = connect(app.config["DB"])
    try:
        row = store.query_one(db, "SELECT MIN(not_before) AS due FROM webmention_requests WHERE state = 'queued'")
    finally:
        db.close()
    if row is None or row["due"] is None:
        return None
    return (store.parse_iso(row["due"]) - store.utcnow()).total_seconds()


def _guard(app) -> Guard:
    return Guard(configured_allow_hosts(app.config), timeout=float(app.config.get("WEBMENTION_TIMEOUT", 5)))


def drain(app, limit: int | None = None, now: datetime | None = None) -> list[dict]:
    """Verify queued Webmentions until the queue is empty (or `limit` done); one summary dict each.

    Safe to run from several processes at once: each request is claimed in its own transaction. Whatever
    goes wrong with one request is recorded on it (retried at most MAX_ATTEMPTS times in all) and the
    drain goes on with the next: one hostile source must never jam the queue.
    """
    results: list[dict] = []
    with app.app_context():
        db = connect(app.config["DB"])
        try:
            purge(db, now)
            with _guard(app) as guard:
                while limit is None or len(results) < limit:
                    job = claim(db, now)
                    if job is None:
                        break
                    try:
                        results.append(process(app, db, guard, job, now))
                    except Exception as exc:  # noqa: BLE001 - kept on that request, never on the queue
                        app.logger.exception("webmention %s: verification failed", job["token"])
                        reason = f"Erreur inattendue pendant la vérification de la source ({exc.__class__.__name__})."
                        results.append(retry_or_fail(db, job, reason, now, result="error"))
        finally:
            db.close()
    return results


def process(app, db, guard: Guard, job, now: datetime | None = None) -> dict:
    """Verify one queued Webmention and apply it to the mentions (create, update, delete)."""
    network = app.extensions["confreres_network"]
    post = get_post(db, job["post_url"])
    if post is None or comments_mode(network, post) != "open" or not network.has_site(post["site"]):
        return finish(db, job, "failed", "unknown_post", "Le billet visé n'est plus publié ou n'accepte plus de mentions.", now)
    try:
        fetched = guard.get(job["source"], headers={"Accept": ACCEPT})
    except Refused as exc:
        return finish(db, job, "failed", "refused", f"Source refusée : {exc}", now)
    except FetchError as exc:
        return retry_or_fail(db, job, f"Source injoignable : {exc}", now)

    if fetched.status == 410:
        deleted = delete_mention(db, job["source"], post["url"])
        return _emit(finish(db, job, "done", "deleted" if deleted else "gone", None, now), deleted, post)
    if fetched.status >= 500 or fetched.status == 429:
        return retry_or_fail(db, job, f"La source répond {fetched.status}.", now)
    if not 200 <= fetched.status < 300:
        return finish(db, job, "failed", f"http_{fetched.status}", f"La source répond {fetched.status}.", now)
    if fetched.truncated:
        return finish(db, job, "failed", "too_large", "La source dépasse 1 Mo.", now)

    try:
        entry = parse_source(fetched, job["target"], post["url"])
    except Exception as exc:  # noqa: BLE001 - markup no parser reads: the sender learns why
        return finish(db, job, "failed", "unreadable", f"La page source est illisible ({exc.__class__.__name__}).", now)
    if entry is None:
        deleted = delete_mention(db, job["source"], post["url"])
        if deleted:
            return _emit(finish(db, job, "done", "deleted", "La source ne contient plus de lien vers la cible.", now), True, post)
        return finish(db, job, "failed", "no_link", "La source ne contient pas de lien vers la cible.", now)
    entry = _named_as_nobody_else(app, db, entry)
    policy = app.config.get("MODERATION") or network.moderation_for(network.site(post["site"]))
    with write(db):  # the mention and the mail it calls for commit together
        action, row = save_mention(db, post, job["source"], job["target"], entry, policy, now)
        if action == "created" and row["status"] != "approved":  # the blog's authors hear of it (mail/notices.py)
            notify.mention_created(db, row, now=now)
    result = finish(db, job, "done", action, None, now)
    result["mention"] = row["id"]
    result["status"] = row["status"]
    if action != "unchanged":
        hooks.emit(f"mention.{action}", mention_id=row["id"], status=row["status"], url=post["url"], site=post["site"])
    return result


def _named_as_nobody_else(app, db, entry):
    """The entry, its author named by the source's host when its h-card name would pass its writer off as a member
    or a physician of the directory: the rule of a guest's name and of a fediverse reply's
    (verification.check_author_name); a mention may be shown at once, and an approved one takes its source's new
    name without moderation."""
    try:
        verification.check_author_name(app, db, entry.author_name, None)
    except ApiError:
        return replace(entry, author_name=urlsplit(entry.url).hostname or "")
    return entry


def _emit(result: dict, deleted: bool, post) -> dict:
    if deleted:
        hooks.emit("mention.deleted", source=result["source"], url=post["url"], site=post["site"])
    return result

