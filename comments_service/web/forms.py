"""Server-rendered pages with forms (sign-in, account, moderation, mail links): CSRF and headers.

The CSRF token is the no-JS thread form's (core/tokens.py): signed, time-limited, bound to a random
nonce in the service's first-party `confreres_csrf` cookie and to what the form is for (`binding`,
e.g. "moderation:12"), so another site cannot submit it in a visitor's name. Pages are never cached
and send no referrer: their URLs may carry single-use tokens.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, render_template, request

from comments_service.core import tokens

CSRF_COOKIE = "confreres_csrf"


def browser_nonce() -> tuple[str, bool]:
    """The CSRF cookie's nonce, and whether it is new (to be set on the response)."""
    nonce = request.cookies.get(CSRF_COOKIE, "")
    if 16 <= len(nonce) <= 64:
        return nonce, False
    return secrets.token_urlsafe(24), True


def set_csrf_cookie(response, nonce: str) -> None:
    """The browser's CSRF nonce: first-party, HttpOnly, for every form of the service."""
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=30 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure,
        path=(request.script_root or "") + "/",
    )


def csrf_token(binding: str) -> str:
    nonce = g.get("confreres_new_csrf_nonce")
    if nonce is None:
        nonce, new = browser_nonce()
        if new:
            g.confreres_new_csrf_nonce = nonce
    return tokens.make_csrf_token(current_app.config["SECRET_KEY"], nonce, binding)


def check_csrf(binding: str) -> bool:
    config = current_app.config
    return tokens.check_csrf_token(
        config["SECRET_KEY"],
        request.form.get("csrf", ""),
        request.cookies.get(CSRF_COOKIE, ""),
        binding,
        int(config["CSRF_MAX_AGE"]),
    )


CSRF_MESSAGE = (
    "Le formulaire a expiré ou ne vient pas de cette page : rechargez la page puis recommencez"
    " (les cookies doivent être autorisés pour ce site)."
)


def page(template: str, status: int = 200, **context):
    """Render a page; sets the CSRF cookie when a token was minted for a new browser."""
    html = render_template(template, **context)
    response = current_app.make_response((html, status))
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    nonce = g.pop("confreres_new_csrf_nonce", None)
    if nonce:
        set_csrf_cookie(response, nonce)
    return response


def message(title: str, text: str, status: int = 200, **context):
    """A short page: a title, a sentence, optional links."""
    return page("message.html", status, title=title, text=text, alert=status >= 400, **context)
