"""Notifications by e-mail: who gets which mail, the outbox, digests, double opt-in, unsubscribe.

The rule that keeps comments safe: a mail is *queued* in the `outbox` table inside the same write
transaction as what caused it (a new comment, a moderation decision, a sign-in request), and
*sent* only after the commit — by a background thread woken by the after-commit hook (core/events.py), or
by `confreres notify send` (cron), which also retries what failed. An SMTP server that is down
never loses a comment, never fails a request, and never loses a mail: it waits in the outbox.

Who gets what:
- a new comment -> each author of the blog (account_sites), at once or in the daily digest
  (`confreres notify digest`), as their profile says; a pending comment comes with one-click
  approve / reject links (core/tokens.py: signed, expiring, single use, confirmed by a POST);
- a received Webmention awaiting moderation -> the same authors, with the same setting, digest and
  one-click approve / reject links (a comment's link names "c", a mention's "m"), once per mention;
- a post of another blog answering one of theirs (`reply_to`, announced by a build) -> each author of
  the answered blog, with the same setting, digest and unsubscribe link as new comments, once per answer;
- an approved reply -> the author of the comment it answers: a member whose profile says so, or a
  guest who ticked « notify » on that thread *and* confirmed the address (double opt-in);
- every mail has a signed one-click unsubscribe link and the RFC 8058 headers
  (`List-Unsubscribe`, `List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
Mails are French plain text, one recipient each, with names but never another person's e-mail.
"""

from __future__ import annotations

import logging
import os
import textwrap
import threading
from datetime import datetime, timedelta

from flask import current_app, g, has_app_context, render_template

from comments_service.core import events as hooks
from comments_service.core import tokens
from comments_service.core.db import connect, write
from comments_service.domain import accounts
from comments_service.domain.comments import get_comment, iso, parse_iso, query, query_one, utcnow
from comments_service.mail import transport as mailer

log = logging.getLogger(__name__)

SEND_MODES = ("background", "cron")
CONFIRM_EVERY = timedelta(hours=24)  # at most one confirmation mail per address per day
STALE_CLAIM = timedelta(minutes=10)  # a claimed mail left unsent that long was dropped by a dead worker
KEEP_SENT = timedelta(days=30)  # sent mails are purged after that
QUOTE_LIMIT = 1500


# -- links -----------------------------------------------------------------------------------------

def _network():
    return current_app.extensions["confreres_network"]


def external(endpoint: str, **values) -> str:
    """Absolute URL of one of the service's routes, from `comments_url` (works in the CLI too)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return _network().comments_url.rstrip("/") + path


def comment_link(row) -> str:
    return f"{row['post_url']}#comment-{row['id']}"


def unsubscribe_token(scope: dict) -> str:
    """Signed, without expiry (an old mail's link must keep working), idempotent."""
    return tokens.make_unsubscribe_token(current_app.config["SECRET_KEY"], scope)


def confirm_token(email: str) -> str:
    return tokens.make_confirm_token(current_app.config["SECRET_KEY"], email)


# -- text helpers -------------------------------------------------------------------------------------

def quote(text: str, limit: int = QUOTE_LIMIT) -> str:
    """A comment's text quoted for a plain-text mail, wrapped at 72 columns (lines stay < 998 bytes)."""
    text = text or ""
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " […]"
    lines = []
    for paragraph in text.splitlines():
        wrapped = textwrap.wrap(paragraph, 72, break_long_words=True, break_on_hyphens=False)
        lines.extend("> " + line for line in wrapped) if wrapped else lines.append(">")
    return "\n".join(lines)


def _greeting(name: str | None) -> str:
    return f"Bonjour {name}," if name else "Bonjour,"


# -- outbox ----------------------------------------------------------------------------------------

def queue(db, *, kind: str, to: str, subject: str, template: str, unsubscribe: dict, now=None, **context) -> int:
    """Render a mail and add it to the outbox, inside the caller's transaction; returns its id."""
    unsubscribe_url = external("notify.unsubscribe", token=unsubscribe_token(unsubscribe))
    text = render_template(
        f"mail/{template}.txt",
        network=_network(),
        unsubscribe_url=unsubscribe_url,
        account_url=external("account.account_page"),
        **context,
    )
    message = mailer.build(
        sender=mailer.sender(current_app.config, _network().comments_url),
        to=to,
        subject=subject,
        text=text.strip() + "\n",
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    with write(db):
        cursor = db.conn.execute(
            "INSERT INTO outbox (kind, recipient, subject, message, created) VALUES (?, ?, ?, ?, ?)",
            (kind, to, " ".join(subject.split()), message, iso(now or utcnow())),
        )
    if has_app_context():
        g.confreres_mail_queued = True
    return cursor.lastrowid


def queue_for_author(db, author, **mail) -> int:
    """A mail to a blog author about their blogs (new comments and mentions, answers, digests): their
    greeting, and the one-click link that sets « never » for all of them."""
    return queue(
        db, to=author["email"], unsubscribe={"s": "author", "a": author["id"]},
        greeting=_greeting(author["display_name"]), **mail,
    )


def is_blocked(db, email: str | None) -> bool:
    if not email:
        return True
    row = query_one(db, "SELECT blocked FROM mail_addresses WHERE email = ? COLLATE NOCASE", (email,))
    return bool(row and row["blocked"])


def deliver(config, *, retry_failed: bool = True, now: datetime | None = None) -> dict:
    """Send the outbox's unsent mails (each claimed first, so two senders never send one twice).

    `retry_failed=False` (the background thread) sends only mails never tried; the cron command
    retries the others too, drops sign-in mails whose link has expired anyway, and purges sent
    mails after 30 days. Returns counts: sent, failed, dropped.
    """
    db = connect(config["DB"])
    counts = {"sent": 0, "failed": 0, "dropped": 0}
    try:
        cursor_id = 0
        while True:
            moment = now or utcnow()
            with write(db):
                row = query_one(
                    db,
                    "SELECT id, kind, recipient, message, created FROM outbox WHERE sent IS NULL AND id > ?"
                    " AND (claimed IS NULL OR claimed < ?) AND (? OR attempts = 0) ORDER BY id LIMIT 1",
                    (cursor_id, iso(moment - STALE_CLAIM), int(retry_failed)),
                )
                if row is None:
                    break
                cursor_id = row["id"]
                age = (moment - parse_iso(row["created"])).total_seconds()
                if row["kind"] == "signin" and age > int(config["MAGIC_LINK_MAX_AGE"]):
                    db.conn.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))
                    counts["dropped"] += 1
                    continue
                db.conn.execute(
                    "UPDATE outbox SET claimed = ?, attempts = attempts + 1 WHERE id = ?", (iso(moment), row["id"])
                )
            name = f"{moment.strftime('%Y%m%dT%H%M%S')}-{row['id']:06d}-{row['kind']}"
            try:
                mailer.send(config, recipient=row["recipient"], message=row["message"], name=name)
            except mailer.MailError as exc:
                with write(db):
                    db.conn.execute(
                        "UPDATE outbox SET claimed = NULL, last_error = ? WHERE id = ?", (str(exc)[:500], row["id"])
                    )
                counts["failed"] += 1
                log.warning("mail %s to outbox #%s not sent: %s", row["kind"], row["id"], exc)
                continue
            with write(db):
                # A sign-in link is a credential: once handed over, the copy in the outbox is erased.
                db.conn.execute(
                    "UPDATE outbox SET sent = ?, claimed = NULL, last_error = NULL,"
                    " message = CASE WHEN kind = 'signin' THEN '' ELSE message END WHERE id = ?",
                    (iso(utcnow()), row["id"]),
                )
            counts["sent"] += 1
        if retry_failed:
            with write(db):
                db.conn.execute(
                    "DELETE FROM outbox WHERE sent IS NOT NULL AND sent < ?", (iso((now or utcnow()) - KEEP_SENT),)
                )
    finally:
        db.close()
    return counts


def pending_count(db) -> dict:
    row = query_one(
        db,
        "SELECT COUNT(*) AS waiting, SUM(attempts > 0) AS failed FROM outbox WHERE sent IS NULL",
    )
    return {"waiting": row["waiting"] or 0, "failed": row["failed"] or 0}


class Sender:
    """One background thread per process, woken after each commit that queued a mail."""

    def __init__(self, app):
        self.app = app
        self.event = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def kick(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                self.pid = os.getpid()
                self.event = threading.Event()
                self.thread = threading.Thread(target=self._run, name="confreres-mail", daemon=True)
                self.thread.start()
        self.event.set()

    def _run(self) -> None:
        event = self.event
        while True:
            event.wait()
            event.clear()
            try:
                deliver(self.app.config, retry_failed=False)
            except Exception:  # noqa: BLE001 - the thread must survive anything; the outbox keeps the mail
                self.app.logger.exception("mail sender failed")


def _after_commit(event: str, data: dict) -> None:
    if not g.pop("confreres_mail_queued", False):
        return
    app = current_app._get_current_object()
    if app.config["MAIL_SEND"] == "background" and mailer.transport(app.config):
        app.extensions["confreres_mail_sender"].kick()


def init_app(app) -> None:
    from comments_service.core.config import ConfigError

    if app.config["MAIL_SEND"] not in SEND_MODES:
        raise ConfigError(f"CONFRERES_MAIL_SEND={app.config['MAIL_SEND']!r}: expected background or cron")
    app.extensions["confreres_mail_sender"] = Sender(app)
    hooks.register(app, _after_commit)


# -- sign-in ---------------------------------------------------------------------------------------------

def queue_signin(db, email: str, link: str, *, max_age: int, now=None) -> int | None:
    """The magic-link mail; None (nothing sent, same answer to the caller) past the hourly cap."""
    moment = now or utcnow()
    limit = int(current_app.config["MAGIC_LINKS_PER_HOUR"])
    recent = query_one(
        db,
        "SELECT COUNT(*) AS n FROM outbox WHERE recipient = ? COLLATE NOCASE AND kind = 'signin' AND created > ?",
        (email, iso(moment - timedelta(hours=1))),
    )["n"]
    if recent >= limit:
        return None
    return queue(
        db,
        kind="signin",
        to=email,
        subject="Votre lien de connexion à Confrères",
        template="signin",
        unsubscribe={"s": "address", "e": email},
        link=link,
        minutes=max(1, max_age // 60),
        now=moment,
    )


# -- new comments -> blog authors -------------------------------------------------------------------------

def _post(db, url: str):
    return query_one(db, "SELECT url, site, title FROM posts WHERE url = ?", (url,))


def _site_title(slug: str) -> str:
    try:
        return _network().site(slug).title
    except KeyError:
        return slug


def _authors(db, site: str):
    return query(
        db,
        "SELECT a.* FROM accounts a JOIN account_sites s ON s.account_id = a.id WHERE s.site = ? ORDER BY a.id",
        (site,),
    )


def _action_links(row, account_id: int, kind: str = "comment") -> dict:
    """The one-click « Approuver » / « Rejeter » links of a pending comment or mention (core/tokens.py)."""

    return {
        action: external(
            "moderation_pages.act", token=tokens.make_action_token(current_app.config["SECRET_KEY"], row["id"], action, account_id, kind)
        )
        for action in ("approve", "reject")
    }


# the tables noting which item was (or will be, in a daily digest) told to which blog author
NOTICE_TABLES = ("author_notices", "answer_notices", "mention_notices")


def _tell_authors(db, site: str, table: str, column: str, item_id: int, queue_now, moment, skip=lambda author: False):
    """Each author of `site` hears of an item as their profile says: at once (`queue_now(author)` queues the
    mail) or in the daily digest; noted in `table` (one row per author and item: never told twice)."""
    for author in _authors(db, site):
        mode = author["notify_comments"]
        if skip(author) or mode == "never" or is_blocked(db, author["email"]):
            continue
        if db.conn.execute(
            f"SELECT 1 FROM {table} WHERE account_id = ? AND {column} = ?", (author["id"], item_id)
        ).fetchone():
            continue
        queued, outbox_id = (iso(moment), queue_now(author)) if mode == "immediate" else (None, None)
        db.conn.execute(
            f"INSERT INTO {table} (account_id, {column}, mode, created, queued, outbox_id) VALUES (?, ?, ?, ?, ?, ?)",
            (author["id"], item_id, mode, iso(moment), queued, outbox_id),
        )


def comment_created(db, row, now: datetime | None = None) -> None:
    """Inside the comment's write transaction: queue what the new comment calls for."""
    moment = now or utcnow()

    def own(author) -> bool:  # one's own comment
        return author["id"] == row["account_id"] or bool(row["email"] and row["email"].lower() == author["email"].lower())

    with write(db):
        _tell_authors(
            db, row["site"], "author_notices", "comment_id", row["id"],
            lambda author: queue_new_comment(db, author, row, now=moment), moment, skip=own,
        )
        if row["notify"] and row["email"] and row["account_id"] is None:
            subscribe(db, row["email"], row["post_url"], now=moment)
        if row["status"] == "approved":
            reply_posted(db, row, now=moment)


def queue_new_comment(db, author, row, now=None) -> int:
    post = _post(db, row["post_url"])
    pending = row["status"] == "pending"
    title = post["title"] or post["url"]
    subject = f"{'Commentaire à valider' if pending else 'Nouveau commentaire'} sur « {title} »"
    return queue_for_author(
        db,
        author,
        kind="new_comment",
        subject=subject,
        template="new_comment",
        site_title=_site_title(row["site"]),
        post=post,
        comment=row,
        name=row["author_name"] or "Anonyme",
        quoted=quote(row["text"]),
        pending=pending,
        links=_action_links(row, author["id"]) if pending else {},
        max_days=max(1, int(current_app.config["ACTION_LINK_MAX_AGE"]) // 86400),
        comment_url=comment_link(row),
        moderation_url=external("moderation_pages.queue_page"),
        now=now,
    )


# -- received Webmentions awaiting moderation -> blog authors ------------------------------------------

MENTION_KINDS = {
    "reply": "a répondu à", "like": "a aimé", "repost": "a repris", "bookmark": "a mis en signet", "mention": "a cité",
}


def _mention_text(row) -> str:
    from confreres import sanitize

    return "\n".join(part for part in (row["title"], sanitize.text(row["html"] or "")) if part)


def mention_created(db, row, now: datetime | None = None) -> None:
    """Inside the mention's write transaction: a new mention awaiting moderation is told to the authors of
    its blog, with the settings, links and digest of new comments (a published one calls for nothing)."""
    if row["status"] != "pending":
        return
    moment = now or utcnow()
    with write(db):
        _tell_authors(
            db, row["site"], "mention_notices", "mention_id", row["id"],
            lambda author: queue_new_mention(db, author, row, now=moment), moment,
        )


def queue_new_mention(db, author, row, now=None) -> int:
    post = _post(db, row["post_url"])
    title = post["title"] or post["url"]
    return queue_for_author(
        db,
        author,
        kind="new_mention",
        subject=f"Mention à valider sur « {title} »",
        template="new_mention",
        site_title=_site_title(row["site"]),
        post=post,
        mention=row,
        name=row["author_name"] or "Anonyme",
        verb=MENTION_KINDS.get(row["type"], MENTION_KINDS["mention"]),
        quoted=quote(_mention_text(row)),
        links=_action_links(row, author["id"], "mention"),
        max_days=max(1, int(current_app.config["ACTION_LINK_MAX_AGE"]) // 86400),
        moderation_url=external("moderation_pages.queue_page"),
        now=now,
    )


def queue_digests(db, now: datetime | None = None) -> dict:
    """One mail per author with the comments waiting for their daily digest; idempotent.

    Each author's notices are marked in the same transaction that queues the mail, so a comment is
    never in two digests, and a second run the same day finds nothing.
    """
    moment = now or utcnow()
    summary = {"digests": 0, "comments": 0, "answers": 0, "mentions": 0}
    waiting = [
        r["account_id"]
        for r in query(
            db,
            "SELECT account_id FROM author_notices WHERE queued IS NULL"
            " UNION SELECT account_id FROM answer_notices WHERE queued IS NULL AND mode = 'daily'"
            " UNION SELECT account_id FROM mention_notices WHERE queued IS NULL",
        )
    ]
    for account_id in waiting:
        with write(db):
            author = accounts.get_account(db, account_id)
            notices = query(
                db,
                "SELECT c.*, p.title AS post_title FROM author_notices n JOIN comments c ON c.id = n.comment_id"
                " LEFT JOIN posts p ON p.url = c.post_url"
                " WHERE n.account_id = ? AND n.queued IS NULL ORDER BY c.post_url, c.id",
                (account_id,),
            )
            live = [c for c in notices if c["status"] in ("pending", "approved")]
            answers = [_answer(row) for row in _answer_rows(db, account_id, "daily")]
            mentions = query(
                db,
                "SELECT m.*, p.title AS post_title FROM mention_notices n JOIN mentions m ON m.id = n.mention_id"
                " LEFT JOIN posts p ON p.url = m.post_url"
                " WHERE n.account_id = ? AND n.queued IS NULL AND m.status = 'pending' ORDER BY m.post_url, m.id",
                (account_id,),
            )
            outbox_id = None
            if author is not None and (live or answers or mentions) and not is_blocked(db, author["email"]):
                outbox_id = _queue_digest(db, author, live, moment, answers, mentions)
                summary["digests"] += 1
                summary["comments"] += len(live)
                summary["answers"] += len(answers)
                summary["mentions"] += len(mentions)
            for table in NOTICE_TABLES:
                db.conn.execute(
                    f"UPDATE {table} SET queued = ?, outbox_id = ? WHERE account_id = ? AND queued IS NULL",
                    (iso(moment), outbox_id, account_id),
                )
    return summary


def _queue_digest(db, author, comments, moment, answers=(), mentions=()) -> int:
    posts: list[dict] = []
    for c in comments:
        if not posts or posts[-1]["url"] != c["post_url"]:
            posts.append({"url": c["post_url"], "title": c["post_title"] or c["post_url"], "comments": []})
        pending = c["status"] == "pending"
        posts[-1]["comments"].append(
            {
                "name": c["author_name"] or "Anonyme",
                "created": c["created"],
                "quoted": quote(c["text"], 600),
                "pending": pending,
                "links": _action_links(c, author["id"]) if pending else {},
                "url": comment_link(c),
            }
        )
    pending_mentions = [
        {
            "name": m["author_name"] or "Anonyme",
            "verb": MENTION_KINDS.get(m["type"], MENTION_KINDS["mention"]),
            "post_title": m["post_title"] or m["post_url"],
            "source": m["url"],
            "quoted": quote(_mention_text(m), 600),
            "links": _action_links(m, author["id"], "mention"),
        }
        for m in mentions
    ]
    waiting = sum(1 for c in comments if c["status"] == "pending")
    total = len(comments)
    parts = [f"{total} nouveau{'x' if total > 1 else ''} commentaire{'s' if total > 1 else ''}"] if total else []
    if waiting:
        parts.append(f"{waiting} à valider")
    if answers:
        parts.append(f"{len(answers)} réponse d'un confrère" if len(answers) == 1 else f"{len(answers)} réponses de confrères")
    if mentions:
        parts.append(f"{len(mentions)} mention{'s' if len(mentions) > 1 else ''} à valider")
    return queue_for_author(
        db,
        author,
        kind="digest",
        subject="Résumé du jour : " + ", ".join(parts),
        template="digest",
        answers=answers,
        mentions=pending_mentions,
        posts=posts,
        total=total,
        waiting=waiting,
        max_days=max(1, int(current_app.config["ACTION_LINK_MAX_AGE"]) // 86400),
        moderation_url=external("moderation_pages.queue_page"),
        now=moment,
    )


# -- answers between blogs -> the authors of the answered blog -------------------------------------------------

def record_answers(db, pairs, now: datetime | None = None) -> int:
    """Inside actions.posts.sync_posts' write: note who is to hear of each (answer URL, answered URL) pair.

    A pair counts once ever (answers_announced): every rebuild declares its posts again, and that must
    never mail twice. Both posts must be listed and of two different blogs (a blog answering itself is
    no news). Each author of the answered blog who did not write the answer gets a notice, at once or
    in the daily digest as `notify_comments` says (none for « never »). Needs no app: the mails are
    queued by `queue_answer_notices` (the API right after, `confreres notify send` otherwise).
    Returns the number of notices.
    """
    stamp = iso(now or utcnow())
    notices = 0
    with write(db):
        for answer_url, answered_url in pairs:
            posts = {
                row["url"]: row["site"]
                for row in query(db, "SELECT url, site FROM posts WHERE url IN (?, ?) AND listed = 1",
                                 (answer_url, answered_url))
            }
            if len(posts) != 2 or posts[answer_url] == posts[answered_url]:
                continue
            if not db.conn.execute(
                "INSERT OR IGNORE INTO answers_announced (answer_url, answered_url, created) VALUES (?, ?, ?)",
                (answer_url, answered_url, stamp),
            ).rowcount:
                continue  # announced before
            for author in _authors(db, posts[answered_url]):
                if author["notify_comments"] == "never" or query_one(
                    db, "SELECT 1 FROM account_sites WHERE account_id = ? AND site = ?", (author["id"], posts[answer_url])
                ):
                    continue  # one's own answer, from another of one's blogs
                notices += db.conn.execute(
                    "INSERT OR IGNORE INTO answer_notices (account_id, answer_url, answered_url, mode, created)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (author["id"], answer_url, answered_url, author["notify_comments"], stamp),
                ).rowcount
    return notices


def _answer_rows(db, account_id: int | None = None, mode: str | None = None):
    """Waiting answer notices with both posts (title, site), by account then answered post."""
    where, params = ["n.queued IS NULL"], []
    if account_id is not None:
        where.append("n.account_id = ?")
        params.append(account_id)
    if mode is not None:
        where.append("n.mode = ?")
        params.append(mode)
    return query(
        db,
        "SELECT n.account_id, n.answer_url, n.answered_url, a.title AS answer_title, a.site AS answer_site,"
        " a.excerpt AS answer_excerpt, b.title AS answered_title FROM answer_notices n"
        " JOIN posts a ON a.url = n.answer_url JOIN posts b ON b.url = n.answered_url"
        f" WHERE {' AND '.join(where)} ORDER BY n.account_id, n.answered_url, n.answer_url",
        params,
    )


def _answer(row) -> dict:
    """An answer as the mails tell it: « Dr Y a répondu à votre billet « … » sur son blog : <url> »."""
    try:
        author = _network().site(row["answer_site"]).author
    except KeyError:
        author = row["answer_site"]
    return {
        "author": author,
        "url": row["answer_url"],
        "title": row["answer_title"] or row["answer_url"],
        "excerpt": row["answer_excerpt"],
        "site_title": _site_title(row["answer_site"]),
        "answered_url": row["answered_url"],
        "answered_title": row["answered_title"] or row["answered_url"],
    }


def queue_answer_notices(db, now: datetime | None = None) -> int:
    """Queue the mails of the answers to tell at once (app context needed); returns how many were queued."""
    moment = now or utcnow()
    queued = 0
    with write(db):
        for row in _answer_rows(db, mode="immediate"):
            author = accounts.get_account(db, row["account_id"])
            outbox_id = None
            if author is not None and not is_blocked(db, author["email"]):
                answer = _answer(row)
                outbox_id = queue_for_author(
                    db,
                    author,
                    kind="answer",
                    subject=f"{answer['author']} a répondu à votre billet « {answer['answered_title']} »",
                    template="answer",
                    answer=answer,
                    now=moment,
                )
                queued += 1
            db.conn.execute(
                "UPDATE answer_notices SET queued = ?, outbox_id = ? WHERE account_id = ? AND answer_url = ?"
                " AND answered_url = ?",
                (iso(moment), outbox_id, row["account_id"], row["answer_url"], row["answered_url"]),
            )
    return queued


# -- replies -> the author of the comment answered -----------------------------------------------------------

def reply_posted(db, row, now: datetime | None = None) -> int | None:
    """An approved reply: tell the author of the parent comment, once, if they asked for it."""
    if row["parent_id"] is None or row["status"] != "approved":
        return None
    moment = now or utcnow()
    with write(db):
        claimed = db.conn.execute(
            "UPDATE comments SET reply_notified = ? WHERE id = ? AND reply_notified IS NULL", (iso(moment), row["id"])
        ).rowcount
        if not claimed:
            return None
        parent = get_comment(db, row["parent_id"])
        if parent is None or parent["status"] == "deleted":
            return None
        same_person = (parent["account_id"] is not None and parent["account_id"] == row["account_id"]) or (
            parent["email"] and row["email"] and parent["email"].lower() == row["email"].lower()
        )
        if same_person:
            return None
        if parent["account_id"] is not None:
            member = accounts.get_account(db, parent["account_id"])
            if member is None or not member["notify_replies"]:
                return None
            to, name, scope = member["email"], member["display_name"], {"s": "replies", "a": member["id"]}
            reason = "vous avez activé les e-mails de réponse dans votre compte Confrères"
        elif parent["notify"] and parent["email"]:
            to = parent["email"]
            subscribed = query_one(
                db, "SELECT 1 FROM subscriptions WHERE email = ? COLLATE NOCASE AND post_url = ?", (to, row["post_url"])
            )
            address = query_one(db, "SELECT confirmed FROM mail_addresses WHERE email = ? COLLATE NOCASE", (to,))
            if not subscribed or not (address and address["confirmed"]):
                return None
            name, scope = parent["author_name"], {"s": "thread", "e": to, "t": row["post_url"]}
            reason = "vous avez demandé à être prévenu des réponses sur ce fil"
        else:
            return None
        if is_blocked(db, to):
            return None
        post = _post(db, row["post_url"])
        title = post["title"] or post["url"]
        return queue(
            db,
            kind="reply",
            to=to,
            subject=f"{row['author_name'] or 'Quelqu’un'} vous a répondu sur « {title} »",
            template="reply",
            unsubscribe=scope,
            greeting=_greeting(name),
            post=post,
            name=row["author_name"] or "Anonyme",
            quoted=quote(row["text"]),
            parent_quoted=quote(parent["text"], 300),
            comment_url=comment_link(row),
            reason=reason,
            scope=scope["s"],
            now=moment,
        )


# -- double opt-in -----------------------------------------------------------------------------------------------

def subscribe(db, email: str, post_url: str, now: datetime | None = None) -> str:
    """A guest asked for reply mails on a thread: 'confirmed', 'confirmation_sent', 'pending' or 'blocked'."""
    moment = now or utcnow()
    with write(db):
        address = query_one(db, "SELECT * FROM mail_addresses WHERE email = ? COLLATE NOCASE", (email,))
        if address and address["blocked"]:
            return "blocked"
        db.conn.execute(
            "INSERT OR IGNORE INTO subscriptions (email, post_url, created) VALUES (?, ?, ?)",
            (email, post_url, iso(moment)),
        )
        if address is None:
            db.conn.execute("INSERT INTO mail_addresses (email, created) VALUES (?, ?)", (email, iso(moment)))
        elif address["confirmed"]:
            return "confirmed"
        elif address["confirm_sent"] and parse_iso(address["confirm_sent"]) > moment - CONFIRM_EVERY:
            return "pending"
        post = _post(db, post_url)
        queue(
            db,
            kind="confirm",
            to=email,
            subject="Confirmez votre adresse pour recevoir les réponses",
            template="confirm",
            unsubscribe={"s": "address", "e": email},
            post=post,
            confirm_url=external("notify.confirm", token=confirm_token(email)),
            max_days=max(1, int(current_app.config["CONFIRM_MAX_AGE"]) // 86400),
            now=moment,
        )
        db.conn.execute(
            "UPDATE mail_addresses SET confirm_sent = ? WHERE email = ? COLLATE NOCASE", (iso(moment), email)
        )
        return "confirmation_sent"


def confirm_address(db, email: str, now: datetime | None = None) -> bool:
    """Second step of the double opt-in; False when the owner had asked never to be written to."""
    moment = now or utcnow()
    with write(db):
        address = query_one(db, "SELECT * FROM mail_addresses WHERE email = ? COLLATE NOCASE", (email,))
        if address is None:
            db.conn.execute(
                "INSERT INTO mail_addresses (email, created, confirmed) VALUES (?, ?, ?)", (email, iso(moment), iso(moment))
            )
            return True
        if address["blocked"]:
            return False
        if not address["confirmed"]:
            db.conn.execute(
                "UPDATE mail_addresses SET confirmed = ? WHERE email = ? COLLATE NOCASE", (iso(moment), email)
            )
        return True


def unblock_address(db, email: str) -> None:
    """The owner, signed in, turned notifications back on: lift an earlier « never write to me »."""
    with write(db):
        db.conn.execute("UPDATE mail_addresses SET blocked = NULL WHERE email = ? COLLATE NOCASE", (email,))


# -- unsubscribe -------------------------------------------------------------------------------------------------

def describe_scope(db, scope: dict) -> str:
    kind = scope["s"]
    if kind == "thread":
        post = _post(db, scope.get("t", ""))
        title = (post["title"] if post else "") or scope.get("t", "")
        return f"les e-mails de réponse sur le fil « {title} »"
    if kind == "address":
        return "tout e-mail de Confrères à cette adresse (sauf les liens de connexion que vous demanderez vous-même)"
    if kind == "author":
        return "les e-mails de nouveaux commentaires (et de réponses des confrères, de mentions reçues) sur vos blogs"
    return "les e-mails de réponse à vos commentaires"


def unsubscribe(db, scope: dict, now: datetime | None = None) -> None:
    """Apply a one-click unsubscribe; idempotent."""
    moment = now or utcnow()
    kind = scope["s"]
    with write(db):
        if kind == "thread":
            db.conn.execute(
                "DELETE FROM subscriptions WHERE email = ? COLLATE NOCASE AND post_url = ?",
                (scope.get("e", ""), scope.get("t", "")),
            )
        elif kind == "address":
            email = scope.get("e", "")
            db.conn.execute(
                "INSERT INTO mail_addresses (email, created, blocked) VALUES (?, ?, ?)"
                " ON CONFLICT (email) DO UPDATE SET blocked = excluded.blocked",
                (email, iso(moment), iso(moment)),
            )
            db.conn.execute("DELETE FROM subscriptions WHERE email = ? COLLATE NOCASE", (email,))
        elif kind == "author":
            db.conn.execute("UPDATE accounts SET notify_comments = 'never' WHERE id = ?", (scope.get("a"),))
            for table in NOTICE_TABLES:
                db.conn.execute(
                    f"UPDATE {table} SET queued = ? WHERE account_id = ? AND queued IS NULL", (iso(moment), scope.get("a"))
                )
        elif kind == "replies":
            db.conn.execute("UPDATE accounts SET notify_replies = 0 WHERE id = ?", (scope.get("a"),))
