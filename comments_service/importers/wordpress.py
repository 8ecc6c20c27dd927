"""WordPress export (WXR) -> the comments of one site of the network.

    report = import_wordpress(db, network, "dr-martin", "export.xml", dry_run=False)

The whole file is read first (confreres.wxr, through xml_input: streamed, defused, repaired of what real exports get wrong), keeping
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

from collections import Counter
from datetime import UTC, datetime, timedelta
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
from confreres import wxr
from confreres.registry import Network
from confreres.sanitize import text as plain_text
from confreres.wordpress_posts import DRAFT_STATUSES

WxrError = wxr.WxrError  # what the CLI and callers catch
_STATUS = {"1": "approved", "approve": "approved", "approved": "approved", "0": "pending", "hold": "pending",
           "spam": "spam"}
_TRASH = {"trash", "post-trashed"}


# -- reading -------------------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC)


def _comment(elem, post_dates: dict, author_ids: set[str], now: datetime) -> ImportedComment:
    f = wxr.fields(elem, raw=("comment_content",))
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
    created = wxr.wp_datetime(f.get("comment_date_gmt"))
    date_from = "gmt"
    if created is None:
        local = wxr.wp_datetime(f.get("comment_date"))
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


def read_wxr(path: str | Path, now: datetime | None = None) -> ParsedExport:
    """Parse a WXR export (plain or gzipped) into its commented posts; WxrError when it cannot be read."""
    now = (now or store.utcnow()).astimezone(UTC).replace(tzinfo=None)
    export = wxr.Wxr(path)
    posts = [post for elem, line in export.items() if (post := _item(elem, export.author_logins, now, line))]
    # an attachment's page (« …/calendrier/vaccins/ ») is no post of the blog: matched by its slug, its comments went
    # to an unrelated post of that name
    skipped = Counter({"attachment": sum(len(p.comments) for p in posts if p.post_type == "attachment")})
    posts = [p for p in posts if p.post_type != "attachment"]
    return ParsedExport("wordpress", export.version, export.base_url, posts, export.count, export.repairs,
                        +skipped)


def _item(elem, author_logins: dict[str, str], now: datetime, line: int) -> ImportedThread | None:
    comment_elems = []
    for child in elem:
        ns, name = wxr.local(child.tag)
        if name == "comment" and wxr.is_wp(ns):
            comment_elems.append(child)
    if not comment_elems:
        return None
    f = wxr.fields(elem)
    creator_id = author_logins.get(f.get("creator", ""))
    dates = wxr.post_dates(f)
    post = ImportedThread(
        source_id=f.get("post_id", ""),
        title=validate.one_line(plain_text(f.get("title", ""))) or "(sans titre)",
        link=f.get("link", ""),
        guid=f.get("guid", ""),
        slug=f.get("post_name", ""),
        post_type=f.get("post_type", "") or "post",
        line=line,
        unpublished="protégé par un mot de passe" if f.get("post_password") else DRAFT_STATUSES.get(
            (f.get("status") or "publish").lower(), ""),
    )
    authors = {creator_id} if creator_id else set()
    for c in comment_elems:
        post.comments.append(_comment(c, dates, authors, now))
    return post


def import_wordpress(db, network: Network, slug: str, path: str | Path, **options) -> ImportReport:
    """Import the comments of a WXR file into site `slug` (threads.import_threads: `dry_run`, `extra_candidates`,
    `now`). KeyError for an unknown site, WxrError for a bad file."""
    return import_threads(db, network, slug, path, read_wxr, **options)
