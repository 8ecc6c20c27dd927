"""WordPress export (WXR) -> the Markdown posts and pages of one blog, with the images and files they show.

    report = import_posts("export.xml", Path("sites/dr-martin/content"), download=True, dry_run=False)

What a doctor moving a blog needs of it, without pandoc or anything but this package:
- each post `content/<year>/<slug>.md`, each page `content/pages/<slug>.md`, with Title, Date (Paris time), Category,
  Tags, Slug (WordPress's own, so the comments' import matches them and the old addresses can be kept), Summary (the
  excerpt, else the text before `<!--more-->`); drafts, pending, private and password-protected posts as
  `Status: draft` (never published by the import: a protected post was not public);
- the body as Markdown: WordPress's implicit paragraphs (wpautop) made explicit, its shortcodes read ([caption],
  [gallery], [embed], [audio], [video], Jetpack's [youtube]; others dropped, their text kept, and counted), embeds
  (iframes) and bare media links turned into links, scripts, styles and forms dropped;
- the images and files the posts show from the blog's own uploads (`wp-content/uploads`, `*.files.wordpress.com`,
  Jetpack's `i0.wp.com` copies), downloaded into `content/images/` (or `content/files/`) and linked with `{static}`:
  the network's pages load images from the network only (CSP), so an image left on the old host would not show;
  links between the blog's posts become `{filename}` links, which Pelican turns into the new addresses;
- each file read for medical secrecy as a push will read it: what would refuse the push is listed first.

A file already there is never overwritten (running the import again writes nothing, a doctor's edits are kept);
an image already downloaded is not fetched again. Downloads go through `safe_http.Guard` (no private address, size
and time capped): the export names the URLs, and it may be somebody else's file.
"""

from __future__ import annotations

import html
import os
import re
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urljoin, urlsplit, urlunsplit

import markdownify
from bs4 import BeautifulSoup
from markdownify import MarkdownConverter

from confreres import secrecy, wxr
from confreres.french import PARIS, slugify
from confreres.sanitize import text as plain_text

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif", ".bmp", ".ico", ".tif", ".tiff"}
MAX_DOWNLOAD = 25 * 1024 * 1024  # an upload larger than this stays a link to the old site (a video, most likely)
DOWNLOADS_AT_ONCE = 4
SHOWN = 20  # lines of a list in the terminal report (all in --json)
_DRAFT_STATUSES = {"draft": "brouillon", "pending": "en attente de relecture", "private": "privé"}
_SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}
_DEFAULT_CATEGORIES = {"uncategorized", "non-classe", "sans-categorie"}  # WordPress's default, in English and French
_BLOCKS = ("table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|"
           "blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|"
           "footer|nav|figure|figcaption|details|menu|summary|iframe|audio|video|object|embed|script|noscript")
_SHORTCODE = re.compile(r"\[(\[?)([a-zA-Z][\w-]*)((?:\s[^\]]*)?)\](?:(.*?)\[/\2\])?(\]?)", re.S)
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
_MEDIA_KEYS = ("src", "mp3", "m4a", "ogg", "wav", "wma", "mp4", "m4v", "webm", "ogv", "wmv", "flv")
_BARE_URL_LINE = re.compile(r"^\s*(https?://[^\s<>\"]+)\s*$", re.M)


@dataclass
class Post:
    """One post or page as it will be written."""

    kind: str  # "post" | "page"
    wp_id: str
    title: str
    path: str  # under content/, e.g. "2015/gardes-de-nuit.md"
    status: str  # "" (published or scheduled) | "draft"
    why_draft: str  # « brouillon », « privé », « protégé par un mot de passe »…
    line: int
    date: datetime  # Paris time; an undated item is dated by the import, and a draft
    text: str = ""
    outcome: str = ""  # "written" | "present" (a file already there: kept)
    refused: list[str] = field(default_factory=list)  # secrecy findings that would refuse the push
    warned: list[str] = field(default_factory=list)


@dataclass
class Upload:
    url: str  # as downloaded (no query string)
    path: str  # under content/, e.g. "images/2015/03/radio.jpg"
    outcome: str = ""  # "downloaded" | "present" | "failed" | "not_downloaded"
    error: str = ""


@dataclass
class PostsReport:
    version: str = ""
    base_url: str = ""
    posts: list[Post] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)  # by URL
    skipped: Counter = field(default_factory=Counter)  # by post type or status
    shortcodes: Counter = field(default_factory=Counter)  # dropped, by name
    removed: Counter = field(default_factory=Counter)  # scripts, styles, forms
    embeds: int = 0  # iframes and media made links
    outside_images: set[str] = field(default_factory=set)  # images hosted elsewhere: not shown under the CSP
    repairs: Counter = field(default_factory=Counter)
    dry_run: bool = False

    def count(self, kind: str, outcome: str | None = None, draft: bool | None = None) -> int:
        return sum(1 for p in self.posts if p.kind == kind and (outcome is None or p.outcome == outcome)
                   and (draft is None or (p.status == "draft") == draft))

    def uploads_by(self, outcome: str) -> list[Upload]:
        return [u for u in self.uploads.values() if u.outcome == outcome]

    def as_dict(self) -> dict:
        return {
            "source": "wordpress", "version": self.version, "dry_run": self.dry_run,
            "posts": [{"kind": p.kind, "title": p.title, "path": p.path, "status": p.status or "published",
                       "why_draft": p.why_draft, "outcome": p.outcome, "secrecy_refused": p.refused,
                       "secrecy_warned": p.warned} for p in self.posts],
            "uploads": [{"url": u.url, "path": u.path, "outcome": u.outcome, "error": u.error}
                        for u in self.uploads.values()],
            "skipped": dict(self.skipped), "shortcodes_dropped": dict(self.shortcodes), "removed": dict(self.removed),
            "embeds_as_links": self.embeds, "outside_images": sorted(self.outside_images),
            "repairs": dict(self.repairs),
        }


# -- reading the export ---------------------------------------------------------------------------


@dataclass
class _Item:
    f: dict
    categories: list[tuple[str, str, str]]  # (domain, nicename, name)
    line: int


def _read(path: str | Path) -> tuple[wxr.Wxr, list[_Item], dict[str, dict]]:
    """(the export, its posts and pages, its attachments by id: {"url", "parent", "title", "order"})."""
    export = wxr.Wxr(path)
    items: list[_Item] = []
    attachments: dict[str, dict] = {}
    for elem, line in export.items():
        f = wxr.fields(elem, raw=("encoded", "excerpt"))
        if f.get("post_type") == "attachment":
            if f.get("attachment_url"):
                attachments[f.get("post_id", "")] = {"url": f["attachment_url"], "parent": f.get("post_parent", ""),
                                                     "title": f.get("title", ""), "order": f.get("menu_order", "0")}
            continue
        categories = [(c.get("domain", ""), c.get("nicename", ""), (c.text or "").strip())
                      for c in elem if wxr.local(c.tag)[1] == "category"]
        items.append(_Item(f, categories, line))
    return export, items, attachments


def _one_line(value: str) -> str:
    """Plain text on one line, from WordPress's HTML (entities read)."""
    return " ".join(plain_text(value or "").split())


def _meta(value: str) -> str:
    """A metadata value: one line of text, which Pelican shows as HTML (a title) or reads as Markdown (a summary):
    « < » and what reads as an entity are escaped, so that text written « &lt;script&gt; » stays text."""
    return re.sub(r"<", "&lt;", re.sub(r"&(?=#?\w+;)", "&amp;", _one_line(value)))


def _slug(f: dict, title: str) -> str:
    """WordPress's own slug (percent-decoded: « %c3%a9 » is « é »), kept as the address's last part; a draft has
    none yet: made from the title."""
    slug = unquote(f.get("post_name", "")).strip()
    if not slug or not re.fullmatch(r"[\w-]+", slug):
        slug = slugify(slug or title, default=f"billet-{f.get('post_id', '0')}")
    return slug


def _date(f: dict) -> datetime | None:
    """The post's date in Paris time (naive): WordPress's GMT date, else its local one as written."""
    gmt = wxr.wp_datetime(f.get("post_date_gmt"))
    if gmt is None:
        if (local := wxr.wp_datetime(f.get("post_date"))) is not None:
            return local
        gmt = wxr.post_dates({"pubDate": f.get("pubDate", "")})["date"]  # an item with no WordPress date
    return gmt.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None) if gmt else None


# -- the body -------------------------------------------------------------------------------------


def wpautop(text: str) -> str:
    """WordPress's implicit paragraphs made explicit (its `wpautop`, as it shows a classic-editor post): a blank
    line ends a paragraph, a line break is a `<br>`; block elements and `<pre>` are left as they are."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    text = re.sub(r"<(pre|script|style)\b.*?</\1\s*>", keep, text, flags=re.S | re.I)
    text = re.sub(rf"(<(?:{_BLOCKS})[\s/>])", r"\n\n\1", text, flags=re.I)
    text = re.sub(rf"(</(?:{_BLOCKS})>)", r"\1\n\n", text, flags=re.I)
    paragraphs = []
    for chunk in re.split(r"\n\s*\n", text):
        chunk = chunk.strip()
        if not chunk:
            continue
        if re.fullmatch(r"\x00\d+\x00", chunk) or re.match(rf"</?(?:{_BLOCKS})[\s/>]", chunk, re.I):
            paragraphs.append(chunk)
        else:
            lines = re.sub(r"\n(?!\s*</?(?:" + _BLOCKS + r")[\s/>])", "<br>\n", chunk, flags=re.I)
            paragraphs.append(f"<p>{lines}</p>")
    out = "\n".join(paragraphs)
    return re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], out)


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): next(v for v in m.groups()[1:] if v is not None) for m in _ATTRIBUTE.finditer(text)}


def _link(url: str, label: str = "") -> str:
    url = html.escape(url.strip(), quote=True)
    return f'<p><a href="{url}">{html.escape(label) if label else url}</a></p>'


class _Body:
    """One post's body: WordPress HTML -> Markdown, the uploads it shows collected, links rewritten."""

    def __init__(self, importer: _Importer, item: _Item):
        self.importer = importer
        self.item = item

    def shortcodes(self, text: str) -> str:
        report = self.importer.report

        def one(match: re.Match) -> str:
            if match.group(1) and match.group(5):  # [[caption]]: WordPress's way of writing a shortcode as text
                return match.group(0)[1:-1]
            name, attrs, inner = match.group(2).lower(), _attributes(match.group(3) or ""), match.group(4) or ""
            if name in ("caption", "wp_caption"):
                caption = attrs.get("caption", "")
                image = re.match(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", inner, re.S | re.I)
                body, text_part = (image.group(1), image.group(2)) if image else (inner, "")
                caption = caption or text_part.strip()
                return f"\n\n<figure>{body}<figcaption>{caption}</figcaption></figure>\n\n"
            if name == "gallery":
                return "\n\n" + self.gallery(attrs) + "\n\n"
            if name == "embed":
                report.embeds += 1
                return "\n\n" + _link(inner or attrs.get("src", "")) + "\n\n"
            if name in ("audio", "video", "playlist", "youtube", "vimeo", "dailymotion"):
                urls = [attrs[k] for k in _MEDIA_KEYS if attrs.get(k)]
                if name in ("youtube", "vimeo", "dailymotion"):
                    # Jetpack: [youtube https://…] or [youtube=https://…]
                    urls += re.findall(r"https?://[^\s\]\"']+", (match.group(3) or "") + inner)
                if not urls:
                    report.shortcodes[name] += 1
                    return ""
                report.embeds += 1
                return "\n\n" + "".join(_link(u) for u in dict.fromkeys(urls)) + "\n\n"
            if not attrs and not match.group(4) and match.group(4) is None:
                return match.group(0)  # « [sic] », « [1] »: text in brackets, not a plugin's shortcode
            report.shortcodes[name] += 1  # a plugin's ([contact-form-7 …], [su_button]…): its words kept
            return inner

        return _SHORTCODE.sub(one, text)

    def gallery(self, attrs: dict) -> str:
        attachments = self.importer.attachments
        ids = [i.strip() for i in (attrs.get("ids") or attrs.get("include") or "").split(",") if i.strip()]
        if not ids:
            parent = attrs.get("id") or self.item.f.get("post_id", "")
            ids = [i for i, a in sorted(attachments.items(), key=lambda kv: (int(kv[1]["order"] or 0)
                                                                          if kv[1]["order"].lstrip("-").isdigit()
                                                                          else 0, kv[0]))
                   if a["parent"] == parent]
        images = [attachments[i] for i in ids if i in attachments]
        if not images:
            self.importer.report.shortcodes["gallery"] += 1
            return ""
        return "<p>" + "\n".join(f'<img src="{html.escape(a["url"])}" alt="{html.escape(_one_line(a["title"]))}">'
                                 for a in images) + "</p>"

    def prepared(self, source: str) -> str:
        """The body's HTML as WordPress would show it, before any URL is looked at."""
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        blocks = "<!-- wp:" in text  # the block editor writes its paragraphs; wpautop is not run on it
        text = re.sub(r"<!--\s*/?wp:.*?-->", "", text, flags=re.S)
        text = re.sub(r"<!--\s*(more|nextpage|noteaser)\b.*?-->", "\n\n", text, flags=re.S | re.I)
        text = self.shortcodes(text)
        # WordPress embeds a media URL alone on its line (oEmbed): here, a link
        def bare(match: re.Match) -> str:
            self.importer.report.embeds += 1
            return _link(match.group(1))
        text = _BARE_URL_LINE.sub(bare, text)
        return text if blocks else wpautop(text)

    def soup(self, source: str) -> BeautifulSoup:
        soup = BeautifulSoup(self.prepared(source), "html.parser")
        report = self.importer.report
        for name in ("script", "style", "form", "noscript", "object", "embed"):
            for tag in soup.find_all(name):
                report.removed[name] += 1
                tag.decompose()
        for tag in soup.find_all(["iframe", "video", "audio"]):
            src = tag.get("src") or next((s.get("src") for s in tag.find_all("source") if s.get("src")), "")
            report.embeds += 1
            if src:
                tag.replace_with(BeautifulSoup(_link(_watch_url(urljoin(self.importer.base, src))), "html.parser"))
            else:
                tag.decompose()
        return soup

    def markdown(self, source: str, local: Callable[[str], str | None]) -> str:
        soup = self.soup(source)
        for img in soup.find_all("img"):
            for attr in ("srcset", "sizes", "width", "height", "class", "style", "loading", "decoding"):
                img.attrs.pop(attr, None)
            src = urljoin(self.importer.base, (img.get("src") or "").strip())
            new = local(src)
            if new:
                img["src"] = "{static}/" + new
            elif src.startswith(("http://", "https://")):
                img["src"] = src
                if not self.importer.upload_path(src):
                    self.importer.report.outside_images.add(src)
        for a in soup.find_all("a", href=True):
            href = urljoin(self.importer.base, a["href"].strip())
            new = local(href)
            if new:
                a["href"] = "{static}/" + new
            elif (target := self.importer.post_target(href)) is not None:
                a["href"] = "{filename}/" + target
        text = _Converter().convert_soup(soup)
        text = re.sub(r"[ \t]+\n", lambda m: "  \n" if m.group(0).startswith("  ") else "\n", text)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def upload_urls(self, source: str) -> list[str]:
        soup = self.soup(source)
        urls = [urljoin(self.importer.base, (img.get("src") or "").strip()) for img in soup.find_all("img")]
        urls += [urljoin(self.importer.base, a["href"].strip()) for a in soup.find_all("a", href=True)]
        return urls


class _Converter(MarkdownConverter):
    """Markdown as a doctor would write it: `#` headings, `-` lists, `{static}`/`{filename}` URLs left as
    they are, figure captions in italics under their image."""

    def __init__(self):
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False)

    def escape(self, text, parent_tags):
        """Text stays text: « &lt;script&gt; » written in a post is not a script once in Markdown (Python-Markdown
        passes HTML and entities through, and has no backslash escape for `<` or `&`); a line that would read as a
        heading or a list is escaped the way Python-Markdown knows."""
        text = super().escape(text, parent_tags)
        text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
        text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
        for pattern in (markdownify.re_escape_misc_dash_sequences, markdownify.re_escape_misc_hashes,
                        markdownify.re_escape_misc_list_items):
            text = pattern.sub(r"\1\\\2", text)
        return text

    def convert_li(self, el, text, parent_tags):
        """Bullets four wide: Python-Markdown nests a list only under four spaces (markdownify indents two)."""
        out = super().convert_li(el, text, parent_tags)
        bullet = re.match(r"\S+ ", out)
        if not bullet or len(bullet.group(0)) >= 4:
            return out
        pad = " " * (4 - len(bullet.group(0)))
        first, _, rest = out.partition("\n")
        return bullet.group(0) + pad + first[len(bullet.group(0)):] + "\n" + re.sub(r"(?m)^(?=.)", pad, rest)

    def convert_figcaption(self, el, text, parent_tags=None):
        text = text.strip()
        return f"\n\n*{text}*\n\n" if text else ""

    def convert_figure(self, el, text, parent_tags=None):
        return f"\n\n{text.strip()}\n\n"


def _watch_url(url: str) -> str:
    """An embedded YouTube player's address -> the video's page (a reader follows the link, not a player)."""
    parts = urlsplit(url)
    match = re.fullmatch(r"/embed/([\w-]{6,})", parts.path)
    if match and parts.hostname and parts.hostname.endswith(("youtube.com", "youtube-nocookie.com")):
        return f"https://www.youtube.com/watch?v={match.group(1)}"
    return url


# -- the import -----------------------------------------------------------------------------------


class _Importer:
    def __init__(self, path: str | Path, content: Path):
        self.content = content
        self.report = PostsReport()
        self.export, self.items, self.attachments = _read(path)
        self.report.version, self.report.base_url = self.export.version, self.export.base_url
        self.report.repairs = self.export.repairs
        if self.attachments:
            self.report.skipped["attachment"] = len(self.attachments)
        self.base = self.export.base_url.rstrip("/") + "/" if self.export.base_url else ""
        self.hosts = {urlsplit(u).hostname for u in [self.base] + [i.f.get("link", "") for i in self.items]
                      + [a["url"] for a in self.attachments.values()] if urlsplit(u).hostname}
        self.attachment_urls = {_no_query(a["url"]) for a in self.attachments.values()}
        self.targets: dict[str, str] = {}  # a post's old addresses (path, ?p=ID) -> its file under content/

    # which URLs are the blog's own uploads, and where they go
    def upload_path(self, url: str) -> str | None:
        plain = _no_query(url)
        parts = urlsplit(plain)
        host = (parts.hostname or "").lower()
        path = unquote(parts.path)
        if parts.scheme not in ("http", "https"):
            return None
        if host in {"i0.wp.com", "i1.wp.com", "i2.wp.com", "i3.wp.com"}:  # Jetpack's copies: /<host>/<path>
            inner_host, _, inner_path = path.lstrip("/").partition("/")
            if inner_host.lower() not in self.hosts:
                return None
            host, path = inner_host.lower(), "/" + inner_path
        if "/wp-content/uploads/" in path and (host in self.hosts or plain in self.attachment_urls):
            relative = path.split("/wp-content/uploads/", 1)[1]
        elif host.endswith(".files.wordpress.com") or (host.endswith(".wordpress.com") and "/files/" in path):
            relative = path.split("/files/", 1)[1] if "/files/" in path else path.lstrip("/")
        elif plain in self.attachment_urls:
            relative = PurePosixPath(path).name
        else:
            return None
        segments = [re.sub(r"[^\w.-]+", "-", s).strip(".-") for s in relative.split("/") if s not in ("", ".", "..")]
        segments = [s for s in segments if s]
        if not segments or "." not in segments[-1]:
            return None
        folder = "images" if PurePosixPath(segments[-1]).suffix.lower() in IMAGE_EXTENSIONS else "files"
        return "/".join([folder, *segments])

    def post_target(self, url: str) -> str | None:
        parts = urlsplit(url)
        if (parts.hostname or "").lower() not in self.hosts:
            return None
        query = parse_qs(parts.query)
        for key in ("p", "page_id"):
            if query.get(key) and (target := self.targets.get(f"?{key}={query[key][0]}")):
                return target
        return self.targets.get(parts.path.rstrip("/") or "/") if parts.path.strip("/") else None

    # the posts
    def plan(self) -> list[tuple[Post, _Item]]:
        planned: list[tuple[Post, _Item]] = []
        taken: set[str] = set()
        for item in self.items:
            f = item.f
            kind, status = f.get("post_type") or "post", (f.get("status") or "publish").lower()
            if kind not in ("post", "page"):
                self.report.skipped[kind] += 1
                continue
            if status in _SKIPPED_STATUSES:
                self.report.skipped[status] += 1
                continue
            title = _meta(f.get("title", "")) or "(sans titre)"
            slug = _slug(f, title)
            date = _date(f)
            why = _DRAFT_STATUSES.get(status, "")
            if f.get("post_password"):
                why = "protégé par un mot de passe"
            if date is None:  # Pelican needs a date; the import's own would make an old post look new
                date, why = datetime.now(PARIS).replace(tzinfo=None, second=0, microsecond=0), "sans date dans l'export"
            folder = "pages" if kind == "page" else str(date.year)
            path, n = f"{folder}/{slug}.md", 2
            while path in taken:
                path, n = f"{folder}/{slug}-{n}.md", n + 1
            taken.add(path)
            post = Post(kind, f.get("post_id", ""), title, path, "draft" if why else "", why, item.line, date)
            planned.append((post, item))
            if not why:
                link = urlsplit(f.get("link", ""))
                if link.path.strip("/"):
                    self.targets[link.path.rstrip("/")] = path
                self.targets[f"?{'page_id' if kind == 'page' else 'p'}={post.wp_id}"] = path
        return planned

    def header(self, post: Post, item: _Item, body: str) -> str:
        f = item.f
        lines = [f"Title: {post.title}", f"Date: {post.date:%Y-%m-%d %H:%M}"]
        if post.kind == "post":
            categories = [name for domain, nicename, name in item.categories
                          if domain == "category" and nicename not in _DEFAULT_CATEGORIES and name]
            tags = [name for domain, _, name in item.categories if domain == "post_tag" and name]
            if categories:
                lines.append(f"Category: {_meta(categories[0])}")
            names = [_meta(t).replace(",", " ") for t in categories[1:] + tags]
            if names := [n for n in dict.fromkeys(names) if n]:
                lines.append(f"Tags: {', '.join(names)}")
        lines.append(f"Slug: {PurePosixPath(post.path).stem}")
        summary = _meta(f.get("excerpt", ""))
        if not summary:
            more = re.split(r"<!--\s*more\b", f.get("encoded", ""), maxsplit=1)
            if len(more) == 2:
                summary = _meta(re.sub(r"<!--.*?-->|\[/?[a-zA-Z][^\]]*\]", " ", more[0], flags=re.S))
        if summary:
            lines.append(f"Summary: {summary}")
        if post.status:
            lines.append(f"Status: {post.status}")
        return "\n".join(lines) + "\n\n" + body

    def run(self, download: bool, dry_run: bool, guard_factory) -> PostsReport:
        report = self.report
        report.dry_run = dry_run
        planned = self.plan()
        for _post, item in planned:  # the uploads every post shows, once each
            for url in _Body(self, item).upload_urls(item.f.get("encoded", "")):
                path = self.upload_path(url)
                if path and _no_query(url) not in report.uploads:
                    report.uploads[_no_query(url)] = Upload(_no_query(url), path)
        report.embeds, report.shortcodes, report.removed = 0, Counter(), Counter()  # counted again below, once
        self.fetch_uploads(download, dry_run, guard_factory)
        kept = {url: u.path for url, u in report.uploads.items() if u.outcome in ("downloaded", "present")}

        def local(url: str) -> str | None:
            return kept.get(_no_query(url)) if self.upload_path(url) else None

        for post, item in planned:
            body = _Body(self, item).markdown(item.f.get("encoded", ""), local)
            post.text = self.header(post, item, body)
            findings = secrecy.scan(post.text)
            refused, warned = secrecy.blocking(findings, False)
            source = f"content/{post.path}"
            post.refused = [f.message(source) for f in refused]
            post.warned = [f.message(source) for f in warned]
            target = self.content / post.path
            if target.exists():
                post.outcome = "present"
            elif not dry_run:
                _write(target, post.text.encode("utf-8"))
                post.outcome = "written"
            else:
                post.outcome = "written"
            report.posts.append(post)
        return report

    def fetch_uploads(self, download: bool, dry_run: bool, guard_factory) -> None:
        waiting = []
        for upload in self.report.uploads.values():
            if (self.content / upload.path).exists():
                upload.outcome = "present"
            elif not download or dry_run:
                upload.outcome = "not_downloaded"
            else:
                waiting.append(upload)
        if not waiting:
            return
        with guard_factory() as guard, ThreadPoolExecutor(DOWNLOADS_AT_ONCE) as pool:
            list(pool.map(lambda upload: _fetch(guard, upload, self.content), waiting))


def _no_query(url: str) -> str:
    parts = urlsplit(url.strip())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _fetch(guard, upload: Upload, content: Path) -> None:
    from confreres.safe_http import FetchError

    try:
        fetched = guard.get(upload.url)
    except FetchError as exc:
        upload.outcome, upload.error = "failed", str(exc)
        return
    image = upload.path.startswith("images/")
    if fetched.status != 200:
        upload.outcome, upload.error = "failed", f"réponse HTTP {fetched.status}"
    elif fetched.truncated:
        upload.outcome, upload.error = "failed", f"plus de {MAX_DOWNLOAD // (1024 * 1024)} Mo : laissé sur l'ancien site"
    elif image and not fetched.content_type.startswith("image/"):
        upload.outcome, upload.error = "failed", f"pas une image (« {fetched.content_type or 'sans type'} »)"
    elif fetched.content_type == "text/html":
        upload.outcome, upload.error = "failed", "une page web, pas un fichier"
    else:
        _write(content / upload.path, fetched.body)
        upload.outcome = "downloaded"


def _write(target: Path, data: bytes) -> None:
    """Whole or not at all: an interrupted import leaves no half file that a second run would keep."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".import-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None) -> PostsReport:
    """Write the posts and pages of a WXR file under `content` (a blog's `content/` folder); WxrError for a file
    that cannot be read (nothing written then)."""
    if guard_factory is None:
        from confreres.safe_http import Guard

        def guard_factory():
            return Guard(timeout=20.0, max_bytes=MAX_DOWNLOAD, max_redirects=5)

    return _Importer(path, Path(content)).run(download, dry_run, guard_factory)


_SKIP_LABELS = {
    "attachment": ("fichier joint (ses images sont reprises avec les billets qui les montrent)", "fichiers joints (leurs "
                   "images sont reprises avec les billets qui les montrent)"),
    "nav_menu_item": ("élément de menu", "éléments de menu"),
    "revision": ("révision", "révisions"),
    "trash": ("élément à la corbeille", "éléments à la corbeille"),
    "auto-draft": ("brouillon automatique vide", "brouillons automatiques vides"),
    "inherit": ("élément dépendant d'un autre", "éléments dépendant d'un autre"),
    "wp_block": ("bloc réutilisable", "blocs réutilisables"),
}


def format_report(report: PostsReport, file: Path, content: Path) -> list[str]:
    """The report as lines for the terminal, in French."""
    from confreres.french import plural_fr
    from confreres.xml_input import LABELS as REPAIR_LABELS

    lines = [f"Export WordPress {file} (WXR {report.version}) -> {content}"
             + (" [essai : rien n'est écrit ni téléchargé]" if report.dry_run else "")]
    for kind, label, kept in (("post", "Billets", "déjà là, gardés tels quels"),
                              ("page", "Pages", "déjà là, gardées telles quelles")):
        new, drafts = report.count(kind, "written"), report.count(kind, "written", draft=True)
        verb = "à écrire" if report.dry_run else ("écrits" if kind == "post" else "écrites")
        lines.append(f"{label} {verb} : {new}" + (f" (dont {plural_fr(drafts, 'brouillon')})" if drafts else "")
                     + f" ; {kept} : {report.count(kind, 'present')}")
    for post in report.posts:
        if post.outcome == "written" and post.status:
            lines.append(f"  brouillon : {post.title} (content/{post.path}) : {post.why_draft}")
    skipped = sum(report.skipped.values())
    if skipped:
        lines.append(f"Éléments écartés : {skipped}")
        for kind, count in sorted(report.skipped.items()):
            singular, plural = _SKIP_LABELS.get(kind, (f"élément « {kind} »", f"éléments « {kind} »"))
            lines.append(f"  {plural_fr(count, singular, plural)}")
    uploads = report.uploads.values()
    if uploads:
        counts = Counter(u.outcome for u in uploads)
        parts = [f"{counts['downloaded']} téléchargés"] if counts["downloaded"] else []
        parts += [f"{counts['present']} déjà là"] if counts["present"] else []
        parts += [f"{counts['not_downloaded']} non téléchargés"] if counts["not_downloaded"] else []
        parts += [f"{counts['failed']} en échec (laissés sur l'ancien site)"] if counts["failed"] else []
        lines.append(f"Images et fichiers du blog : {len(report.uploads)} ({', '.join(parts)})")
        failed = report.uploads_by("failed")
        lines += [f"  ✗ {upload.url} : {upload.error}" for upload in failed[:SHOWN]]
        if len(failed) > SHOWN:
            lines.append(f"  … et {len(failed) - SHOWN} autres (--json les donne tous)")
    if report.outside_images:
        lines.append(f"Images hébergées ailleurs, non affichées sur le réseau (il ne charge que ses propres images) : "
                     f"{len(report.outside_images)} ; copiez-les dans content/images/ si elles sont à vous")
        lines += [f"  {url}" for url in sorted(report.outside_images)[:SHOWN]]
    if report.embeds:
        lines.append(f"Vidéos et contenus intégrés devenus des liens : {report.embeds}")
    if report.shortcodes:
        lines.append("Codes courts d'extensions retirés (leur texte est gardé) : "
                     + ", ".join(f"[{name}] × {n}" for name, n in sorted(report.shortcodes.items())))
    if report.removed:
        lines.append("Retirés : " + ", ".join(f"<{name}> × {n}" for name, n in sorted(report.removed.items())))
    if report.repairs:
        lines.append("Fichier réparé à la lecture :")
        for kind, count in sorted(report.repairs.items()):
            singular, plural = REPAIR_LABELS.get(kind, (kind, kind))
            lines.append(f"  {plural_fr(count, singular, plural)}")
    refused = [m for p in report.posts for m in p.refused]
    if refused:
        lines.append(f"SECRET MÉDICAL : {plural_fr(len(refused), 'passage')} ferai{'en' if len(refused) > 1 else ''}t "
                     "refuser la publication (git push) : corrigez-les, ou ajoutez « Secret: vérifié » au billet s'il "
                     "s'agit de vos propres coordonnées")
        lines += [f"  {m}" for m in refused]
    warned = [m for p in report.posts for m in p.warned]
    if warned:
        lines.append(f"Secret médical, à relire (publié, mais signalé) : {plural_fr(len(warned), 'passage')}")
        lines += [f"  {m}" for m in warned[:30]]
    return lines
