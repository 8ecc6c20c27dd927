"""Pelican plugin: answers between blogs of the network.

A post with `Reply_to: <URL of a post of another blog>` shows what it answers; the answered post
lists the confrères' answers; both show the whole debate when it spans several posts. The other
blogs are known from their published `posts.json` (the build rebuilds a blog when that changes).
Each author named there shows "Médecin vérifié" only when the comment service says so (its
`GET /api/sites`, asked over HTTP at build time: confreres.badges); a service that is down means
no badges, never a failed build.
"""

from __future__ import annotations

import json
import os

from pelican import signals

from confreres import badges as author_badges
from confreres import crosslinks

DIGEST_FILE = crosslinks.LINKS_FILE


def _sites(settings: dict) -> dict[str, dict]:
    return {s["slug"]: s for s in settings.get("NETWORK_SITES", [])}


def _enrich(post: dict | None, sites: dict[str, dict], badges: dict[str, dict] | None) -> dict | None:
    if not post:
        return None
    slug = post.get("site", "")  # load_posts and network_posts always set "site"
    site = sites.get(slug, {})
    return {
        **post,
        "author": site.get("author", ""),
        "specialty": site.get("specialty", ""),
        "site_title": site.get("title", ""),
        "badge": (badges or {}).get(slug),  # {"label", "title"} when the service says the author is verified
    }


def network_posts(generator) -> tuple[dict[str, dict], list[str]]:
    """The other blogs' posts in debates (NETWORK_DEBATES: read once by the build for every blog; else from their
    published posts.json), then this blog's own posts as this build makes them."""
    settings = generator.settings
    own_slug = settings.get("SITE_SLUG", "")
    known = settings.get("NETWORK_DEBATES")
    if known is None:
        others = [slug for slug in _sites(settings) if slug != own_slug]
        known = crosslinks.debates(settings.get("NETWORK_OUTPUT", ""), others)
    posts = {url: post for url, post in known.items() if post.get("site") != own_slug}
    own_urls = []
    for article in generator.articles:
        url = f"{settings['SITEURL'].rstrip('/')}/{article.url}"
        own_urls.append(url)
        posts[url] = {
            "url": url,
            "title": article.title,
            "date": article.date.isoformat(),
            "site": own_slug,
            "reply_to": str(article.metadata.get("reply_to", "") or "").strip(),
        }
    _add_answered(posts, settings, own_slug)
    return posts, own_urls


def _add_answered(posts: dict[str, dict], settings: dict, own_slug: str):
    """The other blogs' posts this blog answers for the first time (in no debate yet): read from their blog's
    posts.json. An answer to a post's earlier address answers the post where it is now (crosslinks.follow_moves)."""
    own = [post for post in posts.values() if post.get("site") == own_slug and post.get("reply_to")]
    earlier = crosslinks.moved(posts)
    missing = {earlier.get(post["reply_to"], post["reply_to"]) for post in own} - set(posts)
    sites = [(s["url"], s["slug"]) for s in settings.get("NETWORK_SITES", []) if s["slug"] != own_slug and s.get("url")]
    blogs = {slug for url in missing for prefix, slug in sites if url.startswith(prefix)}
    if blogs:
        found = crosslinks.load_posts(settings.get("NETWORK_OUTPUT", ""), sorted(blogs))
        earlier.update(crosslinks.moved(found))
        posts.update({earlier.get(url, url): found[earlier.get(url, url)] for url in missing
                      if earlier.get(url, url) in found})
    for post in own:
        post["reply_to"] = earlier.get(post["reply_to"], post["reply_to"])


def annotate(generator):
    sites = _sites(generator.settings)
    posts, own_urls = network_posts(generator)
    relations = crosslinks.relations(own_urls, posts)
    shown = crosslinks.shown_sites(relations)
    badges = author_badges.fetch(generator.settings.get("COMMENTS_URL", "")) if shown else {}
    base = generator.settings["SITEURL"].rstrip("/")
    for article in generator.articles:
        rel = relations.get(f"{base}/{article.url}")
        if not rel:
            continue
        target = _enrich(rel["reply_to"], sites, badges) if rel["reply_to"] else None
        if target:
            if target.get("url") and getattr(article, "reply_to", None) != target["url"]:
                article.reply_to = target["url"]  # the answered post moved: link to where it is (its metadata stays)
            article.reply_to_title = target.get("title") or None
            article.reply_to_author = target.get("author") or None
            article.reply_to_site = target.get("site_title") or None
            article.reply_to_badge = target.get("badge") if target.get("author") else None
        article.answers = [_enrich(a, sites, badges) for a in rel["answers"]]
        article.conversation = [_enrich(p, sites, badges) for p in rel["conversation"]]
    generator.context["CROSSLINKS_DIGEST"] = crosslinks.digest(own_urls, posts)
    generator.context["CROSSLINKS_BADGES"] = crosslinks.badges_digest(shown, badges)
    generator.context["CROSSLINKS_POSTS"] = [{k: posts[url].get(k, "") for k in crosslinks.LINK_FIELDS}
                                             for url in own_urls]


def write_digest(generator, writer):
    """crosslinks.json: what the build compares (digests) and what the other blogs read of this one (its posts)."""
    path = os.path.join(generator.settings["OUTPUT_PATH"], DIGEST_FILE)
    base = generator.settings["SITEURL"].rstrip("/")
    earlier = {f"{base}/{a.url}": a.moved_from for a in generator.articles if getattr(a, "moved_from", None)}
    posts = [{**post, crosslinks.MOVED: earlier[post["url"]]} if post["url"] in earlier else post
             for post in generator.context.get("CROSSLINKS_POSTS", [])]  # plugins/comments: moves found since
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"digest": generator.context.get("CROSSLINKS_DIGEST", ""),
                   "badges": generator.context.get("CROSSLINKS_BADGES"),
                   "posts": posts}, handle, ensure_ascii=False)


def register():
    signals.article_generator_finalized.connect(annotate)
    signals.article_writer_finalized.connect(write_digest)
