"""« La lettre des confrères » (issue 15): its subscribers, its periods and what a letter holds.

Rows and rules only: mail/letter.py renders and queues the mails, web/letter.py is the form and the links.
A subscriber is an address, a frequency (weekly or daily) and filters (specialties and blogs of network.toml;
none: the whole network). The double opt-in's link carries the settings asked for, applied only when it is
used: typing someone else's address never changes their letter. A letter holds the member blogs' posts
published in its window (the posts table every build announces: title, date, excerpt; the author, specialty
and badge come from network.toml and the verification records) and the debates between blogs active in it
(domain/crossblog.conversations, the /debats page's list). Outside feeds of the planet are not in it: the
service does not store them.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from comments_service.core.addresses import normalise_email
from comments_service.core.db import write
from comments_service.core.errors import ApiError
from comments_service.domain import crossblog, public
from comments_service.domain.comments import check_signed_in
from comments_service.domain.posts import iso, parse_iso, query, query_one, utcnow
from confreres.french import PARIS, quoted_fr, slugify

FREQUENCIES = {"weekly": 7, "daily": 1}  # days a letter covers
FREQUENCY_LABELS = {"weekly": "hebdomadaire", "daily": "quotidienne"}
CONFIRM_EVERY = timedelta(hours=1)  # at most one confirmation mail per address per hour, whoever asks
MAX_POSTS = 40  # posts in one letter; the others are counted, with a link to the planet
MAX_DEBATES = 5


# -- settings -------------------------------------------------------------------------------------------

def specialties(network) -> list[tuple[str, str]]:
    """(slug, name) of each specialty of the network's blogs (network.toml), sorted by name."""
    names = {site.specialty for site in network.sites if site.specialty}
    return sorted(((slugify(name, default="x"), name) for name in names), key=lambda item: item[1].lower())


def choice_input(network, frequency, chosen_specialties, chosen_sites) -> dict:
    """The settings a form asked for, checked against network.toml: {"f": frequency, "s": [...], "b": [...]}."""
    if frequency not in FREQUENCIES:
        raise ApiError(400, "invalid_choice", "Choisissez une lettre hebdomadaire ou quotidienne.", "frequency")
    known_specialties = {slug for slug, _ in specialties(network)}
    known_sites = {site.slug for site in network.sites}
    picked_specialties = sorted({s for s in chosen_specialties if isinstance(s, str)})
    picked_sites = sorted({s for s in chosen_sites if isinstance(s, str)})
    if set(picked_specialties) - known_specialties:
        raise ApiError(400, "invalid_choice", "Cette spécialité n'existe pas dans le réseau.", "specialties")
    if set(picked_sites) - known_sites:
        raise ApiError(400, "invalid_choice", "Ce blog n'appartient pas au réseau.", "sites")
    return {"f": frequency, "s": picked_specialties, "b": picked_sites}


def settings_of(row) -> dict:
    return {"f": row["frequency"], "s": json.loads(row["specialties"]), "b": json.loads(row["sites"])}


def describe(network, choice: dict) -> str:
    """« hebdomadaire, Psychiatrie et le blog « Le divan du lundi » » — what a subscription covers, in French."""
    names = dict(specialties(network))
    titles = {site.slug: site.title for site in network.sites}
    parts = [names.get(s, s) for s in choice["s"]] + [quoted_fr(titles.get(b, b)) for b in choice["b"]]
    scope = ", ".join(parts) if parts else "tout le réseau"
    return f"lettre {FREQUENCY_LABELS[choice['f']]} ({scope})"


# -- subscribers ----------------------------------------------------------------------------------------

def find(db, email: str):
    return query_one(db, "SELECT * FROM letter_subscribers WHERE email = ?", (normalise_email(email),))


def by_token(db, subscriber_id: int, nonce: str):
    """The subscriber a link names, if the link's nonce is still theirs (else None: unsubscribed since)."""
    row = query_one(db, "SELECT * FROM letter_subscribers WHERE id = ?", (subscriber_id,))
    return row if row is not None and secrets.compare_digest(row["nonce"], nonce) else None


def ask(db, email: str, choice: dict, now: datetime | None = None):
    """A subscription asked for from the form: the row to send a confirmation link to, or None when one was
    sent to that address less than CONFIRM_EVERY ago. An unconfirmed row takes the new settings; a confirmed
    one keeps its own until the new link is used."""
    moment = now or utcnow()
    with write(db):
        row = find(db, email)
        if row is None:
            _insert(db, email, choice, moment)
        elif row["confirm_sent"] and parse_iso(row["confirm_sent"]) > moment - CONFIRM_EVERY:
            return None
        elif not row["confirmed"]:
            _apply(db, row["id"], choice)
        db.conn.execute("UPDATE letter_subscribers SET confirm_sent = ? WHERE email = ?",
                        (iso(moment), normalise_email(email)))
        return find(db, email)


def _insert(db, email: str, choice: dict, moment: datetime, confirmed: bool = False) -> None:
    db.conn.execute(
        "INSERT INTO letter_subscribers (email, frequency, specialties, sites, nonce, created, confirmed)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (normalise_email(email), choice["f"], json.dumps(choice["s"]), json.dumps(choice["b"]), secrets.token_urlsafe(12),
         iso(moment), iso(moment) if confirmed else None),
    )


def _confirm(db, subscriber_id: int, moment: datetime) -> None:
    db.conn.execute("UPDATE letter_subscribers SET confirmed = coalesce(confirmed, ?) WHERE id = ?",
                    (iso(moment), subscriber_id))


def _apply(db, subscriber_id: int, choice: dict) -> None:
    db.conn.execute(
        "UPDATE letter_subscribers SET frequency = ?, specialties = ?, sites = ? WHERE id = ?",
        (choice["f"], json.dumps(choice["s"]), json.dumps(choice["b"]), subscriber_id),
    )


def confirm(db, subscriber_id: int, nonce: str, choice: dict, now: datetime | None = None):
    """The confirmation link was used: its settings apply, the subscriber is confirmed. None when the link's
    subscriber is gone (unsubscribed since)."""
    with write(db):
        row = by_token(db, subscriber_id, nonce)
        if row is None:
            return None
        _apply(db, subscriber_id, choice)
        _confirm(db, subscriber_id, now or utcnow())
        return by_token(db, subscriber_id, nonce)


def subscribe_owner(db, email: str, choice: dict, now: datetime | None = None, account: dict | None = None):
    """A signed-in member subscribes their own address (proven by their sign-in link): no confirmation mail.
    `account`: the signed-in account, which must still exist when the write has its turn (its deletion unsubscribes
    its address: a subscription confirmed in its name afterwards would outlive it)."""
    moment = now or utcnow()
    with write(db):
        check_signed_in(db, account)
        row = find(db, email)
        if row is None:
            _insert(db, email, choice, moment, confirmed=True)
        else:
            _apply(db, row["id"], choice)
            _confirm(db, row["id"], moment)
        return find(db, email)


def export_own(db, email: str) -> dict | None:
    """The address's subscription and the periods it was sent, for its owner's export (actions/accounts.export)."""
    row = find(db, email)
    if row is None:
        return None
    sends = query(db, "SELECT period, claimed FROM letter_sends WHERE subscriber_id = ? ORDER BY claimed", (row["id"],))
    return {"frequency": row["frequency"], "specialties": json.loads(row["specialties"]), "sites": json.loads(row["sites"]),
            "created": row["created"], "confirmed": row["confirmed"], "sent": [dict(s) for s in sends]}


def forget_unconfirmed(db, older_than: datetime) -> int:
    """Forget the subscriptions never confirmed whose last confirmation link was mailed before `older_than` (the
    links' validity, CONFRERES_CONFIRM_MAX_AGE, ago: none can confirm them any more). Anyone can type any address in
    the form: an address that never answered was kept for ever. Returns how many."""
    with write(db):
        return db.conn.execute(
            "DELETE FROM letter_subscribers WHERE confirmed IS NULL AND coalesce(confirm_sent, created) < ?",
            (iso(older_than),),
        ).rowcount


def remove(db, subscriber_id: int) -> None:
    """Unsubscribe: the row goes (its address is not kept), its claims with it; letters of it still waiting in
    the outbox are withdrawn."""
    with write(db):
        db.conn.execute(
            "DELETE FROM outbox WHERE sent IS NULL AND claimed IS NULL AND id IN"
            " (SELECT outbox_id FROM letter_sends WHERE subscriber_id = ? AND outbox_id IS NOT NULL)",
            (subscriber_id,),
        )
        db.conn.execute("DELETE FROM letter_subscribers WHERE id = ?", (subscriber_id,))


# -- periods and claims ---------------------------------------------------------------------------------

def period_key(frequency: str, now: datetime) -> str:
    """The period a run belongs to, in Paris time: "2026-W49" (ISO week) or "2026-12-06" (day)."""
    local = now.astimezone(PARIS)
    if frequency == "weekly":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.date().isoformat()


def due(db, frequency: str, period: str, after_id: int = 0, limit: int = 200) -> list:
    """Confirmed subscribers of `frequency` who have no letter of `period` yet, by id."""
    return query(
        db,
        "SELECT * FROM letter_subscribers s WHERE frequency = ? AND confirmed IS NOT NULL AND id > ?"
        " AND NOT EXISTS (SELECT 1 FROM letter_sends d WHERE d.subscriber_id = s.id AND d.period = ?)"
        " ORDER BY id LIMIT ?",
        (frequency, after_id, period, limit),
    )


def claim(db, subscriber_id: int, period: str, now: datetime) -> bool:
    """Inside the caller's transaction: take the subscriber's letter of `period`; False if taken already."""
    return db.conn.execute(
        "INSERT OR IGNORE INTO letter_sends (subscriber_id, period, claimed) VALUES (?, ?, ?)",
        (subscriber_id, period, iso(now)),
    ).rowcount == 1


def record(db, subscriber_id: int, period: str, outbox_id: int | None, posts: int, debates: int) -> None:
    db.conn.execute(
        "UPDATE letter_sends SET outbox_id = ?, posts = ?, debates = ? WHERE subscriber_id = ? AND period = ?",
        (outbox_id, posts, debates, subscriber_id, period),
    )


def counts(db) -> dict:
    row = query_one(db, "SELECT COUNT(*) AS n, SUM(confirmed IS NOT NULL) AS confirmed FROM letter_subscribers")
    return {"subscribers": row["n"] or 0, "confirmed": row["confirmed"] or 0}


# -- content --------------------------------------------------------------------------------------------

@dataclass
class Content:
    """What the network published and debated in a window, for every subscriber; `pick` selects theirs."""

    since: datetime
    until: datetime
    posts: list[dict] = field(default_factory=list)  # newest first, each with "specialty"
    debates: list[dict] = field(default_factory=list)  # most recently active first

    def pick(self, choice: dict) -> tuple[list[dict], int, list[dict]]:
        """(posts shown, posts left out past MAX_POSTS, debates) for a subscriber's filters."""
        posts, debates = self.posts, self.debates
        if choice["s"] or choice["b"]:
            wanted_specialties, wanted_sites = set(choice["s"]), set(choice["b"])

            def wanted(post):
                return post["site"] in wanted_sites or post["specialty"] in wanted_specialties

            posts = [p for p in posts if wanted(p)]
            debates = [d for d in debates if any(wanted(p) for p in d["posts"])]
        return posts[:MAX_POSTS], max(0, len(posts) - MAX_POSTS), debates[:MAX_DEBATES]


def window(frequency: str, now: datetime, days: int | None = None) -> tuple[datetime, datetime]:
    return now - timedelta(days=days or FREQUENCIES[frequency]), now


def content(db, network, since: datetime, until: datetime) -> Content:
    """The posts of the member blogs published in [since, until) and the debates between blogs active then."""
    sites = {site.slug: site for site in network.sites}
    badges = crossblog.site_badges(db, network)
    found = Content(since, until)
    for row in query(db, "SELECT url, site, title, published, excerpt FROM posts WHERE listed = 1 AND published IS NOT NULL"):
        site = sites.get(row["site"])
        published = public.utc_time(row["published"])
        if site is None or published is None or not iso(since) <= published < iso(until):
            continue
        found.posts.append({**public.post_summary(row, site, badges),
                            "specialty": slugify(site.specialty, default="x") if site.specialty else "",
                            "specialty_name": site.specialty})
    found.posts.sort(key=lambda p: (p["published"], p["url"]), reverse=True)
    days = max(1, round((until - since).total_seconds() / 86400))
    debates, _total = crossblog.conversations(db, network, days=days, limit=100, now=until)
    for debate in debates:
        for post in debate["posts"]:
            site = sites.get(post["site"])
            post["specialty"] = slugify(site.specialty, default="x") if site and site.specialty else ""
    found.debates = debates
    return found
