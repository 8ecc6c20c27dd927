"""A Movable Type export, read: its entries (written by post_import) and their comments (imported by the comment
service's importers/movable_type.py).

    export = read_mt("export.txt")
    import_posts("export.txt", Path("sites/dr-martin/content"), old_url="https://docteur-x.hautetfort.com/")

The Movable Type import/export format is the plain-text file of Movable Type, TypePad and the platforms built on
them (Hautetfort among French blogs), and the one other tools offered for moving a blog. Entries are separated by
a line of eight dashes, each made of `KEY: value` lines (TITLE, AUTHOR, DATE, BASENAME, STATUS, CATEGORY, TAGS…),
then sections after a line of five dashes: BODY, EXTENDED BODY (after the « lire la suite »), EXCERPT, KEYWORDS,
one COMMENT per comment (AUTHOR, EMAIL, URL, IP, DATE lines, then its text) and one PING per trackback.
https://movabletype.org/documentation/appendices/import-export-format.html

What real files do beside the specification, read here too: a text whose own lines are five or eight dashes (a
line of dashes ends a section only when a section, an entry or the end follows); Windows line ends; the encoding
of older platforms (Windows-1252 when the file is not UTF-8); a file gzipped; dates written day first by a French
platform (the whole file read day first when one of its dates can only be: « 31/01/2010 »); comments whose AUTHOR
line is missing. The file names no address of the blog: `old_url` says it (its images are then downloaded and links
between its posts kept); images on the platforms' own servers (TypePad, Hautetfort, Canalblog, Over-blog) are
known without it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

import markdown

from confreres.french import slugify
from confreres.post_import import (
    PostsReport,
    Source,
    SourcePost,
    local_path,
    no_query,
    one_line,
    platform_path,
    wpautop,
    write_posts,
)
from confreres.xml_input import ExportError, export_bytes

ENTRY_END = "--------"
SECTION_END = "-----"
# what starts an entry (the format's single-line fields): after a line of eight dashes, anything else is text
ENTRY_FIELDS = {"AUTHOR", "TITLE", "BASENAME", "STATUS", "ALLOW COMMENTS", "ALLOW PINGS", "CONVERT BREAKS",
                "PRIMARY CATEGORY", "CATEGORY", "DATE", "TAGS", "NO ENTRY"}
_SECTION = re.compile(r"^(BODY|EXTENDED BODY|EXCERPT|KEYWORDS|COMMENT|PING):[ \t]*(.*)$")
_FIELD = re.compile(r"^([A-Z][A-Z ]{1,30}):[ \t]?(.*)$")
_COMMENT_FIELD = re.compile(r"^(AUTHOR|EMAIL|URL|IP|DATE|TITLE|BLOG NAME):[ \t]?(.*)$")
_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?\s*$")
_ISO_DATE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?")
UNPUBLISHED = {"draft": "brouillon", "review": "en attente de relecture", "unpublish": "dépublié",
               "unpublished": "dépublié", "spam": "indésirable"}  # « publish » and « future » are published
_HTML_BLOCKS = re.compile(r"<(?:p|br|div|ul|ol|table|blockquote|h[1-6])\b", re.I)
# the platforms' own image servers: a post's pictures there are its own, downloaded with it
_PLATFORM_UPLOADS = re.compile(
    r"(?:^|\.)(?:typepad\.com|typepad\.fr|hautetfort\.com|storage\.canalblog\.com|over-blog-kiwi\.com|"
    r"idata\.over-blog\.com|img\.over-blog\.com)$")
_PAGE_SUFFIXES = {"", ".html", ".htm", ".shtml", ".php", ".asp", ".aspx", ".cgi", ".xml", ".rss", ".atom"}
# TypePad links a picture to its « -popup » page (HTML around the picture): the picture itself is « -pi »
_TYPEPAD_POPUP = re.compile(r"(/\.a/[0-9a-f]{10,})-popup\b")
_TYPEPAD_ASSET = re.compile(r"^/\.a/[0-9a-f]{10,}-[\w]+$")  # TypePad's pictures: « /.a/6a00d8341c…-pi », no extension


@dataclass
class MtComment:
    line: int
    author: str = ""
    email: str = ""
    url: str = ""
    date: datetime | None = None  # the blog's local time, naive
    written_date: str = ""  # its DATE as the file writes it: the comment's key (`date` depends on the whole file)
    text: str = ""  # HTML, with line breaks to be made paragraphs (as Movable Type shows comments)
    trackback: bool = False


@dataclass
class MtEntry:
    line: int
    fields: dict[str, str] = field(default_factory=dict)  # single-line fields, by upper-case key (the first given)
    categories: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)  # BODY, EXTENDED BODY, EXCERPT, KEYWORDS
    comments: list[MtComment] = field(default_factory=list)
    date: datetime | None = None

    @property
    def title(self) -> str:
        return self.fields.get("TITLE", "")

    @property
    def status(self) -> str:
        return self.fields.get("STATUS", "publish").strip().lower()

    @property
    def no_entry(self) -> bool:
        """« NO ENTRY: 1 »: only comments for an entry the blog has already."""
        return self.fields.get("NO ENTRY", "").strip() == "1"

    @property
    def slug(self) -> str:
        """BASENAME when given (Movable Type's, kept: the old address ends with it), else made from the title, as
        the comments' import makes it too."""
        basename = self.fields.get("BASENAME", "").strip()
        if basename and re.fullmatch(r"[\w-]+", basename, re.ASCII):
            return basename.lower()
        return slugify(basename or one_line(self.title), default=f"billet-{self.line}")

    def html(self, section: str) -> str:
        """A section as HTML, its « CONVERT BREAKS » applied (Markdown rendered, line breaks made paragraphs)."""
        text = self.sections.get(section, "").strip("\n")
        if not text.strip():
            return ""
        convert = self.fields.get("CONVERT BREAKS", "").strip().lower()
        if convert.startswith("markdown"):
            return markdown.markdown(text, extensions=["extra"])
        if convert in ("0", "richtext", "wysiwyg", "html"):
            return text
        if not convert and _HTML_BLOCKS.search(text):
            return text  # said nowhere, and written in HTML already: its line ends are not line breaks
        return wpautop(text)


@dataclass
class MtExport:
    entries: list[MtEntry]
    encoding: str  # "utf-8", or "windows-1252" when some of its lines are
    day_first: bool  # dates read DD/MM/YYYY (a French platform's), not the specification's MM/DD/YYYY
    repairs: Counter = field(default_factory=Counter)

    def posts(self) -> list[MtEntry]:
        return [e for e in self.entries if not e.no_entry]


def _text(path: Path) -> tuple[str, int]:
    """The file's text, and how many of its lines were not UTF-8 (read as Windows-1252, an older platform's
    encoding): a line at a time, so that one pasted « René » does not turn every accent of the file into « Ã© »."""
    data = export_bytes(path, "un export Movable Type").removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    lines, legacy = [], 0
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            lines.append(raw.decode("windows-1252", errors="replace"))
            legacy += 1
    return "\n".join(lines), legacy


def _next_filled(lines: list[str], start: int) -> str | None:
    for line in lines[start:]:
        if line.strip():
            return line
    return None


def _ends_section(lines: list[str], after: int) -> bool:
    following = _next_filled(lines, after)
    return following is None or following.rstrip() == ENTRY_END or bool(_SECTION.match(following))


def _ends_entry(lines: list[str], after: int) -> bool:
    following = _next_filled(lines, after)
    match = _FIELD.match(following or "")
    return following is None or (match is not None and match.group(1).strip() in ENTRY_FIELDS)


def _entries(lines: list[str]) -> list[tuple[MtEntry, list[tuple[str, int, list[str]]]]]:
    """The entries, each with its sections as (name, first line, lines): the dashes read as the file means them."""
    entries = []
    i, n = 0, len(lines)
    while i < n:
        while i < n and (not lines[i].strip() or lines[i].rstrip() == ENTRY_END):
            i += 1
        if i >= n:
            break
        entry, sections = MtEntry(line=i + 1), []
        while i < n and lines[i].rstrip() not in (SECTION_END, ENTRY_END):
            if match := _FIELD.match(lines[i]):
                key, value = match.group(1).strip(), match.group(2).strip()
                if key in ("CATEGORY", "PRIMARY CATEGORY"):  # the primary one first: the post's Category
                    if value in entry.categories:
                        entry.categories.remove(value)
                    if value:
                        entry.categories.insert(0 if key == "PRIMARY CATEGORY" else len(entry.categories), value)
                else:
                    entry.fields.setdefault(key, value)
            i += 1
        if i < n and lines[i].rstrip() == SECTION_END:
            i += 1
            while i < n:
                line = lines[i]
                if line.rstrip() == ENTRY_END:
                    i += 1
                    break
                header = _SECTION.match(line)
                if not header:
                    i += 1  # blank, or text outside any section: nothing of the entry
                    continue
                name, start, body = header.group(1), i + 1, [header.group(2)] if header.group(2) else []
                i += 1
                while i < n:
                    line = lines[i]
                    if line.rstrip() == SECTION_END and _ends_section(lines, i + 1):
                        i += 1
                        break
                    if line.rstrip() == ENTRY_END and _ends_entry(lines, i + 1):
                        break
                    body.append(line)
                    i += 1
                sections.append((name, start, body))
        elif i < n:
            i += 1  # « -------- » right after the fields: an entry without sections
        entries.append((entry, sections))
    return entries


def _date(value: str, day_first: bool) -> datetime | None:
    if match := _DATE.match(value or ""):
        first, second, year, hour, minute, sec, half = match.groups()
        month, day = (int(second), int(first)) if day_first else (int(first), int(second))
        hour = int(hour or 0)
        if half and half.lower() == "pm" and hour < 12:
            hour += 12
        elif half and half.lower() == "am" and hour == 12:
            hour = 0
        try:
            return datetime(int(year), month, day, hour, int(minute or 0), int(sec or 0))
        except ValueError:
            return None
    if match := _ISO_DATE.match(value or ""):
        try:
            return datetime(*(int(g or 0) for g in match.groups()))
        except ValueError:
            return None
    return None


def _comment(name: str, start: int, body: list[str], day_first: bool) -> MtComment:
    comment = MtComment(line=start, trackback=name == "PING")
    fields: dict[str, str] = {}
    k = 0
    while k < len(body) and (match := _COMMENT_FIELD.match(body[k])):
        fields.setdefault(match.group(1), match.group(2).strip())
        k += 1
    comment.author = fields.get("BLOG NAME" if comment.trackback else "AUTHOR", "") or fields.get("AUTHOR", "")
    comment.email, comment.url = fields.get("EMAIL", ""), fields.get("URL", "")
    comment.written_date = fields.get("DATE", "")
    comment.date = _date(comment.written_date, day_first)
    comment.text = "\n".join(body[k:]).strip()
    return comment


def read_mt(path: str | Path) -> MtExport:
    """The entries of a Movable Type export; ExportError when the file is not one."""
    text, legacy = _text(Path(path))
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = _next_filled(lines, 0)
    if first is None:
        raise ExportError("le fichier est vide")
    if not _FIELD.match(first) or not any(_SECTION.match(line) or line.rstrip() == ENTRY_END for line in lines):
        raise ExportError("ce n'est pas un export Movable Type ou TypePad (il commence par des lignes « TITLE: … », "
                          f"« AUTHOR: … », « DATE: … ») ; sa première ligne : « {first.strip()[:80]} »", 1)
    parsed = _entries(lines)
    dates = [e.fields.get("DATE", "") for e, _ in parsed]
    dates += [line for _, sections in parsed for name, _, body in sections if name in ("COMMENT", "PING")
              for line in body[:6] if line.startswith("DATE:")]
    day_first = any((m := _DATE.match(d.removeprefix("DATE:"))) and int(m.group(1)) > 12 for d in dates)
    export = MtExport([], "windows-1252" if legacy else "utf-8", day_first)
    if legacy:
        export.repairs["windows_1252"] += legacy
    for entry, sections in parsed:
        entry.date = _date(entry.fields.get("DATE", ""), day_first)
        for name, start, body in sections:
            if name in ("COMMENT", "PING"):
                entry.comments.append(_comment(name, start, body, day_first))
            else:
                entry.sections.setdefault(name, "\n".join(body))
        export.entries.append(entry)
    if not export.entries:
        raise ExportError("aucun billet dans ce fichier Movable Type")
    return export


# -- posts ----------------------------------------------------------------------------------------


def _upload_path(hosts: set[str]):
    """The old blog's own files (`hosts`: its address's) and the platforms' image servers -> their path under
    content/: images/<path> for the blog's own, images/<platform host>/<name>-<hash>.<ext> for a platform's (the
    same picture at several sizes kept apart, TypePad's without an extension)."""

    def upload_path(url: str) -> str | None:
        plain = no_query(url)
        parts = urlsplit(plain)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return None
        path = unquote(parts.path)
        name = PurePosixPath(path).name
        platform = bool(_PLATFORM_UPLOADS.search(host))
        if platform and _TYPEPAD_ASSET.match(path):
            stem, extension = name, "jpg"
        elif PurePosixPath(name).suffix.lower() in _PAGE_SUFFIXES:
            return None  # a page of the blog (a link between posts), a feed: no file to download
        elif host in hosts:  # « /images/radio.png » -> images/radio.png, not images/images/
            return local_path(re.sub(r"^/+(?:images|files)/", "/", path))
        elif not platform:
            return None
        else:
            stem, _, extension = name.rpartition(".")
            if not re.fullmatch(r"[A-Za-z0-9]{2,5}", extension):
                return None  # not a file's name
        return platform_path(host, plain, stem, extension)

    return upload_path


def posts_source(export: MtExport, old_url: str = "") -> Source:
    base = old_url.strip()
    if base and not base.endswith("/"):
        base += "/"
    hosts = {urlsplit(base).hostname.lower()} if urlsplit(base).hostname else set()
    source = Source("Movable Type", export.encoding, base, hosts, [], _upload_path(hosts), repairs=export.repairs)
    for entry in export.entries:
        if comments := sum(1 for comment in entry.comments if not comment.trackback):
            source.skipped["comment"] += comments
        if entry.no_entry:
            source.skipped["no_entry"] += 1
            continue
        body, extended = entry.html("BODY"), entry.html("EXTENDED BODY")
        summary = entry.html("EXCERPT") or (body if extended else "")
        tags = [t.strip().strip('"').strip() for t in re.findall(r'"[^"]*"|[^,]+', entry.fields.get("TAGS", ""))]
        html = _TYPEPAD_POPUP.sub(r"\1-pi", "\n".join(p for p in (body, extended) if p))
        source.posts.append(SourcePost(
            kind="post", source_id=str(entry.line), title=entry.title, html=html,
            date=entry.date, slug=entry.slug, why_draft=UNPUBLISHED.get(entry.status, "" if entry.status in (
                "publish", "future", "") else "non publié"),
            categories=list(entry.categories), tags=[t for t in tags if t], summary=summary, line=entry.line,
        ))
    return source


def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None, old_url: str = "") -> PostsReport:
    """Write the entries of a Movable Type export under `content` (a blog's `content/` folder); ExportError for a
    file that cannot be read (nothing written then)."""
    return write_posts(posts_source(read_mt(path), old_url), content, download=download, dry_run=dry_run,
                       guard_factory=guard_factory)
