"""A Blogger export, read: its posts and pages (written by post_import) and its comments (imported by the comment
service's importers/blogger.py).

    export = read_blogger("feed.atom")          # or the .xml of Paramètres > Sauvegarder le contenu
    import_posts("feed.atom", Path("sites/dr-martin/content"))

Blogger has written two formats, both Atom, and a doctor may have either:
- the backup of « Gérer le blog > Sauvegarder le contenu » (and older Takeouts): each entry's kind in a category
  (`…/blogger/2008/kind#post`, `#page`, `#comment`, `#settings`, `#template`), labels as categories of the scheme
  `http://www.blogger.com/atom/ns#`, drafts in `<app:control><app:draft>yes`, a comment's post in
  `<thr:in-reply-to ref=…>` and the comment it answers in a `related` link;
- Google Takeout's `Blogger/Blogs/<blog>/feed.atom` (namespace `http://schemas.google.com/blogger/2018`):
  `<blogger:type>` POST, PAGE or COMMENT, `<blogger:status>` LIVE, DRAFT, SCHEDULED…, `<blogger:filename>` (the
  post's path), `<blogger:parent>` and `<blogger:inReplyTo>` for comments, `<blogger:trashed>` dated when trashed.
Pelican's own importer reads only the first (pelican#2703) and needs pandoc; this reads both, streamed and
defused like every export (xml_input).

Images of a Blogger post live on Google's servers (`blogger.googleusercontent.com`, `*.bp.blogspot.com`,
`lh3.googleusercontent.com`…): they are the blog's own uploads, downloaded with the posts.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from confreres.french import PARIS, slugify, utc_datetime
from confreres.post_import import (
    PostsReport,
    Source,
    SourcePost,
    no_query,
    one_line,
    platform_path,
    safe_urlsplit,
    write_posts,
)
from confreres.wxr import local
from confreres.xml_input import ExportError, XmlExport, parts

KIND_SCHEME = "http://schemas.google.com/g/2005#kind"
LABEL_SCHEME = "http://www.blogger.com/atom/ns#"
MODERN_NS = "http://schemas.google.com/blogger/2018"
_UPLOAD_HOSTS = re.compile(r"(blogger\.googleusercontent\.com|[\w-]+\.bp\.blogspot\.com|lh\d\.(?:googleusercontent|"
                           r"ggpht)\.com|lh\d\.google\.com)$")
UNPUBLISHED = {"draft": "brouillon", "pending": "en attente"}  # statuses the old blog did not publish
_JUMP_BREAK = re.compile(r"""<a\s+name=["']?more["']?\s*>\s*</a>|<!--\s*more\s*-->""", re.I)
_POST_NUMBER = re.compile(r"(?:post|comment|page)-(\d+)$")


@dataclass
class Entry:
    """One entry of either format, as the importers need it."""

    kind: str  # "post" | "page" | "comment" | "settings" | "template" | …
    id: str  # the number after « post- » in Blogger's id (comments are numbered like posts), else the whole id
    title: str = ""
    html: str = ""
    published: datetime | None = None  # UTC
    status: str = "live"  # "live" | "draft" | "scheduled" | "trashed" | "pending" | "spam"
    labels: list[str] = field(default_factory=list)
    url: str = ""  # the post's address (the backup's alternate link)
    path: str = ""  # its path on the old blog, « /2011/10/nach-suzhou.html »
    post_id: str = ""  # a comment's post
    parent_id: str = ""  # the comment it answers, "" for a comment on the post
    author: str = ""
    author_uri: str = ""
    author_email: str = ""
    author_is_blogger: bool = False  # a Blogger account (not an anonymous or named guest)
    summary: str = ""
    removed: bool = False  # « Ce commentaire a été supprimé par l'auteur. »
    line: int = 0


@dataclass
class BloggerExport:
    title: str
    format: str  # "sauvegarde" | "takeout"
    entries: list[Entry]
    repairs: Counter

    def posts(self) -> list[Entry]:
        return [e for e in self.entries if e.kind in ("post", "page")]

    def comments(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "comment"]


def _number(value: str) -> str:
    value = (value or "").strip()
    match = _POST_NUMBER.search(value)
    return match.group(1) if match else value


def _entry(elem, line: int) -> Entry:
    entry = Entry(kind="", id="", line=line)
    modern_type = modern_status = ""
    for child in elem:
        ns, name = local(child.tag)
        text = (child.text or "").strip()
        if name == "id" and not ns.endswith("2018"):
            entry.id = _number(text)
        elif name == "title":
            entry.title = child.text or ""
        elif name == "content":
            entry.html = child.text or ""
        elif name == "published":
            entry.published = utc_datetime(text)
        elif name == "category":
            scheme, term = child.get("scheme", ""), child.get("term", "")
            if scheme == KIND_SCHEME:
                entry.kind = term.rpartition("#")[2]
            elif term and (scheme == LABEL_SCHEME or scheme.startswith("tag:blogger.com") or not scheme):
                entry.labels.append(term)
        elif name == "link":
            rel, href = child.get("rel", ""), child.get("href", "")
            if rel == "alternate" and href:
                entry.url = href
            elif rel == "related" and "/comments/" in href:  # the backup: the comment this one answers
                entry.parent_id = _number(href.rstrip("/").rpartition("/")[2])
        elif name == "in-reply-to":
            entry.post_id = _number(child.get("ref", ""))
        elif name == "control":  # <app:control><app:draft>yes</app:draft>
            if any(local(c.tag)[1] == "draft" and (c.text or "").strip().lower() == "yes" for c in child):
                entry.status = "draft"
        elif name == "extendedProperty" and child.get("name") == "blogger.contentRemoved":
            entry.removed = child.get("value", "").lower() == "true"
        elif name == "author":
            for part in child:
                part_name, value = local(part.tag)[1], (part.text or "").strip()
                if part_name == "name":
                    entry.author = value
                elif part_name == "uri":
                    entry.author_uri = value
                elif part_name == "email" and value != "noreply@blogger.com":
                    entry.author_email = value
                elif part_name == "type":
                    entry.author_is_blogger = value.upper() == "BLOGGER"
            if "/profile/" in entry.author_uri:  # the backup: a Blogger profile
                entry.author_is_blogger = True
        elif ns == MODERN_NS:
            if name == "type":
                modern_type = text
            elif name == "status":
                modern_status = text
            elif name == "filename":
                entry.path = text
            elif name == "parent":
                entry.post_id = _number(text)
            elif name == "inReplyTo":
                entry.parent_id = _number(text)
            elif name == "trashed" and text:
                entry.status = "trashed"
            elif name == "metaDescription":
                entry.summary = text
    if modern_type:
        entry.kind = modern_type.lower()
        if entry.status != "trashed":
            status = modern_status.upper()
            entry.status = ("live" if status in ("LIVE", "") else "draft" if status == "DRAFT"
                            else "scheduled" if status == "SCHEDULED" else "trashed" if "TRASH" in status
                            else "spam" if "SPAM" in status else "pending")
    if entry.kind and not entry.id:  # Takeout's ids are in the same <id>, Atom's
        entry.id = _number(elem.findtext("{http://www.w3.org/2005/Atom}id") or "")
    if entry.url and not entry.path:
        entry.path = safe_urlsplit(entry.url).path
    return entry


def read_blogger(path: str | Path) -> BloggerExport:
    """Every entry of a Blogger export (either format, plain or gzipped, or Takeout's ZIP with one blog); ExportError
    when it cannot be read."""
    [member, *others] = parts(path, lambda name: name.rpartition("/")[2] == "feed.atom",
                              "de flux Blogger (Takeout/Blogger/Blogs/<blog>/feed.atom)")
    if others:
        names = ", ".join(f"« {PurePosixPath(name).parent.name} »" for name in [member, *others])
        raise ExportError(f"l'archive contient plusieurs blogs ({names}) : importez le feed.atom de l'un d'eux, extrait "
                          "de l'archive")
    source = XmlExport(path, "un export Blogger", root="feed", member=member,
                       in_parts="Blogger : Paramètres > Gérer le blog > Sauvegarder le contenu, ou Google Takeout")
    root = None
    title = ""
    entries: list[Entry] = []
    modern = False
    for event, elem, depth in source.events():
        if event == "start":
            if depth == 1:
                root = elem
            continue
        if depth != 2 or root is None:
            continue
        name = local(elem.tag)[1]
        if name == "title":
            title = one_line(elem.text or "")
        elif name == "entry":
            entry = _entry(elem, source.line())
            modern = modern or any(local(c.tag)[0] == MODERN_NS for c in elem)
            if entry.kind:
                entries.append(entry)
        root.remove(elem)
    if root is None or local(root.tag)[0] != "http://www.w3.org/2005/Atom":
        raise ExportError("ce n'est pas un export Blogger : pas un flux Atom")
    if not entries:
        raise ExportError("ce n'est pas un export Blogger : aucune entrée de billet, de page ou de commentaire (ni "
                          "« kind#post » ni <blogger:type>) ; un flux RSS ou Atom public du blog ne contient pas tout")
    return BloggerExport(title, "takeout" if modern else "sauvegarde", entries, source.repairs)


# -- posts ----------------------------------------------------------------------------------------


def slug_of(entry: Entry) -> str:
    """« /2011/10/nach-suzhou.html » -> « nach-suzhou » (a draft has no address yet: from its title)."""
    name = PurePosixPath(unquote(entry.path)).name
    slug = re.sub(r"\.html?$", "", name)
    if not slug or not re.fullmatch(r"[\w-]+", slug):
        slug = slugify(slug or one_line(entry.title), default=f"billet-{entry.id}")
    return slug


def _upload_path(url: str) -> str | None:
    """Blogger's image servers -> images/blogger/<name>-<hash>.<ext>: the same picture is served at several sizes
    (« /s320/ », « /s1600/ ») under one name, each kept apart."""
    plain = no_query(url)
    parts = safe_urlsplit(plain)
    if parts.scheme not in ("http", "https") or not _UPLOAD_HOSTS.search((parts.hostname or "").lower()):
        return None
    name = PurePosixPath(unquote(parts.path)).name
    stem, dot, extension = name.rpartition(".")
    if not dot or not re.fullmatch(r"[A-Za-z0-9]{2,5}", extension):
        stem, extension = name or "image", "jpg"  # googleusercontent addresses often have no extension
    return platform_path("blogger", plain, stem, extension)


def posts_source(export: BloggerExport) -> Source:
    source = Source("Blogger", export.format, "", set(), [], _upload_path, repairs=export.repairs)
    entries = export.posts()
    paths = {e.path for e in entries if e.path}
    source.hosts = {safe_urlsplit(e.url).hostname.lower() for e in entries if safe_urlsplit(e.url).hostname}
    for entry in entries:  # Takeout names no host: those of the blog's own links, by their paths
        for href in re.findall(r"""href=["']?(https?://[^"'\s>]+)""", entry.html):
            parts = safe_urlsplit(href)
            if parts.path in paths and parts.hostname:
                source.hosts.add(parts.hostname.lower())
    for kind, count in Counter(e.kind for e in export.entries if e.kind not in ("post", "page")).items():
        source.skipped[kind] = count
    for entry in entries:
        if entry.status == "trashed":
            source.skipped["trash"] += 1
            continue
        try:
            date = entry.published.astimezone(PARIS).replace(tzinfo=None) if entry.published else None
        except OverflowError:  # a date at the edge of time (« 9999-12-31T23:30:00Z »)
            date = None
        summary = entry.summary  # the search description; else what comes before the « saut » (jump break)
        if not summary and (jump := _JUMP_BREAK.search(entry.html)):
            summary = entry.html[: jump.start()]
        source.posts.append(SourcePost(
            kind=entry.kind, source_id=entry.id, title=entry.title, html=entry.html, date=date, slug=slug_of(entry),
            why_draft=UNPUBLISHED.get(entry.status, ""),
            tags=list(entry.labels), summary=summary, addresses=[entry.path] if entry.path else [], old_url=entry.url,
            line=entry.line,
        ))
    return source


def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None) -> PostsReport:
    """Write the posts and pages of a Blogger export under `content` (a blog's `content/` folder); ExportError for a
    file that cannot be read (nothing written then)."""
    return write_posts(posts_source(read_blogger(path)), content, download=download, dry_run=dry_run,
                       guard_factory=guard_factory)
