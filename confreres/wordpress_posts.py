"""WordPress export (WXR) -> the Markdown posts and pages of one blog (post_import does the writing).

    report = import_posts("export.xml", Path("sites/dr-martin/content"), download=True, dry_run=False)

What is WordPress's own is read here: the post types and statuses (drafts, pending, private and
password-protected posts stay drafts: the import never publishes what was not public), WordPress's implicit
paragraphs (`wpautop`, not run on block-editor posts), its shortcodes ([caption], [gallery] from the export's
attachments, [embed], [audio], [video], Jetpack's [youtube]; a plugin's dropped, its text kept, and counted),
`<!--more-->` (the text before it is the summary when there is no excerpt), and where the blog's uploads are
(`wp-content/uploads`, `*.files.wordpress.com`, Jetpack's `i0.wp.com` copies).
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

from confreres import wxr
from confreres.french import PARIS, slugify
from confreres.post_import import (
    PostsReport,
    Source,
    SourcePost,
    link_paragraph,
    local_path,
    no_query,
    one_line,
    safe_urlsplit,
    wpautop,
    write_posts,
)

DRAFT_STATUSES = {"draft": "brouillon", "pending": "en attente de relecture", "private": "privé"}  # not public
_SKIPPED_STATUSES = {"trash", "auto-draft", "inherit"}
_DEFAULT_CATEGORIES = {"uncategorized", "non-classe", "sans-categorie"}  # WordPress's default, in English and French
# [name attrs]; [[name]] is text. Attributes hold no bracket (WordPress's rule): a tag's search stops at the next
# « [ », so that « [a = » written ten thousand times without « ] » is read in one pass, not once from each
_OPENER = re.compile(r"\[(\[?)([a-zA-Z][\w-]*)((?:[\s=][^\[\]]*)?)\]")
_CLOSER = re.compile(r"\[/([a-zA-Z][\w-]*)\]")
_ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))""")
# The block editor's comments and « <!--more--> »: one never runs past the next « <!-- » (an unclosed one is left
# as written, read once, not again from each of a thousand « <!-- wp: » without their end)
_BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:(?:(?!<!--).)*?-->", re.S)
_MORE_COMMENT = re.compile(r"<!--\s*(?:more|nextpage|noteaser)\b(?:(?!<!--).)*?-->", re.S | re.I)
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.S)  # unclosed, it hides the rest, as in a browser
_MEDIA_KEYS = ("src", "mp3", "m4a", "ogg", "wav", "wma", "mp4", "m4v", "webm", "ogv", "wmv", "flv")
_BARE_URL_LINE = re.compile(r"^\s*(https?://[^\s<>\"]+)\s*$", re.M)


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
    try:
        return gmt.replace(tzinfo=UTC).astimezone(PARIS).replace(tzinfo=None) if gmt else None
    except OverflowError:  # « 9999-12-31 23:30:00 » GMT has no Paris time
        return None


# -- the body -------------------------------------------------------------------------------------


def _teaser(html: str) -> str:
    """The text before « <!--more--> », for the summary: without HTML comments, nor shortcode tags (a tag with
    attributes, or one closed further on; their words kept), read in one pass as the body's (`shortcodes`)."""
    text = _COMMENT.sub(" ", html)
    closed = set(_CLOSER.findall(text))

    def tag(match: re.Match) -> str:
        if match.group(1) or not ("=" in match.group(3) or match.group(2) in closed):
            return match.group(0)  # [[name]], « [sic] »: text
        return " "

    return _CLOSER.sub(" ", _OPENER.sub(tag, text))


def _attributes(text: str) -> dict[str, str]:
    return {m.group(1).lower(): next(v for v in m.groups()[1:] if v is not None) for m in _ATTRIBUTE.finditer(text)}


class _Reader:
    """The export read once: its posts and pages made plain HTML, its attachments, where its uploads are."""

    def __init__(self, path: str | Path):
        self.export = wxr.Wxr(path)
        self.attachments: dict[str, dict] = {}  # by id: {"url", "parent", "title", "order"}
        items = []
        for elem, line in self.export.items():
            f = wxr.fields(elem, raw=("encoded", "excerpt"))
            if f.get("post_type") == "attachment":
                if f.get("attachment_url"):
                    self.attachments[f.get("post_id", "")] = {
                        "url": f["attachment_url"], "parent": f.get("post_parent", ""), "title": f.get("title", ""),
                        "order": f.get("menu_order", "0")}
                continue
            categories = [(c.get("domain", ""), c.get("nicename", ""), (c.text or "").strip())
                          for c in elem if wxr.local(c.tag)[1] == "category"]
            for meta in (c for c in elem if wxr.local(c.tag)[1] == "postmeta"):
                values = wxr.fields(meta)
                if values.get("meta_key") == "_thumbnail_id":
                    f["thumbnail_id"] = values.get("meta_value", "")
            items.append((f, categories, line))
        base = self.export.base_url.rstrip("/") + "/" if self.export.base_url else ""
        hosts = {safe_urlsplit(u).hostname.lower() for u in [base] + [f.get("link", "") for f, _, _ in items]
                 + [a["url"] for a in self.attachments.values()] if safe_urlsplit(u).hostname}
        self.attachment_urls = {no_query(a["url"]) for a in self.attachments.values()}
        self.source = Source("WordPress", f"WXR {self.export.version}", base, hosts, [], self.upload_path,
                             repairs=self.export.repairs)
        if self.attachments:
            self.source.skipped["attachment"] = len(self.attachments)
        for f, categories, line in items:
            if post := self.post(f, categories, line):
                self.source.posts.append(post)

    def post(self, f: dict, categories: list[tuple[str, str, str]], line: int) -> SourcePost | None:
        kind, status = f.get("post_type") or "post", (f.get("status") or "publish").lower()
        if kind not in ("post", "page"):
            self.source.skipped[kind] += 1
            return None
        if status in _SKIPPED_STATUSES:
            self.source.skipped[status] += 1
            return None
        # published or scheduled only; a workflow extension's own (« pitch », « in-progress »…) was not public either
        why = "" if status in ("publish", "future") else DRAFT_STATUSES.get(status, f"statut « {status} »")
        if f.get("post_password"):
            why = "protégé par un mot de passe"
        title = f.get("title", "")
        summary = f.get("excerpt", "")
        if not one_line(summary):
            more = re.split(r"<!--\s*more\b", f.get("encoded", ""), maxsplit=1)
            summary = _teaser(more[0]) if len(more) == 2 else ""
        link = safe_urlsplit(f.get("link", ""))
        post_id = f.get("post_id", "")
        return SourcePost(
            kind=kind, source_id=post_id, title=title,
            html=self.featured(f.get("thumbnail_id", ""), self.prepared(f.get("encoded", ""), post_id)),
            date=_date(f), slug=_slug(f, one_line(title)), why_draft=why,
            categories=[name for domain, nicename, name in categories
                        if domain == "category" and nicename not in _DEFAULT_CATEGORIES and name],
            tags=[name for domain, _, name in categories if domain == "post_tag" and name],
            summary=summary,
            addresses=([link.path] if link.path.strip("/") else []) + [f"?{'page_id' if kind == 'page' else 'p'}={post_id}"],
            old_url=f.get("link", ""),
            line=line,
        )

    def featured(self, attachment_id: str, html_text: str) -> str:
        """The post's featured image (« Image mise en avant »), which WordPress themes show above the text: at the
        top of the body, unless the text shows it already (at any of its sizes, « -300x200 »)."""
        image = self.attachments.get(attachment_id)
        if not image:
            return html_text
        stem = re.sub(r"-\d+x\d+$", "", PurePosixPath(safe_urlsplit(image["url"]).path).stem)
        shown = {re.sub(r"-\d+x\d+$", "", PurePosixPath(safe_urlsplit(src).path).stem)
                 for src in re.findall(r"""<img\b[^>]*?\bsrc=["']?([^"'\s>]+)""", html_text, re.I)}
        if stem in shown:
            return html_text
        alt = html.escape(one_line(image["title"]))
        return f'<p><img src="{html.escape(image["url"])}" alt="{alt}"></p>\n' + html_text

    # which URLs are the blog's own uploads, and where they go
    def upload_path(self, url: str) -> str | None:
        plain = no_query(url)
        parts = safe_urlsplit(plain)
        host = (parts.hostname or "").lower()
        path = unquote(parts.path)
        if parts.scheme not in ("http", "https"):
            return None
        hosts = self.source.hosts
        if host in {"i0.wp.com", "i1.wp.com", "i2.wp.com", "i3.wp.com"}:  # Jetpack's copies: /<host>/<path>
            inner_host, _, inner_path = path.lstrip("/").partition("/")
            if inner_host.lower() not in hosts:
                return None
            host, path = inner_host.lower(), "/" + inner_path
        if "/wp-content/uploads/" in path and (host in hosts or plain in self.attachment_urls):
            return local_path(path.split("/wp-content/uploads/", 1)[1])
        # a WordPress.com blog's files: « <blog>.files.wordpress.com », or « <blog>.wordpress.com/files/ »; another
        # blog's pictures there are that blog's, not this one's
        own = host in hosts or any(host == h.removesuffix(".wordpress.com") + ".files.wordpress.com" for h in hosts)
        if own and (host.endswith(".files.wordpress.com") or (host.endswith(".wordpress.com") and "/files/" in path)):
            return local_path(path.split("/files/", 1)[1] if "/files/" in path else path)
        if plain in self.attachment_urls:
            return local_path(PurePosixPath(path).name)
        return None

    # the body
    def shortcodes(self, text: str, post_id: str) -> str:
        """WordPress's shortcodes read, in one pass: a tag looks for its closing tag only when the text has one
        (« [sic] » a thousand times must not scan the post a thousand times)."""
        closers = set(_CLOSER.findall(text))
        out, position = [], 0
        while (match := _OPENER.search(text, position)) is not None:
            out.append(text[position : match.start()])
            name, end, inner = match.group(2), match.end(), None
            if name in closers and (close := text.find(f"[/{name}]", end)) >= 0 and not (
                    match.group(1) and text.startswith("]", end)):
                inner, end = text[end:close], close + len(name) + 3
            if match.group(1):  # [[caption]] (or [[caption]…[/caption]]): WordPress's way of writing one as text
                if text.startswith("]", end):
                    out.append(text[match.start() + 1 : end])
                    position = end + 1
                else:  # a lone « [ » before a shortcode
                    out.append("[")
                    position = match.start() + 1
                continue
            out.append(self.shortcode(name.lower(), match.group(3) or "", inner, text[match.start() : end], post_id))
            position = end
        out.append(text[position:])
        return "".join(out)

    def shortcode(self, name: str, written: str, inner: str | None, whole: str, post_id: str) -> str:
        source, attrs, body = self.source, _attributes(written), inner or ""
        if name in ("caption", "wp_caption"):
            caption = attrs.get("caption", "")
            image = re.match(r"\s*((?:<a\b[^>]*>\s*)?<img\b[^>]*>(?:\s*</a>)?)(.*)", body, re.S | re.I)
            figure, text_part = (image.group(1), image.group(2)) if image else (body, "")
            return f"\n\n<figure>{figure}<figcaption>{caption or text_part.strip()}</figcaption></figure>\n\n"
        if name == "gallery":
            return "\n\n" + self.gallery(attrs, post_id) + "\n\n"
        if name == "embed":
            source.embeds += 1
            return "\n\n" + link_paragraph(body or attrs.get("src", "")) + "\n\n"
        if name in ("audio", "video", "playlist", "youtube", "vimeo", "dailymotion"):
            urls = [attrs[k] for k in _MEDIA_KEYS if attrs.get(k)]
            if name in ("youtube", "vimeo", "dailymotion"):  # Jetpack: [youtube https://…] or [youtube=https://…]
                urls += re.findall(r"https?://[^\s\]\"']+", written + body)
            if not urls:
                source.shortcodes[name] += 1
                return ""
            source.embeds += 1
            return "\n\n" + "".join(link_paragraph(u) for u in dict.fromkeys(urls)) + "\n\n"
        if not attrs and inner is None:
            return whole  # « [sic] », « [NDLR : …] », « [max 3 g par jour] »: text in brackets, as WordPress shows it
        source.shortcodes[name] += 1  # a plugin's ([contact-form-7 …], [su_button]…): its words kept
        return body

    def gallery(self, attrs: dict, post_id: str) -> str:
        attachments = self.attachments
        ids = [i.strip() for i in (attrs.get("ids") or attrs.get("include") or "").split(",") if i.strip()]
        if not ids:
            parent = attrs.get("id") or post_id
            ids = [i for i, a in sorted(attachments.items(), key=lambda kv: (int(kv[1]["order"] or 0)
                                                                          if kv[1]["order"].lstrip("-").isdigit()
                                                                          else 0, kv[0]))
                   if a["parent"] == parent]
        images = [attachments[i] for i in ids if i in attachments]
        if not images:
            self.source.shortcodes["gallery"] += 1
            return ""
        return "<p>" + "\n".join(f'<img src="{html.escape(a["url"])}" alt="{html.escape(one_line(a["title"]))}">'
                                 for a in images) + "</p>"

    def prepared(self, source: str, post_id: str) -> str:
        """The body's HTML as WordPress would show it, before any URL is looked at."""
        text = source.replace("\r\n", "\n").replace("\r", "\n")
        blocks = "<!-- wp:" in text  # the block editor writes its paragraphs; wpautop is not run on it
        text = _BLOCK_COMMENT.sub("", text)
        text = _MORE_COMMENT.sub("\n\n", text)
        text = self.shortcodes(text, post_id)
        # WordPress embeds a media URL alone on its line (oEmbed): here, a link
        def bare(match: re.Match) -> str:
            self.source.embeds += 1
            return link_paragraph(match.group(1))
        text = _BARE_URL_LINE.sub(bare, text)
        return text if blocks else wpautop(text)



def import_posts(path: str | Path, content: Path, *, download: bool = True, dry_run: bool = False,
                 guard_factory=None) -> PostsReport:
    """Write the posts and pages of a WXR file under `content` (a blog's `content/` folder); WxrError for a file
    that cannot be read (nothing written then)."""
    return write_posts(_Reader(path).source, content, download=download, dry_run=dry_run, guard_factory=guard_factory)
