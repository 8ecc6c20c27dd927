"""Who is calling: the session behind a request, put on `g.confreres_account`.

A session token (domain/accounts.py; `cfs1_…`, random, stored only as its SHA-256) reaches the service in
one of two ways:
- `Authorization: Bearer cfs1_…` — the widget on a blog of another origin (no third-party cookie);
- the `confreres_session` cookie — HttpOnly, SameSite=Lax, Secure over https, first-party, set on the
  service's own pages (sign-in, account, moderation).

The account is looked up lazily, on the first `current_account()` of a request, so the cached thread
reads never pay for it. It is a dict with id, email, display_name, role, badge_level ('verified' or
None) and badge_specialty (None when hidden): store.add_comment reads only that dict to decide
badge, post-author mark, name and moderation — never the payload. The verification layer
(issue 4) adds its columns to `accounts`; accounts.session_account picks them up.
"""

from __future__ import annotations

import functools

from flask import current_app, g, redirect, request, url_for

from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import accounts

SESSION_COOKIE = "confreres_session"


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else ""


def presented_session() -> tuple[str, str] | None:
    """(token, 'bearer' | 'cookie') of the session the request carries, if any."""
    token = bearer_token()
    if accounts.looks_like_session(token):
        return token, "bearer"
    token = request.cookies.get(SESSION_COOKIE, "")
    if accounts.looks_like_session(token):
        return token, "cookie"
    return None


def current_account() -> dict | None:
    if "confreres_account" in g:
        return g.confreres_account
    account = None
    presented = presented_session()
    if presented is not None:
        row = accounts.resolve_session(get_db(), presented[0])
        if row is not None:
            account = accounts.session_account(row)
            g.confreres_session = {
                "token": presented[0],
                "via": presented[1],
                "kind": row["session_kind"],
                "expires": row["session_expires"],
            }
    g.confreres_account = account
    return account


def current_session() -> dict | None:
    """The session of the request ({token, via, kind, expires}) once current_account() found one."""
    current_account()
    return g.get("confreres_session")


def presented_account() -> dict | None:
    """The account of the presented session; None without one; 401 when the session presented is dead.

    A widget that believes it is signed in must not post as an anonymous guest (hidden name field)
    because its session expired or was revoked: it gets 401 `not_signed_in` and signs in again.
    """
    account = current_account()
    if account is None and presented_session() is not None:
        return require_account()
    return account


def require_account() -> dict:
    """The signed-in account, or the 401 error shape (the widget then offers to sign in)."""
    account = current_account()
    if account is None:
        raise ApiError(401, "not_signed_in", "Connectez-vous pour continuer (lien de connexion par e-mail).")
    return account


def set_session_cookie(response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(current_app.config["SESSION_DAYS"]) * 24 * 3600,
        httponly=True,
        secure=request.is_secure,
        samesite="Lax",
        path=(request.script_root or "") + "/",
    )


def clear_session_cookie(response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path=(request.script_root or "") + "/", httponly=True, secure=request.is_secure, samesite="Lax"
    )


def signed_in_page(view):
    """A service page for the signed-in (cookie session): the view gets the account first; anyone else is
    sent to the sign-in page, which brings them back here (path and query) once signed in."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        account = current_account()
        if account is None:
            return redirect(url_for("account.auth_page", **{"return": request.full_path.rstrip("?")}), 303)
        return view(account, *args, **kwargs)

    return wrapper
