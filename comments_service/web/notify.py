"""The pages behind the links of the mails: double opt-in, unsubscribe, and the demo's mailbox.

  GET  /notify/confirm?token=…      « confirmer mon adresse » (a button: a GET changes nothing)
  POST /notify/confirm              confirms the address (second step of the double opt-in)
  GET  /notify/unsubscribe?token=…  what the link unsubscribes from, and a button
  POST /notify/unsubscribe?token=…  unsubscribes at once: the button, and RFC 8058 one-click (mail
                                    providers POST `List-Unsubscribe=One-Click` to the header's URL,
                                    with no cookie and no page)
  GET  /dev/mail, /dev/mail/<name>  demo only (DEV_PAGES and MAIL_DIR set): the mails written to MAIL_DIR

None of these is rate limited by the write budget (a mail provider may post many one-clicks from
one address) and none needs a session: the signed token is the authority.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC
from pathlib import Path

from flask import Blueprint, abort, current_app, request, url_for
from markupsafe import Markup, escape

from comments_service.core import tokens
from comments_service.core.db import get_db
from comments_service.mail import outbox
from comments_service.web.forms import message, page
from confreres.french import PARIS, datetime_fr, plural_fr

bp = Blueprint("notify", __name__)


@bp.get("/notify/confirm")
def confirm():
    token = request.args.get("token", "")
    try:
        address = tokens.read_confirm_token(
            current_app.config["SECRET_KEY"], token, int(current_app.config["CONFIRM_MAX_AGE"])
        )
    except tokens.LinkError as err:
        return _confirm_error(err.reason)
    return page("notify_confirm.html", token=token, email=address)


@bp.post("/notify/confirm")
def confirm_post():
    token = request.form.get("token", "")
    try:
        address = tokens.read_confirm_token(
            current_app.config["SECRET_KEY"], token, int(current_app.config["CONFIRM_MAX_AGE"])
        )
    except tokens.LinkError as err:
        return _confirm_error(err.reason)
    if not outbox.confirm_address(get_db(), address):
        return message(
            "Adresse non confirmée",
            "Vous aviez demandé à ne plus recevoir d'e-mail de Confrères à cette adresse : rien n'a changé.",
            409,
        )
    return message(
        "Adresse confirmée",
        "Merci : vous recevrez un e-mail quand quelqu'un répondra à vos commentaires sur les fils que vous avez"
        " choisis. Chaque e-mail contient un lien pour se désabonner en un clic.",
    )


def _confirm_error(reason: str):
    if reason == "expired":
        return message(
            "Lien expiré",
            "Ce lien de confirmation a expiré. Cochez de nouveau « Me prévenir des réponses » sur votre prochain"
            " commentaire pour en recevoir un autre.",
            410,
        )
    return message("Lien invalide", "Ce lien de confirmation n'est pas valide.", 400)


def _scope():
    token = request.values.get("token", "")
    return token, tokens.read_unsubscribe_token(current_app.config["SECRET_KEY"], token)


@bp.route("/notify/unsubscribe", methods=["GET", "POST"])
def unsubscribe():
    token, scope = _scope()
    db = get_db()
    secret = current_app.config["SECRET_KEY"]
    if scope is None or not outbox.unsubscribe_holds(db, scope, secret):
        return _unsubscribe_refused()
    what = outbox.describe_scope(db, scope)
    if request.method == "POST":
        if not outbox.unsubscribe(db, scope, secret=secret):  # its account deleted meanwhile
            return _unsubscribe_refused()
        return message(
            "Désabonnement enregistré",
            f"C'est fait : vous ne recevrez plus {what}.",
            links=[(url_for("account.account_page"), "Réglages de mon compte")] if scope["s"] in ("author", "replies") else [],
        )
    wider = None
    if scope["s"] == "thread":
        wider = outbox.unsubscribe_token({"s": "address", "e": scope.get("e", "")})
    return page(
        "unsubscribe.html",
        token=token,
        what=what,
        wider=wider,
        wider_what=outbox.describe_scope(db, {"s": "address"}) if wider else "",
    )


def _unsubscribe_refused():
    """A link badly signed, or naming an account that is no longer the one it was mailed to (deleted, its id given to
    another since): one answer for all, which tells nothing of any account."""
    return message(
        "Lien invalide",
        "Ce lien de désabonnement n'est pas valide. Vos réglages d'e-mails sont aussi sur la page de votre compte.",
        400,
    )


# -- demo mailbox -------------------------------------------------------------------------------------

NAME_RE = re.compile(r"^[0-9A-Za-z_-]{1,80}$")
URL_RE = re.compile(r"https?://[^\s<>\"']+")
SHOWN = 200  # the mailbox lists the newest ones
# The headers a mail's page shows, under French labels (the List-Unsubscribe ones are shown for what they are:
# the one-click unsubscribe mail providers read).
HEADERS = (("From", "De"), ("To", "À"), ("Subject", "Objet"), ("Date", "Date"),
           ("List-Unsubscribe", "List-Unsubscribe"), ("List-Unsubscribe-Post", "List-Unsubscribe-Post"))


def _date_fr(parsed) -> str:
    """The Date header as the rest of the service writes dates (« 1er mars 2025 à 8 h 00 », Paris time), not
    RFC 5322's English « Sat, 01 Mar 2025 07:00:00 +0000 »; as written when it is not a date."""
    header = parsed["Date"]
    moment = getattr(header, "datetime", None)
    if moment is None:
        return str(header or "")
    return datetime_fr((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(PARIS))


def _mail_dir() -> Path:
    config = current_app.config
    if not (config["DEV_PAGES"] and config["MAIL_DIR"]):
        abort(404)
    return Path(config["MAIL_DIR"])


def _read(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def _linkify(text: str) -> Markup:
    escaped = str(escape(text))
    return Markup(URL_RE.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped))


@bp.get("/dev/mail")
def dev_mailbox():
    folder = _mail_dir()
    paths = sorted(folder.glob("*.eml"), reverse=True) if folder.is_dir() else []
    mails = []
    for path in paths[:SHOWN]:
        parsed = _read(path)
        mails.append({"name": path.stem, "to": parsed["To"], "subject": parsed["Subject"], "date": _date_fr(parsed)})
    count = plural_fr(len(paths), "e-mail")
    if len(paths) > SHOWN:
        count += f", les {SHOWN} plus récents ci-dessous"
    return page("dev_mail.html", mails=mails, count=count, folder=folder, mail=None)


@bp.get("/dev/mail/<name>")
def dev_mail(name: str):
    folder = _mail_dir()
    path = folder / f"{name}.eml"
    if not NAME_RE.match(name) or not path.is_file():
        abort(404)
    parsed = _read(path)
    body = parsed.get_body(("plain",))
    text = body.get_content() if body is not None else ""
    headers = [(label, _date_fr(parsed) if key == "Date" else parsed[key]) for key, label in HEADERS]
    return page("dev_mail.html", mails=None, folder=folder, mail={"name": name, "headers": headers, "body": _linkify(text)})
