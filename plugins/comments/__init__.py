"""Pelican plugin: each article's comment thread.

Gives every article its thread URL (its absolute URL: the service keys threads by it) and its
comment mode, a static snapshot of its approved comments (so they are read without JavaScript
and by search engines), and publishes `posts.json`, the list of the blog's posts that the
comment service opens threads for, and `comments.json`, whether the snapshot is complete (the build
retakes it when the service answers again: confreres.freshness). The static side talks to the
service over HTTP only (confreres.service_client).
"""

from __future__ import annotations

import json
import logging
import os

from pelican import signals

from confreres import service_client
from confreres.french import date_fr, parse_iso
from confreres.freshness import SNAPSHOT_FILE
from confreres.sanitize import excerpt

from . import moves

log = logging.getLogger(__name__)

COMMENT_MODES = ("open", "confreres", "closed")
FEDERATED_CONTENT = 20  # newest posts whose HTML posts.json carries (what the fediverse shows of them)


def thread_url(settings: dict, article) -> str:
    return f"{settings['SITEURL'].rstrip('/')}/{article.url}"


def comment_mode(settings: dict, article) -> str:
    mode = str(article.metadata.get("comments", "") or "").strip().lower()
    return mode if mode in COMMENT_MODES else settings.get("COMMENTS_MODE", "open")


def follow_moved_network(instance):
    """When the demo serves the network on another origin, move the post's links to the network's pages.

    A post names its confrères' posts by their absolute URL (`Reply_to`, links in the text); with
    `NETWORK_MOVED` = (origin of network.toml, origin served) they follow the network, so the
    answers, their badges and the links work wherever the demo listens.
    """
    moved = instance.settings.get("NETWORK_MOVED")
    if not moved:
        return
    old, new = (origin.rstrip("/") + "/" for origin in moved)
    reply_to = instance.metadata.get("reply_to")
    if isinstance(reply_to, str) and reply_to.strip().startswith(old):
        instance.metadata["reply_to"] = new + reply_to.strip()[len(old):]
        instance.reply_to = instance.metadata["reply_to"]
    for attr in ("_content", "_summary"):
        value = getattr(instance, attr, None)
        if isinstance(value, str) and old in value:
            setattr(instance, attr, value.replace(f'"{old}', f'"{new}'))
    summary = instance.metadata.get("summary")
    if isinstance(summary, str) and old in summary:
        instance.metadata["summary"] = summary.replace(f'"{old}', f'"{new}')


def annotate(generator):
    """Attach the thread URL, comment mode and comments snapshot to every article."""
    articles = list(generator.articles) + list(generator.translations)
    for article in articles:
        article.thread_url = thread_url(generator.settings, article)
        article.comments_mode = comment_mode(generator.settings, article)
    snapshots, complete, known = read_threads(generator.settings.get("COMMENTS_URL", ""), [a.thread_url for a in articles])
    generator.context["COMMENTS_SNAPSHOT_COMPLETE"] = complete
    for article in articles:
        thread = snapshots.get(article.thread_url)
        article.comments_snapshot = snapshot(thread["comments"]) if thread else []
        article.comments_count = thread["total"] if thread else 0
        # False: the service failed for this thread; the page must not claim « Aucun commentaire »
        article.comments_snapshot_known = article.thread_url in known
        # comments of the thread's following pages (shown by the widget, or the service's no-JS page)
        article.comments_more = max(0, thread["total"] - _page_count(thread)) if thread else 0


def fetch_snapshots(comments_url: str, urls: list[str]) -> dict[str, dict]:
    """Threads with comments, asked of the service; {} when it is down (the widget still works live)."""
    return fetch_threads(comments_url, urls)[0]


def fetch_threads(comments_url: str, urls: list[str]) -> tuple[dict[str, dict], bool]:
    """(threads with comments, whether every one was read): the build retakes an incomplete snapshot."""
    return read_threads(comments_url, urls)[:2]


def _page_count(thread: dict) -> int:
    """Visible comments of the page read (the first one), from a service that pages its threads, or else all."""
    page = thread.get("page")
    return page["count"] if isinstance(page, dict) and isinstance(page.get("count"), int) else thread["total"]


def read_threads(comments_url: str, urls: list[str]) -> tuple[dict[str, dict], bool, set[str]]:
    """(the first page of each thread with comments, whether every one was read, the URLs whose comments are
    known: read, or counted as none). A thread the service failed to give is not known, nor, when the service
    is down, any."""
    if not comments_url or not urls:
        return {}, True, set()
    api = comments_url.rstrip("/") + "/api/"
    threads: dict[str, dict] = {}
    known: set[str] = set()
    complete = True
    try:
        with service_client.client() as client:
            counted = {}
            for batch in service_client.count_batches(client, comments_url, urls):
                counted.update(batch)
            for url, count in counted.items():
                if count == 0:
                    known.add(url)
                elif isinstance(count, int) and count > 0:
                    status, thread = service_client.thread(client, comments_url, url)
                    if isinstance(thread, dict) and isinstance(thread.get("comments"), list):
                        threads[url] = thread
                        known.add(url)
                    else:
                        log.warning("commentaires de %s non copiés dans la page : le service a répondu %s", url, status)
                        complete = False
    except service_client.UNAVAILABLE as exc:
        log.warning("commentaires non copiés dans les pages : service de commentaires injoignable à %s (%s)", api,
                    exc.__class__.__name__)
        return threads, False, known
    return threads, complete, known


def snapshot(comments: list[dict]) -> list[dict]:
    """The API's comment tree (already nested no deeper than the service shows), reduced to what the theme
    shows (public fields only); built without recursion."""
    result: list[dict] = []
    stack = [(c, result) for c in reversed(comments)]
    while stack:
        c, into = stack.pop()
        if not isinstance(c, dict):
            continue
        author = c.get("author") or {}
        created = c.get("created") or ""
        try:
            created_fr = date_fr(parse_iso(created))
        except ValueError:
            created_fr = ""
        answered = c.get("in_reply_to") if isinstance(c.get("in_reply_to"), dict) else None
        node = {
            "id": c.get("id"),
            "author_name": author.get("name") or "Anonyme",
            "author_website": author.get("website") or "",
            "badge": author.get("badge") or "",
            "is_post_author": bool(author.get("is_post_author")),
            "html": c.get("html") or "",  # sanitised by the service at write time
            "created": created,
            "created_fr": created_fr,
            "deleted": bool(c.get("deleted")),
            # a reply listed below the comment it answers: « en réponse à » that comment
            "in_reply_to": ({"id": answered.get("id"), "name": answered.get("name") or ""} if answered else None),
            "replies": [],
        }
        into.append(node)
        stack.extend((r, node["replies"]) for r in reversed(c.get("replies") or []))
    return result


def posts_index(generator) -> dict:
    posts = []
    for rank, article in enumerate(sorted(generator.articles, key=lambda a: a.date, reverse=True)):
        entry = {
            "url": thread_url(generator.settings, article),
            "title": article.title,
            "date": article.date.isoformat(),
            "comments": comment_mode(generator.settings, article),
            "source": _source(generator.settings, article),
            # plain text (shown where the post answers another blog's post): never HTML
            "excerpt": excerpt(getattr(article, "summary", "") or ""),
        }
        reply_to = str(article.metadata.get("reply_to", "") or "").strip()
        if reply_to:
            entry["reply_to"] = reply_to
        # the fediverse's Articles (comments_service/federation/articles.py): tags, last change, and the HTML of
        # the newest posts only, so the list a push announces stays small (the service sanitises it)
        tags = [tag.name for tag in getattr(article, "tags", None) or []]
        if tags:
            entry["tags"] = tags
        if getattr(article, "modified", None):
            entry["modified"] = article.modified.isoformat()
        if rank < FEDERATED_CONTENT:
            entry["content"] = article.content
        if getattr(article, "moved_from", None):
            entry["moved_from"] = article.moved_from
        posts.append(entry)
    return {"site": generator.settings.get("SITE_SLUG", ""), "posts": posts}


def _source(settings: dict, article) -> str:
    return os.path.relpath(article.source_path, settings["PATH"])


def find_moves(generators):
    """all_generators_finalized: `article.moved_from`, the earlier addresses of each post that moved (moves.py),
    once every post, page and file of the build is known (an address one of them has is not a way to a post)."""
    articles = next((g for g in generators if hasattr(g, "articles") and hasattr(g, "translations")), None)
    if articles is None:
        return
    settings, context = articles.settings, articles.context
    siteurl = settings["SITEURL"].rstrip("/") + "/"
    written = [*articles.articles, *articles.translations, *getattr(articles, "hidden_articles", []),
               *context.get("pages", []), *context.get("hidden_pages", []), *context.get("staticfiles", [])]
    current = {_source(settings, a): a for a in articles.articles}
    earlier = moves.earlier_addresses(settings, {source: thread_url(settings, a) for source, a in current.items()},
                                      {siteurl + item.url for item in written if getattr(item, "url", None)})
    for source, addresses in earlier.items():
        current[source].moved_from = addresses


def write_posts_index(generator, writer):
    """posts.json, and a page at each earlier address of a post that moved (moves.py)."""
    index = posts_index(generator)
    path = os.path.join(generator.settings["OUTPUT_PATH"], "posts.json")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(index, ensure_ascii=False))  # one line: json's C encoder (dump and indent: Python's)
    moves.write_redirects(generator, writer, [(a, a.moved_from) for a in generator.articles
                                              if getattr(a, "moved_from", None)])


def write_snapshot_marker(generator, writer):
    """`comments.json`: whether this build's snapshot holds every thread (confreres.freshness reads it)."""
    path = os.path.join(generator.settings["OUTPUT_PATH"], SNAPSHOT_FILE)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"complete": bool(generator.context.get("COMMENTS_SNAPSHOT_COMPLETE", False))}, handle)


def register():
    signals.content_object_init.connect(follow_moved_network)
    signals.article_generator_finalized.connect(annotate)
    signals.all_generators_finalized.connect(find_moves)
    signals.article_writer_finalized.connect(write_posts_index)
    signals.article_writer_finalized.connect(write_snapshot_marker)
