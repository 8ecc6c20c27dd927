"""Moderation for blog authors and network moderators: a page, a JSON API, one-click mail links.

  GET  /moderation                 the queue (pending and reported comments) of the blogs the signed-in
                                   account moderates: its own as an author, all as moderator or admin
  POST /moderation/<id>            action=approve|reject|spam|delete (a form with CSRF, works without JS)
  GET  /moderation/act?token=…     the link of a notification mail (a pending comment or a pending
                                   Webmention): a confirmation page (a GET changes nothing: mail
                                   scanners prefetch links)
  POST /moderation/act             acts, once: the link's nonce is spent in the same transaction
  GET  /api/moderation/queue       the same queue as JSON (`items`, and `mentions`: pending Webmentions;
                                   `posts`: published posts whose build found medical secrecy warnings)
  POST /api/moderation/<id>        {"action": "approve" | "reject" | "spam" | "delete" | "block"}; "block" (« Bloquer
                                   l'auteur ») also takes "address": true to block the author's network address
  GET  /api/moderation/blocks      the authors blocked on the blogs the account moderates (domain/blocks.py)
  DELETE /api/moderation/blocks/<id>  lifts a block (their old comments stay spam)
  POST /moderation/blocks/<id>     the same from the page's « Débloquer » button (form, CSRF)
  POST /moderation/mentions/<id>   the same for a received Webmention (form, same CSRF token as comments)
  POST /api/moderation/mentions/<id>  {"action": ...} as JSON
  POST /moderation/instances       action=block|unblock, host=…: the fediverse instances the network blocks
                                   (network moderators and admins only; federation/blocklist.py)

The page's forms keep what they carried, as the service's other forms do: posted after the session ended, the
sign-in page with a read-only copy of it (web/auth.signed_in_page); over the write budget, the page again with it,
the reason and Retry-After (web/forms.keep_typed_when_refused). Nothing is decided or stored either way.

A comment held for medical secrecy (domain/secrecy.py) shows why, and its text as typed with the flagged spans
highlighted; the posts whose last build warned are listed with each line and span (the blog's moderators only).

Every decision goes through actions.comments.moderate (one transaction; the post's version is bumped, so the
cached thread and its ETag change) and is followed, after the commit, by the hook that sends the
mails it queued (a reply notification on approval).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, redirect, request, url_for

from comments_service.actions.comments import moderate, moderate_mention, unblock_author
from comments_service.core import events as hooks
from comments_service.core import tokens
from comments_service.core.db import get_db, write
from comments_service.core.errors import ApiError
from comments_service.domain import accounts, blocks, mentions, moderation, policy, public, secrecy
from comments_service.domain import comments as store
from comments_service.federation import blocklist
from comments_service.web import forms
from comments_service.web.auth import current_account, require_account, signed_in_page
from comments_service.web.body import json_body, json_response
from comments_service.web.forms import CSRF_MESSAGE, check_csrf, csrf_token, message, page

bp = Blueprint("moderation_pages", __name__)


def _emit(result: dict) -> None:
    hooks.emit("comment.moderated", comment_id=result["id"], action=result["action"], status=result["status"])


def _site_titles() -> dict[str, str]:
    return {site.slug: site.title for site in current_app.extensions["confreres_network"].sites}


# -- API ---------------------------------------------------------------------------------------------

def _moderator() -> dict:
    account = require_account()
    if moderation.moderated_sites(get_db(), account) == []:
        raise ApiError(403, "not_moderator", "Ce compte ne modère aucun blog.")
    return account


@bp.get("/api/moderation/queue")
def api_queue():
    account = _moderator()
    db = get_db()
    items = moderation.queue(db, account)
    sites = moderation.moderated_sites(db, account)
    mentions = moderation.mention_queue(db, account)
    return json_response(
        {
            "sites": sites,
            "total": len(items),
            "items": [public.moderation_item(item["row"], item["reports"]) for item in items],
            "mentions": [public.moderation_mention(row) for row in mentions],
            "posts": secrecy.post_warnings(db, sites),  # published posts whose build warned (medical secrecy)
        },
        headers={"Cache-Control": "private, no-store"},
    )


def _emit_mention(result: dict) -> None:
    hooks.emit("mention.moderated", mention_id=result["id"], action=result["action"], status=result["status"])


def _api_decision(decide, target_id: int, emit, *, comment: bool = False):
    """{"action": ...} on a comment (moderation.act) or a mention (moderate_mention), as JSON; a comment's "block"
    also reads "address" (a boolean, false by default: block the author's network address too)."""
    account = _moderator()
    payload = json_body()
    action = payload.get("action") if isinstance(payload, dict) else None
    if not action:
        names = policy.ACTION_NAMES if comment else "approve, reject, spam ou delete"
        raise ApiError(400, "missing_field", f"Indiquez l'action : {names}.", "action")
    options = {}
    if comment:
        address = payload.get("address", False)
        if not isinstance(address, bool):
            raise ApiError(400, "invalid_type", "« address » vaut true ou false.", "address")
        options["address"] = address
    result = decide(get_db(), account, target_id, action, **options)
    emit(result)
    return json_response(result)


@bp.post("/api/moderation/<id:comment_id>")
def api_act(comment_id: int):
    return _api_decision(moderate, comment_id, _emit, comment=True)


@bp.get("/api/moderation/blocks")
def api_blocks():
    """The authors blocked on the blogs the account moderates, newest first."""
    account = _moderator()
    db = get_db()
    rows = blocks.listed(db, moderation.moderated_sites(db, account))
    return json_response({"blocks": [public.moderation_block(row) for row in rows]},
                         headers={"Cache-Control": "private, no-store"})


@bp.delete("/api/moderation/blocks/<id:block_id>")
def api_unblock(block_id: int):
    return json_response(unblock_author(get_db(), _moderator(), block_id))


@bp.post("/api/moderation/mentions/<id:mention_id>")
def api_act_mention(mention_id: int):
    return _api_decision(moderate_mention, mention_id, _emit_mention)


# -- the page ----------------------------------------------------------------------------------------

INSTANCE_DONE = {"bloquee": "Instance bloquée.", "debloquee": "Instance débloquée."}
AUTHOR_DONE = {
    "debloque": "Auteur débloqué : ses prochains commentaires seront modérés comme ceux des autres. Ses anciens"
                " commentaires restent classés comme spam.",
}


def _queue_page(account: dict, notice: str | None = None, error: str | None = None, status: int = 200,
                instance_host: str = "", instance_error: str | None = None, block_form: dict | None = None):
    db = get_db()
    sites = moderation.moderated_sites(db, account)
    if sites == []:
        return message(
            "Modération",
            "Ce compte ne modère aucun blog. Les auteurs des blogs du réseau et ses modérateurs voient ici les"
            " commentaires à valider.",
            403,
            links=[(url_for("account.account_page"), "Mon compte")],
        )
    titles = _site_titles()
    return page(
        "moderation.html",
        status,
        account=account,
        items=moderation.queue(db, account),
        mentions=moderation.mention_queue(db, account),
        secret_posts=secrecy.post_warnings(db, sites),
        held=secrecy.held,
        marked=secrecy.marked,
        mention_actions={k: policy.ACTION_LABELS[k] for k in ("approve", "reject", "spam")},
        sites=[titles.get(s, s) for s in sites] if sites is not None else None,
        site_titles=titles,
        csrf=csrf_token(f"moderation:{account['id']}"),
        actions={k: v for k, v in policy.ACTION_LABELS.items() if k != "block"},  # « Bloquer l'auteur »: its own form
        block_label=policy.ACTION_LABELS["block"],
        block_form=block_form,  # a refused « Bloquer l'auteur »: which comment, the box as ticked, the error
        author_blocks=blocks.listed(db, sites),
        notice=notice,
        error=error,
        # the network's moderators (every blog) keep the instance blocklist; a blog's author does not
        blocked=blocklist.listed(db) if sites is None else None,
        blocked_by_setting=sorted(blocklist.setting(current_app.config) - {r["host"] for r in blocklist.listed(db)}),
        instance_host=instance_host,
        instance_error=instance_error,  # the blocklist form's own error, shown at its field
    )


@bp.get("/moderation")
@signed_in_page
def queue_page(account):
    done = request.args.get("fait", "")
    notice = (policy.ACTION_DONE.get(done) or policy.MENTION_DONE.get(done.removeprefix("mention-"))
              or INSTANCE_DONE.get(done) or AUTHOR_DONE.get(done))
    return _queue_page(account, notice=notice)


# What a form of the page posted after its session ended shows back (auth.signed_in_page: a read-only copy, never
# its CSRF token, nothing stored); a button's `action` is named by its label.
TICKED = {"1": "oui"}
DECISION_FIELDS = {"action": ("Décision", policy.ACTION_LABELS),
                   "address": ("Bloquer aussi son adresse réseau", TICKED)}
INSTANCE_ACTIONS = {"block": "Bloquer l'instance", "unblock": "Débloquer l'instance"}
INSTANCE_FIELDS = {"host": "Instance", "action": ("Décision", INSTANCE_ACTIONS)}


def _block_form(target_id: int, comment: bool, error: str) -> dict | None:
    """A comment's « Bloquer l'auteur » form as posted (which comment, its « adresse réseau » box), to re-show with
    `error` when refused; None for any other button."""
    if not comment or request.form.get("action", "") != "block":
        return None
    return {"id": target_id, "address": bool(request.form.get("address")), "error": error}


def _instance_typed() -> str:
    return request.form.get("host", "")[:300]


def _form_decision(account: dict, decide, target_id: int, emit, done: str = "", *, comment: bool = False):
    """The queue page's buttons (CSRF-checked form), for a comment or a mention; back to the queue (303). A comment's
    « Bloquer l'auteur » form also sends its « adresse réseau » box; refused, the page shows it as ticked."""
    action = request.form.get("action", "")
    options = {"address": bool(request.form.get("address"))} if comment else {}
    if not check_csrf(f"moderation:{account['id']}"):
        return _queue_page(account, error=CSRF_MESSAGE, status=403,
                           block_form=_block_form(target_id, comment, CSRF_MESSAGE))
    try:
        result = decide(get_db(), account, target_id, action, **options)
    except ApiError as err:
        return _queue_page(account, error=err.message, status=err.status,
                           block_form=_block_form(target_id, comment, err.message))
    emit(result)
    return redirect(url_for("moderation_pages.queue_page", fait=done + action), 303)


@bp.post("/moderation/<id:comment_id>")
@signed_in_page(typed=DECISION_FIELDS)
def act_form(account, comment_id: int):
    return _form_decision(account, moderate, comment_id, _emit, comment=True)


@bp.post("/moderation/mentions/<id:mention_id>")
@signed_in_page(typed={"action": DECISION_FIELDS["action"]})
def act_mention_form(account, mention_id: int):
    return _form_decision(account, moderate_mention, mention_id, _emit_mention, "mention-")


@bp.post("/moderation/blocks/<id:block_id>")
@signed_in_page
def unblock_form(account, block_id: int):
    """« Débloquer » an author of the list (CSRF-checked form); back to the page (303)."""
    if not check_csrf(f"moderation:{account['id']}"):
        return _queue_page(account, error=CSRF_MESSAGE, status=403)
    try:
        unblock_author(get_db(), account, block_id)
    except ApiError as err:
        return _queue_page(account, error=err.message, status=err.status)
    return redirect(url_for("moderation_pages.queue_page", fait="debloque", _anchor="auteurs-bloques"), 303)


@bp.post("/moderation/instances")
@signed_in_page(typed=INSTANCE_FIELDS)
def instances_form(account):
    """Block or unblock a fediverse instance (the network's moderators); back to the page (303)."""
    typed = _instance_typed()
    if not check_csrf(f"moderation:{account['id']}"):
        return _queue_page(account, error=CSRF_MESSAGE, status=403, instance_host=typed)
    if moderation.moderated_sites(get_db(), account) is not None:
        return _queue_page(account, error="Seuls les modérateurs du réseau bloquent des instances.", status=403)
    host = blocklist.normalise(typed)
    action = request.form.get("action", "")
    if host is None or action not in ("block", "unblock"):
        problem = f"« {typed} » n'est pas un nom d'instance (ex. mastodon.example)."
        return _queue_page(account, error=problem, status=400, instance_host=typed, instance_error=problem)
    if action == "block":
        blocklist.block(get_db(), host)
    else:
        blocklist.unblock(get_db(), host)
    return redirect(url_for("moderation_pages.queue_page", fait="bloquee" if action == "block" else "debloquee",
                            _anchor="instances"), 303)


# -- over the write budget: the forms come back with what was typed (web/forms.py) ------------------------------
# The budget is spent before the view runs: this checks who is signed in, and that they moderate a blog, as it would.

def _over_budget(**typed):
    """answer(error) for keep_typed_when_refused: the queue page with the budget's reason and `typed` (keyword
    arguments of _queue_page, each a function of the refusal, reading the request); None (the usual answer) for
    anyone who is not signed in or moderates nothing."""

    def answer(error: ApiError):
        account = current_account()
        if account is None or moderation.moderated_sites(get_db(), account) == []:
            return None
        shown = {name: read(error) for name, read in typed.items()}
        return _queue_page(account, error=error.message, status=429, **shown)

    return answer


def _block_over_budget(error: ApiError) -> dict | None:
    return _block_form(request.view_args["comment_id"], True, error.message)


def _instance_over_budget(_error: ApiError) -> str:
    return _instance_typed() if request.form.get("action", "") == "block" else ""  # the field of the block form


forms.keep_typed_when_refused(
    bp,
    act_form=_over_budget(block_form=_block_over_budget),
    act_mention_form=_over_budget(),
    unblock_form=_over_budget(),
    instances_form=_over_budget(instance_host=_instance_over_budget),
)


# -- one-click links from the mails -----------------------------------------------------------------

LINK_ERRORS = {
    "invalid": (400, "Ce lien de modération n'est pas valide."),
    "expired": (410, "Ce lien de modération a expiré : utilisez la page de modération."),
    "used": (410, "Ce lien a déjà servi."),
}


def _link_error(reason: str, text: str | None = None):
    status, default = LINK_ERRORS.get(reason, (409, ""))
    return message(
        "Modération", text or default, status, links=[(url_for("moderation_pages.queue_page"), "Page de modération")]
    )


def _check_link(token: str):
    """(payload, signed_at, kind, target row, author account) of a usable link, for a pending comment or a
    pending mention (kind "comment" | "mention"); LinkError or ApiError otherwise."""
    db = get_db()
    payload, signed_at = tokens.read_action_token(
        current_app.config["SECRET_KEY"], token, int(current_app.config["ACTION_LINK_MAX_AGE"])
    )
    if accounts.nonce_used(db, payload["n"]):
        raise tokens.LinkError("used")
    row = accounts.get_account(db, payload["u"])
    if row is None:
        raise tokens.LinkError("invalid")
    account = accounts.session_account(row)
    kind, target_id = tokens.action_target(payload)
    if kind == "mention":
        target = mentions.get_mention(db, target_id)
        gone = ApiError(404, "unknown_mention", "Cette mention n'existe plus.")
    else:
        target = store.get_comment(db, target_id)
        gone = ApiError(404, "unknown_comment", "Ce commentaire n'existe plus.")
    if target is None or not moderation.can_moderate(db, account, target["site"]):
        raise gone
    if target["status"] != "pending":
        raise ApiError(409, "already_moderated", _already(kind, target["status"]))
    return payload, signed_at, kind, target, account


def _already(kind: str, status: str) -> str:
    if kind == "mention":
        labels = {"approved": "approuvée", "rejected": "rejetée", "spam": "classée comme spam"}
        return f"Cette mention a déjà été traitée : elle est {labels.get(status, status)}."
    labels = {"approved": "approuvé", "rejected": "rejeté", "spam": "classé comme spam", "deleted": "supprimé"}
    return f"Ce commentaire a déjà été traité : il est {labels.get(status, status)}."


@bp.get("/moderation/act")
def act():
    token = request.args.get("token", "")
    try:
        payload, _signed_at, kind, target, _account = _check_link(token)
    except tokens.LinkError as err:
        return _link_error(err.reason)
    except ApiError as err:
        return _link_error("state", err.message) if err.status == 409 else _link_error("invalid", err.message)
    post = store.query_one(get_db(), "SELECT url, title FROM posts WHERE url = ?", (target["post_url"],))
    return page(
        "moderation_act.html",
        token=token,
        action=payload["a"],
        label=policy.ACTION_LABELS[payload["a"]],
        kind=kind,
        comment=target if kind == "comment" else None,
        mention=target if kind == "mention" else None,
        post=post,
        secret=secrecy.held(target) if kind == "comment" else None,
        marked=secrecy.marked,
    )


# what a one-click link does, by kind of target: the decision, its after-commit event, the page's words
DECISIONS = {
    "comment": (moderate, _emit, policy.ACTION_DONE, "Voir les autres commentaires en attente"),
    "mention": (moderate_mention, _emit_mention, policy.MENTION_DONE, "Voir la file de modération"),
}


@bp.post("/moderation/act")
def act_post():
    token = request.form.get("token", "") or request.args.get("token", "")
    db = get_db()
    try:
        with write(db):
            payload, signed_at, kind, target, account = _check_link(token)
            decide, emit, done, back = DECISIONS[kind]
            expires = signed_at + timedelta(seconds=int(current_app.config["ACTION_LINK_MAX_AGE"]))
            if not accounts.use_nonce(db, payload["n"], "moderation", expires):
                raise tokens.LinkError("used")
            result = decide(db, account, target["id"], payload["a"])
    except tokens.LinkError as err:
        return _link_error(err.reason)
    except ApiError as err:
        return _link_error("state", err.message) if err.status == 409 else _link_error("invalid", err.message)
    emit(result)
    return message("Modération", done[payload["a"]], links=[(url_for("moderation_pages.queue_page"), back)])
