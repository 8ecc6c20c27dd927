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
from werkzeug.exceptions import HTTPException

from comments_service.core.db import get_db
from comments_service.core.errors import ApiError
from comments_service.domain import accounts
from comments_service.web.forms import csrf_token, page, sent_from_this_browser

SESSION_COOKIE = "confreres_session"
EDITS_COOKIE = "confreres_edits"  # the edit tokens of the comments this browser sent without JavaScript (web/pages.py)


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
    """The session's end (signing out, the account deleted) also forgets this browser's edit tokens: a member's
    comment sent from a shared computer (a hospital's) stayed editable and deletable there, by whoever sat down next,
    for the rest of its edit window, and their waiting comments shown to them."""
    for name in (SESSION_COOKIE, EDITS_COOKIE):
        response.delete_cookie(
            name, path=(request.script_root or "") + "/", httponly=True, secure=request.is_secure, samesite="Lax"
        )


def signed_in_page(view=None, *, typed: dict | None = None):
    """A service page for the signed-in (cookie session): the view gets the account first; anyone else is
    sent to the sign-in page, which brings them back here (path and query) once signed in.

    A form of such a page posted without a live session (it expired, or was ended in another tab, while the form
    was being filled) is not redirected, which would lose what was typed: it answers 401 with the sign-in page
    (`expired_form`), which says that nothing was saved and shows a read-only copy of the fields named in `typed`
    ({field: label, or (label, {value: shown})}) to copy before signing in again; the sign-in link brings the
    member back to the page the form was on. Nothing typed is stored anywhere (URL, cookie, mail): an RPPS number
    or a name must not outlive the page."""

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = current_account()
            if account is None:
                if request.method == "POST":
                    return expired_form(typed or {})
                return redirect(url_for("account.auth_page", **{"return": request.full_path.rstrip("?")}), 303)
            return view(account, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


# -- a signed-in page's form posted after its session ended ------------------------------------------------------

EXPIRED_NOTICE = (
    "Votre session a expiré (ou vous vous êtes déconnecté(e) entre-temps) : rien n'a été enregistré."
    " Reconnectez-vous : le lien de connexion vous ramènera à la page où vous étiez."
)
YES_NO = {"": "non", "1": "oui", "on": "oui"}  # a checkbox: absent when unticked
NEVER_SHOWN = ("csrf", "token", "password", "secret")  # never copied back, whatever a view's `typed` says


def _page_of_form() -> str:
    """The page the posted form was on: the path posted to when it is also a page (GET), else the nearest parent
    that is (/account/delete -> /account); "" when none is."""
    adapter = current_app.create_url_adapter(request)
    path = request.path
    while path:
        try:
            adapter.match(path, method="GET")
            return path
        except HTTPException:  # not a page (405), none (404), a redirect: try the parent
            path = path.rsplit("/", 1)[0]
    return ""


def _typed_copy(typed: dict) -> list[tuple[str, str]]:
    """(label, value) of the fields `typed` names, as the form posted them; empty fields left out."""
    shown = []
    for name, spec in typed.items():
        if any(word in name.lower() for word in NEVER_SHOWN):
            continue
        label, choices = spec if isinstance(spec, tuple) else (spec, None)
        value = request.form.get(name, "")
        if choices is not None:
            value = choices.get(value, "")
        value = value.replace("\r\n", "\n").strip()
        if value:
            shown.append((label, value))
    return shown


def expired_form(typed: dict):
    """401: the sign-in page, saying nothing was saved, with a read-only copy of what the form carried (only for a
    form of ours sent from this browser: a page of another site cannot have its text shown on ours)."""
    copy = _typed_copy(typed) if sent_from_this_browser() else []
    return page(
        "auth.html",
        401,
        form={"email": "", "return": _page_of_form()},
        errors=[],
        by_field={},
        csrf=csrf_token("auth"),
        account=None,
        notice=None,
        expired=EXPIRED_NOTICE,
        typed=copy,
        minutes=max(1, int(current_app.config["MAGIC_LINK_MAX_AGE"]) // 60),
    )
