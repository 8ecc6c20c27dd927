"""Pelican plugin: each article's comment thread.

Gives every article its thread URL (its absolute URL: the service keys threads by it) and its
comment mode, and publishes `posts.json`, the list of the blog's posts that the comment service
opens threads for. The static side talks to the service over HTTP only.
"""

from __future__ import annotations

import json
import os

from pelican import signals

COMMENT_MODES = ("open", "confreres", "closed")


def thread_url(settings: dict, article) -> str:
    return f"{settings['SITEURL'].rstrip('/')}/{article.url}"


def comment_mode(settings: dict, article) -> str:
    mode = str(article.metadata.get("comments", "") or "").strip().lower()
    return mode if mode in COMMENT_MODES else settings.get("COMMENTS_MODE", "open")


def annotate(generator):
    """Attach the thread URL and comment mode to every article (and its translations)."""
    for article in list(generator.articles) + list(generator.translations):
        article.thread_url = thread_url(generator.settings, article)
        article.comments_mode = comment_mode(generator.settings, article)


def posts_index(generator) -> dict:
    posts = []
    for article in sorted(generator.articles, key=lambda a: a.date, reverse=True):
        entry = {
            "url": thread_url(generator.settings, article),
            "title": article.title,
            "date": article.date.isoformat(),
            "comments": comment_mode(generator.settings, article),
            "source": os.path.relpath(article.source_path, generator.settings["PATH"]),
        }
        reply_to = str(article.metadata.get("reply_to", "") or "").strip()
        if reply_to:
            entry["reply_to"] = reply_to
        posts.append(entry)
    return {"site": generator.settings.get("SITE_SLUG", ""), "posts": posts}


def write_posts_index(generator, writer):
    path = os.path.join(generator.settings["OUTPUT_PATH"], "posts.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(posts_index(generator), handle, ensure_ascii=False, indent=1)


def register():
    signals.article_generator_finalized.connect(annotate)
    signals.article_writer_finalized.connect(write_posts_index)
