"""Disqus export -> the comments of one site of the network.

    report = import_disqus(db, network, "dr-martin", "monblog-2024-01-01T00:00:00-all.xml.gz")

Disqus mails its export (Administration > Moderation > Export) as a gzipped XML file: the forum's categories, its
threads (one per page that showed the widget: link, title, identifier) and its posts (the comments: HTML message,
date, author, the thread and the post they answer). The file is read whole first (xml_input: streamed, defused,
repaired), then threads.py matches each thread to a post of the blog by its link and writes its comments, each
once, under the key (site, "disqus", Disqus post id).

What Disqus files hold beyond a WordPress export's problems:
- several threads for one page (http and https, a query string, Blogger's `?m=1` pages): each is matched by its
  link's path, and their comments land on the one post;
- threads without a link, and posts whose thread is not in the file: counted, not imported;
- links wrapped in Disqus's redirector (`https://disq.us/url?url=<the link>%3A<token>&cuid=…`): unwrapped, so that
  a reader goes straight to the site, without Disqus in between;
- deleted comments (`isDeleted`) are skipped, their replies hang from the nearest ancestor kept; spam (`isSpam`)
  stays spam, never shown; a comment Disqus had not approved (`isApproved` false, in files that say) waits for a
  moderator;
- e-mail addresses (older exports have them) stay private like every comment's; IP addresses are never imported;
- who wrote the page is not in the file: the doctor's own replies are marked as the post author's only when the
  import is told their Disqus username (`--author-username`), never guessed.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from comments_service.domain import comments as store
from comments_service.domain import validate
from comments_service.importers.threads import (
    ImportedComment,
    ImportedThread,
    ImportReport,
    ParsedExport,
    import_threads,
    imported_comment,
)
from confreres.french import utc_datetime
from confreres.registry import Network
from confreres.sanitize import text as plain_text
from confreres.xml_input import ExportError, XmlExport, parts

_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_REDIRECTORS = {"disq.us", "www.disq.us", "disqus.com", "www.disqus.com"}
_TOKEN = re.compile(r":[A-Za-z0-9_-]{6,}$")  # what Disqus appends to the link it wraps


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _child(elem, name: str):
    for child in elem:
        if _local(child.tag) == name:
            return child
    return None


def _text(elem, name: str) -> str:
    child = _child(elem, name)
    return "".join(child.itertext()).strip() if child is not None else ""  # markup in a field: its text


def _dsq_id(elem) -> str:
    """The `dsq:id` attribute (Disqus's internal id), whatever prefix the file gives its namespace."""
    if elem is None:
        return ""
    for key, value in elem.attrib.items():
        if _local(key) == "id":
            return value.strip()
    return ""


def _true(value: str) -> bool:
    return value.strip().lower() in ("true", "1")


def _datetime(value: str) -> datetime | None:
    """`2013-10-10T19:20:29Z` (and without the Z: UTC all the same, as Disqus keeps every date)."""
    moment = utc_datetime(value)
    return moment if moment and moment.year > 1900 else None


def unwrapped(url: str) -> str:
    """The link behind Disqus's redirector, or `url` itself."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return url
    if parts.netloc.lower() not in _REDIRECTORS or parts.path not in ("/url", "/", ""):
        return url
    target = (parse_qs(parts.query).get("url") or [""])[0]
    target = _TOKEN.sub("", target)
    return target if validate.is_http_url(target) else url


def _unwrap_links(message: str) -> str:
    if "disq" not in message:
        return message

    def one(match: re.Match) -> str:
        value = html.unescape(match.group(3))
        target = unwrapped(value)
        return match.group(0) if target == value else f"{match.group(1)}{match.group(2)}{html.escape(target)}{match.group(2)}"

    return _HREF.sub(one, message)


class _Thread:
    def __init__(self, elem, line: int):
        self.dsq_id = _dsq_id(elem)
        self.identifier = _text(elem, "id")
        link = _text(elem, "link")
        if not link and self.identifier.startswith(("http://", "https://")):
            link = self.identifier.split()[0]  # an identifier that is the page's address
        self.link = link
        self.title = validate.one_line(plain_text(_text(elem, "title"))) or "(sans titre)"
        self.created = _datetime(_text(elem, "createdAt"))
        self.deleted = _true(_text(elem, "isDeleted"))
        self.line = line
        self.comments: list[ImportedComment] = []


def _comment(elem, thread: _Thread, now: datetime, author_username: str) -> ImportedComment:
    dsq_id = _dsq_id(elem)
    skip = None
    if not dsq_id:
        skip = "no_id"
    elif _true(_text(elem, "isDeleted")) or thread.deleted:
        skip = "deleted"
    status = "spam" if _true(_text(elem, "isSpam")) else "approved"
    approved = _text(elem, "isApproved")
    if status == "approved" and approved and not _true(approved):
        status = "pending"
    created, date_from = _datetime(_text(elem, "createdAt")), "gmt"
    if created is None and thread.created is not None:
        created, date_from = thread.created, "post"
    if created is None:
        created, date_from = now, "import"
    author = _child(elem, "author")
    name = username = email = ""
    anonymous = True
    if author is not None:
        name, username, email = _text(author, "name"), _text(author, "username"), _text(author, "email")
        anonymous = _true(_text(author, "isAnonymous")) or not username
    message = _child(elem, "message")
    return imported_comment(
        source_id=dsq_id,
        parent=_dsq_id(_child(elem, "parent")),
        author=name or ("" if anonymous else username),
        email=email,
        website=None,
        created=created,
        date_from=date_from,
        source=_unwrap_links(message.text or "" if message is not None else ""),
        status=status,
        skip=skip,
        is_post_author=bool(author_username) and not anonymous and username.lower() == author_username.lower(),
    )


def read_disqus(path: str | Path, now: datetime | None = None, author_username: str = "") -> ParsedExport:
    """Parse a Disqus export (plain, gzipped or zipped) into its threads that carry comments; ExportError when it cannot
    be read. `author_username`: the blog author's Disqus account, whose comments are marked as the post author's
    (a Disqus file does not say who wrote the page: nothing is guessed)."""
    now = (now or store.utcnow()).astimezone(UTC)
    [member, *others] = parts(path, lambda name: name.lower().endswith(".xml"), "d'export Disqus (.xml)")
    if others:
        raise ExportError(f"l'archive contient {len(others) + 1} fichiers .xml : importez l'export Disqus seul")
    source = XmlExport(path, "un export Disqus", root="disqus", member=member)
    threads: dict[str, _Thread] = {}  # by Disqus id
    by_identifier: dict[str, _Thread] = {}  # by the site's identifier (`<thread>identifier</thread>` in a post)
    waiting: dict[str, list] = {}  # posts read before their thread (Disqus writes threads first), by reference
    last: list = []

    def last_read() -> str:
        return f"dernier commentaire lu en entier, ligne {last[0]}" if last else ""

    def thread_of(reference: str) -> _Thread | None:
        return by_identifier.get(reference[1:]) if reference.startswith("=") else threads.get(reference)

    for event, elem, depth in source.events(last_read):
        name = _local(elem.tag)
        if event == "start" or depth != 2:
            continue
        if name == "thread":
            thread = _Thread(elem, source.line())
            if thread.dsq_id:
                threads.setdefault(thread.dsq_id, thread)
            if thread.identifier:
                by_identifier.setdefault(thread.identifier, thread)
        elif name == "post":
            ref = _child(elem, "thread")
            reference = _dsq_id(ref) or ("=" + (ref.text or "").strip() if ref is not None else "")
            thread = thread_of(reference)
            if thread is None:
                waiting.setdefault(reference, []).append(elem)
                last[:] = [source.line()]
                continue  # kept until its thread comes, if it does
            thread.comments.append(_comment(elem, thread, now, author_username))
            last[:] = [source.line()]
        source.root.remove(elem)  # used: dropped, to keep memory flat
    skipped = Counter()
    for reference, posts in waiting.items():
        thread = thread_of(reference)
        if thread is None:
            skipped["no_thread"] += len(posts)
        else:
            thread.comments += [_comment(elem, thread, now, author_username) for elem in posts]
    commented = [
        ImportedThread(source_id=t.dsq_id, title=t.title, link=t.link, guid="", slug="", post_type="post",
                       line=t.line, comments=t.comments)
        for t in threads.values() if t.comments
    ]
    return ParsedExport("disqus", "", "", commented, len(threads), source.repairs, skipped)


def import_disqus(db, network: Network, slug: str, path: str | Path, author_username: str = "",
                  **options) -> ImportReport:
    """Import the comments of a Disqus export into site `slug` (threads.import_threads: `dry_run`,
    `extra_candidates`, `now`). KeyError for an unknown site, ExportError for a bad file."""
    return import_threads(db, network, slug, path, partial(read_disqus, author_username=author_username), **options)
