"""Public member profiles: who a commenter is on the network, as they chose to show it.

  GET /membres/<handle>         the French page (no JavaScript): name or pseudonym, badge, declaration
                                of interests, latest approved comments across every blog, « Plus anciens »
  GET /api/members/<handle>     the same as JSON (`?page=N`, 20 comments a page)

The handle is the account's `public_id` (m006_member_profiles): random, so it reveals neither the
e-mail, nor the name, nor the RPPS, nor when the account was created. A member hides their profile on
their account page (« Profil public », or `public_profile` in PATCH /api/account): it then answers 404
exactly like an unknown handle, and their comments no longer link to it (public.author, `profile`).
Only what domain/public.py already shows beside a comment appears here; the specialty only as the member's
own « show specialty » setting allows.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template
from markupsafe import Markup

from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import comments as store
from comments_service.domain import public
from comments_service.mail.outbox import external
from comments_service.web.crossblog import _json, int_arg
from confreres.french import plural_fr

bp = Blueprint("profiles", __name__)

HANDLE_RE = re.compile(r"^[0-9a-f]{16}$")
PAGE_SIZE = 20
MAX_PAGE = 1000
EXCERPT_LENGTH = 280
UNKNOWN = "Aucun profil public à cette adresse."
NO_NAME = "Membre de Confrères"


def _network():
    return current_app.extensions["confreres_network"]


def excerpt(html: str, limit: int = EXCERPT_LENGTH) -> str:
    """A comment's sanitised HTML as one line of plain text, cut at a word: insert it as text."""
    text = Markup(html or "").striptags()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.") + " …"
    return text


def find_member(db, handle: str):
    """The account behind a public profile, or ApiError 404 — the same for unknown and hidden ones."""
    row = None
    if HANDLE_RE.match(handle or ""):
        row = store.query_one(
            db,
            "SELECT a.id, a.public_id, a.display_name, a.badge_level, a.badge_specialty, a.show_specialty,"
            " a.interests_html, v.level AS account_level, v.method AS badge_method"
            " FROM accounts a LEFT JOIN verifications v ON v.account_id = a.id"
            " WHERE a.public_id = ? AND a.profile_public = 1",
            (handle,),
        )
    if row is None:
        raise ApiError(404, "unknown_member", UNKNOWN)
    return row


def member(row, total: int) -> dict:
    """The public side of an account: never its e-mail, id, role, RPPS or real name."""
    badge = public.badge(
        {
            "badge_level": row["badge_level"],
            "badge_specialty": row["badge_specialty"] if row["show_specialty"] else None,
            "account_level": row["account_level"],
            "badge_method": row["badge_method"],
        }
    )
    shown = {
        "handle": row["public_id"],
        "profile": public.profile_url(row["public_id"]),
        "name": row["display_name"] or NO_NAME,
        "badge": badge,
        "comment_count": total,
    }
    if badge is not None and row["interests_html"]:
        shown["interests"] = row["interests_html"]  # sanitised HTML (CSP L.4113-13)
    return shown


def recent_comments(db, network, account_id: int, page: int) -> tuple[list[dict], int, bool]:
    """(the page's approved comments, newest first; their total; whether older ones follow)."""
    sites = {site.slug: site for site in network.sites}
    if not sites:
        return [], 0, False
    marks = ",".join("?" * len(sites))
    where = f"c.account_id = ? AND c.status = 'approved' AND p.listed = 1 AND c.site IN ({marks})"
    params = (account_id, *sites)
    total = store.query_one(
        db, f"SELECT COUNT(*) AS n FROM comments c JOIN posts p ON p.url = c.post_url WHERE {where}", params
    )["n"]
    rows = store.query(
        db,
        "SELECT c.id, c.post_url, c.site, c.html, c.created, c.edited, p.title AS post_title"
        f" FROM comments c JOIN posts p ON p.url = c.post_url WHERE {where}"
        " ORDER BY c.created DESC, c.id DESC LIMIT ? OFFSET ?",
        (*params, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE),
    )
    shown = [
        {
            "id": row["id"],
            "url": f"{row['post_url']}#comment-{row['id']}",
            "post": {"url": row["post_url"], "title": row["post_title"]},
            "site": row["site"],
            "site_title": sites[row["site"]].title,
            "created": row["created"],
            "edited": row["edited"],
            "excerpt": excerpt(row["html"]),
        }
        for row in rows[:PAGE_SIZE]
    ]
    return shown, total, len(rows) > PAGE_SIZE


def profile(db, network, handle: str, page: int) -> dict:
    row = find_member(db, handle)
    comments, total, more = recent_comments(db, network, row["id"], page)
    return {"member": member(row, total), "comments": comments, "page": page, "more": more}


def _page_arg() -> int:
    return int_arg("page", 1, MAX_PAGE)


@bp.get("/api/members/<handle>")
def api_member(handle: str):
    page = _page_arg()
    found = profile(get_db(), _network(), handle, page)
    more = found.pop("more")
    found["next"] = external("profiles.api_member", handle=handle, page=page + 1) if more else None
    return _json(found, max_age=0)


@bp.get(public.PROFILE_PATH + "<handle>")
def page(handle: str):
    number = _page_arg()
    found = profile(get_db(), _network(), handle, number)
    response = current_app.make_response(
        render_template("profile.html", network=_network(), plural=plural_fr, **found)
    )
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response
