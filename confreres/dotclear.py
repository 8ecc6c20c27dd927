"""A Dotclear export, read: its posts and pages (written by post_import) and their comments (imported by the comment
service's importers/dotclear.py).

    export = read_dotclear("2024-01-01-blog-backup.txt")
    import_posts("2024-01-01-blog-backup.txt", Path("sites/dr-martin/content"), old_url="https://docteur-x.fr/")

Dotclear (Administration > Import/Export > Exporter le blog) writes its tables as a flat text file: a first line
`///DOTCLEAR|<version>|single` (or `full`, every blog of the installation), then for each table a line
`[<table> <column>,<column>,…]` and one line per row, `"<value>","<value>",…`, with `\\`, `"`, line feeds and
carriage returns escaped by a backslash (Dotclear's FlatExport and FlatBackup). Read here by their column names,
not their places: Dotclear's versions and extensions add columns.

Posts: `post` (its `post_excerpt_xhtml` and `post_content_xhtml`: the HTML Dotclear shows, whatever the post was
written in, wiki or Markdown), their category (`category`), their tags (`meta`, type « tag »); `post_dt` is the
time in the post's own `post_tz`. Status 1 is published, -1 scheduled (published at its date); 0 (offline) and -2
(pending) stay drafts; a post with a password was not public. Its address is `post/<post_url>` on the blog, with or
without `index.php?`: the last part of `post_url` is its slug. The file does not name the blog's address: `old_url`
says it, for the images of its media folder (`/public/` by default) and the links between its posts.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from confreres.french import PARIS, slugify
from confreres.post_import import PostsReport, Source, SourcePost, local_path, no_query, one_line, write_posts
from confreres.xml_input import ExportError, export_bytes

HEADER = "///DOTCLEAR|"
_TABLE = re.compile(r"^\[(\w+) ([\w,]+)\]$")
_ESCAPE = re.compile(r"\\(.)", re.S)
_UNESCAPED = {"n": "\n", "r": "\r", '"': '"', "\\": "\\"}
PUBLISHED = {"1", "-1"}  # published, scheduled
UNPUBLISHED = {"0": "hors ligne", "-2": "en attente de relecture"}
_PAGE_SUFFIXES = {"", ".html", ".htm", ".php", ".xml"}


@dataclass
class DotclearExport:
    version: str
    tables: dict[str, list[dict[str, str]]]
    blogs: set[str]
    repairs: Counter = field(default_factory=Counter)

    def rows(self, table: str) -> list[dict[str, str]]:
        return self.tables.get(table, [])


def _unescape(value: str) -> str:
    return _ESCAPE.sub(lambda m: _UNESCAPED.get(m.group(1), "\\" + m.group(1)), value)


def _values(line: str) -> list[str]:
    """`"a","b\\"c"` -> ["a", 'b"c']: split on `","` not preceded by an escaping backslash (an even run of them is
    escaped backslashes), then each value unescaped."""
    inner = line[1:-1] if len(line) >= 2 and line.endswith('"') else line[1:]
    values, start, i = [], 0, 0
    while True:
        i = inner.find('","', i)
        if i < 0:
            values.append(inner[start:])
            break
        backslashes = len(inner[start:i]) - len(inner[start:i].rstrip("\\"))
        if backslashes % 2 == 0:
            values.append(inner[start:i])
            start = i + 3
        i += 3 if backslashes % 2 == 0 else 1
    return [_unescape(v) for v in values]


def _text(path: Path) -> str:
    return export_bytes(path, "un export Dotclear").removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


def read_dotclear(path: str | Path) -> DotclearExport:
    """The tables of a Dotclear flat export; ExportError when the file is not one (nothing read then)."""
    text = _text(Path(path))
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((line.strip() for line in lines if line.strip()), "")
    if not first.startswith(HEADER):
        raise ExportError("ce n'est pas un export Dotclear (sa première ligne serait « ///DOTCLEAR|… ») ; sa première "
                          f"ligne : « {first[:80]} »", 1)
    export = DotclearExport(first[len(HEADER):].split("|")[0], defaultdict(list), set())
    table, columns = "", []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith(HEADER):
            continue
        if match := _TABLE.match(line):
            table, columns = match.group(1), match.group(2).split(",")
        elif line.startswith('"') and table:
            values = _values(line)
            if len(values) != len(columns):
                export.repairs["bad_row"] += 1  # a row cut or mangled: left out, the others read
                continue
            row = dict(zip(columns, values, strict=True))
            row["_line"] = str(number)
            export.tables[table].append(row)
    export.blogs = {row.get("blog_id", "") for row in export.rows("post")}
    if not export.rows("post"):
        raise ExportError("aucun billet dans cet export Dotclear")
    return export


def local_time(value: str, zone: str) -> datetime | None:
    """« 2010-05-12 10:00:00 » in the row's own time zone (Dotclear keeps it beside) -> Paris time, naive."""
    try:
        moment = datetime.strptime(value.strip()[:19], "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    try:
        tz = ZoneInfo(zone.strip()) if zone.strip() else PARIS
    except (ZoneInfoNotFoundError, ValueError, OSError):  # « Europe » names a folder of zones, not a zone
        tz = PARIS
    try:
        paris = moment.replace(tzinfo=tz).astimezone(PARIS)
        paris.astimezone(UTC)  # a time the comments can store (in UTC) too
    except OverflowError:  # « 9999-12-31 23:59:59 » in New York, « 0001-01-01 » in Paris: none in UTC
        return None
    return paris.replace(tzinfo=None)


def slug_of(row: dict[str, str]) -> str:
    """post_url « 2010/05/12/Garde-de-nuit » -> « garde-de-nuit »."""
    name = PurePosixPath(unquote(row.get("post_url", ""))).name
    return slugify(name or one_line(row.get("post_title", "")), default=f"billet-{row.get('post_id', '')}")


def old_address(row: dict[str, str], prefix: str) -> str:
    """`prefix` (the blog's address: « https://x.fr/ », « https://x.fr/index.php? » without URL rewriting,
    « https://x.fr/index.php/ ») + `post/<post_url>`; a page (extension « pages ») is at `pages/…`."""
    url = row.get("post_url", "").strip("/")
    return f"{prefix}{'pages' if row.get('post_type') == 'page' else 'post'}/{url}" if url else ""


def addresses(row: dict[str, str], prefix: str) -> list[str]:
    """A post's old addresses, as post_import keys them: its path, and the query (`?post/…`) of a blog without
    URL rewriting."""
    old = old_address(row, prefix or "/")
    if not old:
        return []
    relative = old[len(prefix or "/"):]
    return [urlsplit(urljoin((prefix or "/").split("?")[0], relative)).path, f"?{relative}"]


def _upload_path(hosts: set[str]):
    """The blog's own files (its media folder, `/public/` by default, and any file on its address) -> under
    content/images/ or content/files/, the folder `public` left out."""

    def upload_path(url: str) -> str | None:
        parts = urlsplit(no_query(url))
        if parts.scheme not in ("http", "https") or (parts.hostname or "").lower() not in hosts:
            return None
        path = unquote(parts.path)
        if PurePosixPath(path).suffix.lower() in _PAGE_SUFFIXES:
            return None
        return local_path(re.sub(r"^.*?/public/", "/", path) if "/public/" in path else path)

    return upload_path


def posts_source(export: DotclearExport, old_url: str = "") -> Source:
    prefix = old_url.strip()
    if prefix and not prefix.endswith(("/", "?")):
        prefix += "/"
    base = prefix.split("?")[0]  # what the posts' relative links are read against
    hosts = {urlsplit(base).hostname.lower()} if urlsplit(base).hostname else set()
    source = Source("Dotclear", export.version, base, hosts, [], _upload_path(hosts), repairs=export.repairs)
    if len(export.blogs) > 1:
        raise ExportError(f"cet export contient {len(export.blogs)} blogs ({', '.join(sorted(export.blogs))}) : "
                          "exportez le seul blog à reprendre (Exporter le blog, non l'installation)")
    categories = {row.get("cat_id", ""): row.get("cat_title", "") for row in export.rows("category")}
    tags: dict[str, list[str]] = defaultdict(list)
    for row in export.rows("meta"):
        if row.get("meta_type") == "tag":
            tags[row.get("post_id", "")].append(row.get("meta_id", ""))
    source.skipped["comment"] = sum(1 for c in export.rows("comment") if c.get("comment_trackback") != "1")
    source.skipped["trackback"] = sum(1 for c in export.rows("comment") if c.get("comment_trackback") == "1")
    for row in export.rows("post"):
        kind = "page" if row.get("post_type") == "page" else "post" if row.get("post_type", "post") == "post" else ""
        if not kind:
            source.skipped[row.get("post_type") or "inconnu"] += 1
            continue
        status = row.get("post_status", "1").strip()
        why = "" if status in PUBLISHED else UNPUBLISHED.get(status, "non publié")
        if not why and row.get("post_password"):
            why = "protégé par un mot de passe"
        excerpt, body = row.get("post_excerpt_xhtml", ""), row.get("post_content_xhtml", "")
        category = categories.get(row.get("cat_id", ""), "")
        source.posts.append(SourcePost(
            kind=kind, source_id=row.get("post_id", ""), title=row.get("post_title", ""),
            html="\n".join(part for part in (excerpt, body) if part.strip()),
            date=local_time(row.get("post_dt", ""), row.get("post_tz", "")), slug=slug_of(row), why_draft=why,
            categories=[category] if category else [], tags=tags.get(row.get("post_id", ""), []),
            summary=excerpt, addresses=addresses(row, prefix), old_url=old_address(row, prefix) if prefix else "",
            line=int(row.get("_line", "0")),
        ))
    source.skipped = Counter({k: v for k, v in source.skipped.items() if v})
    return source


def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None, old_url: str = "") -> PostsReport:
    """Write the posts and pages of a Dotclear export under `content` (a blog's `content/` folder); ExportError for a
    file that cannot be read (nothing written then)."""
    return write_posts(posts_source(read_dotclear(path), old_url), content, download=download, dry_run=dry_run,
                       guard_factory=guard_factory)
