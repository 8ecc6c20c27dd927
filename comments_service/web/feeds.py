"""Atom feeds of comments: one thread, one blog, the whole network.

Built from the same public view as the API (domain/public.py): author name, website, badge, sanitised
HTML, dates. Never the e-mail (feedgenerator would print `author_email`), the IP hash or the
account id.
"""

from __future__ import annotations

import hashlib
import html
from datetime import UTC, datetime
from urllib.parse import urlencode

import feedgenerator
from flask import Blueprint, current_app, request

from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import crossblog, mentions, moves, public
from comments_service.domain.posts import find_post
from confreres.french import quoted_fr

bp = Blueprint("feeds", __name__, url_prefix="/feeds")
LIMIT = 50


def _address(path: str, **query: str) -> str:
    """The feed's public address, under comments_url (not the request's: any query string a client added): its
    rel="self" and its atom:id. The page it is the feed of (`link`) was the id, which the blog's own feed has (its
    address) and the planet's (the network's): several feeds were one for a reader that tells them apart by id."""
    address = current_app.extensions["confreres_network"].comments_url + "feeds/" + path
    return f"{address}?{urlencode(query)}" if query else address


def _feed(title: str, link: str, description: str, rows, address: str) -> feedgenerator.Atom1Feed:
    feed = feedgenerator.Atom1Feed(
        title=title, link=link, description=description, language="fr", feed_url=address, feed_guid=address
    )
    # a comment's id is made from its post's first address: a post that moved (a corrected title) kept its
    # comments, which came again as new ones to the feed's readers
    first = moves.first_addresses(get_db(), {row["post_url"] for row in rows})
    for row in rows:
        author = public.author(row)
        name = author["name"]
        if author["badge"]:
            name = f"{name} ({author['badge']['label']})"
        feed.add_item(
            title=f"{name} sur {quoted_fr(row['post_title'])}",
            link=f"{row['post_url']}#comment-{row['id']}",
            unique_id=f"{first.get(row['post_url'], row['post_url'])}#comment-{row['id']}",
            description=row["html"],
            author_name=name,
            author_link=author.get("profile") or author["website"],
            pubdate=store.parse_iso(row["created"]),
            updateddate=store.parse_iso(row["edited"] or row["created"]),
        )
    return feed


def _response(feed: feedgenerator.Atom1Feed):
    body = feed.writeString("utf-8").encode()
    response = current_app.response_class(body, mimetype="application/atom+xml")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.set_etag(hashlib.sha256(body).hexdigest()[:20])
    return response.make_conditional(request)


@bp.get("/thread.atom")
def thread():
    db = get_db()
    post = find_post(db, current_app.extensions["confreres_network"], request.args.get("url"))
    network = current_app.extensions["confreres_network"]
    rows = store.recent(db, url=post["url"], limit=LIMIT)
    title = f"Commentaires sur {quoted_fr(post['title'] or post['url'])}"
    feed = _feed(title, post["url"], title, rows, _address("thread.atom", url=post["url"]))
    _add_crossblog(feed, crossblog.answers_for(db, network, post["url"]), mentions.mentions_for(db, post["url"]))
    return _response(feed)


MENTION_VERBS = {"reply": "a répondu", "like": "a aimé", "repost": "a partagé", "bookmark": "a mis en favori"}


def _add_crossblog(feed: feedgenerator.Atom1Feed, answers: list[dict], mentions: list[dict]) -> None:
    """Answers from the network's blogs and approved Webmentions, among the comments, newest first."""
    first = moves.first_addresses(get_db(), {answer["url"] for answer in answers})
    for answer in answers:
        moment = store.parse_iso(answer["published"]) if answer["published"] else None
        feed.add_item(
            title=f"{answer['author']['name']} a répondu sur son blog : {quoted_fr(answer['title'] or answer['url'])}",
            link=answer["url"],
            unique_id=first.get(answer["url"], answer["url"]),
            description=f"<p>{html.escape(answer['excerpt'])}</p>" if answer["excerpt"] else "",
            author_name=answer["author"]["name"],
            pubdate=moment,
            updateddate=moment,
        )
    for mention in mentions:
        moment = store.parse_iso(mention["published"] or mention["received"])
        verb = MENTION_VERBS.get(mention["type"], "a mentionné ce billet")
        feed.add_item(
            title=f"{mention['author']['name']} {verb}" + (f" : {quoted_fr(mention['title'])}" if mention["title"] else ""),
            link=mention["url"],
            unique_id=f"{mention['source']}#mention-{mention['id']}",
            description=mention["html"],
            author_name=mention["author"]["name"],
            author_link=mention["author"]["website"],
            pubdate=moment,
            updateddate=store.parse_iso(mention["updated"]) if mention["updated"] else moment,
        )
    feed.items.sort(key=lambda item: item["pubdate"] or datetime.min.replace(tzinfo=UTC), reverse=True)


@bp.get("/site/<slug>.atom")
def site(slug: str):
    network = current_app.extensions["confreres_network"]
    try:
        blog = network.site(slug)
    except KeyError:
        raise ApiError(404, "unknown_site", "Ce blog n'appartient pas au réseau.") from None
    rows = store.recent(get_db(), site=slug, limit=LIMIT)
    title = f"Commentaires — {blog.title}"
    return _response(_feed(title, blog.url, f"Les derniers commentaires du blog de {blog.author}", rows,
                           _address(f"site/{blog.slug}.atom")))


@bp.get("/recent.atom")
def recent():
    network = current_app.extensions["confreres_network"]
    rows = store.recent(get_db(), member=network.has_site, limit=LIMIT)
    title = f"Commentaires — {network.name}"
    return _response(_feed(title, network.url, f"Les derniers commentaires du réseau {network.name}", rows,
                           _address("recent.atom")))

