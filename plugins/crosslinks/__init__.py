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
from confreres import checks, crosslinks

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


def network_posts(generator) -> tuple[dict[str, dict], list[str], dict[str, str]]:
    """The other blogs' posts in debates (NETWORK_DEBATES: read once by the build for every blog; else from their
    published posts.json), then this blog's own posts as this build makes them; and the answers whose Reply_to
    names a post another way than its address (_add_answered)."""
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
    written_otherwise = _add_answered(posts, settings, own_slug)
    return posts, own_urls, written_otherwise


def _add_answered(posts: dict[str, dict], settings: dict, own_slug: str) -> dict[str, str]:
    """The other blogs' posts this blog answers for the first time (in no debate yet): read from their blog's
    posts.json. An answer to a post's earlier address answers the post where it is now (crosslinks.follow_moves);
    one written another way (crosslinks.address_key) answers the post at its address, returned by the answer's URL."""
    own = [post for post in posts.values() if post.get("site") == own_slug and post.get("reply_to")]
    earlier = crosslinks.moved(posts)
    missing = {earlier.get(post["reply_to"], post["reply_to"]) for post in own} - set(posts)
    sites = [(crosslinks.address_key(s["url"]) + "/", s["slug"]) for s in settings.get("NETWORK_SITES", [])
             if s["slug"] != own_slug and s.get("url")]
    blogs = {slug for url in missing for prefix, slug in sites if (crosslinks.address_key(url) + "/").startswith(prefix)}
    found = crosslinks.load_posts(settings.get("NETWORK_OUTPUT", ""), sorted(blogs)) if blogs else {}
    earlier.update(crosslinks.moved(found))
    posts.update({earlier.get(url, url): found[earlier.get(url, url)] for url in missing
                  if earlier.get(url, url) in found})
    for post in own:
        post["reply_to"] = earlier.get(post["reply_to"], post["reply_to"])
    unknown = {post["reply_to"] for post in own} - set(posts)
    otherwise = crosslinks.written_otherwise(unknown, [*found, *posts]) if unknown else {}
    posts.update({url: found[url] for url in otherwise.values() if url not in posts})
    rewritten = {}
    for post in own:
        if post["reply_to"] in otherwise:
            post["reply_to"] = rewritten[post["url"]] = otherwise[post["reply_to"]]
    return rewritten


def _unknown_replies(generator, posts: dict[str, dict], own_urls: list[str]):
    """This blog's posts whose Reply_to is no address, or names a page of the network that is no post of it (a typo,
    a post deleted): said to the doctor by the build. An answer to a page outside the network is its author's
    choice (a Webmention goes there): not said."""
    settings = generator.settings
    network = [crosslinks.address_key(url) + "/" for url in
               [settings["SITEURL"], *(s.get("url") or "" for s in settings.get("NETWORK_SITES", []))] if url]
    found = []
    for article, url in zip(generator.articles, own_urls, strict=True):
        written = str(article.metadata.get("reply_to", "") or "").strip()
        target = posts.get(url, {}).get("reply_to")
        if not written or target in posts:
            continue
        if not written.lower().startswith(("https://", "http://")):
            found.append((article.source_path, written, False))
        elif any((crosslinks.address_key(target) + "/").startswith(prefix) for prefix in network):
            found.append((article.source_path, written, True))
    checks.note_unknown_replies(found, settings.get("PATH"))


def annotate(generator):
    sites = _sites(generator.settings)
    posts, own_urls, written_otherwise = network_posts(generator)
    _unknown_replies(generator, posts, own_urls)
    relations = crosslinks.relations(own_urls, posts)
    shown = crosslinks.shown_sites(relations)
    badges = author_badges.fetch(generator.settings.get("COMMENTS_URL", "")) if shown else {}
    base = generator.settings["SITEURL"].rstrip("/")
    for article in generator.articles:
        url = f"{base}/{article.url}"
        if url in written_otherwise:  # posts.json, the service and the other blogs see the post's own address
            article.metadata["reply_to"] = article.reply_to = written_otherwise[url]
        rel = relations.get(url)
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
