"""Another platform's posts -> the Markdown posts and pages of one blog, with the images and files they show.

A reader (wordpress_posts.py, blogger.py, overblog.py, dotclear.py, movable_type.py) gives a `Source`: its posts as
`SourcePost`s, their HTML with the platform's own conventions already made plain HTML (WordPress's implicit
paragraphs, its shortcodes), and which URLs are the old blog's own uploads. The rest is done here the same way for
every platform:

- each post is written to `content/<yyyy-mm>-<slug>.md`, each page to `content/pages/<slug>.md`, with Title, Date
  (Paris time), Category, Tags, Slug (the platform's own, so the comments' import matches them and the old
  addresses can be kept), Summary; what was not public (drafts, private, password-protected) as `Status: draft`;
- the body as Markdown a doctor can edit (markdownify, with Python-Markdown's rules: lists nested four spaces
  deep, text that stays text); embedded players (iframes) and media become links, scripts, styles and forms go;
- the images and files the posts show from the old blog's uploads are downloaded into `content/images/` (or
  `content/files/`) and linked with `{static}`: the network's pages load images from the network only (CSP), so
  one left on the old host would not show; links between the blog's posts become `{filename}` links, which
  Pelican turns into the new addresses;
- each file is read for medical secrecy as a push will read it: what would refuse the push is listed first.

A file already there is never overwritten (running the import again writes nothing, a doctor's edits are kept); an
image already downloaded is not fetched again. Downloads go through `safe_http.Guard` (no private address, size
and time capped): the export names the URLs, and it may be somebody else's file.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from html import escape, unescape
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qsl, quote, unquote, urljoin, urlsplit, urlunsplit

import markdownify
from bs4 import BeautifulSoup, MarkupResemblesLocatorWarning
from markdownify import MarkdownConverter

from confreres import sanitize, secrecy
from confreres.french import PARIS
from confreres.releases import atomic_write

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".svg", ".avif", ".bmp", ".ico", ".tif", ".tiff"}
MAX_DOWNLOAD = 25 * 1024 * 1024  # an upload larger than this stays a link to the old site (a video, most likely)
DOWNLOADS_AT_ONCE = 4
SHOWN = 20  # lines of a list in the terminal report (all in --json)
NAME_BYTES = 120  # a downloaded file's name at most, in bytes
_ADDRESS = re.compile(r"""\b(?:src|href)\s*=\s*["']?([^"'\s>]+)""", re.I)  # what a post shows or links to


@dataclass
class SourcePost:
    """One post or page as a reader found it."""

    kind: str  # "post" | "page"
    source_id: str
    title: str  # HTML as the platform keeps it (entities, maybe tags)
    html: str  # the body, plain HTML
    date: datetime | None  # Paris time, naive; None: the export does not say
    slug: str
    why_draft: str = ""  # « brouillon », « privé »…: written as `Status: draft`
    categories: list[str] = field(default_factory=list)  # the first is the Category, the others become tags
    tags: list[str] = field(default_factory=list)
    summary: str = ""  # HTML or text
    addresses: list[str] = field(default_factory=list)  # its old addresses: URL paths, "?p=12" queries
    old_url: str = ""  # its address on the old blog, when the export says (for the redirections)
    line: int = 0


@dataclass
class Source:
    """What a reader gives: the posts, and what it knows of the old blog."""

    platform: str  # « WordPress », « Blogger »
    version: str
    base: str  # the old blog's URL, against which relative links are read ("" when unknown)
    hosts: set[str]  # the old blog's host names: its links and uploads
    posts: list[SourcePost]
    upload_path: Callable[[str], str | None]  # an URL of the old blog's uploads -> its path under content/
    skipped: Counter = field(default_factory=Counter)  # by kind or status
    shortcodes: Counter = field(default_factory=Counter)  # a plugin's, dropped, by name
    embeds: int = 0  # players and media made links by the reader
    repairs: Counter = field(default_factory=Counter)  # xml_input's, by kind


@dataclass
class Post:
    """One post or page as it is written."""

    kind: str
    source_id: str
    title: str
    path: str  # under content/, e.g. "2015-03-gardes-de-nuit.md"
    slug: str
    status: str  # "" (published or scheduled) | "draft"
    why_draft: str
    line: int
    date: datetime
    text: str = ""
    outcome: str = ""  # "written" | "present" (its file already there: kept) | "conflict" (another file's address)
    conflict: str = ""  # that other file, under content/
    old_url: str = ""
    refused: list[str] = field(default_factory=list)  # secrecy findings that would refuse the push
    warned: list[str] = field(default_factory=list)


@dataclass
class Upload:
    url: str  # as downloaded (no query string)
    path: str  # under content/, e.g. "images/2015/03/radio.jpg"
    outcome: str = ""  # "downloaded" | "present" | "failed" | "not_downloaded" | "withheld" (drafts' only)
    error: str = ""


@dataclass
class PostsReport:
    platform: str = ""
    version: str = ""
    posts: list[Post] = field(default_factory=list)
    uploads: dict[str, Upload] = field(default_factory=dict)  # by URL
    skipped: Counter = field(default_factory=Counter)
    shortcodes: Counter = field(default_factory=Counter)
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
            "source": self.platform.lower(), "version": self.version, "dry_run": self.dry_run,
            "posts": [{"kind": p.kind, "title": p.title, "path": p.path, "status": p.status or "published",
                       "why_draft": p.why_draft, "outcome": p.outcome, "secrecy_refused": p.refused,
                       "secrecy_warned": p.warned, "conflict_with": p.conflict} for p in self.posts],
            "uploads": [{"url": u.url, "path": u.path, "outcome": u.outcome, "error": u.error}
                        for u in self.uploads.values()],
            "skipped": dict(self.skipped), "shortcodes_dropped": dict(self.shortcodes), "removed": dict(self.removed),
            "embeds_as_links": self.embeds, "outside_images": sorted(self.outside_images),
            "repairs": dict(self.repairs),
        }


# -- helpers for the readers ----------------------------------------------------------------------


def one_line(value: str) -> str:
    """Plain text on one line, from HTML (entities read; control and format characters out: sanitize.one_line)."""
    return sanitize.one_line(sanitize.text(value or ""))


def meta(value: str) -> str:
    """A metadata value: one line of text, which Pelican shows as HTML (a title) or reads as Markdown (a summary):
    « < » and what reads as an entity are escaped, so that text written « &lt;script&gt; » stays text."""
    return re.sub(r"<", "&lt;", re.sub(r"&(?=#?\w+;)", "&amp;", one_line(value)))


def link_paragraph(url: str, label: str = "") -> str:
    url = escape(url.strip(), quote=True)
    return f'<p><a href="{url}">{escape(label) if label else url}</a></p>'


def no_query(url: str) -> str:
    parts = _split(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", "")) if parts else url.strip()


def local_path(relative: str) -> str | None:
    """« 2015/03/Radio du thorax.jpg » -> « images/2015/03/Radio-du-thorax.jpg » (files/ for what is not an
    image); None without a file name."""
    segments = [re.sub(r"[^\w.-]+", "-", s).strip(".-") for s in relative.split("/") if s not in ("", ".", "..")]
    segments = [_shortened(s) for s in segments if s]
    if not segments or "." not in segments[-1]:
        return None
    folder = "images" if PurePosixPath(segments[-1]).suffix.lower() in IMAGE_EXTENSIONS else "files"
    return "/".join([folder, *segments])


def platform_path(folder: str, url: str, stem: str, extension: str) -> str | None:
    """A picture on a platform's servers -> `images/<folder>/<stem>-<digest>.<extension>`: one picture is served at
    several sizes under one name (« /s320/ », « 300x300 »), each kept apart by a digest of its address."""
    digest = hashlib.sha256(no_query(url).encode()).hexdigest()[:8]
    return local_path(f"{folder}/{stem[-80:]}-{digest}.{extension.lower()}")


def _shortened(name: str, limit: int = NAME_BYTES) -> str:
    """A file or folder name within `limit` bytes (a file system takes 255; a long one stopped the whole import),
    its extension kept."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension) > 10:
        stem, dot, extension = name, "", ""
    room = limit - len(dot + extension)
    return stem.encode()[:room].decode(errors="ignore").rstrip(".-") + dot + extension


def _split(url: str):
    """urlsplit, or None for what is not an address (« http://[www.x.fr/ »: an unclosed IPv6 bracket)."""
    try:
        return urlsplit(url.strip())
    except ValueError:
        return None


def safe_urlsplit(url: str):
    """urlsplit for the readers: what is not an address is read as no address (every part empty)."""
    return _split(url or "") or urlsplit("")


def watch_url(url: str) -> str:
    """An embedded YouTube player's address -> the video's page (a reader follows the link, not a player)."""
    parts = _split(url)
    match = re.fullmatch(r"/embed/([\w-]{6,})", parts.path) if parts else None
    if match and parts.hostname and parts.hostname.endswith(("youtube.com", "youtube-nocookie.com")):
        return f"https://www.youtube.com/watch?v={match.group(1)}"
    return url


_BLOCKS = ("table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|area|"
           "blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|header|"
           "footer|nav|figure|figcaption|details|menu|summary|iframe|audio|video|object|embed|script|noscript")


def wpautop(text: str) -> str:
    """Implicit paragraphs made explicit, as WordPress shows a classic-editor post (its `wpautop`) and Movable Type
    one written with « Convert Breaks »: a blank line ends a paragraph, a line break is a `<br>`; block elements
    and `<pre>` are left as they are."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")  # NUL: never text, and our marker
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\n\n\x00{len(kept) - 1}\x00\n\n"

    # unclosed, it runs to the end (as in a browser): read once, not again from each of a thousand « <pre »
    text = re.sub(r"<(pre|script|style)\b.*?(?:</\1\s*>|\Z)", keep, text, flags=re.S | re.I)
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


# -- HTML -> Markdown -----------------------------------------------------------------------------


# what reads as Markdown at a line's start (a text's start: markdownify makes a line break its own text), and only
# there (« 1 + 1 = 2 » stays as the doctor would write it): a quotation, a list item, a code block, a heading's line
_QUOTE_OR_PLUS = re.compile(r"^(\s*)(>|\+(?=\s|$))")
_FENCE_TICKS = re.compile(r"^(\s*)(`(?=``))")
_EQUALS_OR_TILDES = re.compile(r"^(\s*)(=+(?=\s*$)|~{3,})")


class _Converter(MarkdownConverter):
    """Markdown as a doctor would write it: `#` headings, `-` lists, `{static}`/`{filename}` URLs left as
    they are, figure captions in italics under their image."""

    def __init__(self):
        # exponents and indices kept (« 150.10<sup>9</sup>/L » is not « 150.109/L »): Markdown has none
        super().__init__(heading_style="ATX", bullets="-", escape_misc=False, sup_symbol="<sup>", sub_symbol="<sub>")

    # crossed-out text stays crossed out: Python-Markdown has no « ~~ », which would show as such
    convert_del = convert_s = convert_strike = markdownify.abstract_inline_conversion(lambda self: "<del>")

    def escape(self, text, parent_tags):
        """Text stays text: « &lt;script&gt; » written in a post is not a script once in Markdown (Python-Markdown
        passes HTML and entities through, and has no backslash escape for `<` or `&`); a line that would read as a
        heading or a list is escaped the way Python-Markdown knows."""
        text = super().escape(text, parent_tags)
        text = re.sub(r"&(?=#?\w+;)", "&amp;", text)
        text = re.sub(r"<(?=[A-Za-z/!?])", "&lt;", text)
        for pattern in (markdownify.re_escape_misc_dash_sequences, markdownify.re_escape_misc_hashes,
                        markdownify.re_escape_misc_list_items, _QUOTE_OR_PLUS, _FENCE_TICKS):
            text = pattern.sub(r"\1\\\2", text)
        text = text.replace("[", "\\[")  # « [1]: https://… » would be a link's definition, and vanish
        # what Python-Markdown has no backslash for: « ===== » under a line (a heading), « ~~~ » (a code block)
        return _EQUALS_OR_TILDES.sub(lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)), text)

    def convert_li(self, el, text, parent_tags):
        """Bullets four wide: Python-Markdown nests a list only under four spaces (markdownify indents two)."""
        out = super().convert_li(el, text, parent_tags)
        bullet = re.match(r"\S+ ", out)
        if not bullet or len(bullet.group(0)) >= 4:
            return out
        pad = " " * (4 - len(bullet.group(0)))
        first, _, rest = out.partition("\n")
        return bullet.group(0) + pad + first[len(bullet.group(0)):] + "\n" + re.sub(r"(?m)^(?=.)", pad, rest)

    def convert_hN(self, n, el, text, parent_tags):
        """A heading keeps its anchor (« {#traitement} », Python-Markdown's attr_list): the post's own links to it
        (« #traitement ») still lead there."""
        out = super().convert_hN(n, el, text, parent_tags)
        anchor = el.get("id") or ""
        if not re.fullmatch(r"[A-Za-z][\w-]{0,80}", anchor) or not out.strip() or not out.lstrip().startswith("#"):
            return out
        heading = out.rstrip("\n")
        return f"{heading} {{#{anchor}}}{out[len(heading):]}"

    def convert_figcaption(self, el, text, parent_tags=None):
        text = text.strip()
        return f"\n\n*{text}*\n\n" if text else ""

    def convert_figure(self, el, text, parent_tags=None):
        return f"\n\n{text.strip()}\n\n"


# -- the import -----------------------------------------------------------------------------------


def next_slug(item: SourcePost, taken: set[tuple[str, str]]) -> str:
    """The slug `item` is written with: its own, or « <slug>-2 »… when a post before it in the export has it (Blogger
    has a « garde » in two months); `taken` is updated."""
    slug, n = item.slug, 2
    while (item.kind, slug) in taken:
        slug, n = f"{item.slug}-{n}", n + 1
    taken.add((item.kind, slug))
    return slug


def written_slugs(source: Source) -> dict[str, str]:
    """source_id -> the slug its post is written with: what the comments' import must match them by (the second
    « garde » of a blog is « garde-2 »; matched by « garde », its comments went to the first)."""
    taken: set[tuple[str, str]] = set()
    return {item.source_id: next_slug(item, taken) for item in source.posts}


class _Writer:
    def __init__(self, source: Source, content: Path):
        self.source = source
        self.content = content
        self.report = PostsReport(source.platform, source.version, skipped=source.skipped,
                                  shortcodes=source.shortcodes, embeds=source.embeds, repairs=source.repairs)
        self.targets: dict[str, str] = {}  # a post's old addresses (path, ?p=ID) -> its file under content/
        self.slugs: dict[str, str] = {}  # a published post's slug -> its file (when no other post has it)

    def absolute(self, url: str) -> str:
        try:
            return urljoin(self.source.base, (url or "").strip())
        except ValueError:
            return (url or "").strip()  # not an address: left as it is, never fetched nor followed

    def upload_path(self, url: str) -> str | None:
        """The reader's `upload_path`, for what is an address only."""
        return self.source.upload_path(url) if _split(url) is not None else None

    def post_target(self, url: str) -> str | None:
        parts = _split(url)
        if parts is None or (parts.hostname or "").lower() not in self.source.hosts:
            return None
        for key, value in parse_qsl(parts.query):
            if target := self.targets.get(f"?{key}={value}"):
                return target
        if parts.query and (target := self.targets.get(f"?{unquote(parts.query)}")):
            return target  # « index.php?post/2010/05/12/garde » (Dotclear without URL rewriting)
        if not parts.path.strip("/"):
            return None
        if target := self.targets.get(parts.path.rstrip("/")):
            return target
        # a platform whose export names no address (Movable Type's): « /archive/2010/05/12/<slug>.html » by its slug;
        # only a page's address (« .html »), never a folder's, which may be a category or a tag of the same name
        name = PurePosixPath(unquote(parts.path)).name
        stem, _, extension = name.rpartition(".")
        return (self.slugs.get(stem) or None) if extension.lower() in ("html", "htm") and stem != "index" else None

    def plan(self) -> list[tuple[Post, SourcePost]]:
        planned: list[tuple[Post, SourcePost]] = []
        taken: set[tuple[str, str]] = set()
        for item in self.source.posts:
            why, date = item.why_draft, item.date
            if date is None:  # Pelican needs a date; the import's own would make an old post look new
                date, why = datetime.now(PARIS).replace(tzinfo=None, second=0, microsecond=0), "sans date dans l'export"
            # posts side by side in content/, in date order: a folder would be their category (Pelican's
            # USE_FOLDER_AS_CATEGORY), one a year
            folder = "pages/" if item.kind == "page" else f"{date:%Y-%m}-"
            slug = next_slug(item, taken)
            path = f"{folder}{slug}.md"
            title = meta(item.title) or "(sans titre)"
            post = Post(item.kind, item.source_id, title, path, slug, "draft" if why else "", why, item.line, date,
                        old_url=item.old_url)
            planned.append((post, item))
            if not why:
                for address in item.addresses:
                    self.targets[address if address.startswith("?") else address.rstrip("/")] = path
                self.slugs[item.slug] = path if item.slug not in self.slugs else ""
        return planned

    def soup(self, item: SourcePost) -> BeautifulSoup:
        """The body, cleaned of what a post of the network does not run or embed."""
        # read as a browser reads it (html5lib): « <li>Un<li>Deux » is two items, « <p>Un<p>Deux » two paragraphs
        with warnings.catch_warnings():  # a post whose whole text is a link is a post, not a file name to open
            warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
            soup = sanitize.soup(item.html)
        for name in ("script", "style", "form", "noscript", "object", "embed"):
            for tag in soup.find_all(name):
                self.report.removed[name] += 1
                tag.decompose()
        for tag in soup.find_all(["iframe", "video", "audio"]):
            src = tag.get("src") or next((s.get("src") for s in tag.find_all("source") if s.get("src")), "")
            self.report.embeds += 1
            if src:
                tag.replace_with(BeautifulSoup(link_paragraph(watch_url(self.absolute(src))), "html.parser"))
            else:
                tag.decompose()
        return soup

    def markdown(self, soup: BeautifulSoup, local: Callable[[str], str | None]) -> str:
        for img in soup.find_all("img"):
            for attr in ("srcset", "sizes", "width", "height", "class", "style", "loading", "decoding", "border"):
                img.attrs.pop(attr, None)
            src = self.absolute(img.get("src"))
            if new := local(src):
                img["src"] = "{static}/" + new
            elif src.startswith(("http://", "https://")):
                img["src"] = src
                if not self.upload_path(src):
                    self.report.outside_images.add(src)
        for a in soup.find_all("a", href=True):
            href = self.absolute(a["href"])
            if new := local(href):
                a["href"] = "{static}/" + new
            elif (target := self.post_target(href)) is not None:
                a["href"] = "{filename}/" + target
        try:
            text = _Converter().convert_soup(soup)
        except RecursionError:  # hundreds of unclosed tags nested (« <span> » × 500): the text, its paragraphs kept
            paragraphs = (" ".join(p.split()) for p in soup.get_text("\n").split("\n\n"))
            text = "\n\n".join(_Converter().escape(p, set()) for p in paragraphs if p)
        text = re.sub(r"[ \t]+\n", lambda m: "  \n" if m.group(0).startswith("  ") else "\n", text)
        text = re.sub(r"  \n(?:[ \t]*\n)+", "\n\n", text)  # a line break then a blank line: a paragraph's end
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def header(self, post: Post, item: SourcePost, body: str) -> str:
        lines = [f"Title: {post.title}", f"Date: {post.date:%Y-%m-%d %H:%M}"]
        if post.kind == "post":
            categories = [meta(c) for c in item.categories if meta(c)]
            if categories:
                lines.append(f"Category: {categories[0]}")
            names = [n.replace(",", " ") for n in categories[1:] + [meta(t) for t in item.tags]]
            if names := [n for n in dict.fromkeys(names) if n]:
                lines.append(f"Tags: {', '.join(names)}")
        lines.append(f"Slug: {post.slug}")
        if summary := meta(item.summary):
            lines.append(f"Summary: {summary}")
        if post.status:
            lines.append(f"Status: {post.status}")
        return "\n".join(lines) + "\n\n" + body

    def run(self, download: bool, dry_run: bool, guard_factory) -> PostsReport:
        report = self.report
        report.dry_run = dry_run
        planned = self.plan()
        public: set[str] = set()
        for post, item in planned:  # the uploads every post shows, once each (one post's HTML parsed at a time)
            for url in _ADDRESS.findall(item.html):
                url = self.absolute(unescape(url))
                if path := self.upload_path(url):
                    report.uploads.setdefault(no_query(url), Upload(no_query(url), path))
                    if not post.status:
                        public.add(no_query(url))
        for url, upload in report.uploads.items():
            if url not in public:  # content/images/ is published whole: a private post's picture would be public
                upload.outcome = "withheld"
                upload.error = "montré par un brouillon seulement (billet privé, protégé ou non publié) : il serait public"
        self.fetch_uploads(download, dry_run, guard_factory)
        kept = {url: u.path for url, u in report.uploads.items() if u.outcome in ("downloaded", "present")}

        def local(url: str) -> str | None:
            return kept.get(no_query(url)) if self.upload_path(url) else None

        existing = _addresses(self.content)
        for post, item in planned:
            post.text = self.header(post, item, self.markdown(self.soup(item), local))
            refused, warned = secrecy.blocking(secrecy.scan(post.text), False)
            source = f"content/{post.path}"
            post.refused = [f.message(source) for f in refused]
            post.warned = [f.message(source) for f in warned]
            target = self.content / post.path
            if target.exists():
                post.outcome = "present"
            elif (other := existing.get((post.kind, post.slug))) is not None:
                post.outcome, post.conflict = "conflict", other
            else:
                if not dry_run:
                    write_atomically(target, post.text.encode("utf-8"))
                post.outcome = "written"
            report.posts.append(post)
        return report

    def fetch_uploads(self, download: bool, dry_run: bool, guard_factory) -> None:
        from confreres.publish import CODE_SUFFIXES

        waiting = []
        for upload in self.report.uploads.values():
            if upload.outcome == "withheld":
                continue
            if upload.path.lower().endswith(CODE_SUFFIXES):  # a push would refuse the blog with it
                upload.outcome, upload.error = "failed", "fichier de code : un blog n'en publie pas, laissé sur l'ancien site"
            elif (self.content / upload.path).exists():
                upload.outcome = "present"
            elif not download or dry_run:
                upload.outcome = "not_downloaded"
            else:
                waiting.append(upload)
        if not waiting:
            return
        with guard_factory() as guard, ThreadPoolExecutor(DOWNLOADS_AT_ONCE) as pool:
            list(pool.map(lambda upload: _fetch(guard, upload, self.content), waiting))


def _sources(content: Path):
    """(kind, slug, path under content/, status) of each Markdown post and page of the blog, from its header (the
    slug Pelican gives it: its `Slug`, else its title's; status « draft », « hidden », or "" when published)."""
    from pelican.settings import DEFAULT_CONFIG
    from pelican.utils import slugify as pelican_slugify

    from confreres.releases import MARKDOWN_EXTENSIONS

    if not content.is_dir():
        return
    subs = DEFAULT_CONFIG["SLUG_REGEX_SUBSTITUTIONS"]
    for path in sorted(content.rglob("*")):
        relative = path.relative_to(content)
        if path.suffix.lstrip(".") not in MARKDOWN_EXTENSIONS or relative.parts[0] in ("images", "files", "extra"):
            continue
        meta: dict[str, str] = {}
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                key, colon, value = line.partition(":")
                if not line.strip() or not colon:
                    break
                meta.setdefault(key.strip().lower().lstrip("\ufeff"), value.strip())
        slug = meta.get("slug") or (pelican_slugify(meta["title"], regex_subs=subs) if meta.get("title") else "")
        if slug:
            status = meta.get("status", "").lower()
            yield ("page" if relative.parts[0] == "pages" else "post", slug, relative.as_posix(),
                   status if status in ("draft", "hidden") else "")


def _addresses(content: Path) -> dict[tuple[str, str], str]:
    """The blog's own posts and pages by (kind, slug) -> their file under content/: an imported post with the address
    of one of them would stop the build (two pages in one file)."""
    found: dict[tuple[str, str], str] = {}
    for kind, slug, relative, _status in _sources(content):
        found.setdefault((kind, slug), relative)
    return found


def without_thread(content: Path) -> dict[str, tuple[str, str, str]]:
    """The posts and pages of the blog that have no comment thread, by slug -> (kind, path under content/, status):
    its pages (a page has none, published or not), its drafts and hidden posts. `confreres import comments` says so of
    an old post's comments it finds no thread for, rather than « no such post »."""
    found: dict[str, tuple[str, str, str]] = {}
    for kind, slug, relative, status in _sources(content):
        if kind == "page" or status:
            found.setdefault(slug.lower(), (kind, relative, status))
    return found


def _fetch(guard, upload: Upload, content: Path) -> None:
    from confreres.safe_http import FetchError

    try:
        fetched = guard.get(upload.url)
    except FetchError as exc:
        upload.outcome, upload.error = "failed", str(exc)
        return
    except ValueError as exc:  # a redirection to what is not an address (« Location: http://[oops/ »)
        upload.outcome, upload.error = "failed", f"adresse invalide ({exc})"
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
        write_atomically(content / upload.path, fetched.body)
        upload.outcome = "downloaded"


def write_atomically(target: Path, data: bytes) -> None:
    """Whole or not at all: an interrupted import leaves no half file that a second run would keep."""
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, data)


def write_posts(source: Source, content: Path, *, download: bool = True, dry_run: bool = False,
                guard_factory=None) -> PostsReport:
    """Write `source`'s posts and pages under `content` (a blog's `content/` folder)."""
    if guard_factory is None:
        from confreres.safe_http import Guard

        def guard_factory():
            return Guard(timeout=20.0, max_bytes=MAX_DOWNLOAD, max_redirects=5)

    return _Writer(source, Path(content)).run(download, dry_run, guard_factory)


def redirections(report: PostsReport, site_url: str, permalinks: str) -> list[tuple[str, str]]:
    """(old address, new address) of each published post and page of the import, for the old blog's redirections:
    the links other sites, search engines and readers have keep leading to the posts. The new address is the one
    the blog's `permalinks` setting gives (confreres.releases)."""
    rows = []
    for post in report.posts:
        if post.outcome not in ("written", "present") or post.status or not post.old_url:
            continue
        if post.kind == "page":
            new = f"pages/{post.slug}.html"
        elif permalinks == "date":
            new = f"{post.date:%Y/%m/%d}/{post.slug}/"
        else:
            new = f"{post.slug}.html"
        rows.append((post.old_url, site_url + quote(new)))
    return rows


def write_redirections(rows: list[tuple[str, str]], path: Path) -> None:
    """A CSV file, « source,target » (WordPress's Redirection extension imports it; one line per post)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["source", "target"])
    writer.writerows(rows)
    write_atomically(path, out.getvalue().encode("utf-8"))


# -- the report -----------------------------------------------------------------------------------

_SKIP_LABELS = {
    "attachment": ("fichier joint (ses images sont reprises avec les billets qui les montrent)", "fichiers joints (leurs "
                   "images sont reprises avec les billets qui les montrent)"),
    "nav_menu_item": ("élément de menu", "éléments de menu"),
    "revision": ("révision", "révisions"),
    "trash": ("élément à la corbeille", "éléments à la corbeille"),
    "auto-draft": ("brouillon automatique vide", "brouillons automatiques vides"),
    "inherit": ("élément dépendant d'un autre", "éléments dépendant d'un autre"),
    "wp_block": ("bloc réutilisable", "blocs réutilisables"),
    "comment": ("commentaire (importé par la commande des commentaires)",
                "commentaires (importés par la commande des commentaires)"),
    "settings": ("réglage du blog", "réglages du blog"),
    "template": ("gabarit du thème", "gabarits du thème"),
    "no_entry": ("entrée de commentaires seuls (« NO ENTRY »)", "entrées de commentaires seuls (« NO ENTRY »)"),
    "trackback": ("trackback (laissé de côté)", "trackbacks (laissés de côté)"),
}


def format_report(report: PostsReport, file: Path, content: Path) -> list[str]:
    """The report as lines for the terminal, in French."""
    from confreres.french import plural_fr
    from confreres.xml_input import LABELS as REPAIR_LABELS

    version = f" ({report.version})" if report.version else ""
    lines = [f"Export {report.platform} {file}{version} -> {content}"
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
        elif post.outcome == "present":
            lines.append(f"  déjà là : content/{post.path} ({post.title}) : gardé ; pour reprendre celui de l'export, "
                         "supprimez-le et relancez l'import")
    if conflicts := [post for post in report.posts if post.outcome == "conflict"]:
        lines.append(f"Non écrits, l'adresse est déjà prise dans le blog : {len(conflicts)}")
        lines += [f"  {post.title} : « {post.slug} » est l'adresse de content/{post.conflict} ; renommez l'un des deux "
                  "(« Slug: ») et relancez l'import" for post in conflicts]
    if skipped := sum(report.skipped.values()):
        lines.append(f"Éléments écartés : {skipped}")
        for kind, count in sorted(report.skipped.items()):
            singular, plural = _SKIP_LABELS.get(kind, (f"élément « {kind} »", f"éléments « {kind} »"))
            lines.append(f"  {plural_fr(count, singular, plural)}")
    if report.uploads:
        counts = Counter(u.outcome for u in report.uploads.values())
        parts = [plural_fr(counts[outcome], singular, plural) for outcome, singular, plural in (
            ("downloaded", "téléchargé", "téléchargés"), ("present", "déjà là", "déjà là"),
            ("not_downloaded", "non téléchargé", "non téléchargés"),
            ("withheld", "montré par un brouillon seulement, non téléchargé",
             "montrés par des brouillons seulement, non téléchargés"),
            ("failed", "en échec (laissé sur l'ancien site)", "en échec (laissés sur l'ancien site)"),
        ) if counts[outcome]]
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
    if refused := [m for p in report.posts for m in p.refused]:
        lines.append(f"SECRET MÉDICAL : {plural_fr(len(refused), 'passage')} ferai{'en' if len(refused) > 1 else ''}t "
                     "refuser la publication (git push) : corrigez-les, ou ajoutez « Secret: vérifié » au billet s'il "
                     "s'agit de vos propres coordonnées")
        lines += [f"  {m}" for m in refused]
    if warned := [m for p in report.posts for m in p.warned]:
        lines.append(f"Secret médical, à relire (publié, mais signalé) : {plural_fr(len(warned), 'passage')}")
        lines += [f"  {m}" for m in warned[:30]]
    return lines
