"""The letter's mails (« La lettre des confrères », issue 15): the double opt-in link, and each period's letters.

A letter is HTML and plain text (multipart/alternative), with each post's title, author, badge, summary and its
own URL (no link rewriting, no image, so no tracking pixel), the debates between blogs, French dates, and the
RFC 8058 headers (`List-Unsubscribe` + `List-Unsubscribe-Post: List-Unsubscribe=One-Click`) whose URL is also in
the mail. `queue_letters` claims each subscriber's letter of the period (domain/letter.claim) in the same
transaction that puts it in the outbox: a second run of the period, or one resumed after a crash, queues nobody
twice; the outbox (mail/outbox.deliver) then sends them, and retries what failed.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import datetime, timedelta
from email.utils import make_msgid, parseaddr

from flask import current_app, render_template

from comments_service.core import tokens
from comments_service.core.db import write
from comments_service.domain import letter
from comments_service.domain.posts import utcnow
from comments_service.mail import outbox
from comments_service.mail import transport as mailer
from confreres.french import date_fr, plural_fr

KIND = "letter"
TITLE = "La lettre des confrères"


def _network():
    return current_app.extensions["confreres_network"]


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


def unsubscribe_url(row) -> str:
    return outbox.external("letter_links.unsubscribe",
                           token=tokens.make_letter_unsubscribe_token(_secret(), row["id"], row["nonce"]))


def _headers(unsubscribe: str) -> dict[str, str]:
    return {
        "List-Id": outbox.list_id("lettre", TITLE),
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def queue_confirmation(db, row, choice: dict, now: datetime | None = None) -> int | None:
    """The double opt-in mail: one link that confirms `choice` for the subscriber `row`. None (nothing sent, the same
    answer to the caller) when the inbox asked « ne plus rien recevoir » (outbox.is_blocked), or when a confirmation
    went to this inbox less than letter.CONFIRM_EVERY ago, whichever
    `+tag` variant of it was typed (outbox.sent_to_address; letter.ask keeps the cap of each address as typed).
    Call it in the write of letter.ask, so that two requests at once cannot both pass."""
    moment = now or utcnow()
    if outbox.is_blocked(db, row["email"]):
        return None  # « ne plus rien recevoir » from this inbox: the form answers as for anyone (it tells nothing)
    if outbox.sent_to_address(db, row["email"], "letter-confirm", moment - letter.CONFIRM_EVERY):
        return None
    token = tokens.make_letter_confirm_token(_secret(), row["id"], row["nonce"], choice)
    # with « ne plus rien recevoir » (link and RFC 8058 headers), as the thread's confirmation: a stranger may type
    # this address in the form once a day
    return outbox.queue(db, kind="letter-confirm", to=row["email"], subject=f"Confirmez votre abonnement à {TITLE}",
                        template="letter_confirm", unsubscribe={"s": "address", "e": row["email"]}, now=moment,
                        confirm_url=outbox.external("letter_links.confirm", token=token),
                        max_days=max(1, int(current_app.config["CONFIRM_MAX_AGE"]) // 86400),
                        what=letter.describe(_network(), choice))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(letter.PARIS)


def _subject(frequency: str, since: datetime, until: datetime) -> str:
    if frequency == "daily":
        return f"{TITLE} du {date_fr(_local(until))}"
    return f"{TITLE} : la semaine du {date_fr(_local(since))} au {date_fr(_local(until))}"


def _render(network, frequency: str, content: letter.Content, choice: dict, placeholder: str) -> tuple[str, str]:
    """(text, html) of a letter for one set of filters; `placeholder` stands for the subscriber's own link."""
    posts, more, debates = content.pick(choice)
    for post in posts:
        post["date_fr"] = date_fr(_local(letter.parse_iso(post["published"])))
    context = dict(
        network=network, title=TITLE, posts=posts, more=more, debates=debates,
        since=date_fr(_local(content.since)), until=date_fr(_local(content.until)),
        daily=frequency == "daily", what=letter.describe(network, choice),
        settings_url=outbox.external("letter.form"), debates_url=outbox.external("crossblog.debates"),
        unsubscribe_url=placeholder, plural=plural_fr,
    )
    return render_template("mail/letter.txt", **context), render_template("mail/letter.html", **context)


class _Template:
    """A letter's whole message for one set of filters, built once by the email package with stand-ins for what
    differs per reader (the address, the Message-ID, the unsubscribe URL), which `for_reader` puts back. An
    address that is not ASCII gets its message built whole (the email package encodes it), and so does every reader
    of a letter with a part in quoted-printable (transport._encoding), whose stand-ins may be split across lines."""

    def __init__(self, sender: str, subject: str, text: str, html: str, now: datetime):
        tag = secrets.token_hex(12)
        self.address, self.url = f"reader-{tag}@stand-in.invalid", f"urn:confreres:unsubscribe:{tag}"
        self.domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
        self.parts = dict(sender=sender, subject=subject, text=text, html=html, now=now)
        self.message = self._build(self.address, self.url)
        self.msgid = mailer.message_header(self.message, "Message-ID")

    def _build(self, to: str, url: str) -> str:
        parts = self.parts
        return mailer.build(sender=parts["sender"], to=to, subject=parts["subject"], headers=_headers(url),
                            text=parts["text"].replace(PLACEHOLDER, url), html=parts["html"].replace(PLACEHOLDER, url),
                            now=parts["now"])

    def for_reader(self, to: str, url: str) -> str:
        if not (to.isascii() and url.isascii()) or "quoted-printable" in self.message:  # its stand-ins may be cut
            return self._build(to, url)
        return (self.message.replace(self.msgid, make_msgid(domain=self.domain), 1)
                .replace(self.address, to).replace(self.url, url))


PLACEHOLDER = "urn:confreres:unsubscribe-here"
BATCH = 100  # subscribers claimed and queued per transaction


def queue_letters(db, frequency: str, *, now: datetime | None = None, days: int | None = None,
                  dry_run: bool = False) -> dict:
    """Queue the letter of the current period for every confirmed subscriber of `frequency` who has none yet.

    Each subscriber is claimed (letter_sends) and their letter put in the outbox in the same transaction (one
    per BATCH subscribers): a crash leaves every claim with its letter, or neither. A subscriber whose filters
    find nothing in the window gets nothing and is not claimed (a later run of the period may send them one); nor
    does one whose inbox asked « ne plus rien recevoir » since subscribing (outbox.is_blocked, every `+tag` variant).
    `days` widens the window (default: 7 or 1 days before now). Returns counts; with `dry_run`, what would be
    queued, writing nothing.
    """
    network = _network()
    moment = now or utcnow()
    period = letter.period_key(frequency, moment)
    since, until = letter.window(frequency, moment, days)
    content = letter.content(db, network, since, until)
    summary = {"period": period, "queued": 0, "empty": 0, "refused": 0, "posts": len(content.posts),
               "debates": len(content.debates), "forgotten": 0}
    if not dry_run:  # the requests no link can confirm any more: their addresses are not kept
        summary["forgotten"] = letter.forget_unconfirmed(
            db, moment - timedelta(seconds=int(current_app.config["CONFIRM_MAX_AGE"])))
    templates: dict[tuple, tuple[_Template | None, int, int]] = {}  # filters -> (message, posts, debates)
    sender = mailer.sender(current_app.config, network.comments_url)
    subject = _subject(frequency, since, until)
    after = 0
    while batch := letter.due(db, frequency, period, after, limit=BATCH):
        after = batch[-1]["id"]
        with contextlib.nullcontext() if dry_run else write(db):
            for row in batch:
                choice = letter.settings_of(row)
                key = (tuple(choice["s"]), tuple(choice["b"]))
                if key not in templates:
                    posts, _more, debates = content.pick(choice)
                    template = None
                    if posts or debates:
                        text, html = _render(network, frequency, content, choice, PLACEHOLDER)
                        template = _Template(sender, subject, text, html, moment)
                    templates[key] = (template, len(posts), len(debates))
                template, n_posts, n_debates = templates[key]
                if template is None:
                    summary["empty"] += 1
                    continue
                if outbox.is_blocked(db, row["email"]):
                    summary["refused"] += 1  # « ne plus rien recevoir » since: not claimed, nothing queued
                    continue
                if dry_run:
                    summary["queued"] += 1
                    continue
                if not letter.claim(db, row["id"], period, moment):
                    continue  # another run took it meanwhile
                message = template.for_reader(row["email"], unsubscribe_url(row))
                outbox_id = outbox.enqueue(db, kind=KIND, to=row["email"], subject=subject, message=message, now=moment)
                letter.record(db, row["id"], period, outbox_id, n_posts, n_debates)
                summary["queued"] += 1
    return summary


def describe_counts(summary: dict) -> str:
    """The French line `confreres letter send` prints (counts only: never an address)."""
    return (f"période {summary['period']} : {plural_fr(summary['posts'], 'billet')} et "
            f"{plural_fr(summary['debates'], 'débat')} dans le réseau ; "
            f"{plural_fr(summary['queued'], 'lettre')} {'mises' if summary['queued'] > 1 else 'mise'} en file, "
            f"{plural_fr(summary['empty'], 'abonné')} sans nouveauté pour ses filtres"
            + (f", {plural_fr(summary['refused'], 'adresse')} qui ne veut plus rien recevoir" if summary.get("refused")
               else "")
            + (f" ; {plural_fr(summary['forgotten'], 'demande')} d'abonnement jamais confirmée"
               f"{'s' if summary['forgotten'] > 1 else ''} oubliée{'s' if summary['forgotten'] > 1 else ''}"
               if summary.get("forgotten") else "") + ".")
