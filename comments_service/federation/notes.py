"""Local comments as the fediverse sees them: each approved comment of a post is a `Note` at
`<comments_url>ap/comments/<id>`, listed in its post's Article's `replies` collection.

Guests and members have no actor of their own, so a Note is attributed to the blog's actor and its content
opens with the commenter's public name (« <p><strong>Nom</strong> a commenté :</p> »), as WordPress's
ActivityPub plugin does for its non-federated commenters. Only what the blog's own thread shows goes out:
the public name (a pseudonymous member's pseudonym: the `author_name` the thread shows), the HTML through
the one sanitiser, the dates. Pending, rejected, spam and deleted comments, the comments of « entre
confrères » threads, of posts no longer published and of blogs removed from network.toml are served nowhere (404)
and listed nowhere. A comment that came from the fediverse is listed by its own (remote) id and not served here:
it is its author's.
"""

from __future__ import annotations

import html

from comments_service.domain import public
from comments_service.domain.posts import comments_mode, get_post, query, query_one
from comments_service.federation import articles, documents, urls
from confreres import sanitize
from confreres.registry import Network

COLUMNS = ("c.id, c.post_url, c.parent_id, c.author_name, c.html, c.created, c.edited, c.status,"
           " f.object_id AS remote_id")
FROM = "FROM comments c LEFT JOIN fed_comments f ON f.comment_id = c.id"


def note_id(network: Network, comment_id: int) -> str:
    return f"{urls.base(network)}/comments/{comment_id}"


def comment_of(network: Network, url) -> int | None:
    """The local comment whose Note id is `url`, else None."""
    prefix = urls.base(network) + "/comments/"
    if not isinstance(url, str) or not url.startswith(prefix):
        return None
    rest = url[len(prefix):]
    return int(rest) if rest.isdigit() and len(rest) < 19 else None


def _thread(db, network: Network, post_url: str):
    """(post, live Article row) of a post whose comments the fediverse may see, else None: not those of a post its
    blog removed, or of a blog no longer in network.toml (their threads answer 404: posts.find_post)."""
    post = get_post(db, post_url)
    if post is None or not network.has_site(post["site"]) or comments_mode(network, post) == "confreres":
        return None
    article = query_one(db, "SELECT object_id FROM fed_articles WHERE post_url = ? AND deleted IS NULL", (post_url,))
    return (post, article) if article is not None else None


def served(db, network: Network, comment_id: int):
    """(comment row, post, Article row) of a local comment served as a Note, else None."""
    row = query_one(db, f"SELECT {COLUMNS} {FROM} WHERE c.id = ?", (comment_id,))
    if row is None or row["status"] != "approved" or row["remote_id"] is not None:
        return None
    found = _thread(db, network, row["post_url"])
    return (row, *found) if found else None


def _in_reply_to(db, network: Network, row, article_id: str) -> str:
    """The parent's Note (its remote id for a federated one) when the thread shows it, else the Article."""
    if row["parent_id"] is not None:
        parent = query_one(db, f"SELECT c.id, c.status, f.object_id AS remote_id {FROM} WHERE c.id = ?",
                           (row["parent_id"],))
        if parent is not None and parent["status"] == "approved":
            return parent["remote_id"] or note_id(network, parent["id"])
    return article_id


def note(db, network: Network, row, post, article) -> dict:
    """The Note of an approved local comment (`served`'s row), attributed to its blog's actor."""
    name = html.escape(row["author_name"] or public.ANONYMOUS)
    doc = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": note_id(network, row["id"]),
        "type": "Note",
        "attributedTo": urls.actor_id(network, post["site"]),
        "inReplyTo": _in_reply_to(db, network, row, article["object_id"]),
        "content": f"<p><strong>{name}</strong> a commenté :</p>" + sanitize.clean(row["html"]),
        "mediaType": "text/html",
        "url": f"{post['url']}#comment-{row['id']}",
        "published": articles.when(row["created"]),
        "updated": articles.when(row["edited"]),
        "to": [urls.PUBLIC],
        "cc": [urls.followers(network, post["site"])],
    }
    return {key: value for key, value in doc.items() if value is not None}


def replies_id(article_id: str) -> str:
    return article_id + "/replies"


def _listed(db, network: Network, post_url: str, offset: int, limit: int) -> tuple[int, list[str]]:
    """(how many, the ids of `limit` of them from `offset`) of the comments the thread shows, oldest first."""
    total = query_one(db, "SELECT COUNT(*) AS n FROM comments WHERE post_url = ? AND status = 'approved'",
                      (post_url,))["n"]
    rows = query(db, f"SELECT c.id, f.object_id AS remote_id {FROM} WHERE c.post_url = ? AND c.status = 'approved'"
                     " ORDER BY c.created, c.id LIMIT ? OFFSET ?", (post_url, limit, offset)) if limit else []
    return total, [row["remote_id"] or note_id(network, row["id"]) for row in rows]


def replies(db, network: Network, post_url: str, article_id: str, page: int | None) -> dict:
    """The Article's `replies`: every comment its thread shows (local Notes, federated ones by their own ids),
    oldest first, documents.PAGE_SIZE a page; empty for a thread the fediverse may not see."""
    if _thread(db, network, post_url) is None:
        return documents.collection(replies_id(article_id), 0, page)
    offset, limit = ((page - 1) * documents.PAGE_SIZE, documents.PAGE_SIZE) if page is not None else (0, 0)
    total, items = _listed(db, network, post_url, offset, limit)
    return documents.collection(replies_id(article_id), total, page, items)
