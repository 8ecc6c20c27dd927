"""Server-rendered pages with forms (sign-in, account, moderation, mail links): CSRF and headers.

Over the write budget (web/limits.py), a form comes back with what was typed (`keep_typed_when_refused`).

The CSRF token is the no-JS thread form's (core/tokens.py): signed, time-limited, bound to a random
nonce in the service's first-party `confreres_csrf` cookie and to what the form is for (`binding`,
e.g. "moderation:12"), so another site cannot submit it in a visitor's name. Pages are never cached
and send no referrer: their URLs may carry single-use tokens.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from flask import Blueprint, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException

from comments_service.core import errors, tokens
from comments_service.core.errors import ApiError

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


def sent_from_this_browser() -> bool:
    """Whether the posted form is one of the service's pages as served to this browser (its CSRF token, however old,
    matches the browser's nonce): a page of another site posting here cannot pass it."""
    return tokens.csrf_from_browser(
        current_app.config["SECRET_KEY"], request.form.get("csrf", ""), request.cookies.get(CSRF_COOKIE, "")
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


RATE_LIMITED = (
    "Trop d'envois depuis votre connexion en peu de temps : rien n'est encore enregistré. Patientez une minute,"
    " puis renvoyez le formulaire : ce que vous avez saisi est conservé ci-dessous."
)


def over_budget(error: ApiError, message: str = RATE_LIMITED) -> ApiError:
    """The write budget's refusal as a form shows it: the same code and Retry-After, a French reason."""
    return ApiError(429, error.code, message, headers=error.headers)


def keep_typed_when_refused(bp: Blueprint, **forms: Callable[[ApiError], object]) -> None:
    """Over the write budget, bp's forms come back with what was typed instead of a bare error page.

    The budget's 429 (web/limits.py) is raised before the view runs, so the view cannot catch it as it catches its
    own refusals. `forms` maps a view's name to `answer(error)`: the page of that form re-shown with what the
    request typed (never a password nor a token) and `error` (over_budget: the French reason), after the same
    checks as the view (who is signed in, their role), or None when it cannot be shown. The response gets status
    429 and the budget's Retry-After. Any other refusal, or a form that cannot be shown, gets the service's usual
    answer (core/errors.handle_api_error).
    """

    def refused(error: ApiError):
        answer = forms.get((request.endpoint or "").rpartition(".")[2]) if error.status == 429 else None
        response = None
        if answer is not None:
            try:
                response = answer(over_budget(error))
            except (ApiError, HTTPException):  # e.g. a thread or a vouching link that is not (or no longer) there
                response = None
        if response is None:
            return errors.handle_api_error(error)
        response.status_code = 429
        response.headers.update(error.headers)
        return response

    bp.register_error_handler(ApiError, refused)
