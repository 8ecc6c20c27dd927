"""Who hears what: the notifications queued in the outbox (mail/outbox.py), one function per occasion.

- a new comment -> each author of the blog (account_sites), at once or in the daily digest
  (`confreres notify digest`), as their profile says; a pending comment comes with one-click
  approve / reject links (core/tokens.py: signed, expiring, single use, confirmed by a POST);
- a received Webmention awaiting moderation -> the same authors, with the same setting, digest and
  one-click approve / reject links (a comment's link names "c", a mention's "m"), once per mention;
- a post of another blog answering one of theirs (`reply_to`, announced by a build) -> each author of
  the answered blog, with the same setting, digest and unsubscribe link as new comments, once per answer;
- an approved reply -> the author of the comment it answers: a member whose profile says so, or a
  guest who ticked « notify » on that thread *and* confirmed the address (double opt-in);
- a member's verification contested, revoked or suspended -> that member (`tell_member`, which
  domain/verification.py reaches through the app: `init_app` registers it).
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import datetime, timedelta

from flask import current_app, has_app_context

from comments_service.core import tokens
from comments_service.core.db import write
from comments_service.domain import accounts, secrecy
from comments_service.domain.comments import get_comment, iso, query, query_one, utcnow
from comments_service.mail import transport as mailer
from comments_service.mail.outbox import (
    NOTICE_TABLES,
    _greeting,
    _network,
    _post,
    account_scope,
    comment_link,
    external,
    is_blocked,
    list_id,
    queue,
    queue_for_author,
    quote,
    subscribe,
)
from confreres.french import quoted_fr

# -- new comments -> blog authors -------------------------------------------------------------------------

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
        writer_subscription(db, row, now=moment)
        if row["status"] == "approved":
            reply_posted(db, row, now=moment)


def writer_subscription(db, row, now: datetime | None = None) -> None:
    """A guest who ticked « Me prévenir des réponses »: their thread subscription, with its confirmation mail to their
    own address when it is not confirmed yet. Also for a blocked author's comment (domain/blocks.py), which mails no
    one else: a confirmation that came before the block and no longer comes would tell them they are blocked."""
    if row["notify"] and row["email"] and row["account_id"] is None:
        subscribe(db, row["email"], row["post_url"], now=now or utcnow())


def queue_new_comment(db, author, row, now=None) -> int:
    post = _post(db, row["post_url"])
    pending = row["status"] == "pending"
    held = secrecy.held(row)  # medical secrecy: the reason, and the flagged spans marked ⟦…⟧ in the quote
    title = post["title"] or post["url"]
    subject = f"{'Commentaire à valider' if pending else 'Nouveau commentaire'} sur {quoted_fr(title)}"
    return queue_for_author(
        db,
        author,
        kind="new_comment",
        subject=subject,
        thread=row["post_url"],
        template="new_comment",
        site_title=_site_title(row["site"]),
        post=post,
        comment=row,
        name=row["author_name"] or "Anonyme",
        quoted=quote(secrecy.mail_marked(row["text"], held["flags"]) if held else row["text"]),
        secret=held["reason"] if held and pending else "",
        pending=pending,
        links=_action_links(row, author["id"]) if pending else {},
        max_days=max(1, int(current_app.config["ACTION_LINK_MAX_AGE"]) // 86400),
        comment_url=comment_link(row),
        moderation_url=external("moderation_pages.queue_page"),
        now=now,
        about=[row],
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
        subject=f"Mention à valider sur {quoted_fr(title)}",
        thread=row["post_url"],
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
        about_mentions=[row],
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
        held = secrecy.held(c) if pending else None  # medical secrecy: the passages marked ⟦…⟧, and why
        posts[-1]["comments"].append(
            {
                "name": c["author_name"] or "Anonyme",
                "created": c["created"],
                "quoted": quote(secrecy.mail_marked(c["text"], held["flags"]) if held else c["text"], 600),
                "secret": held["reason"] if held else "",
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
        about=comments,
        about_mentions=mentions,
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
                    subject=f"{answer['author']} a répondu à votre billet {quoted_fr(answer['answered_title'])}",
                    thread=row["answered_url"],
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
            to, name, scope = member["email"], member["display_name"], account_scope("replies", member)
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
            subject=f"{row['author_name'] or 'Quelqu’un'} vous a répondu sur {quoted_fr(title)}",
            thread=row["post_url"],
            stream=list_id("reponses", "Réponses à vos commentaires"),
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
            about=[row, parent],
        )


# -- a member's verification -> that member ---------------------------------------------------------------------

def tell_member(app, db, account_id: int, *, subject: str, template: str, now: datetime, kind: str = "verification",
                once_a_day: bool = False, **context) -> None:
    """Tell a member about their verification, through the outbox (sent after the commit), unless their address
    refuses all mail (or, with `once_a_day`, already got a mail of this kind in the last 24 hours)."""
    account = query_one(db, "SELECT email, display_name FROM accounts WHERE id = ?", (account_id,))
    if account is None or is_blocked(db, account["email"]):
        return
    if once_a_day and query_one(
        db, "SELECT 1 FROM outbox WHERE recipient = ? COLLATE NOCASE AND kind = ? AND created > ?",
        (account["email"], kind, iso(now - timedelta(days=1))),
    ):
        return
    with nullcontext() if has_app_context() else app.app_context():
        queue(
            db, kind=kind, to=account["email"], subject=f"{app.extensions['confreres_network'].name} : {subject}",
            template=template, unsubscribe={"s": "address", "e": account["email"]}, now=now,
            reply_to=mailer.reply_to(app.config), replies_read=bool(mailer.reply_to(app.config)),
            greeting=f"Bonjour {account['display_name']}," if account["display_name"] else "Bonjour,",
            verification_url=external("verification.page_status"), **context,
        )


def init_app(app) -> None:
    """The outbox's sender and after-commit kick (mail/outbox.py), and how domain/verification.py tells a member."""
    from comments_service.mail import outbox

    outbox.init_app(app)
    app.extensions["confreres_member_notice"] = tell_member
