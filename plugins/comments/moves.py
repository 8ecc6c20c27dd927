"""A published post at a new address: its earlier addresses, told to the service and kept answering.

Pelican makes a post's address from its title (or `Slug:`, or the blog's permalinks in site.toml): correcting a
title after publication moves the post. The same Markdown file at another address than in the live release's
posts.json is the same post moved: its entry in the new posts.json lists its earlier addresses (`moved_from`,
carried from release to release), the announce moves its thread there (comments_service/domain/moves.py), and each
earlier address gets a page that leads to the new one (meta refresh, canonical link, noindex; a static host has
no 301), so links, bookmarks and search results keep working. An earlier address that another post or page has
now is that post's, not a way to the moved one.
"""

from __future__ import annotations

import json
import logging
import os
import posixpath
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

MAX_MOVES = 20  # earlier addresses kept per post (the service takes as many: validate.MAX_MOVES)
TEMPLATE = "moved"


def published_posts(settings: dict) -> list[dict]:
    """The live release's posts.json posts ([] without one: a first build, a preview elsewhere)."""
    path = os.path.join(settings.get("NETWORK_OUTPUT", ""), settings.get("SITE_SLUG", ""), "posts.json")
    try:
        with open(path, encoding="utf-8") as handle:
            posts = json.load(handle).get("posts")
    except (OSError, ValueError, AttributeError):
        return []
    return [p for p in posts if isinstance(p, dict)] if isinstance(posts, list) else []


def earlier_addresses(settings: dict, current: dict[str, str], taken: set[str]) -> dict[str, list[str]]:
    """source -> the post's earlier addresses on this blog, oldest first, for the posts `current` (source -> url)
    lists at another address than the live release did. `taken`: every address this build writes a post or page
    at (never an earlier address of another post)."""
    siteurl = settings["SITEURL"].rstrip("/") + "/"
    found: dict[str, list[str]] = {}
    for post in published_posts(settings):
        source = post.get("source")
        if not isinstance(source, str) or source not in current:
            continue
        before = post.get("moved_from") if isinstance(post.get("moved_from"), list) else []
        kept: list[str] = []
        for url in [*before, post.get("url")]:
            if (isinstance(url, str) and url != current[source] and url not in taken and url not in kept
                    and url.startswith(siteurl) and _output_name(url, siteurl)):
                kept.append(url)
        if kept:
            found[source] = kept[-MAX_MOVES:]
    return found


def _output_name(url: str, siteurl: str) -> str:
    """The file an address of the blog is served from ("" when it cannot be one of its files)."""
    path = unquote(urlsplit(url[len(siteurl):]).path)
    if path == "" or path.endswith("/"):
        path += "index.html"
    name = posixpath.normpath(path)
    if name.startswith(("/", "../")) or name in (".", "..") or "\\" in name or "\x00" in name:
        return ""
    return name


def write_redirects(generator, writer, moved: list[tuple[object, list[str]]]) -> None:
    """A page at each earlier address of each moved post, leading to it; never over a file of this build."""
    siteurl = generator.settings["SITEURL"].rstrip("/") + "/"
    output = generator.settings["OUTPUT_PATH"]
    template = generator.get_template(TEMPLATE)
    for article, earlier in moved:
        for url in earlier:
            name = _output_name(url, siteurl)
            if not name or os.path.exists(os.path.join(output, name)):
                continue
            writer.write_file(name, template, generator.context, article=article, old_url=url)
