"""WordPress export (WXR) -> the comments of one site of the network.

    report = import_wordpress(db, network, "dr-martin", "export.xml", dry_run=False)

1. **Read** the whole file first, streamed line by line through defusedxml's parser: entity
   declarations and external references are refused (no "billion laughs", no local file read in), and
   only the items that carry comments are kept. A file that is not well-formed XML, or not a
   WordPress export, raises `WxrError` with its line: nothing has been written at that point.
   A `.gz` export is read as is.
2. **Match** each WordPress post to a post of the site that the service knows (the `posts` table, fed
   by the build), by the path of its `link`/`guid` relative to the blog (permalinks kept), else by its
   slug: `wp:post_name`, which `pelican-import --wpfile` keeps as the post's `Slug:`, against the last
   segment of the post URLs.
3. **Write** one transaction per post (a failure never leaves a half-imported thread), parents before
   replies, each comment recorded under its import key (site, "wordpress", WordPress comment id) in
   the `imports` table, so that a second run finds every comment "already present" and writes nothing.

WordPress comment HTML (with its implicit paragraphs) goes through the network's one sanitiser,
`confreres.sanitize.clean`, once; the original is kept as the comment's source text. Pingbacks and
trackbacks are skipped (counted), trashed comments too; spam stays spam (never shown). IP addresses
of the export are never imported.
"""

from __future__ import annotations

import contextlib
import gzip
import re
import sqlite3
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import ParseError, TreeBuilder, XMLPullParser

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from comments_service.core.db import write
from comments_service.domain import comments as store
from comments_service.domain import render, validate
from comments_service.domain.posts import bump_post
from comments_service.importers.xml_repair import LABELS as REPAIR_LABELS
from comments_service.importers.xml_repair import RepairingReader, french_reason
from confreres.french import plural_fr, slugify
from confreres.registry import Network
from confreres.sanitize import clean
from confreres.sanitize import text as plain_text

SOURCE = "wordpress"
MAX_COMMENT_CHARS = 200_000  # a comment longer than this is not a comment: skipped
# xmlns:wp of every WXR: "http://wordpress.org/export/1.2/"; newer WordPress (and the theme unit test data) write https
_WP_NS = re.compile(r"https?://wordpress\.org/export/([^/]*)/?")
SUPPORTED_MAJOR = "1"  # WXR 1.0 to 1.2 so far; a 1.x to come keeps the same elements
_STATUS = {"1": "approved", "approve": "approved", "approved": "approved", "0": "pending", "hold": "pending",
           "spam": "spam"}
_TRASH = {"trash", "post-trashed"}


class WxrError(Exception):
    """The file cannot be imported; `str()` is the message for the user (line included when known)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f" (ligne {line}" + (f", colonne {column}" if column is not None else "") + ")" if line else ""
        super().__init__(f"{message}{where}")


# -- reading -------------------------------------------------------------------------------------


@dataclass
class WxrComment:
    wp_id: str
    parent: str  # WordPress id of the parent, "" for a top-level comment
    author: str
    email: str | None
    website: str | None
    created: str  # ISO 8601 UTC
    date_from: str  # "gmt" | "local" | "post" | "import": where `created` came from
    text: str  # the WordPress source, kept as is
    html: str  # sanitised once
    status: str | None  # approved | pending | spam; None when skipped
    skip: str | None  # reason when the comment is not imported
    is_post_author: bool
    dropped: tuple[str, ...] = ()  # fields left out because invalid ("email", "website")


@dataclass
class WxrPost:
    wp_id: str
    title: str
    link: str
    guid: str
    slug: str
    post_type: str
    line: int
    comments: list[WxrComment] = field(default_factory=list)


@dataclass
class WxrExport:
    wxr_version: str
    base_url: str
    posts: list[WxrPost]  # only the items that carry comments
    items: int  # every item of the file
    repairs: Counter = field(default_factory=Counter)  # what xml_repair mended, by kind


def _local(tag) -> tuple[str, str]:
    """('{ns}name') -> (ns, name)."""
    if not isinstance(tag, str):
        return "", ""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def _is_wp(ns: str) -> bool:
    return _WP_NS.fullmatch(ns) is not None


def _fields(elem) -> dict[str, str]:
    """First text of each child, by local name (RSS, dc and wp fields do not collide)."""
    found: dict[str, str] = {}
    for child in elem:
        _ns, name = _local(child.tag)
        if name and name not in found:
            found[name] = (child.text or "").strip() if name not in ("comment_content",) else (child.text or "")
    return found


def _wp_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.strptime(value.strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    return moment if moment.year > 1900 else None  # "0000-00-00 00:00:00" means unknown


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _open(path: Path):
    handle = open(path, "rb")  # noqa: SIM115 - closed by the caller
    try:
        magic = handle.read(2)
        handle.seek(0)
    except OSError:
        handle.close()
        raise
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=handle, mode="rb")
    return handle


def _autop(source: str) -> str:
    """WordPress shows comments through wpautop: blank lines make paragraphs, newlines line breaks.

    Headings become bold paragraphs and divs paragraphs (the sanitiser would otherwise strip the tags
    and run their texts together); the sanitiser decides what survives.
    """
    text = source.replace("\r\n", "\n").replace("\r", "\n").strip()
    text = re.sub(r"<h[1-6]\b[^>]*>", "\n\n<p><strong>", text, flags=re.I)
    text = re.sub(r"</h[1-6]\s*>", "</strong></p>\n\n", text, flags=re.I)
    text = re.sub(r"<div\b[^>]*>", "\n\n<p>", text, flags=re.I)
    text = re.sub(r"</div\s*>", "</p>\n\n", text, flags=re.I)
    blocks = []
    for part in re.split(r"\n\s*\n", text):
        part = part.strip()
        if not part:
            continue
        if re.match(r"<(p|blockquote|ul|ol|pre|hr|table|dl|figure)\b", part, re.I):
            blocks.append(part)
        else:
            blocks.append("<p>" + part.replace("\n", "<br>\n") + "</p>")
    return "\n".join(blocks)


def comment_html(source: str) -> str:
    """WordPress comment HTML -> the stored, sanitised HTML (no Markdown pass: it is HTML already)."""
    return clean(_autop(source))


def _author(raw: str) -> str:
    name = validate.one_line(plain_text(raw or ""))
    return name[: validate.MAX_AUTHOR].strip()


def _comment(elem, post_dates: dict, author_ids: set[str], now: datetime) -> WxrComment:
    f = _fields(elem)
    wp_id = f.get("comment_id", "").strip()
    kind = (f.get("comment_type") or "comment").strip().lower()
    approved = (f.get("comment_approved") or "").strip().lower()
    skip = None
    if not wp_id.isdigit():
        skip = "no_id"
    elif kind in ("pingback", "trackback"):
        skip = kind
    elif kind != "comment":
        skip = "other_type"  # WooCommerce order notes, webhooks...: never public comments
    elif approved in _TRASH:
        skip = "trash"
    status = None if skip else _STATUS.get(approved, "pending")  # an unknown status waits for a moderator

    # dates: GMT, else local time shifted by the blog's offset (post_date - post_date_gmt), else the post's
    created = _wp_datetime(f.get("comment_date_gmt"))
    date_from = "gmt"
    if created is None:
        local = _wp_datetime(f.get("comment_date"))
        if local is not None:
            created, date_from = local - post_dates.get("offset", timedelta(0)), "local"
    if created is None and post_dates.get("date") is not None:
        created, date_from = post_dates["date"], "post"
    if created is None:
        created, date_from = now, "import"

    source = f.get("comment_content", "")
    dropped = []
    email = (f.get("comment_author_email") or "").strip() or None
    if email and (len(email) > validate.MAX_EMAIL or not validate.EMAIL_RE.match(email)):
        email, dropped = None, [*dropped, "email"]
    website = (f.get("comment_author_url") or "").strip() or None
    if website and (len(website) > validate.MAX_WEBSITE or not validate.is_http_url(website)):
        website, dropped = None, [*dropped, "website"]
    html = ""
    if skip is None:
        if len(source) > MAX_COMMENT_CHARS:
            skip, status = "too_long", None
        else:
            html = comment_html(source)
            if render.is_blank(html):
                skip, status = "empty", None
    user_id = (f.get("comment_user_id") or "0").strip()
    parent = (f.get("comment_parent") or "").strip()
    return WxrComment(
        wp_id=wp_id,
        parent="" if parent in ("", "0") else parent,
        author=_author(f.get("comment_author", "")),
        email=email,
        website=website,
        created=store.iso(_utc(created)),
        date_from=date_from,
        text=source.strip(),
        html=html,
        status=status,
        skip=skip,
        is_post_author=user_id not in ("", "0") and user_id in author_ids,
        dropped=tuple(dropped),
    )


def _post_dates(f: dict) -> dict:
    gmt = _wp_datetime(f.get("post_date_gmt"))
    local = _wp_datetime(f.get("post_date"))
    dates: dict = {}
    if gmt is not None and local is not None:
        minutes = round((local - gmt).total_seconds() / 900) * 15
        if abs(minutes) <= 14 * 60:
            dates["offset"] = timedelta(minutes=minutes)
    date = gmt
    if date is None and f.get("pubDate"):
        try:
            date = parsedate_to_datetime(f["pubDate"]).astimezone(UTC).replace(tzinfo=None)
        except (TypeError, ValueError, IndexError):
            date = None
    if date is None and local is not None:
        date = local - dates.get("offset", timedelta(0))
    dates["date"] = date
    return dates


def read_wxr(path: str | Path, now: datetime | None = None) -> WxrExport:
    """Parse a WXR export (plain or gzipped) into its commented posts; WxrError when it cannot be read."""
    path = Path(path)
    now = (now or store.utcnow()).astimezone(UTC).replace(tzinfo=None)
    xml_parser = DefusedXMLParser(target=TreeBuilder(), forbid_dtd=False, forbid_entities=True, forbid_external=True)
    pull = XMLPullParser(events=("start", "end"), _parser=xml_parser)
    expat = xml_parser.parser
    depth = 0
    channel = None
    wxr_version = ""
    base_url = ""
    author_logins: dict[str, str] = {}  # login -> WordPress user id
    posts: list[WxrPost] = []
    items = 0

    foreign_version_ns = ""  # a <wxr_version> in a namespace that is not WordPress's
    last_item: list = []  # (title, line) of the last item read whole: where an interrupted export stopped

    def handle(event: str, elem) -> None:
        nonlocal depth, channel, wxr_version, base_url, items, foreign_version_ns
        ns, name = _local(elem.tag)
        if event == "start":
            depth += 1
            if depth == 1 and name != "rss":
                raise WxrError(f"ce n'est pas un export WordPress : l'élément racine est <{name}>, pas <rss>", here())
            if depth == 2:
                if name != "channel":
                    raise WxrError(f"ce n'est pas un export WordPress : <{name}> là où <channel> était attendu",
                                   here())
                channel = elem
            return
        depth -= 1
        if depth != 2 or channel is None:
            return
        # a direct child of <channel> is complete: use it, then drop it to keep memory flat
        is_wp = _is_wp(ns)
        if name == "wxr_version" and is_wp:
            wxr_version = (elem.text or "").strip()
        elif name == "wxr_version":
            foreign_version_ns = ns or "(none)"
        elif name in ("base_blog_url", "base_site_url") and is_wp:
            base_url = base_url if (base_url and name == "base_site_url") else (elem.text or "").strip()
        elif name == "author" and is_wp:
            f = _fields(elem)
            if f.get("author_login") and f.get("author_id"):
                author_logins[f["author_login"]] = f["author_id"]
        elif name == "item":
            items += 1
            post = _item(elem, author_logins, now, here())
            last_item[:] = [validate.one_line(plain_text(elem.findtext("title") or "")) or "(sans titre)", here()]
            if post is not None:
                posts.append(post)
        channel.remove(elem)

    reader = None
    closing = False

    def here() -> int:
        """The line of the file (the repairs dropped the lines before its declaration, if any)."""
        return expat.CurrentLineNumber + (reader.line_offset if reader else 0)

    try:
        with _open(path) as handle_in:
            reader = RepairingReader(handle_in)
            chunks = reader.chunks()
            for chunk in chunks:
                pull.feed(chunk)
                for event, elem in pull.read_events():
                    handle(event, elem)
                    if depth == 0:  # </rss>: the export is whole
                        break
                if depth == 0 and channel is not None:
                    _read_rest(pull, chunks, reader)
                    break
            else:
                closing = True
                pull.close()
                for event, elem in pull.read_events():
                    handle(event, elem)
    except ParseError as exc:
        line, column = getattr(exc, "position", (None, None))
        line = line + reader.line_offset if line and reader else line
        reason = french_reason(getattr(exc, "code", None), str(exc))
        if (line, column) == (1, 0) and reader and reader.start:
            reason += f" : le fichier commence par « {reader.start} »"
        if closing and channel is not None:
            last = f" ; dernier billet lu en entier : « {last_item[0]} », ligne {last_item[1]}" if last_item else ""
            raise WxrError(
                f"export incomplet : le fichier s'arrête au milieu du document{last}. Un export interrompu (souvent par "
                "la limite de temps ou de mémoire de l'hébergeur) : refaites-le, ou en plusieurs fois (Outils > "
                "Exporter > Articles, par dates)", line, column) from None
        raise WxrError(f"fichier XML mal formé : {reason}", line, column) from None
    except DefusedXmlException as exc:
        raise WxrError(
            f"refusé : le fichier déclare des entités XML ou des références externes ({exc.__class__.__name__}),"
            " ce que ne fait jamais un export WordPress",
            here(),
        ) from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise WxrError(f"fichier gzip illisible ({exc})") from None
    except UnicodeError as exc:
        raise WxrError(f"encodage du texte invalide ({exc})", here()) from None
    if channel is None:
        raise WxrError("ce n'est pas un export WordPress : pas de <channel>")
    _check_version(wxr_version, foreign_version_ns)
    return WxrExport(wxr_version, base_url, posts, items, reader.repairs)


def _read_rest(pull: XMLPullParser, chunks, reader: RepairingReader) -> None:
    """After </rss>: comments and blank lines are fine; anything else (PHP notices) is counted and left unread."""
    try:
        for _ in pull.read_events():
            pass
        for chunk in chunks:
            pull.feed(chunk)
            for _ in pull.read_events():
                pass
        pull.close()
    except ParseError:
        reader.repairs["trailing"] += 1


def _check_version(wxr_version: str, foreign_ns: str) -> None:
    """Say what is wrong: not an export at all, a version element in a stranger's namespace, or a version
    this importer does not read."""
    if not wxr_version:
        if foreign_ns:
            raise WxrError(
                f"ce n'est pas un export WordPress : son <wxr_version> est dans l'espace de noms {foreign_ns!r}, pas celui de "
                "WordPress (xmlns:wp=\"http://wordpress.org/export/1.2/\", ou https)"
            )
        raise WxrError(
            "ce n'est pas un export WordPress : pas de <wp:wxr_version> dans <channel> (un export WordPress déclare "
            "xmlns:wp=\"http://wordpress.org/export/1.2/\" et y donne sa version)"
        )
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)*", wxr_version):
        raise WxrError(f"ce n'est pas un export WordPress : <wp:wxr_version> vaut {wxr_version!r}, pas un numéro de version")
    if wxr_version.split(".")[0] != SUPPORTED_MAJOR:
        raise WxrError(f"version WXR {wxr_version} non prise en charge : cet import lit WXR 1.x (exports WordPress 1.0 à 1.2)")


def _item(elem, author_logins: dict[str, str], now: datetime, line: int) -> WxrPost | None:
    comment_elems = []
    for child in elem:
        ns, name = _local(child.tag)
        if name == "comment" and _is_wp(ns):
            comment_elems.append(child)
    if not comment_elems:
        return None
    f = _fields(elem)
    creator_id = author_logins.get(f.get("creator", ""))
    dates = _post_dates(f)
    post = WxrPost(
        wp_id=f.get("post_id", ""),
        title=validate.one_line(plain_text(f.get("title", ""))) or "(sans titre)",
        link=f.get("link", ""),
        guid=f.get("guid", ""),
        slug=f.get("post_name", ""),
        post_type=f.get("post_type", "") or "post",
        line=line,
    )
    authors = {creator_id} if creator_id else set()
    for c in comment_elems:
        post.comments.append(_comment(c, dates, authors, now))
    return post


# -- matching ------------------------------------------------------------------------------------


def _segments(path: str) -> list[str]:
    parts = [unquote(p).strip().lower() for p in path.split("/") if p.strip()]
    if parts and parts[-1] in ("index.html", "index.htm", "index.php"):
        parts.pop()
    return parts


def _stem(segment: str) -> str:
    return re.sub(r"\.(html?|php)$", "", segment)


@dataclass
class Candidate:
    url: str
    title: str


class PostIndex:
    """The site's posts, by path relative to the blog and by slug (last path segment)."""

    def __init__(self, site_url: str, candidates: list[Candidate]):
        self.prefix = _segments(urlsplit(site_url).path)
        self.by_path: dict[str, list[Candidate]] = defaultdict(list)
        self.by_slug: dict[str, list[Candidate]] = defaultdict(list)
        for cand in candidates:
            parts = _segments(urlsplit(cand.url).path)
            if parts[: len(self.prefix)] == self.prefix:
                parts = parts[len(self.prefix):]
            if not parts:
                continue
            parts[-1] = _stem(parts[-1])
            self.by_path["/".join(parts)].append(cand)
            self.by_slug[parts[-1]].append(cand)
            if slugify(parts[-1]) != parts[-1]:
                self.by_slug[slugify(parts[-1])].append(cand)

    def match(self, post: WxrPost, base_url: str) -> tuple[Candidate | None, str]:
        """(candidate, how) with how in url | slug; (None, reason) when nothing or several fit."""
        base = _segments(urlsplit(base_url).path) if base_url else []
        for raw in (post.link, post.guid):
            try:
                parts = urlsplit(raw.strip())
            except ValueError:
                continue
            if parts.scheme not in ("http", "https"):
                continue
            segs = _segments(parts.path)
            if base and segs[: len(base)] == base:
                segs = segs[len(base):]
            if not segs:
                continue  # ?p=123 permalinks say nothing
            segs[-1] = _stem(segs[-1])
            found = self.by_path.get("/".join(segs), [])
            if len(found) == 1:
                return found[0], "url"
        slugs = []
        if post.slug:
            slugs.append(unquote(post.slug).strip().lower())
        else:
            link_segs = _segments(urlsplit(post.link).path) if post.link else []
            if link_segs:
                slugs.append(_stem(link_segs[-1]))
        if slugs:
            slugs.append(slugify(slugs[0]))
        for slug in slugs:
            found = {c.url: c for c in self.by_slug.get(slug, [])}
            if len(found) == 1:
                return next(iter(found.values())), "slug"
            if len(found) > 1:
                return None, f"ambigu : le slug « {slug} » correspond à {len(found)} billets"
        return None, "aucun billet du blog avec cette adresse ou ce slug"


# -- the report ----------------------------------------------------------------------------------


@dataclass
class PostOutcome:
    title: str
    wp_link: str
    url: str | None  # the matched post, None when unmatched
    how: str  # url | slug | the reason it is unmatched
    comments: int  # importable comments of the post (pingbacks etc. excluded)
    imported: int = 0
    present: int = 0
    error: str | None = None


@dataclass
class ImportReport:
    site: str
    file: str
    dry_run: bool
    wxr_version: str = ""
    items: int = 0
    posts: list[PostOutcome] = field(default_factory=list)
    imported: int = 0
    present: int = 0  # already imported by an earlier run (idempotence)
    statuses: Counter = field(default_factory=Counter)  # of the imported ones
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    dropped: Counter = field(default_factory=Counter)  # field -> count (invalid e-mail, website)
    dates: Counter = field(default_factory=Counter)  # where the date came from, for imported ones
    replies: int = 0  # imported with a parent
    reparented: int = 0  # replies whose parent was not imported: attached to the nearest imported ancestor
    repairs: Counter = field(default_factory=Counter)  # what was mended in the file's XML (xml_repair.LABELS)
    seconds: float = 0.0

    @property
    def matched(self) -> list[PostOutcome]:
        return [p for p in self.posts if p.url]

    @property
    def unmatched(self) -> list[PostOutcome]:
        return [p for p in self.posts if not p.url]

    @property
    def failed(self) -> list[PostOutcome]:
        return [p for p in self.posts if p.error]

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def as_dict(self) -> dict:
        return {
            "site": self.site,
            "file": self.file,
            "dry_run": self.dry_run,
            "wxr_version": self.wxr_version,
            "items": self.items,
            "posts_matched": len(self.matched),
            "posts_unmatched": [
                {"title": p.title, "link": p.wp_link, "comments": p.comments, "reason": p.how} for p in self.unmatched
            ],
            "posts_failed": [{"title": p.title, "url": p.url, "error": p.error} for p in self.failed],
            "comments_imported": self.imported,
            "comments_already_present": self.present,
            "comments_skipped": dict(self.skipped),
            "statuses": dict(self.statuses),
            "replies": self.replies,
            "reparented": self.reparented,
            "fields_dropped": dict(self.dropped),
            "dates": dict(self.dates),
            "repairs": dict(self.repairs),
        }


SKIP_LABELS = {
    "pingback": ("pingback", "pingbacks"),
    "trackback": ("trackback", "trackbacks"),
    "trash": ("commentaire à la corbeille", "commentaires à la corbeille"),
    "other_type": ("élément qui n'est pas un commentaire (autre type WordPress)",
                   "éléments qui ne sont pas des commentaires (autres types WordPress)"),
    "empty": ("commentaire vide une fois nettoyé", "commentaires vides une fois nettoyés"),
    "too_long": ("commentaire trop long", "commentaires trop longs"),
    "no_id": ("commentaire sans identifiant WordPress", "commentaires sans identifiant WordPress"),
    "unmatched_post": ("commentaire d'un billet introuvable", "commentaires de billets introuvables"),
    "conflict": ("identifiant déjà utilisé par des commentaires d'autres billets",
                 "identifiants déjà utilisés par des commentaires d'autres billets"),
    "failed": ("commentaire d'un billet dont l'écriture a échoué", "commentaires de billets dont l'écriture a échoué"),
}
HOW_LABELS = {"url": "par l'adresse", "slug": "par le slug"}
DATE_SOURCES = {"local": "l'heure locale", "post": "la date du billet", "import": "la date de l'import"}
STATUS_LABELS = {"approved": "publiés", "pending": "en attente", "spam": "indésirables", "rejected": "refusés"}
FIELD_LABELS = {"email": "Adresses e-mail invalides laissées de côté", "website": "Sites web invalides laissés de côté"}


def format_report(report: ImportReport) -> list[str]:
    """The report as lines for the terminal, in French."""
    lines = [
        f"Export WordPress {report.file} (WXR {report.wxr_version}, {plural_fr(report.items, 'élément')})"
        f" -> blog {report.site}" + (" [essai : rien n'est écrit]" if report.dry_run else ""),
        f"Billets commentés : {len(report.posts)}, retrouvés {len(report.matched)}, introuvables {len(report.unmatched)}",
    ]
    for post in report.matched:
        how = HOW_LABELS.get(post.how, post.how)
        lines.append(f"  ✓ {post.title} -> {post.url} ({how}) : {plural_fr(post.comments, 'commentaire')}")
    for post in report.unmatched:
        lines.append(f"  ✗ {post.title} ({post.wp_link or 'sans lien'}) : {plural_fr(post.comments, 'commentaire')}"
                     f" non importé{'s' if post.comments > 1 else ''} : {post.how}")
    for post in report.failed:
        lines.append(f"  ! {post.title} : l'écriture a échoué, rien n'est gardé de ce billet : {post.error}")
    statuses = ", ".join(f"{n} {STATUS_LABELS.get(s, s)}" for s, n in sorted(report.statuses.items())) or "aucun"
    verb = "à importer" if report.dry_run else "importés"
    lines.append(f"Commentaires {verb} : {report.imported} ({statuses} ; {plural_fr(report.replies, 'réponse')})")
    lines.append(f"Commentaires déjà présents (import précédent) : {report.present}")
    lines.append(f"Commentaires écartés : {report.skipped_total}")
    for reason, count in sorted(report.skipped.items()):
        singular, plural = SKIP_LABELS.get(reason, (reason, reason))
        lines.append(f"  {plural_fr(count, singular, plural)}")
    if report.reparented:
        lines.append(f"Réponses rattachées à un ancêtre (leur parent n'a pas été importé) : {report.reparented}")
    for name, count in sorted(report.dropped.items()):
        lines.append(f"{FIELD_LABELS.get(name, name)} : {count}")
    if report.repairs:
        lines.append("Fichier réparé à la lecture :")
        for kind, count in sorted(report.repairs.items()):
            singular, plural = REPAIR_LABELS.get(kind, (kind, kind))
            lines.append(f"  {plural_fr(count, singular, plural)}")
    guessed = {k: v for k, v in report.dates.items() if k != "gmt"}
    if guessed:
        lines.append("Dates sans heure GMT : " + ", ".join(
            f"{n} d'après {DATE_SOURCES.get(k, k)}" for k, n in sorted(guessed.items())))
    return lines


# -- writing -------------------------------------------------------------------------------------


def site_candidates(db, slug: str) -> list[Candidate]:
    return [
        Candidate(r["url"], r["title"])
        for r in store.query(db, "SELECT url, title FROM posts WHERE site = ? AND listed = 1", (slug,))
    ]


def _ordered(comments: list[WxrComment]) -> list[WxrComment]:
    """Oldest first, and every parent before its replies (stored ids must grow down the thread)."""
    by_id = {c.wp_id: c for c in comments}
    done: set[str] = set()
    out: list[WxrComment] = []
    for start in sorted(comments, key=lambda c: (c.created, int(c.wp_id) if c.wp_id.isdigit() else 0)):
        chain = []
        node, seen = start, set()
        while node is not None and node.wp_id not in done and node.wp_id not in seen:
            seen.add(node.wp_id)  # a loop of parents in a hostile file ends here
            chain.append(node)
            node = by_id.get(node.parent) if node.parent else None
        for c in reversed(chain):
            done.add(c.wp_id)
            out.append(c)
    return out


def existing_keys(db, site: str, ids: list[str]) -> dict[str, sqlite3.Row]:
    found = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i: i + 500]
        marks = ",".join("?" * len(chunk))
        for row in store.query(
            db,
            "SELECT i.source_id, i.comment_id, c.post_url FROM imports i LEFT JOIN comments c ON c.id = i.comment_id"
            f" WHERE i.site = ? AND i.source = ? AND i.source_id IN ({marks})",
            (site, SOURCE, *chunk),
        ):
            found[row["source_id"]] = row
    return found


def _write_post(db, site: str, url: str, post: WxrPost, report: ImportReport, outcome: PostOutcome,
                dry_run: bool, stamp: str, origin: str = "") -> None:
    """Write one post's comments in one transaction. Keys are the WordPress ids; when an id is already
    taken by a comment of another post (a second WordPress blog imported into the same site), the key
    is qualified by the export's host ("42@old-blog.example")."""
    comments = [c for c in post.comments if c.skip is None]
    by_id = {c.wp_id: c for c in post.comments}
    counts = Counter()

    def qualified(wp_id: str) -> str:
        return f"{wp_id}@{origin}"

    with contextlib.nullcontext() if dry_run else write(db):
        wanted = [c.wp_id for c in comments] + ([qualified(c.wp_id) for c in comments] if origin else [])
        existing = existing_keys(db, site, wanted)

        def resolve(wp_id: str) -> tuple[str, str | None, int | None]:
            """(state, key to write, our id) with state new | present | conflict."""
            for key in (wp_id, qualified(wp_id) if origin else None):
                if key is None:
                    break
                row = existing.get(key)
                if row is None:
                    return "new", key, None
                if row["post_url"] in (None, url):  # None: deleted since, never brought back
                    return "present", None, row["comment_id"]
            return "conflict", None, None

        ids: dict[str, int | None] = {}  # WordPress id -> our id (None: not imported or deleted since)
        for c in _ordered(comments):
            state, key, our_id = resolve(c.wp_id)
            if state != "new":
                counts[state] += 1
                ids[c.wp_id] = our_id
                continue
            parent_id, ancestor, hops = None, c.parent, set()
            while ancestor and ancestor not in hops:
                hops.add(ancestor)
                if ids.get(ancestor):
                    parent_id = ids[ancestor]
                    break
                ancestor = by_id[ancestor].parent if ancestor in by_id else ""
            if c.parent and parent_id != ids.get(c.parent):
                counts["reparented"] += 1
            counts["replies" if parent_id else "roots"] += 1
            counts["status:" + c.status] += 1
            counts["date:" + c.date_from] += 1
            for name in c.dropped:
                counts["dropped:" + name] += 1
            if dry_run:
                ids[c.wp_id] = -1  # stands for the row a real run would write
                continue
            cursor = db.conn.execute(
                "INSERT INTO comments (post_url, site, parent_id, author_name, email, website, is_post_author,"
                " text, html, status, created, moderated, notify)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
                (url, site, parent_id, c.author, c.email, c.website, int(c.is_post_author), c.text, c.html,
                 c.status, c.created, stamp if c.status != "pending" else None),
            )
            ids[c.wp_id] = cursor.lastrowid
            db.conn.execute(
                "INSERT INTO imports (site, source, source_id, comment_id, imported) VALUES (?, ?, ?, ?, ?)",
                (site, SOURCE, key, cursor.lastrowid, stamp),
            )
        imported = counts["replies"] + counts["roots"]
        if imported and not dry_run:
            bump_post(db, url)
    # counted only once the post's transaction is committed
    outcome.imported = imported
    outcome.present = counts["present"]
    report.imported += imported
    report.present += counts["present"]
    report.replies += counts["replies"]
    report.reparented += counts["reparented"]
    report.skipped["conflict"] += counts["conflict"]
    for key, n in counts.items():
        kind, _, name = key.partition(":")
        if kind == "status":
            report.statuses[name] += n
        elif kind == "date":
            report.dates[name] += n
        elif kind == "dropped":
            report.dropped[name] += n
    if not report.skipped["conflict"]:
        del report.skipped["conflict"]


def import_wordpress(
    db,
    network: Network,
    slug: str,
    path: str | Path,
    *,
    dry_run: bool = False,
    extra_candidates: list[Candidate] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Import the comments of a WXR file into site `slug`. KeyError for an unknown site, WxrError for a bad file.

    `extra_candidates` (dry runs only) are posts not yet known to the service, e.g. from the built
    site's posts.json; a real run matches the posts of the `posts` table only.
    """
    started = time.perf_counter()
    site = network.site(slug)
    report = ImportReport(site=slug, file=Path(path).name, dry_run=dry_run)
    export = read_wxr(path, now=now)
    report.wxr_version, report.items, report.repairs = export.wxr_version, export.items, export.repairs
    known = site_candidates(db, slug)
    if dry_run and extra_candidates:
        seen = {c.url for c in known}
        known += [c for c in extra_candidates if c.url not in seen]
    index = PostIndex(site.url, known)
    stamp = store.iso(now or store.utcnow())
    origin = urlsplit(export.base_url).netloc.lower() if export.base_url else ""
    for post in export.posts:
        for c in post.comments:
            if c.skip:
                report.skipped[c.skip] += 1
        importable = sum(1 for c in post.comments if c.skip is None)
        candidate, how = index.match(post, export.base_url)
        outcome = PostOutcome(post.title, post.link, candidate.url if candidate else None, how, importable)
        report.posts.append(outcome)
        if candidate is None:
            if importable:
                report.skipped["unmatched_post"] += importable
            continue
        if not importable:
            continue
        try:
            _write_post(db, slug, candidate.url, post, report, outcome, dry_run, stamp, origin)
        except sqlite3.Error as exc:  # this post is rolled back whole; the others stand
            outcome.error = str(exc)
            report.skipped["failed"] += importable
    report.seconds = time.perf_counter() - started
    return report
