"""The outbox: a mail is queued in the same transaction as what caused it, sent after the commit.

Queued in the `outbox` table inside the write that caused it (a new comment, a moderation decision, a
sign-in request), *sent* only after the commit — by a background thread woken by the after-commit hook
(core/events.py), or by `confreres notify send` (cron), which also retries what failed. An SMTP server
that is down never loses a comment, never fails a request, and never loses a mail: it waits here.
Also the consent side: double opt-in of a guest's address, the one-click unsubscribe (RFC 8058
headers on every mail), the addresses that refuse all mail. Who hears what: mail/notices.py.
Mails are French plain text, one recipient each, with names but never another person's e-mail.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import textwrap
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, render_template

from comments_service.core import events as hooks
from comments_service.core import tokens
from comments_service.core.addresses import address_key, normalise_email
from comments_service.core.db import connect, write
from comments_service.core.worker import Worker
from comments_service.domain.comments import iso, parse_iso, query, query_one, utcnow
from comments_service.mail import transport as mailer
from confreres.french import quoted_fr

log = logging.getLogger(__name__)

SEND_MODES = ("background", "cron")
CONFIRM_EVERY = timedelta(hours=24)  # at most one confirmation mail per address per day
STALE_CLAIM = timedelta(minutes=10)  # a claimed mail left unsent that long was dropped by a dead worker
KEEP_SENT = timedelta(days=30)  # rows are purged that long after they were sent (their text at once), or queued if never sent
SENDERS = 4  # SMTP connections at once for a big run (deliver_many: the letter)
QUOTE_LIMIT = 1500
NOTICE_TABLES = ("author_notices", "answer_notices", "mention_notices")  # what an author unsubscribes from


# -- links -----------------------------------------------------------------------------------------

def _network():
    return current_app.extensions["confreres_network"]


def external(endpoint: str, **values) -> str:
    """Absolute URL of one of the service's routes, from `comments_url` (works in the CLI too)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return _network().comments_url.rstrip("/") + path


def _post(db, url: str):
    return query_one(db, "SELECT url, site, title FROM posts WHERE url = ?", (url,))


def list_id(label: str, name: str) -> str:
    """The RFC 2919 List-Id of one stream of mails (`<label>.<host of comments_url>`), by which readers filter it and
    mail providers tell it: the letter, a blog author's notices, the replies to one's comments. `name` is words
    without « : », « , » nor « ; » (specials that RFC 2919's phrase would want quoted: a strict reader took
    « Vos blogs : … » for a group)."""
    return f"{name} <{label}.{urlsplit(_network().comments_url).hostname or 'localhost'}>"


def comment_link(row) -> str:
    return f"{row['post_url']}#comment-{row['id']}"


def unsubscribe_token(scope: dict) -> str:
    """Signed, without expiry (an old mail's link must keep working), idempotent."""
    return tokens.make_unsubscribe_token(current_app.config["SECRET_KEY"], scope)


def account_scope(kind: str, account) -> dict:
    """The unsubscribe scope of an account's mails ("author": its blogs' notices; "replies": replies to its comments),
    bound to that account by its key (tokens.account_unsubscribe_key): never to an account given its id later."""
    key = tokens.account_unsubscribe_key(current_app.config["SECRET_KEY"], account["id"], account["email"])
    return {"s": kind, "a": account["id"], "k": key}


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

def queue(db, *, kind: str, to: str, subject: str, template: str, unsubscribe: dict, now=None, about=(),
          about_mentions=(), thread: str | None = None, reply_to: str = "", stream: str = "", **context) -> int:
    """Render a mail and add it to the outbox, inside the caller's transaction; returns its id. `about`: the comment
    rows whose text the mail quotes, `about_mentions` the mention rows (dropped at send time if one of them is
    withdrawn or edited: `stale_comments`). `thread`: the post the mail is about (transport.build: one conversation
    per post in mail clients). `reply_to`: where a reply goes (the sender's address is not read). `stream`: the
    List-Id of a stream of notifications (`list_id`)."""
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
            **({"Reply-To": reply_to} if reply_to else {}),
            **({"List-Id": stream} if stream else {}),
        },
        thread=thread,
    )
    return enqueue(
        db, kind=kind, to=to, subject=subject, message=message, now=now, about=about, about_mentions=about_mentions
    )


def text_hash(text: str | None) -> str:
    return hashlib.sha256((text or "").encode("utf-8")).hexdigest()


def enqueue(db, *, kind: str, to: str, subject: str, message: str, now=None, about=(), about_mentions=()) -> int:
    """Add a built message (transport.build) to the outbox, inside the caller's transaction; returns its id.
    `about`: the comment rows the message quotes, with the text quoted (outbox_comments); `about_mentions`: the
    received mentions it quotes, with their content_hash (outbox_mentions)."""
    with write(db):
        cursor = db.conn.execute(
            "INSERT INTO outbox (kind, recipient, recipient_key, subject, message, created) VALUES (?, ?, ?, ?, ?, ?)",
            (kind, normalise_email(to), address_key(to), " ".join(subject.split()), message, iso(now or utcnow())),
        )
        db.conn.executemany(
            "INSERT OR IGNORE INTO outbox_comments (outbox_id, comment_id, text_hash) VALUES (?, ?, ?)",
            [(cursor.lastrowid, row["id"], text_hash(row["text"])) for row in about],
        )
        db.conn.executemany(
            "INSERT OR IGNORE INTO outbox_mentions (outbox_id, mention_id, content_hash) VALUES (?, ?, ?)",
            [(cursor.lastrowid, row["id"], row["content_hash"]) for row in about_mentions],
        )
    if has_app_context():
        g.confreres_mail_queued = True
    return cursor.lastrowid


def queue_for_author(db, author, **mail) -> int:
    """A mail to a blog author about their blogs (new comments and mentions, answers, digests): their
    greeting, and the one-click link that sets « never » for all of them."""
    return queue(
        db, to=author["email"], unsubscribe=account_scope("author", author),
        greeting=_greeting(author["display_name"]), stream=list_id("auteurs", "Nouvelles de vos blogs"),
        **mail,
    )


LIVE = ("pending", "approved")  # a comment in any other state (rejected, spam, deleted) is withdrawn


def stale_comments(db, outbox_id: int) -> list[int]:
    """The comments a waiting mail quotes that are withdrawn (rejected, spam, deleted, gone) or edited since it was
    queued: such a mail must not leave, whatever it says (a comment deleted because it named a patient is never
    mailed afterwards)."""
    rows = query(
        db,
        "SELECT o.comment_id, o.text_hash, c.status, c.text FROM outbox_comments o"
        " LEFT JOIN comments c ON c.id = o.comment_id WHERE o.outbox_id = ?",
        (outbox_id,),
    )
    return [
        row["comment_id"] for row in rows if row["status"] not in LIVE or row["text_hash"] != text_hash(row["text"])
    ]


def stale_mentions(db, outbox_id: int) -> list[int]:
    """The received mentions a waiting mail quotes that are withdrawn (rejected, spam, deleted by a moderator or
    because their source is gone) or changed by their source since it was queued: `stale_comments` for mentions."""
    rows = query(
        db,
        "SELECT o.mention_id, o.content_hash AS quoted, m.status, m.content_hash FROM outbox_mentions o"
        " LEFT JOIN mentions m ON m.id = o.mention_id WHERE o.outbox_id = ?",
        (outbox_id,),
    )
    return [row["mention_id"] for row in rows if row["status"] not in LIVE or row["quoted"] != row["content_hash"]]


def drop_stale(db, outbox_id: int) -> None:
    """Inside a write: drop a mail quoting a withdrawn or edited comment or mention. The notices it carried to a blog
    author (a new comment or mention, a digest's comments, mentions and answers) wait again for the author's next daily
    digest, which tells what is still there with its text of then (a withdrawn comment or mention is left out of it).
    A reply's mail is not written again: the reply, edited, is on the thread."""
    for table in NOTICE_TABLES:
        db.conn.execute(f"UPDATE {table} SET queued = NULL, outbox_id = NULL WHERE outbox_id = ?", (outbox_id,))
    db.conn.execute("DELETE FROM outbox WHERE id = ?", (outbox_id,))


def is_blocked(db, email: str | None) -> bool:
    """Whether this address refuses all mail: it, or any variant of its inbox (core/addresses.address_key:
    `Paul+x@…` is `paul@…`), asked « ne plus rien recevoir »."""
    if not email:
        return True
    return query_one(
        db, "SELECT 1 FROM mail_addresses WHERE address_key = ? AND blocked IS NOT NULL LIMIT 1", (address_key(email),)
    ) is not None


def deliver(config, *, retry_failed: bool = True, now: datetime | None = None, shard: tuple[int, int] = (0, 1)) -> dict:
    """Send the outbox's unsent mails (each claimed first, so two senders never send one twice).

    `retry_failed=False` (the background thread) sends only mails never tried; the cron command
    retries the others too, drops sign-in mails whose link has expired anyway, and purges mails 30 days
    (KEEP_SENT) after they were sent, or after they were queued when they never could be. A relay that is down (refused, silent, gone) ends the pass at its first failure: one
    SMTP_TIMEOUT per pass, not one per waiting mail. `shard=(k, n)`: only the mails whose id is k modulo n
    (deliver_many). Returns counts: sent, failed, dropped.
    """
    db = connect(config["DB"])
    counts = {"sent": 0, "failed": 0, "dropped": 0}
    relay = mailer.Relay(config)  # one SMTP connection for the whole run
    try:
        if retry_failed:
            with write(db):
                cutoff = iso((now or utcnow()) - KEEP_SENT)
                db.conn.execute("DELETE FROM outbox WHERE sent IS NOT NULL AND sent < ?", (cutoff,))
                # and a mail never sent in as long (a relay refusing its address for good, an SMTPUTF8 address
                # through a relay without it): retried every pass, its text and address were kept for ever
                counts["dropped"] += db.conn.execute(
                    "DELETE FROM outbox WHERE sent IS NULL AND created < ? AND (claimed IS NULL OR claimed < ?)",
                    (cutoff, iso((now or utcnow()) - STALE_CLAIM)),
                ).rowcount
        cursor_id = 0
        while True:
            moment = now or utcnow()
            with write(db):
                row = query_one(
                    db,
                    "SELECT id, kind, recipient, message, created FROM outbox WHERE sent IS NULL AND id > ?"
                    " AND (claimed IS NULL OR claimed < ?) AND (? OR attempts = 0) AND id % ? = ? ORDER BY id LIMIT 1",
                    (cursor_id, iso(moment - STALE_CLAIM), int(retry_failed), shard[1], shard[0]),
                )
                if row is None:
                    break
                cursor_id = row["id"]
                age = (moment - parse_iso(row["created"])).total_seconds()
                if row["kind"] == "signin" and age > int(config["MAGIC_LINK_MAX_AGE"]):
                    db.conn.execute("DELETE FROM outbox WHERE id = ?", (row["id"],))
                    counts["dropped"] += 1
                    continue
                if stale_comments(db, row["id"]) or stale_mentions(db, row["id"]):
                    drop_stale(db, row["id"])
                    counts["dropped"] += 1
                    continue
                db.conn.execute(
                    "UPDATE outbox SET claimed = ?, attempts = attempts + 1 WHERE id = ?", (iso(moment), row["id"])
                )
            name = f"{moment.strftime('%Y%m%dT%H%M%S')}-{row['id']:06d}-{row['kind']}"
            try:
                mailer.send(config, recipient=row["recipient"], message=row["message"], name=name, relay=relay)
            except mailer.MailError as exc:
                with write(db):
                    db.conn.execute(
                        "UPDATE outbox SET claimed = NULL, last_error = ? WHERE id = ?", (str(exc)[:500], row["id"])
                    )
                counts["failed"] += 1
                log.warning("mail %s to outbox #%s not sent: %s", row["kind"], row["id"], exc)
                if exc.relay_down:  # the rest would wait as long for the same answer: the next pass tries again
                    break
                continue
            with write(db):
                # Once handed over, the message is erased: nothing reads it again, and it held a sign-in link (a
                # credential), never-expiring unsubscribe links, and the words and names of comments (a reply's
                # notice, a blog author's digest) that their writer or a moderator may withdraw since: a copy kept
                # 30 days kept them, on the disk and in its nightly copies. The row stays 30 days (KEEP_SENT) with
                # its kind, recipient, subject and dates: the per-inbox caps count it, the recipient's export lists it.
                db.conn.execute(
                    "UPDATE outbox SET sent = ?, claimed = NULL, last_error = NULL, message = '' WHERE id = ?",
                    (iso(utcnow()), row["id"]),
                )
            counts["sent"] += 1
    finally:
        relay.close()
        db.close()
    return counts


def deliver_many(config, senders: int = SENDERS) -> dict:
    """`deliver` by `senders` threads at once, each over its own SMTP connection and its share of the outbox: a
    letter to thousands of readers is bound by the round trips of SMTP, not by the processor."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(senders, thread_name_prefix="confreres-deliver") as pool:
        results = list(pool.map(lambda k: deliver(config, shard=(k, senders)), range(senders)))
    return {key: sum(result[key] for result in results) for key in results[0]}


def pending_count(db) -> dict:
    row = query_one(
        db,
        "SELECT COUNT(*) AS waiting, SUM(attempts > 0) AS failed FROM outbox WHERE sent IS NULL",
    )
    return {"waiting": row["waiting"] or 0, "failed": row["failed"] or 0}


def _send_queued(app) -> None:
    """The sender thread's step (core/worker.py): send what the outbox holds, woken after each commit that
    queued a mail; failed mails wait for `confreres notify send`."""
    deliver(app.config, retry_failed=False)


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
    reply_to = str(app.config.get("SMTP_REPLY_TO") or "").strip()
    if reply_to and not mailer.is_address(reply_to):
        raise ConfigError(f"CONFRERES_SMTP_REPLY_TO={reply_to!r}: expected an address (« Administrateurs <admin@…> »)")
    app.extensions["confreres_mail_sender"] = Worker(
        app, "confreres-mail", lambda: _send_queued(app), failure="mail sender failed"
    )
    hooks.register(app, _after_commit)


# -- sign-in ---------------------------------------------------------------------------------------------

def sent_to_address(db, email: str, kind: str, since: datetime) -> int:
    """How many mails of `kind` were queued since `since` to this address or any `+tag` variant of it (one inbox:
    core/addresses.address_key). The per-address caps on what a stranger can have mailed count with this: typed
    as `victim+1@…`, `victim+2@…`, each variant would otherwise get a cap of its own, hundreds of mails an hour to
    one inbox under the per-IP limit."""
    return query_one(
        db,
        "SELECT COUNT(*) AS n FROM outbox WHERE recipient_key = ? AND kind = ? AND created > ?",
        (address_key(email), kind, iso(since)),
    )["n"]


def queue_signin(db, email: str, link: str, *, max_age: int, now=None) -> int | None:
    """The magic-link mail; None (nothing sent, same answer to the caller) past the hourly cap of the address's inbox
    (`sent_to_address`: its `+tag` variants count together). The mail goes to the address as typed, whose link
    signs into that address's account."""
    moment = now or utcnow()
    limit = int(current_app.config["MAGIC_LINKS_PER_HOUR"])
    if sent_to_address(db, email, "signin", moment - timedelta(hours=1)) >= limit:
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


# -- double opt-in -----------------------------------------------------------------------------------------------

def subscribe(db, email: str, post_url: str, now: datetime | None = None) -> str:
    """A guest asked for reply mails on a thread: 'confirmed', 'confirmation_sent', 'pending' or 'blocked'.

    At most one confirmation a day (CONFIRM_EVERY) to an inbox, whoever asks: its `+tag` variants count together
    (`sent_to_address`)."""
    email = normalise_email(email)
    moment = now or utcnow()
    with write(db):
        if is_blocked(db, email):
            return "blocked"
        address = query_one(db, "SELECT * FROM mail_addresses WHERE email = ?", (email,))
        db.conn.execute(
            "INSERT OR IGNORE INTO subscriptions (email, post_url, created) VALUES (?, ?, ?)",
            (email, post_url, iso(moment)),
        )
        if address is None:
            _add_address(db, email, iso(moment))
        elif address["confirmed"]:
            return "confirmed"
        elif address["confirm_sent"] and parse_iso(address["confirm_sent"]) > moment - CONFIRM_EVERY:
            return "pending"
        if sent_to_address(db, email, "confirm", moment - CONFIRM_EVERY):
            return "pending"  # a `+tag` variant of this inbox was asked to confirm within the day
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
            "UPDATE mail_addresses SET confirm_sent = ? WHERE email = ?", (iso(moment), email)
        )
        return "confirmation_sent"


def confirm_address(db, email: str, now: datetime | None = None) -> bool:
    """Second step of the double opt-in; False when the owner had asked never to be written to."""
    email = normalise_email(email)  # a link mailed before addresses were stored canonical
    moment = now or utcnow()
    with write(db):
        if is_blocked(db, email):
            return False
        address = query_one(db, "SELECT * FROM mail_addresses WHERE email = ?", (email,))
        if address is None:
            _add_address(db, email, iso(moment), confirmed=iso(moment))
            return True
        if not address["confirmed"]:
            db.conn.execute(
                "UPDATE mail_addresses SET confirmed = ? WHERE email = ?", (iso(moment), email)
            )
        return True


def unblock_address(db, email: str) -> None:
    """The owner, signed in, turned notifications back on: lift an earlier « never write to me », of their inbox
    (asked at any variant of it: the sign-in proved they receive its mail)."""
    with write(db):
        db.conn.execute("UPDATE mail_addresses SET blocked = NULL WHERE address_key = ?", (address_key(email),))


def _add_address(db, email: str, created: str, **columns: str) -> None:
    """Inside a write: the row of an address (double opt-in, « never write to me »), with the key of its inbox
    (core/addresses.address_key: what is_blocked looks up); `columns` set on it, new or not."""
    email = normalise_email(email)
    names = ["email", "address_key", "created", *columns]
    db.conn.execute(
        f"INSERT INTO mail_addresses ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) ON CONFLICT (email)"
        f" DO UPDATE SET {', '.join(f'{name} = excluded.{name}' for name in ['address_key', *columns])}",
        (email, address_key(email), created, *columns.values()),
    )


# -- unsubscribe -------------------------------------------------------------------------------------------------

def describe_scope(db, scope: dict) -> str:
    kind = scope["s"]
    if kind == "thread":
        post = _post(db, scope.get("t", ""))
        title = (post["title"] if post else "") or scope.get("t", "")
        return f"les e-mails de réponse sur le fil {quoted_fr(title)}"
    if kind == "address":
        return "tout e-mail de Confrères à cette adresse (sauf les liens de connexion que vous demanderez vous-même)"
    if kind == "author":
        return "les e-mails de nouveaux commentaires (et de réponses des confrères, de mentions reçues) sur vos blogs"
    return "les e-mails de réponse à vos commentaires"


def unsubscribe_holds(db, scope: dict, secret: str) -> bool:
    """Whether a well-signed unsubscribe scope still names what it was made for. An account's scope ("author",
    "replies") must name the account it was mailed to: `accounts.id` is reused once the newest account is deleted,
    and the link of a deleted account must not unsubscribe the next one. Its key (`account_scope`) is checked.

    Links mailed before keys existed carry none ({"s", "a"} only): they still work for the accounts that existed when
    core/migrations.m026_unsubscribe_keys ran, which it marked (`accounts.unsubscribe_unkeyed`); an account created
    since, which can have been mailed only keyed links, refuses them: an unkeyed link naming its id is a deleted
    account's. (An id reused before that migration cannot be told apart: its old unkeyed links still work, as they
    did.) Other scopes name an address or a thread, not an id: they hold."""
    if scope["s"] not in ("author", "replies"):
        return True
    account_id, key = scope.get("a"), scope.get("k")
    if not isinstance(account_id, int) or isinstance(account_id, bool) or (key is not None and not isinstance(key, str)):
        return False
    row = query_one(db, "SELECT email, unsubscribe_unkeyed FROM accounts WHERE id = ?", (account_id,))
    if row is None:
        return False
    if key is None:
        return bool(row["unsubscribe_unkeyed"])
    return hmac.compare_digest(key, tokens.account_unsubscribe_key(secret, account_id, row["email"]))


def unsubscribe(db, scope: dict, now: datetime | None = None, *, secret: str | None = None) -> bool:
    """Apply a one-click unsubscribe; idempotent. False (nothing done) when the scope no longer holds
    (`unsubscribe_holds`, checked in the same write)."""
    moment = now or utcnow()
    kind = scope["s"]
    with write(db):
        if not unsubscribe_holds(db, scope, secret or current_app.config["SECRET_KEY"]):
            return False
        if kind == "thread":
            db.conn.execute(
                "DELETE FROM subscriptions WHERE email = ? AND post_url = ?",
                (normalise_email(scope.get("e", "")), scope.get("t", "")),
            )
        elif kind == "address":
            email = normalise_email(scope.get("e", ""))  # a link mailed before addresses were stored canonical
            _add_address(db, email, iso(moment), blocked=iso(moment))
            db.conn.execute("DELETE FROM subscriptions WHERE email = ?", (email,))
        elif kind == "author":
            db.conn.execute("UPDATE accounts SET notify_comments = 'never' WHERE id = ?", (scope.get("a"),))
            for table in NOTICE_TABLES:
                db.conn.execute(
                    f"UPDATE {table} SET queued = ? WHERE account_id = ? AND queued IS NULL", (iso(moment), scope.get("a"))
                )
        elif kind == "replies":
            db.conn.execute("UPDATE accounts SET notify_replies = 0 WHERE id = ?", (scope.get("a"),))
    return True
