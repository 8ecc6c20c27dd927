"""Who is calling: the extension point of sign-in (magic links, issue 3) and verification (issue 4).

Today every caller is a guest. The sign-in layer will authenticate a request (a bearer session
token from the widget, a first-party cookie on the service's own pages) and put the account on
`g.confreres_account` as a dict with at least: id, email, display_name, role, and, once verified,
badge_level ('verified') and badge_specialty (or None when the member hides it). store.add_comment
reads only that dict to decide badge, post-author mark, name and moderation — never the payload.
"""

from __future__ import annotations

from flask import g


def current_account() -> dict | None:
    return g.get("confreres_account")
