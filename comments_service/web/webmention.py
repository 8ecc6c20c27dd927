"""Receiving Webmentions (W3C Recommendation): an outside page says it links to a post of the network.

`POST /webmention` (form-encoded `source` and `target`, as the spec says; outside /api/, whose writes
are JSON-only) checks at once what needs no request: both http(s) URLs, different, the target a
listed post of a member blog open to comments. It queues the pair and answers 202 with the URL of
its status (`GET /webmention/<token>`). Verification happens later, never inside the request: a
worker thread of the app (started on the first Webmention, stopped when idle) or
`confreres webmention process` (cron) drains the queue with `drain(app)`.

Verifying fetches the source through confreres.safe_http (no private address unless allow-listed,
5 s timeouts, 3 redirects each checked, 1 MB cap), requires an `<a href>` or `<link href>`
resolving to the exact target URL, reads the h-entry with mf2py (author name and URL, content or
summary, published; the <title> when there is no h-entry), sanitises it with the network's one
sanitiser and stores it as a mention of the post, moderated by the blog's policy like a comment; a
mention left pending is mailed to the blog's authors like a pending comment (notify.mention_created).
Sending the same pair again updates the mention; a source that now answers 410 or no longer links
to the target deletes it. Every outcome is recorded on the request.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
import secrets
import threading
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from flask import Blueprint, current_app, request, url_for

from comments_service.core import events as hooks
from comments_service.core.db import connect, get_db, write
from comments_service.core.errors import ApiError, error_response
from comments_service.core.worker import Worker
from comments_service.domain import comments as store
from comments_service.domain import public, validate
from comments_service.domain.mentions import delete_mention, get_mention
from comments_service.domain.policy import initial_status
from comments_service.domain.posts import bump_post, comments_mode, find_post, get_post
from comments_service.mail import notices as notify
from confreres import sanitize
from confreres.safe_http import FetchError, Guard, Refused, allow_hosts

bp = Blueprint("webmention", __name__)

FORM = "application/x-www-form-urlencoded"
HTML_TYPES = ("text/html", "application/xhtml+xml")
ACCEPT = "text/html, application/xhtml+xml;q=0.9, text/plain;q=0.5, application/json;q=0.5, */*;q=0.1"
MAX_ATTEMPTS = 3
RETRY_SECONDS = (60, 600)  # before the 2nd and the 3rd attempt after a transient failure
STALE_CLAIM_SECONDS = 600  # a request "processing" longer than this was abandoned (process killed)
KEEP_DAYS = 30  # finished requests are kept this long for their status URL
MAX_FULL_TEXT = 1000  # longer content is shown as an excerpt
EXCERPT = 500
MAX_NAME = 100
MAX_TITLE = 300
REPLY_PROPERTIES = (("in-reply-to", "reply"), ("like-of", "like"), ("repost-of", "repost"), ("bookmark-of", "bookmark"))


@bp.errorhandler(ApiError)
def _api_error(err: ApiError):
    return error_response(err)  # senders are programs: the JSON error shape, as under /api/


# -- receiving -----------------------------------------------------------------------------------

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
    if source.split("#", 1)[0] == target.split("#", 1)[0]:
        raise ApiError(400, "same_url", "La source et la cible sont la même adresse.", "source")
    db = get_db()
    post = target_post(db, current_app.extensions["confreres_network"], target)
    token = enqueue(db, source, target, post["url"])
    if current_app.config.get("WEBMENTION_WORKER", True):
        worker(current_app._get_current_object()).kick()
    location = url_for("webmention.status", token=token, _external=True)
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


def enqueue(db, source: str, target: str, post_url: str, now: datetime | None = None) -> str:
    """Queue a pair; the same pair still waiting is not queued twice. Returns the status token."""
    stamp = store.iso(now or store.utcnow())
    with write(db):
        waiting = store.query_one(
            db, "SELECT token FROM webmention_requests WHERE source = ? AND target = ? AND state = 'queued'",
            (source, target),
        )
        if waiting is not None:
            db.conn.execute(
                "UPDATE webmention_requests SET not_before = ?, post_url = ? WHERE token = ?",
                (stamp, post_url, waiting["token"]),
            )
            return waiting["token"]
        token = secrets.token_urlsafe(16)
        db.conn.execute(
            "INSERT INTO webmention_requests (token, source, target, post_url, received, not_before)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (token, source, target, post_url, stamp, stamp),
        )
    return token


# -- the background worker ---------------------------------------------------------------------

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
    configured = app.config.get("WEBMENTION_ALLOW_HOSTS")
    allow = allow_hosts(configured if configured is not None else None)
    return Guard(allow, timeout=float(app.config.get("WEBMENTION_TIMEOUT", 5)))


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
                        results.append(_retry_or_fail(db, job, reason, now, result="error"))
        finally:
            db.close()
    return results


def claim(db, now: datetime | None = None):
    moment = now or store.utcnow()
    stamp = store.iso(moment)
    stale = store.iso(moment - timedelta(seconds=STALE_CLAIM_SECONDS))
    with write(db):  # an abandoned claim (process killed while verifying) counts as an attempt, within the bound
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'failed', result = 'abandoned', processed = ?, error = ?"
            " WHERE state = 'processing' AND claimed < ? AND attempts >= ?",
            (stamp, f"Vérification interrompue {MAX_ATTEMPTS} fois : abandonnée.", stale, MAX_ATTEMPTS),
        )
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'queued' WHERE state = 'processing' AND claimed < ?", (stale,)
        )
        row = store.query_one(
            db,
            "SELECT * FROM webmention_requests WHERE state = 'queued' AND not_before <= ? ORDER BY id LIMIT 1",
            (stamp,),
        )
        if row is None:
            return None
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'processing', claimed = ?, attempts = attempts + 1 WHERE id = ?",
            (stamp, row["id"]),
        )
        return store.query_one(db, "SELECT * FROM webmention_requests WHERE id = ?", (row["id"],))


def purge(db, now: datetime | None = None) -> int:
    cutoff = store.iso((now or store.utcnow()) - timedelta(days=KEEP_DAYS))
    with write(db):
        return db.conn.execute(
            "DELETE FROM webmention_requests WHERE state IN ('done', 'failed') AND processed < ?", (cutoff,)
        ).rowcount


def _finish(db, job, state: str, result: str, error: str | None = None, now: datetime | None = None) -> dict:
    with write(db):
        db.conn.execute(
            "UPDATE webmention_requests SET state = ?, result = ?, error = ?, processed = ? WHERE id = ?",
            (state, result, error, store.iso(now or store.utcnow()), job["id"]),
        )
    return {"token": job["token"], "source": job["source"], "target": job["target"], "state": state,
            "result": result, "error": error}


def _retry_or_fail(db, job, error: str, now: datetime | None = None, result: str = "unreachable") -> dict:
    attempts = job["attempts"]
    if attempts >= MAX_ATTEMPTS:
        return _finish(db, job, "failed", result, error, now)
    moment = now or store.utcnow()
    later = store.iso(moment + timedelta(seconds=RETRY_SECONDS[min(attempts, len(RETRY_SECONDS)) - 1]))
    with write(db):
        db.conn.execute(
            "UPDATE webmention_requests SET state = 'queued', not_before = ?, error = ?, result = 'retrying'"
            " WHERE id = ?",
            (later, error, job["id"]),
        )
    return {"token": job["token"], "source": job["source"], "target": job["target"], "state": "queued",
            "result": "retrying", "error": error}


def process(app, db, guard: Guard, job, now: datetime | None = None) -> dict:
    """Verify one queued Webmention and apply it to the mentions (create, update, delete)."""
    network = app.extensions["confreres_network"]
    post = get_post(db, job["post_url"])
    if post is None or comments_mode(network, post) != "open" or not _member(network, post["site"]):
        return _finish(db, job, "failed", "unknown_post", "Le billet visé n'est plus publié ou n'accepte plus de mentions.", now)
    try:
        fetched = guard.get(job["source"], headers={"Accept": ACCEPT})
    except Refused as exc:
        return _finish(db, job, "failed", "refused", f"Source refusée : {exc}", now)
    except FetchError as exc:
        return _retry_or_fail(db, job, f"Source injoignable : {exc}", now)

    if fetched.status == 410:
        deleted = delete_mention(db, job["source"], post["url"])
        return _emit(_finish(db, job, "done", "deleted" if deleted else "gone", None, now), deleted, post)
    if fetched.status >= 500 or fetched.status == 429:
        return _retry_or_fail(db, job, f"La source répond {fetched.status}.", now)
    if not 200 <= fetched.status < 300:
        return _finish(db, job, "failed", f"http_{fetched.status}", f"La source répond {fetched.status}.", now)
    if fetched.truncated:
        return _finish(db, job, "failed", "too_large", "La source dépasse 1 Mo.", now)

    try:
        entry = parse_source(fetched, job["target"], post["url"])
    except Exception as exc:  # noqa: BLE001 - markup no parser reads: the sender learns why
        return _finish(db, job, "failed", "unreadable", f"La page source est illisible ({exc.__class__.__name__}).", now)
    if entry is None:
        deleted = delete_mention(db, job["source"], post["url"])
        if deleted:
            return _emit(_finish(db, job, "done", "deleted", "La source ne contient plus de lien vers la cible.", now), True, post)
        return _finish(db, job, "failed", "no_link", "La source ne contient pas de lien vers la cible.", now)
    policy = app.config.get("MODERATION") or network.moderation_for(network.site(post["site"]))
    action, row = save_mention(db, post, job["source"], job["target"], entry, policy, now)
    result = _finish(db, job, "done", action, None, now)
    result["mention"] = row["id"]
    result["status"] = row["status"]
    if action != "unchanged":
        hooks.emit(f"mention.{action}", mention_id=row["id"], status=row["status"], url=post["url"], site=post["site"])
    return result


def _emit(result: dict, deleted: bool, post) -> dict:
    if deleted:
        hooks.emit("mention.deleted", source=result["source"], url=post["url"], site=post["site"])
    return result


def _member(network, slug: str) -> bool:
    return any(site.slug == slug for site in network.sites)


# -- reading the source --------------------------------------------------------------------------

@dataclass
class Entry:
    type: str = "mention"
    url: str = ""
    author_name: str = ""
    author_url: str | None = None
    title: str = ""
    html: str = ""
    published: str | None = None

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def links_to(soup, base: str, target: str) -> bool:
    """True when an <a href> or <link href> of the page resolves to exactly `target`."""
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(base, base_tag["href"].strip())
    return any(urljoin(base, el["href"].strip()) == target for el in soup.find_all(["a", "link"], href=True))


def parse_source(fetched, target: str, post_url: str) -> Entry | None:
    """The mention the source makes of `target`, or None when it does not link to it."""
    source = fetched.url
    host = urlsplit(source).hostname or source
    ctype = fetched.content_type
    text = fetched.text()
    if ctype in HTML_TYPES or not ctype:
        soup, parser = _soup(text)
        if not links_to(soup, source, target):
            return None
        return _from_html(text, soup, source, target, post_url, parser) or Entry(
            url=source, author_name=host, title=_plain(soup.title.get_text() if soup.title else "", MAX_TITLE)
        )
    if (ctype.startswith("text/") or ctype == "application/json" or ctype.endswith("+json")) and target in text:
        return Entry(url=source, author_name=host)
    return None


def _soup(text: str):
    """(BeautifulSoup, parser name): Python's fast parser, else html5lib, which reads any markup as browsers do
    (html.parser gives up on some broken pages, e.g. `<![>`)."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        return BeautifulSoup(text, "html.parser"), "html.parser"
    except ParserRejectedMarkup:
        return BeautifulSoup(text, "html5lib"), "html5lib"


def _first(values):
    return values[0] if isinstance(values, list) and values else None


def _plain(value, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return validate.one_line(sanitize.text(html_lib.escape(value)))[:limit].strip()


def _http(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= validate.MAX_URL and validate.is_http_url(value) else None


def _entries(items):
    for item in items:
        if "h-entry" in item.get("type", []):
            yield item
        yield from _entries(item.get("children", []))
        for values in item.get("properties", {}).values():
            yield from _entries([v for v in values if isinstance(v, dict) and "type" in v])


def _urls(values) -> list[str]:
    found = []
    for value in values or []:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(u for u in value.get("properties", {}).get("url", []) if isinstance(u, str))
            if isinstance(value.get("value"), str):
                found.append(value["value"])
    return found


def _from_html(text: str, soup, source: str, target: str, post_url: str, parser: str = "html.parser") -> Entry | None:
    import mf2py

    try:
        parsed = mf2py.parse(doc=text, url=source, html_parser=parser)
    except Exception:  # noqa: BLE001 - a page mf2py cannot read is a mention without details
        return None
    entries = list(_entries(parsed.get("items", [])))
    if not entries:
        return None
    wanted = {target, post_url}

    def concerns(item) -> bool:
        props = item.get("properties", {})
        if any(set(_urls(props.get(p))) & wanted for p, _ in REPLY_PROPERTIES):
            return True
        content = _first(props.get("content"))
        return isinstance(content, dict) and any(u in (content.get("html") or "") for u in wanted)

    item = next((e for e in entries if concerns(e)), entries[0])
    props = item.get("properties", {})
    kind = next((k for p, k in REPLY_PROPERTIES if set(_urls(props.get(p))) & wanted), "mention")

    name, url = "", None
    author = _first(props.get("author"))
    if author is None:
        author = next((i for i in parsed.get("items", []) if "h-card" in i.get("type", [])), None)
    if isinstance(author, dict):
        name = _plain(_first(author.get("properties", {}).get("name")) or author.get("value"), MAX_NAME)
        url = _http(_first(author.get("properties", {}).get("url")))
    elif isinstance(author, str):
        url = _http(author)
        name = "" if url else _plain(author, MAX_NAME)
    name = name or urlsplit(url or source).hostname or ""

    content = _first(props.get("content"))
    if isinstance(content, dict):
        raw = content.get("html") or html_lib.escape(content.get("value") or "")
    elif isinstance(content, str):
        raw = html_lib.escape(content)
    else:
        summary = _first(props.get("summary"))
        raw = f"<p>{html_lib.escape(summary)}</p>" if isinstance(summary, str) else ""
    html = sanitize.clean(raw)
    plain = sanitize.text(html)
    if len(plain) > MAX_FULL_TEXT:
        html = f"<p>{html_lib.escape(sanitize.excerpt(html, EXCERPT))}</p>"

    title = _plain(_first(props.get("name")), MAX_TITLE)
    if title and plain and (plain.startswith(title[:40]) or title.startswith(plain[:40])):
        title = ""  # an implied name: the content's own text
    if not title and not plain:
        title = _plain(soup.title.get_text() if soup.title else "", MAX_TITLE)

    own = _http(_first(props.get("url")))
    same_origin = own and urlsplit(own).netloc.lower() == urlsplit(source).netloc.lower()
    return Entry(
        type=kind,
        url=own if same_origin else source,
        author_name=name,
        author_url=url,
        title=title,
        html=html,
        published=_published(_first(props.get("published"))),
    )


def _published(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > 10 and value[10] == " ":
        value = value[:10] + "T" + value[11:]
    return public.utc_time(value)


# -- mentions --------------------------------------------------------------------------------------

def save_mention(db, post, source: str, target: str, entry: Entry, policy: str, now: datetime | None = None):
    """Create or update the mention of `post` by `source`; returns (created | updated | unchanged, row)."""
    stamp = store.iso(now or store.utcnow())
    digest = entry.digest()
    with write(db):
        row = store.query_one(db, "SELECT * FROM mentions WHERE source = ? AND post_url = ?", (source, post["url"]))
        fields = (entry.type, entry.url, entry.author_name, entry.author_url, entry.title, entry.html, entry.published)
        if row is None:
            origin = "{0.scheme}://{0.netloc}/".format(urlsplit(source))
            returning = store.query_one(
                db,
                "SELECT 1 FROM mentions WHERE site = ? AND status = 'approved' AND substr(source, 1, ?) = ? LIMIT 1",
                (post["site"], len(origin), origin),
            )
            status = initial_status(policy, returning_author=bool(returning))
            cursor = db.conn.execute(
                "INSERT INTO mentions (source, target, post_url, site, type, url, author_name, author_url, title, html,"
                " published, content_hash, status, created, verified) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (source, target, post["url"], post["site"], *fields, digest, status, stamp, stamp),
            )
            action, mention_id = "created", cursor.lastrowid
            if status == "approved":
                bump_post(db, post["url"])
            else:  # the blog's authors hear of it (a mail queued in this transaction, sent after the commit)
                notify.mention_created(db, get_mention(db, mention_id), now=now)
        elif row["content_hash"] == digest and row["target"] == target:
            db.conn.execute("UPDATE mentions SET verified = ? WHERE id = ?", (stamp, row["id"]))
            action, mention_id = "unchanged", row["id"]
        else:
            db.conn.execute(
                "UPDATE mentions SET target = ?, type = ?, url = ?, author_name = ?, author_url = ?, title = ?, html = ?,"
                " published = ?, content_hash = ?, updated = ?, verified = ? WHERE id = ?",
                (target, *fields, digest, stamp, stamp, row["id"]),
            )
            action, mention_id = "updated", row["id"]
            if row["status"] == "approved":
                bump_post(db, post["url"])
        return action, get_mention(db, mention_id)
