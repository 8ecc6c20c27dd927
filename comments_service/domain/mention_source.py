"""Reading a Webmention's source page: does it link to the target, and what does it say (h-entry).

mf2py reads the microformats (author name and URL, content or summary, published; the <title> when there
is no h-entry); Python's fast HTML parser first, html5lib when it gives up; the content goes through the
network's one sanitiser. Pure functions over a fetched page: no database, no network.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import json
from dataclasses import asdict, dataclass
from urllib.parse import urljoin, urlsplit

from comments_service.domain import public, validate
from confreres import sanitize

HTML_TYPES = ("text/html", "application/xhtml+xml")
MAX_FULL_TEXT = 1000  # longer content is shown as an excerpt
EXCERPT = 500
MAX_NAME = 100
MAX_TITLE = 300
REPLY_PROPERTIES = (("in-reply-to", "reply"), ("like-of", "like"), ("repost-of", "repost"), ("bookmark-of", "bookmark"))


@dataclass
class Entry:
    type: str = "mention"
    url: str = ""
    author_name: str = ""
    author_url: str | None = None
    title: str = ""
    html: str = ""
    published: str | None = None

    def digest(self) -> str:
        return hashlib.sha256(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()


def links_to(soup, base: str, target: str) -> bool:
    """True when an <a href> or <link href> of the page resolves to exactly `target`."""
    base_tag = soup.find("base", href=True)
    if base_tag is not None:
        base = urljoin(base, base_tag["href"].strip())
    return any(urljoin(base, el["href"].strip()) == target for el in soup.find_all(["a", "link"], href=True))


def parse_source(fetched, target: str, post_url: str) -> Entry | None:
    """The mention the source makes of `target`, or None when it does not link to it."""
    source = fetched.url
    host = urlsplit(source).hostname or source
    ctype = fetched.content_type
    text = fetched.text()
    if ctype in HTML_TYPES or not ctype:
        soup, parser = _soup(text)
        if not links_to(soup, source, target):
            return None
        return _from_html(text, soup, source, target, post_url, parser) or Entry(
            url=source, author_name=host, title=_plain(soup.title.get_text() if soup.title else "", MAX_TITLE)
        )
    if (ctype.startswith("text/") or ctype == "application/json" or ctype.endswith("+json")) and target in text:
        return Entry(url=source, author_name=host)
    return None


def _soup(text: str):
    """(BeautifulSoup, parser name): Python's fast parser, else html5lib, which reads any markup as browsers do
    (html.parser gives up on some broken pages, e.g. `<![>`)."""
    from bs4 import BeautifulSoup
    from bs4.exceptions import ParserRejectedMarkup

    try:
        return BeautifulSoup(text, "html.parser"), "html.parser"
    except ParserRejectedMarkup:
        return BeautifulSoup(text, "html5lib"), "html5lib"


def _first(values):
    return values[0] if isinstance(values, list) and values else None


def _plain(value, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return validate.one_line(sanitize.text(html_lib.escape(value)))[:limit].strip()


def _http(value) -> str | None:
    return value if isinstance(value, str) and len(value) <= validate.MAX_URL and validate.is_http_url(value) else None


def _entries(items):
    for item in items:
        if "h-entry" in item.get("type", []):
            yield item
        yield from _entries(item.get("children", []))
        for values in item.get("properties", {}).values():
            yield from _entries([v for v in values if isinstance(v, dict) and "type" in v])


def _urls(values) -> list[str]:
    found = []
    for value in values or []:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found.extend(u for u in value.get("properties", {}).get("url", []) if isinstance(u, str))
            if isinstance(value.get("value"), str):
                found.append(value["value"])
    return found


def _from_html(text: str, soup, source: str, target: str, post_url: str, parser: str = "html.parser") -> Entry | None:
    import mf2py

    try:
        parsed = mf2py.parse(doc=text, url=source, html_parser=parser)
    except Exception:  # noqa: BLE001 - a page mf2py cannot read is a mention without details
        return None
    entries = list(_entries(parsed.get("items", [])))
    if not entries:
        return None
    wanted = {target, post_url}

    def concerns(item) -> bool:
        props = item.get("properties", {})
        if any(set(_urls(props.get(p))) & wanted for p, _ in REPLY_PROPERTIES):
            return True
        content = _first(props.get("content"))
        return isinstance(content, dict) and any(u in (content.get("html") or "") for u in wanted)

    item = next((e for e in entries if concerns(e)), entries[0])
    props = item.get("properties", {})
    kind = next((k for p, k in REPLY_PROPERTIES if set(_urls(props.get(p))) & wanted), "mention")

    name, url = "", None
    author = _first(props.get("author"))
    if author is None:
        author = next((i for i in parsed.get("items", []) if "h-card" in i.get("type", [])), None)
    if isinstance(author, dict):
        name = _plain(_first(author.get("properties", {}).get("name")) or author.get("value"), MAX_NAME)
        url = _http(_first(author.get("properties", {}).get("url")))
    elif isinstance(author, str):
        url = _http(author)
        name = "" if url else _plain(author, MAX_NAME)
    name = name or urlsplit(url or source).hostname or ""

    content = _first(props.get("content"))
    if isinstance(content, dict):
        raw = content.get("html") or html_lib.escape(content.get("value") or "")
    elif isinstance(content, str):
        raw = html_lib.escape(content)
    else:
        summary = _first(props.get("summary"))
        raw = f"<p>{html_lib.escape(summary)}</p>" if isinstance(summary, str) else ""
    html = sanitize.clean(raw)
    plain = sanitize.text(html)
    if len(plain) > MAX_FULL_TEXT:
        html = f"<p>{html_lib.escape(sanitize.excerpt(html, EXCERPT))}</p>"

    title = _plain(_first(props.get("name")), MAX_TITLE)
    if title and plain and (plain.startswith(title[:40]) or title.startswith(plain[:40])):
        title = ""  # an implied name: the content's own text
    if not title and not plain:
        title = _plain(soup.title.get_text() if soup.title else "", MAX_TITLE)

    own = _http(_first(props.get("url")))
    same_origin = own and urlsplit(own).netloc.lower() == urlsplit(source).netloc.lower()
    return Entry(
        type=kind,
        url=own if same_origin else source,
        author_name=name,
        author_url=url,
        title=title,
        html=html,
        published=_published(_first(props.get("published"))),
    )


def _published(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    if len(value) > 10 and value[10] == " ":
        value = value[:10] + "T" + value[11:]
    return public.utc_time(value)
