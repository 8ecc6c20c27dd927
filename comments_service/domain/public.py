"""What of a comment may leave the service: the one place that turns rows into public JSON.

API, no-JS page and feeds all go through these functions, so the e-mail, the IP hash, the
account id, the edit nonce and the Markdown source can never leak by a forgotten field: only
the keys written here exist in public output.
"""

from __future__ import annotations

from comments_service.domain import secrecy
from confreres.french import parse_iso, utc_iso

ANONYMOUS = "Anonyme"
BADGE_LABELS = {"verified": "Médecin vérifié"}
BADGE_TITLES = {"verified": "Inscription à l'Ordre des médecins vérifiée par le réseau Confrères"}


# What was verified, per method of verification (domain/verification.py): the badge's tooltip.
METHOD_TITLES = {
    "psc": "Inscription au RPPS vérifiée (connexion Pro Santé Connect)",
    "vouching": "Inscription au RPPS vérifiée (parrainage de deux confrères vérifiés)",
    "review": "Inscription au RPPS vérifiée (justificatif examiné par un modérateur)",
    "grant": "Inscription au RPPS vérifiée (membre fondateur, vérifié par l'administrateur du réseau)",
}


def _optional(row, key: str):
    """A column that only some queries select (store.thread_rows and store.recent join the account)."""
    try:
        return row[key]
    except (IndexError, KeyError):
        return None


def badge(row) -> dict | None:
    """Recorded on the comment at posting time by the server; never taken from the client.

    A member whose verification was revoked, or who went back to `declared` (their vouchers no longer
    count), shows no badge, whatever the row recorded.
    """
    level = row["badge_level"]
    if level not in BADGE_LABELS or _optional(row, "account_level") in ("revoked", "declared"):
        return None
    label = BADGE_LABELS[level]
    if row["badge_specialty"]:
        label = f"{label} · {row['badge_specialty']}"
    title = METHOD_TITLES.get(_optional(row, "badge_method") or "", BADGE_TITLES[level])
    return {"level": level, "label": label, "title": title}


def author(row) -> dict:
    """Name, website, badge, post-author mark; `interests` (sanitised HTML) only for a verified member
    who filled in a declaration of interests (CSP L.4113-13)."""
    shown = {
        "name": row["author_name"] or ANONYMOUS,
        "website": row["website"] or None,
        "badge": badge(row),
        "is_post_author": bool(row["is_post_author"]),
    }
    interests = _optional(row, "interests_html")
    if interests and shown["badge"] is not None:
        shown["interests"] = interests
    profile = profile_url(_optional(row, "profile_id"))
    if profile:
        shown["profile"] = profile
    return shown


PROFILE_PATH = "/membres/"  # web/profiles.py serves it


def profile_url(handle: str | None, comments_url: str | None = None) -> str | None:
    """Absolute URL of a member's public profile page (under `comments_url`), from its opaque handle.

    `profile_id` is selected (store.ACCOUNT_COLUMNS, export.profile_handles) only for a member whose
    profile is public. `comments_url` is the network's, from the app when not given (the API, pages and
    feeds); the CLI's export, which runs without the app, passes it.
    """
    if not handle:
        return None
    if comments_url is None:
        from flask import current_app, has_app_context

        if not has_app_context():
            return None
        comments_url = current_app.extensions["confreres_network"].comments_url
    return comments_url.rstrip("/") + PROFILE_PATH + handle


def comment(row, replies: list | None = None) -> dict:
    status = row["status"]
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author": author(row),
        "html": row["html"],
        "created": row["created"],
        "edited": row["edited"],
        "deleted": False,
        # a blocked author's comment (stored as spam: domain/blocks.py) is shown to its writer alone, as pending
        "status": "pending" if status == "pending" or (status == "spam" and _optional(row, "blocked")) else "approved",
        "replies": replies if replies is not None else [],
    }


def placeholder(row, replies: list | None = None) -> dict:
    """A removed comment that still has visible replies: the thread keeps its shape, nothing else."""
    return {
        "id": row["id"],
        "parent": row["parent_id"],
        "author": {"name": "", "website": None, "badge": None, "is_post_author": False},
        "html": "",
        "created": row["created"],
        "edited": None,
        "deleted": True,
        "status": "deleted",
        "replies": replies if replies is not None else [],
    }


# -- answers between blogs and Webmentions (issue 5) ---------------------------------------------

def site_badge(level: str, specialty: str | None, method: str | None) -> dict | None:
    """A blog author's badge, from the verification of an account linked to the blog (crossblog.site_badges).

    Same shape as a comment's badge; `specialty` only when that account shows it.
    """
    return badge({"badge_level": level, "badge_specialty": specialty, "badge_method": method})


def site_summary(site, author_badge: dict | None, comments_version: str | None = None,
                 posts: dict | None = None) -> dict:
    """A blog of the network as GET /api/sites shows it: network.toml's public fields, the author's badge,
    the opaque version of the blog's comment threads (crossblog.comments_versions) and the count and digest
    of the posts the service knows of it (crossblog.posts_digests), when given."""
    summary = {
        "slug": site.slug,
        "title": site.title,
        "url": site.url,
        "author": {"name": site.author, "badge": author_badge},
    }
    if comments_version is not None:
        summary["comments_version"] = comments_version
    if posts is not None:
        summary["posts"] = posts
    return summary


def utc_time(value) -> str | None:
    """A post's date as ISO 8601 UTC ("YYYY-MM-DDTHH:MM:SSZ"; a bare date is midnight UTC), else None."""
    from datetime import UTC

    if not value:
        return None
    try:
        moment = parse_iso(str(value))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return utc_iso(moment)


def post_summary(row, site, badges: dict[str, dict | None]) -> dict:
    """A post of a member blog as other threads and the debates show it: never more than this.

    `badges`: slug -> the blog author's badge or None (crossblog.site_badges: verification records only).
    """
    return {
        "url": row["url"],
        "title": row["title"],
        "site": row["site"],
        "site_title": site.title,
        "author": {"name": site.author, "badge": badges.get(site.slug)},
        "excerpt": row["excerpt"],  # plain text: insert as text, never as HTML
        "published": utc_time(row["published"]),
    }


def answer(row, site, badges: dict[str, dict | None]) -> dict:
    """A post of the network whose reply_to is the thread's post: an entry of its own kind."""
    return {"kind": "answer", **post_summary(row, site, badges)}


def mention(row) -> dict:
    """An approved Webmention: what the outside page said, sanitised when it was verified."""
    return {
        "kind": "mention",
        "id": row["id"],
        "type": row["type"],
        "url": row["url"],
        "source": row["source"],
        "author": {"name": row["author_name"] or ANONYMOUS, "website": row["author_url"] or None},
        "title": row["title"],
        "html": row["html"],
        "published": row["published"],
        "received": row["created"],
        "updated": row["updated"],
    }


# -- private views: an account to its owner, the queue to its moderators (issue 3, items 5-6) -----

def own_account(row, sites: list[str], session_account: dict) -> dict:
    """What GET /api/account shows the signed-in owner (and nobody else)."""
    return {
        "id": row["id"],
        "email": row["email"],
        "display_name": row["display_name"],
        "role": row["role"],
        "sites": sites,
        "show_specialty": bool(row["show_specialty"]),
        "interests": row["interests"],
        "interests_html": row["interests_html"],
        "notify_comments": row["notify_comments"],
        "notify_replies": bool(row["notify_replies"]),
        "public_profile": bool(row["profile_public"]),
        "profile": profile_url(row["public_id"]) if row["profile_public"] else None,
        "badge_level": session_account.get("badge_level"),
        "badge_specialty": session_account.get("badge_specialty"),
        "created": row["created"],
    }


def moderation_item(row, reports: list[dict]) -> dict:
    """A queued comment as its blog's moderators see it: the e-mail included (a private view)."""
    return {
        "id": row["id"],
        "status": row["status"],
        "post": {"url": row["post_url"], "title": row["post_title"], "site": row["site"]},
        "parent": row["parent_id"],
        "parent_author": row["parent_author"],
        "author": {
            "name": row["author_name"] or ANONYMOUS,
            "email": row["email"],  # none for a physician (moderation.queue): it may unmask a pseudonym
            "website": row["website"] or None,
            "signed_in": row["account_id"] is not None,
            "badge": badge(row),
        },
        "text": row["text"],
        "html": row["html"],
        "created": row["created"],
        "edited": row["edited"],
        "reports": reports,
        "secrecy": secrecy.held(row),  # {"reason", "flags"}: why it waits whatever the policy, the spans to check
    }


def moderation_mention(row) -> dict:
    """A received Webmention waiting in its blog's moderation queue (nothing private is stored for one)."""
    return {
        **mention(row),
        "status": row["status"],
        "post": {"url": row["post_url"], "title": row["post_title"], "site": row["site"]},
    }


def moderation_block(row) -> dict:
    """A blocked author as their blog's moderators see it (domain/blocks.listed): no e-mail nor IP, not even hashed."""
    return {
        "id": row["id"],
        "site": row["site"],
        "author_name": row["author_name"] or ANONYMOUS,
        "comment": row["comment_id"],
        "created": row["created"],
        "blocked_by": row["blocked_by_name"],
        "by": [name for name, used in (("account", row["by_account"]), ("email", row["by_email"]),
                                       ("address", row["by_address"])) if used],
    }
