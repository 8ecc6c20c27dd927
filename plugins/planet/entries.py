"""Feed bytes -> planet entries: parse (feedparser), normalise, sanitise, date, dedupe.

The same pipeline for member blogs (their built Atom feed on disk) and outside feeds (the last
good copy kept by `fetch`). Every HTML field goes through `confreres.sanitize`; text fields (titles,
authors, tags) are stored as plain text without anything shaped like markup (`plain`), whatever type
the feed declared, since the planet republishes them in RSS `<title>`s that some readers render as
HTML; they are escaped again at output by the autoescaping templates and by feedgenerator.

Dates: an entry is placed by its *published* date, never by *updated* (an old post edited must not
come back as new). Without a published date, by the date we first saw it (kept in the state), and a
published date in the future is clamped to that first sight.

Memory (`remember`): each feed's entries are remembered by id and by link (`same_link`) across refreshes, and for
FORGET_AFTER once gone, so that neither a feed briefly served empty nor a platform rewriting its ids makes old
entries new.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from html.entities import html5 as html5_entities
from operator import attrgetter
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import feedparser
from feedparser.urls import resolve_relative_uris

from confreres import sanitize
from confreres.french import ISO_Z, is_weekday, month_number, size_fr, slugify, utc_datetime

EXCERPT_LENGTH = 320
TITLE_FROM_TEXT = 90  # characters of an untitled entry's text that title it
MAX_PER_SOURCE = 50
# Characters of an entry's sanitised HTML the planet's feeds carry (a long post is 30 to 60 KB of it); a longer one
# is carried as its excerpt and a link (`content_of`)
MAX_CONTENT = 100_000
HTML_TYPES = ("text/html", "application/xhtml+xml", "html", "xhtml")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 forbids


def xml_safe(value: str) -> str:
    """Drop the control characters XML cannot carry (they would break the planet's own feeds)."""
    return _NOT_XML.sub("", value or "")


@dataclass(frozen=True)
class Source:
    """A blog the planet follows: a member of the network (feed on disk) or an outside feed (HTTP)."""

    key: str  # URL-safe, unique among sources: the member's slug, or "ext-<slug of title>"
    kind: str  # "member" | "outside"
    title: str
    author: str = ""
    specialty: str = ""
    site_url: str = ""  # the blog's home page
    feed_url: str = ""  # its public feed URL
    verified: bool = False  # the comment service says the author is a verified physician (GET /api/sites)
    path: str = ""  # member: the built feed on disk
    badge_label: str = ""  # "Médecin vérifié · <specialty if the author shows it>", from the service
    badge_title: str = ""  # how the verification was made (the badge's tooltip)

    @property
    def member(self) -> bool:
        return self.kind == "member"

    @property
    def specialty_slug(self) -> str:
        return slugify(self.specialty, default="x") if self.specialty else ""


@dataclass
class Entry:
    key: str  # dedupe key: the feed's id, else the link
    link: str
    title: str  # plain text
    author: str  # plain text
    source: Source
    date: datetime  # placement date (published, or first seen), aware UTC
    updated: datetime | None = None
    excerpt: str = ""  # plain text, truncated
    content_html: str = ""  # sanitised HTML (for the planet's feeds)
    comments: int | None = None  # None: unknown (outside blog, or service down)
    tags: list[str] = field(default_factory=list)
    # sha256 of the record the entry was made from (every field but source, date and comments): a page's key
    # takes it instead of the entry's text, which is most of the cost of keying a network's pages
    origin: str = ""
    compared: str = ""  # same_link(link), made once with the record: what dedupe compares
    shared_id: bool = False  # an outside entry whose id another blog's entry has (generator.mark_shared_ids)
    enclosure: dict | None = None  # its audio or video (`enclosure_of`): url, type, length, action, detail
    published_as: str = ""  # the key the planet first published it under, when its feed has changed its id since

    @property
    def published_key(self) -> str:
        """The key its id in the planet's feeds is made of (generator.published_id): its first one."""
        return self.published_as or self.key

    @property
    def verified(self) -> bool:
        return self.source.verified

    @property
    def specialty(self) -> str:
        return self.source.specialty


_ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_FRENCH_RFC822 = re.compile(r"\s*(?:([a-zé]+)\.?,?\s+)?(\d{1,2})(?:er)?\s+([a-zéû]+)\.?\s+(\d{4})\b(.*)", re.IGNORECASE)


def french_rfc822(value: str):
    """A feed date written by a French locale ("lun., 02 juin 2025 08:00:00 +0200": PHP's strftime under fr_FR),
    as feedparser's date handlers answer (a UTC time tuple, or None). Unread, each entry of such a feed would be
    dated by when the planet first saw it: a new feed's whole past at the top."""
    match = _FRENCH_RFC822.fullmatch(value or "")
    if not match or (match[1] and not is_weekday(match[1])):
        return None
    month = month_number(match[3])
    parsed = email.utils.parsedate_tz(f"{match[2]} {_ENGLISH_MONTHS[month - 1]} {match[4]}{match[5]}") if month else None
    try:
        datetime(*parsed[:3])  # a day that exists (parsedate_tz takes the 31st of February)
    except (TypeError, ValueError):
        return None
    return time.gmtime(email.utils.mktime_tz(parsed if parsed[9] is not None else (*parsed[:9], 0)))


feedparser.registerDateHandler(french_rfc822)

# An id is a name, not an address: feedparser made an RSS guid such as « 1234 » (isPermaLink left to its default)
# absolute against the address the feed was read from (« https://blog.example/1234 »), so that the entry's key, its
# first-seen date and its id in the planet's feeds changed when the feed moved (http to https, a redirect), and an
# entry without <link> was linked to that page, which does not exist. Ids are kept as written.
feedparser.mixin._FeedParserMixin.can_be_relative_uri.discard("id")


def parse(body: bytes, source: Source, address: str = "") -> feedparser.FeedParserDict:
    """feedparser on bytes (a stream: a str would be taken for a URL or a file name); a JSON Feed read here.

    Without feedparser's own sanitiser: every HTML and text field goes through `confreres.sanitize` anyway
    (`normalise`), the one allowlist; feedparser's pass over each entry's HTML cost ~7 % of parsing a feed. It
    still makes relative links absolute, which ours does not: against an xml:base, else `address`, where the body
    was read (after redirects, or the feed a page advertises: fetch.feed_address), else the source's feed URL; an
    RSS feed served by another host than its blog's, against its channel's link (`channel_base`)."""
    address = address or source.feed_url
    if (data := json_feed(body)) is not None:
        return from_json_feed(data, address)
    xml = readable_xml(body)
    parsed = _parsed_xml(xml, address)
    if base := channel_base(parsed, xml, address):
        parsed = _parsed_xml(xml, base)
    return parsed


def _parsed_xml(xml: bytes, address: str) -> feedparser.FeedParserDict:
    # without a Content-Type, feedparser takes HTTP's default (ISO-8859-1) for an undeclared UTF-8 body
    headers = {"content-type": "application/xml", **({"content-location": address} if address else {})}
    return feedparser.parse(io.BytesIO(xml), response_headers=headers, sanitize_html=False)


def _site(url: str) -> str:
    return (urlsplit(url).hostname or "").removeprefix("www.")


def channel_base(parsed, xml: bytes, address: str) -> str:
    """What an RSS feed's relative links are read against instead of `address` (the feed's), or '': its channel's
    <link> (the blog's page) when the feed is served by another host (FeedBurner, a CDN, a feed service) and
    something in its entries was made absolute against the feed's host. Read against the feed's address, « /2025/
    garde.html » led to a page of feeds.feedburner.com that does not exist. RSS does not say how to read relative
    links (RSS Best Practices: a reader may take the channel's link); on the blog's page is how a browser reads them.
    The whole link, not its origin: « images/x.png » of a blog under /blog/ is under /blog/. Atom says how (xml:base,
    else the address it was read from), and a feed giving an xml:base says it: both read as they say; a feed on its
    blog's host (`www.` or not), against its own address, as before."""
    if not str(parsed.get("version") or "").startswith("rss") or b"xml:base" in xml:
        return ""
    link = safe_url((parsed.get("feed") or {}).get("link") or "")
    if not link or not _site(address) or _site(link) == _site(address):
        return ""
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(address))
    for item in parsed.entries:
        texts = [item.get("summary") or "", *(c.get("value") or "" for c in item.get("content") or []),
                 *(link.get("href") or "" for link in item.get("links") or [])]
        if any(origin in text for text in texts):
            return link
    return ""


# Single-byte Latin encodings an XML declaration may claim for a body that is really UTF-8 (a PHP blog's setting)
_LATIN = re.compile(rb"(?:iso[-_ ]?8859[-_ ]?\d+|latin[-_ ]?\d|l\d|(?:windows|cp)[-_ ]?125\d|us-ascii|ascii)", re.IGNORECASE)
_DECLARED = re.compile(rb"""^(\xef\xbb\xbf)?(<\?xml[^>]{0,200}?encoding\s*=\s*["'])([^"']{1,40})(["'])""")
_ENTITY = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]{1,31});")  # not XML's five
_CDATA = re.compile(rb"<!\[CDATA\[.*?(?:\]\]>|\Z)", re.DOTALL)  # where XML reads no entity: left as written
_ENTITY_OR_CDATA = re.compile(_CDATA.pattern + rb"|" + _ENTITY.pattern, re.DOTALL)
_DECLARED_ENTITY = re.compile(rb"<!ENTITY\s+%?\s*([A-Za-z][\w.-]*)")
_XML_SPECIAL = frozenset("<>&\"'")


def _numeric(name: str) -> bytes | None:
    """An HTML entity (`eacute`) as XML character references (`&#233;`), or None: not HTML's, or one of XML's own
    five or a name standing for what XML would read as markup (`&LT;`, HTML's other spelling of `&lt;`)."""
    value = html5_entities.get(name + ";")
    if value is None or name in ("amp", "lt", "gt", "quot", "apos") or _XML_SPECIAL.intersection(value):
        return None
    return "".join(f"&#{ord(ch)};" for ch in value).encode("ascii")


def readable_xml(body: bytes) -> bytes:
    """An XML feed's bytes as they were meant: HTML's named entities (`&eacute;`, `&nbsp;`, which XML does not know)
    as character references, which the XML parser skipped silently under a DOCTYPE (RSS 0.91's: « Caf&eacute; » read
    « Caf ») and sent the whole feed to feedparser's loose parser without one; and a body written in UTF-8 under a
    declaration of a Latin encoding (windows-1252, iso-8859-1…) declared UTF-8, as it is: valid UTF-8 with accents
    is never Latin text by chance. Entities the feed declares itself, and what a CDATA section holds (text, where
    XML reads no entity), are left to the parser. An encoding that is not ASCII's superset (UTF-16) shows no
    `&name;` here and is left as it is."""
    found = _DECLARED.match(body)
    if found and _LATIN.fullmatch(found[3].strip()) and not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            pass  # really in that encoding
        else:
            body = b"%s%sutf-8%s%s" % (found[1] or b"", found[2], found[4], body[found.end():])
    if _ENTITY.search(body) is None:
        return body
    own = set(_DECLARED_ENTITY.findall(body)) if b"<!ENTITY" in body else set()
    cache: dict[bytes, bytes] = {}

    def replaced(match: re.Match) -> bytes:
        name = match[1]
        if name is None:
            return match[0]  # a CDATA section: its « &eacute; » is text, as the author wrote it
        if name not in cache:
            cache[name] = (None if name in own else _numeric(name.decode("ascii"))) or match[0]
        return cache[name]

    return (_ENTITY_OR_CDATA if b"<![CDATA[" in body else _ENTITY).sub(replaced, body)


JSON_FEED = "https://jsonfeed.org/version/"


def json_feed(body: bytes) -> dict | None:
    """A JSON Feed (https://jsonfeed.org/version/1.1: micro.blog, Hugo and Ghost themes, some blogs publish only
    that), or None for anything else."""
    if not body[:64].lstrip().removeprefix(b"\xef\xbb\xbf").startswith(b"{"):
        return None
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(JSON_FEED):
        return None
    return data


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def _json_authors(holder: dict) -> str:
    """Version 1.1's `authors`, 1.0's `author`: their names."""
    authors = holder.get("authors") if isinstance(holder.get("authors"), list) else [holder.get("author")]
    return ", ".join(_text(a.get("name")) for a in authors if isinstance(a, dict) and _text(a.get("name")))


def _json_date(value) -> time.struct_time | None:
    """RFC 3339, as the spec says, into feedparser's form (a UTC time tuple)."""
    moment = utc_datetime(value)
    return moment.timetuple() if moment else None


def _joined(base: str, url: str) -> str:
    """urljoin, '' for an address it cannot read ("http://[x": one item must not stop its feed)."""
    try:
        return urljoin(base, url)
    except ValueError:
        return ""


def _absolute_links(html: str, base: str) -> str:
    """`html` with its relative addresses (href, src, cite…) made absolute against `base`, by the function
    feedparser applies to an XML feed's HTML (its `resolve_relative_uris`)."""
    if not base or not html:
        return html
    try:
        return resolve_relative_uris(html, base, "utf-8", "text/html")
    except (ValueError, AssertionError, RuntimeError, RecursionError):  # its SGML reader on what it cannot read
        return html


def from_json_feed(data: dict, feed_url: str = "") -> feedparser.FeedParserDict:
    """A JSON Feed in the shape feedparser gives a parsed Atom or RSS feed (what `normalise` reads; `attachments` as
    enclosures): every value checked for its type, relative addresses made absolute (an item's link against the home
    page, else the feed's address; its HTML against the item's own page, as a browser reads it there, else the same),
    nothing trusted more than an XML feed's."""
    home = _text(data.get("home_page_url"))
    home = _joined(feed_url, home) if home else ""
    base = home or feed_url
    entries = []
    for item in data.get("items") if isinstance(data.get("items"), list) else []:
        if not isinstance(item, dict):
            continue
        own = _joined(base, _text(item.get("url"))) if _text(item.get("url")) else ""
        external = _text(item.get("external_url"))  # a link blog's: the page it is about, elsewhere
        link = own or (_joined(base, external) if external else "")
        entry = {"id": _text(item.get("id")) or (str(item["id"]) if isinstance(item.get("id"), int) else ""),
                 "link": link, "title": _text(item.get("title")),
                 "author": _json_authors(item),
                 "tags": [{"term": t} for t in (item.get("tags") if isinstance(item.get("tags"), list) else [])
                          if isinstance(t, str)]}
        attachments = item.get("attachments") if isinstance(item.get("attachments"), list) else []
        entry["enclosures"] = [{"href": _joined(base, a["url"]), "type": _text(a.get("mime_type")),
                                "length": str(a.get("size_in_bytes")) if isinstance(a.get("size_in_bytes"), int) else ""}
                               for a in attachments if isinstance(a, dict) and _text(a.get("url"))]
        if _text(item.get("content_html")):
            entry["content"] = [{"value": _absolute_links(item["content_html"], safe_url(own) or base),
                                 "type": "text/html"}]
        elif _text(item.get("content_text")):
            entry["content"] = [{"value": item["content_text"], "type": "text/plain"}]
        if _text(item.get("summary")):
            entry["summary"], entry["summary_detail"] = item["summary"], {"type": "text/plain"}
        for name, key in (("published", "date_published"), ("updated", "date_modified")):
            if (when := _json_date(item.get(key))) is not None:
                entry[f"{name}_parsed"] = when
        entries.append(entry)
    feed = {"title": _text(data.get("title")), "link": home, "author": _json_authors(data)}
    return feedparser.FeedParserDict(feed=feed, entries=entries, version="json" + str(data["version"])[len(JSON_FEED):],
                                     bozo=0)


_UNQUOTED = str.maketrans({ch: f"%{ord(ch):02X}" for ch in " \"'<>`"})  # written as typed: encoded, as browsers do
_REFUSED = frozenset(("Cc", "Cs", "Zl", "Zp"))  # control characters, lone surrogates, line and paragraph separators


def _encoded(ch: str) -> str:
    """An unprintable character of a link: percent-encoded (its UTF-8) as a browser sends it, or '\0' (refused)."""
    if unicodedata.category(ch) in _REFUSED or ch in "\ufffe\uffff":
        return "\0"
    return quote(ch, safe="")


def safe_url(url: str) -> str:
    """`url` when it is an absolute http(s) URL, else '' (javascript:, data:, relative junk, a control character or a
    line separator anywhere). Spaces, quotes and angle brackets inside it are percent-encoded (« /mon article.html »,
    as hand-made feeds write it, is a page a browser finds), and so are other spaces (a no-break one) and invisible
    formatting characters."""
    url = (url or "").strip()
    if not url.isprintable():
        url = "".join(ch if ch.isprintable() else _encoded(ch) for ch in url)
    if not url or "\0" in url:
        return ""
    url = url.translate(_UNQUOTED)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


# What a podcast episode's or a video's file is called on the page, by its type
MEDIA_NAMES = {"audio/mpeg": "MP3", "audio/mp3": "MP3", "audio/mpeg3": "MP3", "audio/x-mp3": "MP3",
               "audio/x-mpeg": "MP3", "audio/mp4": "M4A", "audio/x-m4a": "M4A", "audio/m4a": "M4A", "audio/aac": "AAC",
               "audio/ogg": "Ogg", "audio/opus": "Opus", "audio/wav": "WAV", "audio/x-wav": "WAV", "audio/flac": "FLAC",
               "video/mp4": "MP4", "video/x-m4v": "M4V", "video/webm": "WebM", "video/quicktime": "MOV"}
# an enclosure without a type (some podcast hosts): by its file's extension
MEDIA_EXTENSIONS = {".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg",
                    ".oga": "audio/ogg", ".opus": "audio/opus", ".wav": "audio/wav", ".flac": "audio/flac",
                    ".mp4": "video/mp4", ".m4v": "video/x-m4v", ".webm": "video/webm", ".mov": "video/quicktime"}
_MIME = re.compile(r"(audio|video)/[a-z0-9][a-z0-9.+-]{0,60}")
_LENGTH = re.compile(r"\s*(\d{1,15})\s*")


def enclosure_of(item) -> dict | None:
    """An entry's audio or video (a podcast episode's file), from its RSS <enclosure>, Atom `rel="enclosure"` link or
    Media RSS <media:content>, or None: its http(s) address, its type, its size in bytes (0: unknown; podcast hosts
    write « 0 » or nothing) and what the planet's page says of it (« Écouter », « MP3, 12,3 Mo »). An image
    (Over-blog's and WordPress plugins' enclosure of a post's picture) is no episode: not one."""
    candidates = [(e.get("href", ""), e.get("type", ""), e.get("length", "")) for e in item.get("enclosures") or []]
    candidates += [(m.get("url", ""), m.get("type", "") or m.get("medium", ""), m.get("filesize", ""))
                   for m in item.get("media_content") or []]
    for href, kind, length in candidates:
        url = safe_url(href if isinstance(href, str) else "")
        if not url:
            continue
        kind = (kind if isinstance(kind, str) else "").split(";")[0].strip().lower()
        if not _MIME.fullmatch(kind):
            path = urlsplit(url).path.lower()
            kind = next((mime for ext, mime in MEDIA_EXTENSIONS.items() if path.endswith(ext)), "")
            if not kind:
                continue
        size = _LENGTH.fullmatch(length if isinstance(length, str) else "")
        size = int(size[1]) if size else 0
        name = MEDIA_NAMES.get(kind) or kind.split("/")[1].removeprefix("x-").upper()[:12]
        audio = kind.startswith("audio/")
        return {"url": url, "type": kind, "length": size, "action": "Écouter" if audio else "Regarder",
                "detail": ", ".join(part for part in (name, size_fr(size)) if part)}
    return None


def entry_link(item, media: dict | None = None) -> str:
    """The address an entry's title leads to, the best it has, http(s) only: its page (RSS <link>, Atom's HTML
    alternate link; else, as feedparser reads them, an RSS <guid> that is a permalink, isPermaLink not "false", or an
    Atom <id>, when written as an absolute address), else an Atom alternate of another type or a `rel="related"` link
    (a link blog's: the page it is about, as JSON Feed's external_url), else its audio or video (`media`, a podcast
    episode with only its file and a guid: what a podcast app opens). '' when it has none: skipped, and counted.
    Never the blog's home page: several entries would lead to one page, which shows none of them for long."""
    link = safe_url(item.get("link") or "")
    if link:
        return link
    for rel in ("alternate", "related"):
        for candidate in item.get("links") or []:
            if candidate.get("rel") == rel and (link := safe_url(candidate.get("href") or "")):
                return link
    return media["url"] if media else ""


def link_key(url: str) -> str:
    """A link compared for duplicates: scheme and host lowercased, fragment and default ports dropped."""
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    for scheme, port in (("http", ":80"), ("https", ":443")):
        if parts.scheme.lower() == scheme and netloc.endswith(port):
            netloc = netloc[: -len(port)]
    return urlunsplit((parts.scheme.lower(), netloc, parts.path or "/", parts.query, ""))


def same_link(url: str) -> str:
    """What an entry is remembered by beside its id (`remember`): a digest of its link with what a platform's move
    changes without changing the page left out (http or https, `www.`, a trailing slash, default ports, the
    fragment, `utm_*` tracking parameters). 16 hex digits: one per entry of every feed in the state."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = (parts.hostname or "").removeprefix("www.")
    if port not in (None, 80, 443):
        host = f"{host}:{port}"
    query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("utm_"))
    same = f"{host}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")
    return hashlib.blake2b(same.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()


_TAG_SHAPED = re.compile(r"<[A-Za-z!/?][^<>]*>?")  # what a reader could take for markup ("< 5 jours" is not)


PLAIN_FIELD = 4096  # characters of a title, author or tag read (300 are shown): a 120 KB title took seconds


def plain(value: str) -> str:
    """A feed's text field (title, author, tag) as plain text whatever its declared type: tags stripped, entities
    decoded once, and no tag-shaped text left (`&amp;lt;img …&gt;` decodes to one), so no reader renders it; one
    line without bidi overrides or zero-width characters (sanitize.one_line: « ‮ » turned a title around)."""
    text = sanitize.text(xml_safe(value[:PLAIN_FIELD]))
    for _ in range(4):  # nested shapes lose a level a pass (« <<b>b> »); what is still left loses its brackets
        previous, text = text, _TAG_SHAPED.sub("", text)
        if previous == text:
            break
    else:
        if _TAG_SHAPED.search(text):
            text = text.replace("<", "").replace(">", "")
    return sanitize.one_line(text)


def _detail(item, name: str) -> tuple[str, str]:
    value = item.get(name) or ""
    detail = item.get(f"{name}_detail") or {}
    return value, detail.get("type", "text/plain")


def _as_html(value: str, kind: str) -> str:
    if (kind or "").lower() in HTML_TYPES:
        return value
    return "<p>" + escape(value) + "</p>" if value else ""


def _when(item, name: str) -> datetime | None:
    parsed = dict.get(item, f"{name}_parsed")  # not FeedParserDict.get: it maps updated to published
    if not parsed:
        return None
    try:
        return datetime(*parsed[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def entries_of(parsed, source: Source, seen: dict, now: datetime | None = None,
               excerpt_length: int = EXCERPT_LENGTH, limit: int = MAX_PER_SOURCE) -> list[Entry]:
    """The entries of one parsed feed. `seen` (the feed's memory: `remember`) is read and updated in place."""
    records = normalise(parsed, source, excerpt_length, limit)
    memory = remember(records, seen, now)
    seen.clear()
    seen.update(memory)
    return dated(records, source, seen, now)


# an e-mail address, not a fediverse handle ("@dr@instance.fr", a public name)
_EMAIL = re.compile(r"(?<![\w@.+-])(?:mailto:)?[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|<\s*>|\[\s*\]")


def person(holder) -> str:
    """The name of an entry's (or a feed's) author, never an e-mail address: RSS's <author> is one, with the name
    in brackets ("dr.x@exemple.fr (Dr X)"), and Blogger gives one beside every name. An address alone gives ''.
    From the author as written (feedparser's `author_detail` cuts an address's domain after 4 letters)."""
    written = holder.get("author") or (holder.get("author_detail") or {}).get("name") or ""
    text = _EMPTY_BRACKETS.sub("", _EMAIL.sub("", plain(written)))
    text = text.strip(" ,;:-")
    if text[:1] == "(" and text[-1:] == ")" and text.count("(") == 1:
        text = text[1:-1]  # "x@y.fr (Dr X)": the name was in brackets
    return text.strip()


def untitled(excerpt_html: str) -> str:
    """A title for an entry without one (a Mastodon account's feed, a microblog): the start of its text."""
    return plain(sanitize.excerpt(excerpt_html, TITLE_FROM_TEXT)) or "(sans titre)"


def normalise(parsed, source: Source, excerpt_length: int = EXCERPT_LENGTH, limit: int = MAX_PER_SOURCE,
              skipped: list[str] | None = None) -> list[dict]:
    """Entries of a parsed feed as plain, sanitised, JSON-able records (cached per feed body by the planet).

    `skipped` gets the title of each entry left out for want of any http(s) address (`entry_link`), so that the
    feeds' status page and `confreres planet refresh` can say it."""
    feed_author = person(parsed.get("feed", {}))
    result: list[dict] = []
    items = parsed.entries[: limit * 2]
    media = [enclosure_of(item) for item in items]
    links = [entry_link(item, found) for item, found in zip(items, media, strict=True)]
    shared = _shared_ids(items, links)
    keys: set[str] = set()
    for item, link, found in zip(items, links, media, strict=True):
        if not link:  # nothing to point a reader to (or a javascript: link only)
            if skipped is not None:
                skipped.append(plain(item.get("title") or "")[:120] or "(sans titre)")
            continue
        own = _own_id(item)
        key = link if not own or own in shared else own
        if key in keys:
            continue  # the same entry twice in one feed: its first
        keys.add(key)
        body, kind = "", "text/plain"
        contents = item.get("content") or []
        if contents:
            body, kind = contents[0].get("value", ""), contents[0].get("type", "text/html")
        summary, summary_kind = _detail(item, "summary")
        if summary and contents and not item.get("summary_detail"):
            summary_kind = kind  # feedparser copies an entry's lone <content> into `summary`, without its type
        excerpt_html = _as_html(summary, summary_kind) if summary else _as_html(body, kind)
        content_html = _as_html(body, kind) if body else _as_html(summary, summary_kind)
        published, updated = _when(item, "published"), _when(item, "updated")
        tags = [plain(t.get("term", "")) for t in item.get("tags") or [] if t.get("term")]
        result.append({
            "key": key,
            "link": link,
            "title": (plain(item.get("title", "")) or untitled(excerpt_html))[:300],
            "author": (person(item) or feed_author)[:120],
            "published": published.strftime(ISO_Z) if published else "",
            "updated": updated.strftime(ISO_Z) if updated else "",
            "excerpt": xml_safe(sanitize.excerpt(excerpt_html, excerpt_length)),
            "content_html": content_of(content_html, link, excerpt_length),
            "tags": [t for t in tags if t][:10],
            "compared": same_link(link),
            "same": same_link(link),
            "enclosure": found,
        })
        result[-1]["digest"] = hashlib.sha256(json.dumps(result[-1], sort_keys=True).encode()).hexdigest()
        if len(result) >= limit:
            break
    return result


def content_of(html: str, link: str, excerpt_length: int = EXCERPT_LENGTH) -> str:
    """An entry's HTML, sanitised, for the planet's feeds; beyond MAX_CONTENT characters, its excerpt and a link to
    it instead: one enormous post (a 2 MiB feed can hold one) was carried whole by the planet's combined feed, its
    blog's and its specialty's, past the size a feed reader accepts (the planet's own fetcher: 2 MiB)."""
    clean = xml_safe(sanitize.clean(html))
    if len(clean) <= MAX_CONTENT:
        return clean
    excerpt = xml_safe(sanitize.excerpt(html, excerpt_length))
    return sanitize.clean(f'<p>{escape(excerpt)}</p><p><a href="{escape(link)}">Lire le billet en entier</a></p>')


def _own_id(item) -> str:
    """An entry's id as the planet's feeds can publish it: without the control characters XML cannot carry
    (feedgenerator refused one, and the planet's build failed)."""
    return xml_safe(item.get("id") or "").strip()


def _shared_ids(items, links: list[str]) -> set[str]:
    """Ids that several entries of one feed carry with different links (every item's guid the blog's home page, a
    plugin's constant): no entry's id, so those entries are known by their links, whatever their order."""
    seen: dict[str, str] = {}
    shared = set()
    for item, link in zip(items, links, strict=True):
        own = _own_id(item)
        if own and link and seen.setdefault(own, link_key(link)) != link_key(link):
            shared.add(own)
    return shared


def dated(records: list[dict], source: Source, seen: dict, now: datetime | None = None) -> list[Entry]:
    """Entries placed by publication date, else by first sight (recorded in `seen`, the feed's memory: `remember`);
    never by `updated`, which is unknown while it is later than `now` (a blog's wrong clock)."""
    now = now or datetime.now(UTC)
    result = []
    for record in records:
        key = record["key"]
        published = _parse_iso(record["published"])
        # most entries were updated when published, and first seen then: one date parsed, not three
        updated = published if record["updated"] == record["published"] else _parse_iso(record["updated"])
        if updated is not None and updated > now:
            updated = None  # « updated in 2099 » would be the planet's feeds' <updated>, on top of readers sorting by it
        memory = seen.get(key)
        if memory is None:
            seen_at = min(d for d in (published, updated, now) if d is not None).strftime(ISO_Z)
            seen[key] = _memory(seen_at, record.get("same", ""))
            published_as = ""
        elif type(memory) is list and len(memory) == 2 and type(memory[0]) is str:  # most: [first seen, link]
            seen_at, published_as = memory[0], ""
        else:
            seen_at, _same, _missing, published_as = _recalled(memory)
        first_seen = (published if published and seen_at == record["published"] else _parse_iso(seen_at)) or now
        result.append(Entry(
            key=key,
            link=record["link"],
            title=record["title"],
            author=source.author or record["author"],  # the registry's name first
            source=source,
            date=min(published, first_seen) if published else first_seen,
            updated=updated,
            excerpt=record["excerpt"],
            content_html=record.get("content_html", ""),  # kept apart by the planet's cache (generator.with_content)
            tags=list(record["tags"]),
            origin=record.get("digest", ""),
            compared=record.get("compared", ""),
            enclosure=record.get("enclosure"),
            published_as=published_as,
        ))
    return result


# How long an entry gone from its feed is remembered: a feed served empty for a while (an error page sent as a 200
# with an empty channel, a maintenance mode, a plugin's bug) must not make its entries new when they come back
FORGET_AFTER = timedelta(days=14)
MAX_GONE = 2 * MAX_PER_SOURCE  # gone entries remembered per feed at most, the latest gone first: a bounded state


def _memory(seen_at: str, same: str = "", missing: str = "", published_as: str = "") -> list[str]:
    """One entry's memory as the state keeps it: [first seen, `same_link` of its link, gone from its feed since,
    the key it was first published under], without the empty ones at its end."""
    memory = [seen_at, same, missing, published_as]
    while len(memory) > 1 and not memory[-1]:
        memory.pop()
    return memory


def _recalled(value) -> tuple[str, str, str, str]:
    """(first seen, same_link, gone since, published as) of a kept memory: a list (`_memory`), or the first-seen date
    alone that the state held before; '' for what it does not say (or a damaged state says wrongly)."""
    if isinstance(value, str):
        return value, "", "", ""
    parts = [v if isinstance(v, str) else "" for v in value[:4]] if isinstance(value, list) else []
    return (*parts, "", "", "", "")[:4]


def remember(records: list[dict], seen: dict, now: datetime | None = None) -> dict:
    """A feed's memory (`seen`: {key: `_memory`}) brought up to date with its entries now (`records`), as a new dict
    (`seen` is left as it is); `dated` then adds the entries it has never seen.

    An entry gone from the feed is remembered for FORGET_AFTER (at most MAX_GONE of them), not forgotten at once: a
    feed briefly served empty wiped its entries' first-seen dates, and when they came back the undated ones were on
    top and the planet's feeds gave them as new. An entry with a new id but the link of an entry remembered (gone
    from the feed now: `same_link`) is that entry: a platform that changes its ids (Blogger to WordPress, http to
    https in its guids, a plugin) made every entry new, undated ones on top and duplicates in feed readers. It keeps
    its first-seen date and the key it was published under. A link several entries share (every item linking to
    the blog's home page) is no entry's."""
    now = now or datetime.now(UTC)
    stamp = now.strftime(ISO_Z)
    present = {record["key"]: record for record in records}
    memory: dict = {}
    gone: dict[str, tuple] = {}
    for key, value in seen.items():
        if type(value) is list and len(value) == 2 and key in present and value[1] and type(value[0]) is str:
            memory[key] = value  # most: in its feed, as it was
            continue
        seen_at, same, missing, published_as = _recalled(value)
        if not seen_at:
            continue
        record = present.get(key)
        if record is None:
            gone[key] = (seen_at, same, missing, published_as, value)
        elif missing or not same:  # back in its feed, or remembered before links were
            memory[key] = _memory(seen_at, same or record.get("same", ""), "", published_as)
        else:
            memory[key] = value
    new = [record for record in records if record["key"] not in memory]
    if new and gone:
        shared = Counter(record.get("same", "") for record in records)
        shared.update(same for _seen_at, same, *_rest in gone.values())
        by_link = {same: key for key, (_seen_at, same, *_rest) in gone.items() if same and shared[same] == 2}
        for record in new:
            old = by_link.get(record.get("same", ""))
            if old is not None:
                seen_at, same, _missing, published_as, _value = gone.pop(old)
                published_as = published_as or old
                memory[record["key"]] = _memory(seen_at, same, "", "" if published_as == record["key"] else published_as)
    oldest = (now - FORGET_AFTER).strftime(ISO_Z)
    kept = sorted(((missing or stamp, key) for key, (_seen_at, _same, missing, *_rest) in gone.items()), reverse=True)
    for missing, key in kept[:MAX_GONE]:
        if missing < oldest:
            break
        seen_at, same, was_missing, published_as, value = gone[key]
        memory[key] = value if was_missing else _memory(seen_at, same, stamp, published_as)
    return memory


def _parse_iso(value: str) -> datetime | None:
    """An ISO_Z date of a stored record (fromisoformat when it has that shape: strptime was 10x slower)."""
    if not value:
        return None
    try:
        if len(value) == 20 and value[10] == "T" and value[-1] == "Z":
            return datetime.fromisoformat(value)  # "Z": aware, in UTC (Python >= 3.11)
        return datetime.strptime(value, ISO_Z).replace(tzinfo=UTC)
    except ValueError:
        return None


def dedupe(entries: list[Entry]) -> list[Entry]:
    """Keep the first of one feed's entries sharing an id, then of any entries sharing a link (members come first).
    An id is compared within its feed only: two unrelated blogs both numbering their posts "1" (a bare RSS guid)
    must not hide each other's. Links are compared as `same_link` reads them: a member's post that an outside feed
    also carries through FeedBurner (`?utm_source=feedburner…`), over http or with `www.` is shown once."""
    ids: set[tuple[str, str]] = set()
    links: set[str] = set()
    kept = []
    for entry in entries:
        link = entry.compared or same_link(entry.link)
        if (entry.source.key, entry.key) in ids or link in links:
            continue
        ids.add((entry.source.key, entry.key))
        links.add(link)
        kept.append(entry)
    return kept


def newest_first(entries: list[Entry]) -> list[Entry]:
    """By date, newest first; entries of one date keep the order they come in (their feed's, newest first, then the
    sources'): ordered by title, a feed without dates (its entries all first seen at one time) or with dates without
    times showed its posts from Z to A."""
    return sorted(entries, key=attrgetter("date"), reverse=True)
