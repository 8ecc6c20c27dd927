"""Answers between blogs, worked out from the blogs' published post lists (`<out>/<slug>/posts.json`).

Pure functions shared by the `crosslinks` Pelican plugin (which renders them) and the build (which
rebuilds a blog when what it would render changed, e.g. a confrère answered one of its posts, or
the badge of an author it names changed: see confreres.badges).
Imports no project module but the registry.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from urllib.parse import urlsplit

POSTS_FILE = "posts.json"
LINKS_FILE = "crosslinks.json"  # written by the crosslinks plugin: its digests and, lighter, the blog's posts
LINK_FIELDS = ("url", "title", "date", "reply_to")

MOVED = "moved_from"  # a post's earlier addresses (plugins/comments/moves.py): an answer to one answers the post
_READ: dict[str, tuple[tuple, dict]] = {}  # <out>/<slug>/<file> -> (its stat, what it says): read once per release
# <out>/<slug> -> (the _READ data, its posts by url, its answers, its posts' earlier addresses -> their url now)
_TAGGED: dict[str, tuple[dict, dict, dict, dict]] = {}


def address_key(url: str) -> str:
    """A post's address as a doctor may paste it in `Reply_to:` (http or https, the host in capitals, a `#commentaires`
    or `?utm_…` copied from the browser, `index.html`, the trailing slash or not): the same post for every one."""
    parts = urlsplit(url.strip())
    path = parts.path[: -len("index.html")] if parts.path.endswith("/index.html") else parts.path
    return f"{parts.netloc.lower()}{path.rstrip('/')}"


def written_otherwise(targets, urls) -> dict[str, str]:
    """{an answered address as written: the post's own address} for the `targets` that are no post's address as
    written but one's written another way (address_key), among `urls`. Asked only for targets no post has."""
    wanted: dict[str, list[str]] = {}
    for target in targets:
        wanted.setdefault(address_key(target), []).append(target)
    found = {}
    if wanted:
        for url in urls:
            for target in wanted.get(address_key(url), ()):
                found[target] = url
    return found


def load_posts(out: Path, slugs: list[str]) -> dict[str, dict]:
    """url -> post (url, title, date, reply_to and its "site") for every published post of these blogs.

    The posts are shared with later calls while their blog's file is the same: not to be changed."""
    posts: dict[str, dict] = {}
    for slug in slugs:
        posts.update(_site_posts(Path(out) / slug, slug)[0])
    return posts


def debates(out: Path, slugs: list[str]) -> dict[str, dict]:
    """`in_debates(load_posts(out, slugs))`, from each blog's answers kept with its posts: a build asks twice, and
    at 200 blogs most of the cost was going over every post of the network."""
    blogs = [_site_posts(Path(out) / slug, slug) for slug in slugs]
    earlier = {old: url for *_, moved in blogs for old, url in moved.items()}
    targets = {earlier.get(post["reply_to"], post["reply_to"]) for _, answering, _ in blogs for post in answering.values()}
    unknown = {target for target in targets if not any(target in posts for posts, _, _ in blogs)}
    if unknown:  # an answer to a page outside the network, a typo, or a post's address pasted another way
        otherwise = written_otherwise(unknown, (url for posts, _, _ in blogs for url in posts))
        earlier.update(otherwise)
        targets = {otherwise.get(target, target) for target in targets}
    found: dict[str, dict] = {}
    for posts, answering, _ in blogs:
        answered = targets.intersection(posts) if targets else ()
        if answering or answered:
            found.update((url, post) for url, post in posts.items() if url in answering or url in answered)
    return follow_moves(found, earlier)


def moved(posts: dict[str, dict]) -> dict[str, str]:
    """{earlier address: address now} of the posts that moved (their `moved_from`)."""
    return {old: url for url, post in posts.items() for old in post.get(MOVED) or () if old not in posts}


def follow_moves(posts: dict[str, dict], earlier: dict[str, str]) -> dict[str, dict]:
    """`posts` with each answer to an earlier address of a post answering it at its address now (copies: the
    posts read are shared). A blog's Markdown keeps the address its author wrote; the post it names moved."""
    if not earlier:
        return posts
    return {url: ({**post, "reply_to": earlier[post["reply_to"]]} if post.get("reply_to") in earlier else post)
            for url, post in posts.items()}


def recorded(live: Path) -> dict:
    """What a blog's live crosslinks.json says ({} when it has none): its digests, and its posts (LINK_FIELDS)."""
    return _read(live / LINKS_FILE) or {}


def _read(path: Path) -> dict | None:
    """A blog's JSON file of posts, its posts kept to LINK_FIELDS (None: not listed); None when missing or
    unreadable. Kept while the file is the same (a new release is a new inode): a build reads each blog's file
    once, however many checks need it."""
    try:
        stat = path.stat()
        key = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        kept = _READ.get(str(path))
        if kept is not None and kept[0] == key:
            return kept[1]
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    listed = data.get("posts")  # None: a release older than the posts' list in crosslinks.json
    data["posts"] = [_link_fields(post) for post in listed
                     if isinstance(post, dict) and isinstance(post.get("url"), str)] if isinstance(listed, list) else None
    _READ[str(path)] = (key, data)
    return data


def _link_fields(post: dict) -> dict:
    kept = {k: post.get(k) or "" for k in LINK_FIELDS}
    earlier = post.get(MOVED)
    if isinstance(earlier, list) and earlier:
        kept[MOVED] = [url for url in earlier if isinstance(url, str) and url]
    return kept


def _site_posts(live: Path, slug: str) -> tuple[dict[str, dict], dict[str, dict], dict[str, str]]:
    """(url -> post with its "site", the same for its posts that answer one, {earlier address: url} of its posts
    that moved) of the posts a blog's live release lists: from crosslinks.json (a few KB), else from posts.json
    (releases built before it listed them, ~80 KB: each post's excerpt, the newest ones' HTML). Kept with the
    file's content (`_read`)."""
    for name in (LINKS_FILE, POSTS_FILE):
        data = _read(live / name)
        if data is not None and data["posts"] is not None:
            break
    else:
        return {}, {}, {}
    kept = _TAGGED.get(str(live))
    if kept is not None and kept[0] is data:
        return kept[1], kept[2], kept[3]
    posts = {post["url"]: {**post, "site": slug} for post in data["posts"]}
    answering = {url: post for url, post in posts.items() if post["reply_to"]}
    _TAGGED[str(live)] = (data, posts, answering, moved(posts))
    return posts, answering, _TAGGED[str(live)][3]


def in_debates(posts: dict[str, dict]) -> dict[str, dict]:
    """Only the posts a cross-link can show: those answering a post, and those answered.

    The rest of the network changes nothing on any blog: each blog's build gets this subset, read once per build
    (confreres.build), instead of every blog's posts.json read by every blog (the build grew as blogs squared).
    The plain statement of what `debates` works out from the blogs' files (the tests hold one to the other).
    """
    posts = follow_moves(posts, moved(posts))
    targets = {post.get("reply_to") for post in posts.values() if post.get("reply_to")}
    posts = follow_moves(posts, written_otherwise(targets - set(posts), posts))
    targets = {post.get("reply_to") for post in posts.values() if post.get("reply_to")}
    return {url: post for url, post in posts.items() if post.get("reply_to") or url in targets}


def _public(post: dict) -> dict:
    return {k: post.get(k, "") for k in ("url", "title", "site", "date")}


def _root(url: str, posts: dict[str, dict]) -> str:
    seen = {url}
    while True:
        parent = posts.get(url, {}).get("reply_to")
        if not parent or parent not in posts or parent in seen:
            return url
        seen.add(parent)
        url = parent


def reply_index(posts: dict[str, dict]) -> dict[str, list[str]]:
    """url -> the urls of its answers, oldest first."""
    children: dict[str, list[str]] = {}
    for url, post in posts.items():
        parent = post.get("reply_to")
        if parent and parent in posts and parent != url:
            children.setdefault(parent, []).append(url)
    for urls in children.values():
        urls.sort(key=lambda u: (posts[u].get("date", ""), u))
    return children


def conversation(url: str, posts: dict[str, dict], children: dict[str, list[str]] | None = None) -> list[dict]:
    """The whole debate a post belongs to, root first, each answer after what it answers (with its depth)."""
    children = reply_index(posts) if children is None else children
    root = _root(url, posts)
    ordered: list[dict] = []
    stack = [(root, 0)]
    seen: set[str] = set()
    while stack:
        current, depth = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        ordered.append({**_public(posts[current]), "depth": depth})
        stack.extend((child, depth + 1) for child in reversed(children.get(current, [])))
    return ordered if len(ordered) > 1 else []


def relations(site_urls: list[str], posts: dict[str, dict],
              children: dict[str, list[str]] | None = None) -> dict[str, dict]:
    """For each post of a blog: what it answers, who answered it, and the debate it is part of."""
    children = reply_index(posts) if children is None else children
    result = {}
    for url in sorted(site_urls):
        post = posts.get(url, {})
        target = post.get("reply_to")
        result[url] = {
            "reply_to": _public(posts[target]) if target in posts else ({"url": target} if target else None),
            "answers": [_public(posts[u]) for u in children.get(url, [])],
            "conversation": conversation(url, posts, children) if url in posts else [],
        }
    return result


def digest(site_urls: list[str], posts: dict[str, dict], children: dict[str, list[str]] | None = None) -> str:
    """Changes whenever what a blog shows of the other blogs changes (its posts outside any debate count for
    nothing: the same digest from all its posts or from those `in_debates`)."""
    shown = {url: rel for url, rel in relations(site_urls, posts, children).items()
             if rel["reply_to"] or rel["answers"] or rel["conversation"]}
    data = json.dumps(shown, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()


def shown_sites(related: dict[str, dict]) -> list[str]:
    """The blogs whose authors a blog's cross-links (`relations(...)`) name: what it answers, its answers, its debates."""
    shown: set[str] = set()
    for rel in related.values():
        for post in ([rel["reply_to"]] if rel["reply_to"] else []) + rel["answers"] + rel["conversation"]:
            if post.get("site"):
                shown.add(post["site"])
    return sorted(shown)


def badges_digest(shown: list[str], badges: dict[str, dict] | None) -> str | None:
    """Changes whenever the badge of an author a blog's cross-links name (`shown_sites`) changes; None: unknown."""
    if badges is None:
        return None
    data = json.dumps({slug: badges.get(slug) for slug in shown}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(data.encode()).hexdigest()
