"""Replies from the fediverse: a `Create` of a `Note` whose `inReplyTo` is a post of the network (its URL or its
Article's id), a comment that came from the fediverse or a local comment's Note (notes.py) becomes a comment of
that thread.

It goes through the same use case as a comment typed under the post (actions/comments.py): the same
sanitiser (the Note's HTML is read as the comment's source, then reduced to the allowlist), the same
moderation policy of the blog, the same notifications. Its author is the remote account: its name (or its
handle when the name would pass its writer off as a member or a physician of the directory), its profile as
the comment's link, never a badge nor a member's account. Likes and boosts (`Like`, `Announce`) of a post are
counted, once per account. « Entre confrères » and closed threads refuse it
(403, nothing stored). A later `Update` or `Delete` of the Note by the same actor edits or removes it.
"""

from __future__ import annotations

import html
import re
import sqlite3

from markdownify import markdownify

from comments_service.actions import comments as comment_actions
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import validate, verification
from comments_service.domain.comments import remove_comment
from comments_service.domain.posts import (
    bump_post,
    find_post,
    get_post,
    iso,
    query,
    query_one,
    utcnow,
)
from comments_service.federation import notes, remote, urls
from confreres import sanitize
from confreres.registry import Network

REMOTE_EDIT_WINDOW = 10 * 365 * 24 * 60  # minutes: a remote author may edit or delete their reply at any time
KINDS = ("Note",)  # what may become a comment
MAX_WARNING = 200  # characters of a content warning kept
# The public collection as servers write it: the full IRI (Mastodon, Pleroma, Misskey, GoToSocial, Lemmy...),
# or compacted against the ActivityStreams context (JSON-LD processors, some older servers).
PUBLIC_AUDIENCE = frozenset({urls.PUBLIC, "as:Public", "Public"})


class ReplyRefused(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def reaction(db, network: Network, actor, activity: dict) -> bool:
    """A Like or an Announce (boost) of a post of the network, counted once per account; False otherwise."""
    target = activity.get("object")
    target = target.get("id") if isinstance(target, dict) else target
    if not isinstance(target, str) or not isinstance(activity.get("id"), str):
        return False
    article = query_one(db, "SELECT post_url FROM fed_articles WHERE object_id = ? AND deleted IS NULL", (target,))
    post = get_post(db, article["post_url"] if article else target)
    if post is None or not network.has_site(post["site"]):  # a blog removed from network.toml has no threads
        return False
    with write(db):
        db.conn.execute(
            "INSERT INTO fed_reactions (post_url, actor, kind, activity_id, created) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (post_url, actor, kind) DO UPDATE SET activity_id = excluded.activity_id",
            (post["url"], actor["id"], activity["type"], activity["id"], iso(utcnow())),
        )
        bump_post(db, post["url"], public=False)  # the thread's answer shows the counts: its ETag moves
    return True


def undo_reaction(db, actor, inner) -> None:
    """An Undo of a Like or an Announce (the activity itself, or its id)."""
    inner_id = inner.get("id") if isinstance(inner, dict) else inner
    if not isinstance(inner_id, str):
        return  # a list, a number, nothing: no reaction of ours has such an id
    with write(db):
        for row in query(db, "DELETE FROM fed_reactions WHERE actor = ? AND activity_id = ? RETURNING post_url",
                         (actor["id"], inner_id)):
            bump_post(db, row["post_url"], public=False)


def _audience(doc: dict) -> list | None:
    """`doc`'s `to` and `cc` as one list (each may be a string, a list, an object); None when it has neither."""
    found = [doc[field] for field in ("to", "cc") if field in doc and doc[field] is not None]
    if not found:
        return None
    return [item.get("id") if isinstance(item, dict) else item
            for value in found for item in (value if isinstance(value, list) else [value])]


def is_public(note: dict, activity: dict) -> bool:
    """Whether `note` is addressed to everyone (public, or « unlisted »: the public collection in `cc`).

    A direct message (Mastodon's « mention privée », Misskey's « specified »), a followers-only note or one
    limited to a circle names the blog's actor in its audience, but only the people named may read it: under
    the post it would publish what its author wrote in private. The Note's own addressing counts; the
    activity's only when the Note has none (as:Create copies it). No addressing at all: not public."""
    audience = _audience(note)
    if audience is None:
        audience = _audience(activity) or []
    return any(isinstance(item, str) and item in PUBLIC_AUDIENCE for item in audience)


def _target(db, network: Network, in_reply_to: str):
    """(post, parent comment id) the Note answers (a post, a federated comment, a local comment's Note), else
    ReplyRefused(404)."""
    local = notes.comment_of(network, in_reply_to)
    if local is not None:
        found = notes.served(db, network, local)
        if found is None:
            raise ReplyRefused(404, "unknown_comment", "La note répond à un commentaire qui n'est pas publié.")
        return found[1], local
    row = query_one(db, "SELECT f.comment_id, c.post_url FROM fed_comments f JOIN comments c ON c.id = f.comment_id"
                        " WHERE f.object_id = ?", (in_reply_to,))
    if row is not None:
        post = get_post(db, row["post_url"])
        if post is not None and network.has_site(post["site"]):
            return post, row["comment_id"]
        raise ReplyRefused(404, "unknown_post", "La note répond à un commentaire d'un billet qui n'est pas publié.")
    article = query_one(db, "SELECT post_url FROM fed_articles WHERE object_id = ? AND deleted IS NULL", (in_reply_to,))
    url = article["post_url"] if article else in_reply_to
    try:
        return find_post(db, network, url, "inReplyTo"), None
    except ApiError:
        raise ReplyRefused(404, "unknown_post", "La note ne répond à aucun billet du réseau.") from None


def handle_of(actor) -> str:
    return f"@{actor['username'] or 'inconnu'}@{remote.host_of(actor['id'])}"


_LEADING_MENTION = re.compile(r"\[@[^\]\n]*\]\((?P<href>[^)\s]+)\)\s*")


def _without_our_mentions(source: str, network: Network) -> str:
    """The Note's text without the mentions of the network's own accounts it starts with: Mastodon writes the
    account replied to (« @dr-a ») at the head of every reply; under the blog's post it is noise. Other accounts'
    mentions, and ours further in the text, stay."""
    ours = {network.url} | {site.url for site in network.sites}
    ours |= {urls.actor_id(network, name) for name in [urls.NETWORK_ACTOR, *(site.slug for site in network.sites)]}
    while (match := _LEADING_MENTION.match(source)) and match["href"] in ours:
        source = source[match.end():]
    return source


def _markdown(fragment: str) -> str:
    return markdownify(sanitize.clean(fragment), heading_style="ATX").strip()


def _warning(note: dict) -> str:
    """The Note's content warning as the comment's first line (Markdown), or "".

    Mastodon, Pleroma/Akkoma, Misskey and GoToSocial send the warning a reader sees before unfolding the text
    (« CW ») as the Note's `summary` (plain text). Dropped, the text it warns of showed under the post with
    no warning at all; the comment cannot fold it, so the warning heads it, where it is read first."""
    summary = note.get("summary")
    if not isinstance(summary, str):
        return ""
    summary = sanitize.one_line(sanitize.text(summary[:2000])).strip()[:MAX_WARNING]
    if not summary:
        return ""
    return _markdown(f"<p><strong>Avertissement de contenu : {html.escape(summary)}</strong></p>") + "\n\n"


def _content(note: dict) -> str | None:
    """The Note's HTML: `content`, else the first of its `contentMap` (one language per key), which ActivityStreams
    allows alone."""
    content = note.get("content")
    if isinstance(content, str) and content.strip():
        return content
    languages = note.get("contentMap")
    if isinstance(languages, dict):
        return next((value for value in languages.values() if isinstance(value, str) and value.strip()), None)
    return None


def _source(note: dict, network: Network) -> str:
    """The Note's HTML as the comment's Markdown source: what a moderator reads (page, mail) and an edit starts
    from, as for a typed comment. Reduced by the one sanitiser first; rendering it sanitises again. Its content
    warning, if any, heads it (_warning)."""
    content = _content(note)
    if content is None:
        raise ReplyRefused(400, "empty_text", "La note est vide.")
    source = _without_our_mentions(_markdown(content[: validate.MAX_TEXT * 4]), network).strip()
    if not source:
        raise ReplyRefused(400, "empty_text", "La note est vide.")
    return (_warning(note) + source)[: validate.MAX_TEXT]


def create(app, db, network: Network, actor, note: dict) -> int | None:
    """Store the reply `note` of the remote `actor` as a comment; its id (None: it was stored already)."""
    object_id = note.get("id")
    if not isinstance(object_id, str) or remote.host_of(object_id) != remote.host_of(actor["id"]):
        raise ReplyRefused(400, "invalid_object", "Note sans identifiant de son propre domaine.")
    if query_one(db, "SELECT 1 FROM fed_comments WHERE object_id = ?", (object_id,)):
        return None  # delivered twice (shared inbox and personal inbox)
    in_reply_to = note.get("inReplyTo")
    if isinstance(in_reply_to, dict):
        in_reply_to = in_reply_to.get("id")
    if not isinstance(in_reply_to, str):
        raise ReplyRefused(404, "unknown_post", "La note ne répond à aucun billet du réseau.")
    post, parent = _target(db, network, in_reply_to)
    handle = handle_of(actor)
    name, website = _shown_as(app, db, actor)
    data = validate.CommentInput(url=post["url"], text=_source(note, network), parent=parent, author=name,
                                 website=website)
    try:  # the use case commits, then emits comment.created (its mails go): the tie follows in its own write
        row, nonce = comment_actions.create_comment(db, network, post, data, account=None, ip_hash=None)
    except ApiError as exc:
        raise _refused(exc) from None
    try:
        with write(db):
            db.conn.execute(
                "INSERT INTO fed_comments (comment_id, object_id, actor, handle, nonce) VALUES (?, ?, ?, ?, ?)",
                (row["id"], object_id, actor["id"], handle, nonce),
            )
    except sqlite3.IntegrityError:  # the same Note, delivered twice at once: the other copy is kept
        with write(db):
            remove_comment(db, row["id"])
        return None
    return row["id"]


def _shown_as(app, db, actor) -> tuple[str, str | None]:
    """(name, link) a remote account's comments show: its name, or its handle when the name would pass its
    writer off as a member or a physician of the directory; its profile's address."""
    handle = handle_of(actor)
    name = sanitize.one_line(actor["name"] or "")[: validate.MAX_AUTHOR].strip() or handle
    try:
        verification.check_author_name(app, db, name, None)
    except ApiError:
        name = handle
    profile = actor["url"] or actor["id"]
    return name, profile if validate.is_http_url(profile) else None


def refresh_author(app, db, actor) -> int:
    """The remote account edited its profile (Mastodon, Pleroma, Misskey send an `Update` of the actor): its
    comments show its new name and link, as a member's do after a rename (a real name changed for a pseudonym
    no longer stays beside what they wrote). `actor` is its row as fetched again. The comments changed."""
    name, website = _shown_as(app, db, actor)
    with write(db):
        mine = "SELECT comment_id FROM fed_comments WHERE actor = ?"
        changed = " AND status != 'deleted' AND (author_name != ? OR website IS NOT ?)"
        touched = query(db, f"SELECT post_url, MAX(status = 'approved') AS shown, COUNT(*) AS n FROM comments"
                            f" WHERE id IN ({mine}){changed} GROUP BY post_url", (actor["id"], name, website))
        db.conn.execute(f"UPDATE comments SET author_name = ?, website = ? WHERE id IN ({mine}){changed}",
                        (name, website, actor["id"], name, website))
        db.conn.execute("UPDATE fed_comments SET handle = ? WHERE actor = ?", (handle_of(actor), actor["id"]))
        for row in touched:
            bump_post(db, row["post_url"], public=bool(row["shown"]))
    return sum(row["n"] for row in touched)


def _refused(exc: ApiError) -> ReplyRefused:
    return ReplyRefused(exc.status if exc.status in (400, 403, 404, 409) else 400, exc.code, exc.message)


def _own(db, actor, object_id) -> dict | None:
    if not isinstance(object_id, str):
        return None
    return query_one(db, "SELECT comment_id, nonce FROM fed_comments WHERE object_id = ? AND actor = ?",
                     (object_id, actor["id"]))


def update(db, network: Network, actor, note: dict, activity: dict) -> bool:
    """The remote author edited their reply: the comment's text follows. False when it is not one of theirs, or
    when the edited Note is no longer public (is_public): its new text is not for everyone."""
    found = _own(db, actor, note.get("id"))
    if found is None or not is_public(note, activity):
        return False
    try:
        comment_actions.edit_comment(db, found["comment_id"], found["nonce"], _source(note, network),
                                     window_minutes=REMOTE_EDIT_WINDOW)
    except ApiError as exc:
        raise _refused(exc) from None
    return True


def delete(db, actor, object_id) -> bool:
    """The remote author deleted their reply: so is the comment (a placeholder when it has replies)."""
    found = _own(db, actor, object_id)
    if found is None:
        return False
    try:
        comment_actions.delete_comment(db, found["comment_id"], found["nonce"], window_minutes=REMOTE_EDIT_WINDOW)
    except ApiError:
        return False  # deleted already
    return True

