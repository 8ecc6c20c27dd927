"""Threads across blogs: answers as thread entries, the debates between blogs, the most active threads.

A post of a member blog whose `reply_to` is another post's URL (declared by the build, see
posts.sync) is an *answer*: the answered post's thread lists it (`"answers"`), next to its
approved Webmentions (`"mentions"`) and its likes and boosts from the fediverse (`"fediverse"`). Posts linked by reply_to form *conversations*:
`GET /api/conversations` and the server-rendered French page `/debats`. `GET /api/threads/active`
gives the threads with the most approved comments of the last days (the planet asks it at build
time). `GET /api/sites` gives each blog's author badge, from the verification records of the
accounts linked to the blog: answers, debates, the planet and the blogs' static cross-links show a
"Médecin vérifié" only where it says so; and each blog's `comments_version`, which moves when what its pages
show of its threads changes (the build rebuilds that blog's static snapshot of its comments, and the planet). Every shape comes from domain/public.py.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import datetime, timedelta

from comments_service.domain import comments as store
from comments_service.domain import mentions, public

CHUNK = 500  # URLs per IN (...) query


# -- the thread document -------------------------------------------------------------------------

def thread(db, network, post, owned: dict[int, str] | None = None, **page) -> dict:
    """The public thread of a post: a page of its comments (`page`: depth, offset, limit, as
    store.thread_document), the network's answers to it and its approved mentions."""
    document = store.thread_document(db, network, post, owned, **page)
    document["answers"] = answers_for(db, network, post["url"])
    document["mentions"] = mentions.mentions_for(db, post["url"])
    document["fediverse"] = fediverse(db, post["url"])
    return document


def fediverse(db, post_url: str) -> dict[str, int]:
    """How many fediverse accounts liked and boosted the post (federation/replies.py counts them)."""
    found = {"Like": 0, "Announce": 0}
    for row in store.query(db, "SELECT kind, COUNT(*) AS n FROM fed_reactions WHERE post_url = ? GROUP BY kind",
                           (post_url,)):
        found[row["kind"]] = row["n"]
    return {"likes": found["Like"], "boosts": found["Announce"]}


def site_badges(db, network) -> dict[str, dict | None]:
    """slug -> the badge of the blog's author, or None: from the verification records, never from network.toml.

    The author is an account linked to the blog (account_sites) whose verification is at level
    `verified`; when several are, the one whose display name is the blog's author name in
    network.toml, else the oldest account. Its specialty shows only if that account shows it.
    """
    rows = store.query(
        db,
        "SELECT s.site, a.display_name, a.show_specialty, a.badge_specialty, v.method"
        " FROM account_sites s JOIN accounts a ON a.id = s.account_id JOIN verifications v ON v.account_id = a.id"
        " WHERE v.level = 'verified' ORDER BY s.site, a.id",
    )
    chosen: dict[str, object] = {}
    for row in rows:
        try:
            name = network.site(row["site"]).author
        except KeyError:
            continue  # a blog no longer in network.toml
        current = chosen.get(row["site"])
        if current is None or (_same_name(row["display_name"], name) and not _same_name(current["display_name"], name)):
            chosen[row["site"]] = row
    badges: dict[str, dict | None] = {}
    for site in network.sites:
        row = chosen.get(site.slug)
        if row is None:
            badges[site.slug] = None
            continue
        specialty = row["badge_specialty"] if row["show_specialty"] else None
        badges[site.slug] = public.site_badge("verified", specialty, row["method"])
    return badges


def comments_versions(db, network) -> dict[str, str]:
    """slug -> an opaque digest that moves whenever a thread of the blog's that has comments changes.

    Each change of what a thread shows bumps its post's `public_version` (posts.bump_post: a comment approved,
    or an approved one edited, deleted or rejected, its author's badge or name changed, an answer, an
    approved mention), strictly upwards; a comment or mention awaiting moderation, or refused while it
    waited, does not (it bumps only `version`, the thread's ETag), so it costs no rebuild. The blog's
    digest is over (number, sum, maximum) of those versions, for its listed posts that ever showed
    something (public_version > 0): announcing new posts (PUT /api/sites/<slug>/posts, after every build)
    does not move it. One pass over the network's posts, none over the comments. The build compares it
    with the one its last build of the blog recorded, and rebuilds the blog's static snapshot of its
    threads when it moved. It tells nothing but "something changed", as the threads' own ETags do.
    """
    rows = store.query(
        db,
        "SELECT site, COUNT(*) AS n, SUM(public_version) AS total, MAX(public_version) AS last FROM posts"
        " WHERE listed = 1 AND public_version > 0 GROUP BY site",
    )
    found = {row["site"]: (row["n"], row["total"], row["last"]) for row in rows}
    return {
        site.slug: hashlib.sha256(
            "{}\0{}\0{}\0{}".format(site.slug, *found.get(site.slug, (0, 0, 0))).encode()
        ).hexdigest()[:20]
        for site in network.sites
    }


def posts_digests(db, network) -> dict[str, dict]:
    """slug -> {"count", "digest"} of the blog's listed posts, as the service knows them.

    The digest is the first 20 hex digits of the sha256 of the posts' URLs, sorted, one per line (UTF-8,
    no final newline): `confreres build` computes the same from the blog's published posts.json
    (confreres.freshness.posts_digest) and announces the posts again when they differ, e.g. to a
    database restored from an older backup or started empty on a new server.
    """
    urls: dict[str, list[str]] = defaultdict(list)
    for row in store.query(db, "SELECT site, url FROM posts WHERE listed = 1"):
        urls[row["site"]].append(row["url"])
    return {
        site.slug: {
            "count": len(urls[site.slug]),
            "digest": hashlib.sha256("\n".join(sorted(urls[site.slug])).encode()).hexdigest()[:20],
        }
        for site in network.sites
    }


def _same_name(a: str | None, b: str | None) -> bool:
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def answers_for(db, network, url: str) -> list[dict]:
    """Listed posts of member blogs answering `url`, oldest first."""
    sites = {site.slug: site for site in network.sites}
    rows = store.query(
        db,
        "SELECT url, site, title, published, excerpt FROM posts WHERE reply_to = ? AND listed = 1 AND url != ?",
        (url, url),
    )
    if not rows:
        return []
    badges = site_badges(db, network)
    answers = [public.answer(row, sites[row["site"]], badges) for row in rows if row["site"] in sites]
    answers.sort(key=lambda a: (a["published"] or "", a["url"]))
    return answers


# -- conversations ---------------------------------------------------------------------------------

def _chunks(items: list[str]):
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _activity(db, table: str, stamp: str, urls: list[str]) -> dict[str, tuple[int, str]]:
    """{post url: (approved entries, latest activity)} for comments or mentions."""
    found = {}
    for chunk in _chunks(urls):
        marks = ",".join("?" * len(chunk))
        for row in store.query(
            db,
            f"SELECT post_url, COUNT(*) AS n, MAX({stamp}) AS last FROM {table}"
            f" WHERE status = 'approved' AND post_url IN ({marks}) GROUP BY post_url",
            chunk,
        ):
            found[row["post_url"]] = (row["n"], row["last"])
    return found


def trees(posts: dict[str, dict]) -> list[list[tuple[str, int, str | None]]]:
    """Each group of posts linked by reply_to, as [(url, depth, answered url)], root first, depth-first.

    reply_to points to one post at most, so a group is a tree, or a loop with branches (two posts
    answering each other): its earliest post of the loop is then taken as the root.
    """
    parent = {}
    children: dict[str, list[str]] = defaultdict(list)
    for url, post in posts.items():
        target = post["reply_to"]
        if target and target in posts and target != url:
            parent[url] = target
            children[target].append(url)
    for urls in children.values():
        urls.sort(key=lambda u: (posts[u]["published"] or "", u))

    seen: set[str] = set()

    def walk(root: str) -> list[tuple[str, int, str | None]]:
        ordered, stack = [], [(root, 0, None)]
        while stack:
            url, depth, answered = stack.pop()
            if url in seen:
                continue
            seen.add(url)
            ordered.append((url, depth, answered))
            stack.extend((child, depth + 1, url) for child in reversed(children.get(url, [])))
        return ordered

    order = sorted(posts, key=lambda u: (posts[u]["published"] or "", u))
    groups = [walk(url) for url in order if url not in parent and url in children]
    for url in order:  # loops: no post without a parent
        if url in seen or url not in parent:
            continue
        loop, current = [], url
        while current in parent and current not in loop:
            loop.append(current)
            current = parent[current]
        if current not in loop:
            continue
        root = min(loop[loop.index(current):], key=lambda u: (posts[u]["published"] or "", u))
        groups.append(walk(root))
    return groups


def conversations(db, network, *, site: str | None = None, days: int | None = None, limit: int = 20,
                  now: datetime | None = None) -> tuple[list[dict], int]:
    """The live conversations between blogs (two blogs at least), newest activity first; and their number."""
    sites = {s.slug: s for s in network.sites}
    rows = store.query(db, "SELECT url, site, title, published, excerpt, reply_to FROM posts WHERE listed = 1")
    posts = {}
    badges = site_badges(db, network)
    for row in rows:
        if row["site"] in sites:
            posts[row["url"]] = {**public.post_summary(row, sites[row["site"]], badges), "reply_to": row["reply_to"]}
    groups = [g for g in trees(posts) if len({posts[u]["site"] for u, _, _ in g}) >= 2]
    urls = [url for group in groups for url, _, _ in group]
    comments = _activity(db, "comments", "created", urls)
    mentions = _activity(db, "mentions", "coalesce(updated, created)", urls)

    result = []
    since = store.iso((now or store.utcnow()) - timedelta(days=days)) if days else None
    for group in groups:
        entries, stamps = [], []
        for url, depth, answered in group:
            post = posts[url]
            n_comments, last_comment = comments.get(url, (0, None))
            n_mentions, last_mention = mentions.get(url, (0, None))
            stamps += [s for s in (post["published"], last_comment, last_mention) if s]
            entries.append({**post, "reply_to": answered, "depth": depth, "comments": n_comments,
                            "mentions": n_mentions})
        last = max(stamps) if stamps else None
        if since and (last is None or last < since):
            continue
        if site and not any(e["site"] == site for e in entries):
            continue
        slugs = list(dict.fromkeys(e["site"] for e in entries))
        result.append(
            {
                "root": entries[0]["url"],
                "title": entries[0]["title"],
                "sites": slugs,
                "answers": len(entries) - 1,
                "comments": sum(e["comments"] for e in entries),
                "mentions": sum(e["mentions"] for e in entries),
                "last_activity": last,
                "posts": entries,
            }
        )
    result.sort(key=lambda c: (c["last_activity"] or "", c["root"]), reverse=True)
    return result[:limit], len(result)


def active_threads(db, network, *, days: int = 14, limit: int = 10, now: datetime | None = None) -> list[dict]:
    """Threads with the most approved comments of the last `days` days (ties: latest activity first)."""
    sites = {s.slug: s for s in network.sites}
    if not sites:
        return []
    since = store.iso((now or store.utcnow()) - timedelta(days=days))
    marks = ",".join("?" * len(sites))
    rows = store.query(
        db,
        "SELECT p.url, p.title, p.site, COUNT(*) AS n, MAX(c.created) AS last FROM comments c"
        " JOIN posts p ON p.url = c.post_url"
        f" WHERE c.status = 'approved' AND c.created >= ? AND p.listed = 1 AND p.site IN ({marks})"
        " GROUP BY p.url ORDER BY n DESC, last DESC, p.url LIMIT ?",
        (since, *sites, limit),
    )
    return [
        {"url": row["url"], "title": row["title"], "site": row["site"], "site_title": sites[row["site"]].title,
         "comments": row["n"], "last_activity": row["last"]}
        for row in rows
    ]
