"""WordPress export (WXR) -> the comments of one site of the network.

    report = import_wordpress(db, network, "dr-martin", "export.xml", dry_run=False)

The whole file is read first (xml_input: streamed, defused, repaired of what real exports get wrong), keeping
only the items that carry comments; a file that is not well-formed XML, or not a WordPress export, raises
`WxrError` with its line: nothing has been written at that point. Then threads.py matches each post to one of
the blog's (by the path of its `link`/`guid`, else `wp:post_name`) and writes its comments, each once, under
the key (site, "wordpress", WordPress comment id).

WordPress comment HTML (with its implicit paragraphs) goes through the network's one sanitiser,
`confreres.sanitize.clean`, once; the original is kept as the comment's source text. Pingbacks and
trackbacks are skipped (counted), trashed comments too; spam stays spam (never shown). IP addresses
of the export are never imported.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

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
from comments_service.importers.xml_input import ExportError, XmlExport
from confreres.registry import Network
from confreres.sanitize import text as plain_text

WxrError = ExportError  # what the CLI and callers catch: a file that cannot be imported, said in French
# xmlns:wp of every WXR: "http://wordpress.org/export/1.2/"; newer WordPress (and the theme unit test data) write https
_WP_NS = re.compile(r"https?://wordpress\.org/export/([^/]*)/?")
SUPPORTED_MAJOR = "1"  # WXR 1.0 to 1.2 so far; a 1.x to come keeps the same elements
_STATUS = {"1": "approved", "approve": "approved", "approved": "approved", "0": "pending", "hold": "pending",
           "spam": "spam"}
_TRASH = {"trash", "post-trashed"}


# -- reading -------------------------------------------------------------------------------------


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


def _comment(elem, post_dates: dict, author_ids: set[str], now: datetime) -> ImportedComment:
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

    user_id = (f.get("comment_user_id") or "0").strip()
    parent = (f.get("comment_parent") or "").strip()
    return imported_comment(
        source_id=wp_id,
        parent="" if parent in ("", "0") else parent,
        author=f.get("comment_author", ""),
        email=f.get("comment_author_email"),
        website=f.get("comment_author_url"),
        created=_utc(created),
        date_from=date_from,
        source=f.get("comment_content", ""),
        status=status,
        skip=skip,
        is_post_author=user_id not in ("", "0") and user_id in author_ids,
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


def read_wxr(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """Parse a WXR export (plain or gzipped) into its commented posts; WxrError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC).replace(tzinfo=None)
    source = XmlExport(path, "un export WordPress", root="rss", in_parts="Outils > Exporter > Articles, par dates")
    channel = None
    wxr_version = ""
    base_url = ""
    author_logins: dict[str, str] = {}  # login -> WordPress user id
    posts: list[ImportedThread] = []
    items = 0
    foreign_version_ns = ""  # a <wxr_version> in a namespace that is not WordPress's
    last_item: list = []  # (title, line) of the last item read whole: where an interrupted export stopped

    def last_read() -> str:
        return f"dernier billet lu en entier : « {last_item[0]} », ligne {last_item[1]}" if last_item else ""

    for event, elem, depth in source.events(last_read):
        ns, name = _local(elem.tag)
        if event == "start":
            if depth == 2:
                if name != "channel":
                    raise WxrError(f"ce n'est pas un export WordPress : <{name}> là où <channel> était attendu",
                                   source.line())
                channel = elem
            continue
        if depth != 3 or channel is None:
            continue
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
            post = _item(elem, author_logins, now, source.line())
            last_item[:] = [validate.one_line(plain_text(elem.findtext("title") or "")) or "(sans titre)", source.line()]
            if post is not None:
                posts.append(post)
        channel.remove(elem)
    if channel is None:
        raise WxrError("ce n'est pas un export WordPress : pas de <channel>")
    _check_version(wxr_version, foreign_version_ns)
    return ParsedExport("wordpress", wxr_version, base_url, posts, items, source.repairs)


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


def _item(elem, author_logins: dict[str, str], now: datetime, line: int) -> ImportedThread | None:
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
    post = ImportedThread(
        source_id=f.get("post_id", ""),
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


def import_wordpress(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of a WXR file into site `slug` (threads.import_threads: `dry_run`, `extra_candidates`,
    `now`). KeyError for an unknown site, WxrError for a bad file."""
    return import_threads(db, network, slug, path, read_wxr, **options)
