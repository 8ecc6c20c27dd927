"""An Over-blog (or Eklablog) export, read: its posts and pages (written by post_import) and their comments (imported
by the comment service's importers/overblog.py).

    export = read_overblog("export.xml")
    import_posts("export.xml", Path("sites/dr-martin/content"))

Over-blog and its sibling Eklablog export a blog as one XML file of their own (not WordPress's):

    <root><blog>…</blog>
      <posts><post><title/><slug>2020/06/garde-de-nuit.html</slug><content/><status>2</status><tags>a,b</tags>
        <created_at/><published_at>2020-06-24T10:00:00+02:00</published_at><modified_at/><author/>
        <comments><comment><published_at/><status>1</status><author_name/><author_email/><author_url/><author_ip/>
          <content/><replies><comment>…</comment></replies></comment></comments></post></posts>
      <pages><page>…</page></pages></root>

A post's status 2 is published, 1 a draft (what the tools that move these blogs to WordPress read); a comment's 1 is
published, anything else was not shown. Dates carry their offset (a date without one is Paris time). The slug is the
post's address on the blog (« 2020/06/garde-de-nuit.html », or « article-1234.html » for older posts, whose slug is
then made from the title). Pictures are on the platforms' servers (`img.over-blog-kiwi.com`, `image.over-blog.com`
and its resizing addresses, `ekladata.com`…): downloaded with the posts; a resizing address that carries the
original (« resize.over-blog.com/300x300.jpg?https://img.over-blog-kiwi.com/… ») is read as that original.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from confreres.french import PARIS, slugify, utc_datetime
from confreres.post_import import (
    PostsReport,
    Source,
    SourcePost,
    no_query,
    one_line,
    platform_path,
    write_posts,
)
from confreres.wxr import local
from confreres.xml_input import ExportError, XmlExport, parts

PUBLISHED = {"2", "publish", "published", ""}  # no status said: as the blog showed it
DRAFTS = {"1": "brouillon", "0": "brouillon", "draft": "brouillon"}
_PLATFORMS = re.compile(r"(?:^|\.)(?:over-blog-kiwi\.com|over-blog\.com|overblog\.com|eklablog\.com|ekladata\.com)$")
_RESIZE = re.compile(r"""(\b(?:src|href)\s*=\s*["']?)(https?://resize\.over-blog\.com/[^"'?\s>]*\?)([^"'\s>#]+)"""
                     r"""[^"'\s>]*""", re.I)  # quoted or not
_ARTICLE_NUMBER = re.compile(r"^article-\d+$")


@dataclass
class ObComment:
    key: str  # a digest of its post, author, date and text: the format gives no ids
    parent: str  # the key of the comment it answers, "" for a comment on the post
    author: str
    email: str
    url: str
    published: datetime | None  # aware
    status: str
    html: str
    line: int


@dataclass
class ObPost:
    kind: str  # "post" | "page"
    title: str
    address: str  # its path on the blog, as the export gives it (« 2020/06/garde-de-nuit.html »)
    html: str
    status: str
    date: datetime | None  # Paris time, naive
    tags: list[str]
    comments: list[ObComment]
    line: int

    @property
    def slug(self) -> str:
        """« 2020/06/garde-de-nuit.html » -> « garde-de-nuit »; an « article-1234 » (older posts) -> from the title."""
        stem = re.sub(r"\.html?$", "", PurePosixPath(unquote(self.address)).name)
        if not stem or _ARTICLE_NUMBER.match(stem):
            return slugify(one_line(self.title), default=stem or f"billet-{self.line}")
        return slugify(stem, default=f"billet-{self.line}")


@dataclass
class OverblogExport:
    blog_url: str  # the blog's address when the export says it ("" otherwise)
    posts: list[ObPost]
    repairs: Counter = field(default_factory=Counter)


def _text(elem, name: str) -> str:
    child = next((c for c in elem if local(c.tag)[1] == name), None)
    return (child.text or "") if child is not None else ""


def _moment(value: str) -> datetime | None:
    """An export's date: ISO 8601 with its offset; without one, Paris time."""
    value = (value or "").strip()
    if not value:
        return None
    if re.search(r"(?:Z|[+-]\d{2}:?\d{2})$", value):
        return utc_datetime(value)
    try:
        return datetime.fromisoformat(value.replace(" ", "T", 1)).replace(tzinfo=PARIS).astimezone(UTC)
    except (ValueError, OverflowError):  # « 0001-01-01 00:00:00 » in Paris has no UTC time
        return None


def _comments(elem, post_key: str, parent: str, line: int, found: list[ObComment]) -> None:
    for child in elem:
        if local(child.tag)[1] != "comment":
            continue
        author, html = one_line(_text(child, "author_name")), _text(child, "content").strip()
        published = _moment(_text(child, "published_at"))
        key = hashlib.sha256("\x00".join((post_key, parent, author, published.isoformat() if published else "",
                                          html)).encode()).hexdigest()[:16]
        while any(c.key == key for c in found):  # the same words twice at the same time: kept apart
            key = hashlib.sha256(key.encode()).hexdigest()[:16]
        found.append(ObComment(key, parent, author, _text(child, "author_email").strip(),
                               _text(child, "author_url").strip(), published, _text(child, "status").strip(), html,
                               line))
        replies = next((c for c in child if local(c.tag)[1] == "replies"), None)
        if replies is not None:
            _comments(replies, post_key, key, line, found)


def _post(elem, kind: str, line: int) -> ObPost:
    date = _moment(_text(elem, "published_at")) or _moment(_text(elem, "created_at"))
    post = ObPost(kind, _text(elem, "title").strip(), _text(elem, "slug").strip().lstrip("/"),
                  _text(elem, "content"), _text(elem, "status").strip().lower(),
                  date.astimezone(PARIS).replace(tzinfo=None) if date else None,
                  [t.strip() for t in _text(elem, "tags").split(",") if t.strip()], [], line)
    comments = next((c for c in elem if local(c.tag)[1] == "comments"), None)
    if comments is not None:
        _comments(comments, post.address or post.title, "", line, post.comments)
    return post


def read_overblog(path: str | Path) -> OverblogExport:
    """The posts and pages of an Over-blog or Eklablog export (plain or gzipped); ExportError when it cannot be read."""
    [member, *others] = parts(path, lambda name: name.lower().endswith(".xml"), "d'export Over-blog (.xml)")
    if others:
        raise ExportError(f"l'archive contient {len(others) + 1} fichiers .xml : importez l'export du blog seul")
    source = XmlExport(path, "un export Over-blog", root="root", member=member,
                       in_parts="Over-blog : Paramètres > Exporter, ou un blog plus petit à la fois")
    blog_url = ""
    posts: list[ObPost] = []
    seen_lists = False
    listing = None  # the <posts> or <pages> being read: each post dropped from it once read
    for event, elem, depth in source.events():
        name = local(elem.tag)[1]
        if event == "start":
            if depth == 2:
                listing = elem
            continue
        if depth == 2 and name in ("posts", "pages"):
            seen_lists = True
        elif depth == 2 and name == "blog":
            blog_url = next((t.strip() for t in (c.text or "" for c in elem.iter())
                             if re.match(r"https?://[^\s/]+\.[^\s/]+/?$", t.strip())), "")
        elif depth == 3 and name in ("post", "page") and listing is not None:
            posts.append(_post(elem, name, source.line()))
            listing.remove(elem)
    if not seen_lists:
        raise ExportError("ce n'est pas un export Over-blog ou Eklablog : ni <posts> ni <pages> sous <root>")
    return OverblogExport(blog_url, posts, source.repairs)


# -- posts ----------------------------------------------------------------------------------------


def original(url: str) -> str:
    """A platform's resizing address -> the picture it resizes, when it says (« …/filters:no_upscale()/image%2F… »
    is kept: it serves the picture itself)."""
    parts = urlsplit(url)
    if (parts.hostname or "").lower() == "resize.over-blog.com" and parts.query:
        inner = unquote(parts.query.split("#")[0])
        return inner if inner.startswith(("http://", "https://")) else "https://" + inner.lstrip("/")
    return url


def _upload_path(hosts: set[str]):
    """The platforms' pictures and files (and those on the blog's own address, `hosts`) -> images/<host>/… with a
    digest of the address: one picture is served at several sizes under one name."""

    def upload_path(url: str) -> str | None:
        plain = no_query(url)
        parts = urlsplit(plain)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not (_PLATFORMS.search(host) or host in hosts):
            return None
        name = PurePosixPath(unquote(parts.path)).name.split("/")[-1]
        stem, dot, extension = name.rpartition(".")
        if not dot or not re.fullmatch(r"[A-Za-z0-9]{2,5}", extension) or extension.lower() in ("html", "htm", "php"):
            return None  # a page of the blog, not a file
        return platform_path(host, plain, stem, extension)

    return upload_path


def posts_source(export: OverblogExport, old_url: str = "") -> Source:
    base = (old_url or export.blog_url).strip()
    if base and not base.endswith("/"):
        base += "/"
    hosts = {urlsplit(base).hostname.lower()} if urlsplit(base).hostname else set()
    source = Source("Over-blog", "", base, hosts, [], _upload_path(hosts), repairs=export.repairs)
    for post in export.posts:
        if comments := len(post.comments):
            source.skipped["comment"] += comments
        why = "" if post.status in PUBLISHED else DRAFTS.get(post.status, f"statut « {post.status} » inconnu")
        html = _RESIZE.sub(lambda m: m.group(1) + original(m.group(2) + m.group(3)), post.html)
        source.posts.append(SourcePost(
            kind=post.kind, source_id=post.address or str(post.line), title=post.title, html=html, date=post.date,
            slug=post.slug, why_draft=why, tags=post.tags, addresses=["/" + post.address] if post.address else [],
            old_url=base + post.address if base and post.address else "", line=post.line,
        ))
    return source


def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None, old_url: str = "") -> PostsReport:
    """Write the posts and pages of an Over-blog export under `content` (a blog's `content/` folder); ExportError for
    a file that cannot be read (nothing written then)."""
    return write_posts(posts_source(read_overblog(path), old_url), content, download=download, dry_run=dry_run,
                       guard_factory=guard_factory)
