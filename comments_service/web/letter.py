"""« La lettre des confrères »: the subscription form, and the two links of its mails (no JavaScript anywhere).

  GET  /lettre                        the form (?blog=SLUG or ?specialite=SLUG pre-ticks a filter)
  POST /lettre                        subscribe: a confirmation mail (double opt-in); a signed-in member's own
                                      address is subscribed at once. The planet's and the blogs' static forms
                                      post here without a CSRF token: the page then shows what they typed,
                                      with a token, for one more click (every form of the service has CSRF)
  GET  /lettre/envoye                 « vérifiez votre messagerie » (the same page whatever the address)
  GET  /lettre/confirmer?token=…      a button (mail scanners prefetch links: a GET changes nothing)
  POST /lettre/confirmer              confirms, with the settings the link carries
  GET  /lettre/desabonnement?token=…  what the link unsubscribes from, and a button
  POST /lettre/desabonnement?token=…  unsubscribes: the button, and RFC 8058 one-click (no cookie, no CSRF:
                                      the signed token is the authority)

The form's page says the same for any address (subscribed or not), so it tells nobody who reads the letter.
`bp` is under the write budget (web/limits.py); `links_bp`, like web/notify.py, is not (a mail provider may
post many one-clicks from one address).
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, request, url_for

from comments_service.core import events as hooks
from comments_service.core import tokens
from comments_service.core.addresses import normalise_email
from comments_service.core.db import get_db, write
from comments_service.core.errors import ApiError
from comments_service.domain import accounts, letter
from comments_service.mail import letter as letter_mail
from comments_service.web.auth import current_account
from comments_service.web.forms import (
    CSRF_MESSAGE,
    check_csrf,
    csrf_token,
    keep_typed_when_refused,
    message,
    page,
)

bp = Blueprint("letter", __name__)
links_bp = Blueprint("letter_links", __name__)
CSRF_BINDING = "letter"


def _network():
    return current_app.extensions["confreres_network"]


def _form_page(form: dict, errors=(), status: int = 200, notice: str | None = None):
    network = _network()
    by_field = {}
    for err in errors:
        by_field.setdefault(err.field or "form", err.message)
    account = current_account()
    return page(
        "letter.html", status, form=form, errors=list(errors), by_field=by_field, notice=notice,
        csrf=csrf_token(CSRF_BINDING), network=network, specialties=letter.specialties(network),
        blogs=network.sites, account=account,
    )


def _typed() -> dict:
    """What the form posted, as typed (re-shown on error)."""
    return {
        "email": request.form.get("email", "").strip()[:500],
        "frequency": request.form.get("frequency", "weekly"),
        "specialties": request.form.getlist("specialties"),
        "sites": request.form.getlist("sites"),
    }


@bp.get("/lettre")
def form():
    account = current_account()
    typed = {
        "email": account["email"] if account else "",
        "frequency": request.args.get("frequence", "weekly"),
        "specialties": request.args.getlist("specialite"),
        "sites": request.args.getlist("blog"),
    }
    asked = any(key in request.args for key in ("frequence", "specialite", "blog"))
    subscription = letter.find(get_db(), account["email"]) if account and not asked else None
    if subscription is not None and subscription["confirmed"] is not None:
        # « Changer mes choix »: the member's letter as it is (the defaults would replace it at the next click);
        # only their own address's, signed in: the page never tells what another address receives
        current = letter.settings_of(subscription)
        typed.update(frequency=current["f"], specialties=current["s"], sites=current["b"])
    return _form_page(typed)


@bp.post("/lettre")
def subscribe():
    typed = _typed()
    if not check_csrf(CSRF_BINDING):
        if "csrf" not in request.form:  # a static page's form: one more click, on this page
            return _form_page(typed, notice="Vérifiez votre demande, puis confirmez-la.")
        return _form_page(typed, [ApiError(403, "invalid_csrf", CSRF_MESSAGE)], 403)
    errors = []
    try:
        email = accounts.email_input(typed["email"])
    except ApiError as err:
        errors.append(err)
    try:
        choice = letter.choice_input(_network(), typed["frequency"], typed["specialties"], typed["sites"])
    except ApiError as err:
        errors.append(err)
    if errors:
        return _form_page(typed, errors, 400)
    db = get_db()
    account = current_account()
    if account and normalise_email(account["email"]) == email:  # email_input gave its canonical form
        try:
            letter.subscribe_owner(db, email, choice, account=account)
        except ApiError as err:  # the account was deleted while this waited for its turn: a stranger's request now
            if err.code != "not_signed_in":
                raise
        else:
            return message("Abonnement enregistré",
                           f"C'est fait : vous recevrez la {letter.describe(_network(), choice)} à {email}.",
                           links=[(url_for("letter.form"), "Changer mes choix")])
    with write(db):  # one write: the cap of the address's inbox (queue_confirmation) holds for requests at once
        row = letter.ask(db, email, choice)
        queued = row is not None and letter_mail.queue_confirmation(db, row, choice) is not None
    if queued:
        hooks.emit("mail.queued", kind="letter-confirm")
    return redirect(url_for("letter.sent"), 303)


# over the write budget, the form comes back with what was typed (web/forms.py)
keep_typed_when_refused(bp, subscribe=lambda error: _form_page(_typed(), [error], 429))


@bp.get("/lettre/envoye")
def sent():
    return message(
        "Vérifiez votre messagerie",
        "Si cette adresse peut recevoir nos e-mails, un lien pour confirmer votre abonnement vient d'y être envoyé."
        " Sans confirmation, vous ne recevrez aucune lettre.",
        hint="Rien reçu ? Regardez dans les courriers indésirables ; un seul lien est envoyé par heure et par adresse.",
        links=[(_network().url, f"Retour à {_network().name}")],
    )


# -- the links of the mails ---------------------------------------------------------------------------

def _confirm_claim(token: str):
    return tokens.read_letter_confirm_token(
        current_app.config["SECRET_KEY"], token, int(current_app.config["CONFIRM_MAX_AGE"]))


def _link_error(reason: str):
    if reason == "expired":
        return message("Lien expiré", "Ce lien de confirmation a expiré : abonnez-vous de nouveau pour en recevoir un autre.",
                       410, links=[(url_for("letter.form"), "S'abonner à la lettre")])
    return message("Lien invalide", "Ce lien n'est pas valide (il a peut-être été coupé par votre messagerie).", 400)


@links_bp.get("/lettre/confirmer")
def confirm():
    token = request.args.get("token", "")
    try:
        _id, _nonce, choice = _confirm_claim(token)
    except tokens.LinkError as err:
        return _link_error(err.reason)
    return page("letter_link.html", token=token, action=url_for("letter_links.confirm_post"),
                title="Confirmer mon abonnement", button="Je confirme",
                text=f"Recevoir la {letter.describe(_network(), choice)} à cette adresse ?")


@links_bp.post("/lettre/confirmer")
def confirm_post():
    try:
        subscriber_id, nonce, choice = _confirm_claim(request.form.get("token", ""))
        choice = letter.choice_input(_network(), choice.get("f"), choice.get("s", []), choice.get("b", []))
    except tokens.LinkError as err:
        return _link_error(err.reason)
    except ApiError:  # a blog or specialty gone from network.toml since the link was sent
        return _link_error("invalid")
    row = letter.confirm(get_db(), subscriber_id, nonce, choice)
    if row is None:
        return _link_error("invalid")
    return message("Abonnement confirmé",
                   f"Merci : vous recevrez la {letter.describe(_network(), choice)}. Chaque lettre contient un lien"
                   " pour se désabonner en un clic.")


def _subscriber():
    token = request.values.get("token", "")
    found = tokens.read_letter_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    return token, found


@links_bp.route("/lettre/desabonnement", methods=["GET", "POST"])
def unsubscribe():
    token, found = _subscriber()
    if found is None:
        return message("Lien invalide", "Ce lien de désabonnement n'est pas valide.", 400)
    db = get_db()
    row = letter.by_token(db, *found)
    if request.method == "POST":
        if row is not None:
            letter.remove(db, row["id"])
        return message("Désabonnement enregistré",
                       "C'est fait : vous ne recevrez plus « La lettre des confrères ». Votre adresse a été effacée"
                       " de la liste.")
    if row is None:
        return message("Déjà désabonné(e)", "Cette adresse ne reçoit plus « La lettre des confrères ».")
    return page("letter_link.html", token=token, action=url_for("letter_links.unsubscribe", token=token),
                title="Se désabonner", button="Me désabonner",
                text=f"Ne plus recevoir la {letter.describe(_network(), letter.settings_of(row))} ?")
