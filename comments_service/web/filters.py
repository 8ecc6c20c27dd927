"""What the server-rendered pages show of a date: `when`, '3 mars 2025 à 14 h 05', or `day`, '3 mars 2025', in Paris
time; of a count: `plural`, '1 parrainage', '2 parrainages'; of a title: `|quoted`, in guillemets, its own turned
into “ ”; and of a post's likes and boosts from the fediverse: `fediverse`.

One definition for every page (thread, moderation queue, profiles, the active-threads page), registered
once for every template by `init_app` (a Jinja global: `when(comment.created)`).
"""

from __future__ import annotations

from comments_service.domain.posts import parse_iso
from confreres.french import PARIS, date_fr, datetime_fr, de_fr, plural_fr, quoted_fr


def when(value: str) -> str:
    """'3 mars 2025 à 14 h 05' in Paris time."""
    return datetime_fr(parse_iso(value).astimezone(PARIS))


def day(value: str | None) -> str:
    """'3 mars 2025', the day in Paris (a stored time's first ten characters are the day in UTC, and ISO)."""
    return date_fr(parse_iso(value).astimezone(PARIS)) if value else ""


def fediverse(counts: dict | None) -> str:
    """« 3 partages et 5 « j'aime » sur le fédivers » (the thread's `fediverse`); empty when there is none."""
    counts = counts or {}
    parts = [plural_fr(counts["boosts"], "partage")] if counts.get("boosts") else []
    if counts.get("likes"):
        parts.append(plural_fr(counts["likes"], "« j'aime »", "« j'aime »"))
    return " et ".join(parts) + " sur le fédivers" if parts else ""


def init_app(app) -> None:
    app.jinja_env.globals["when"] = when
    app.jinja_env.globals["day"] = day
    app.jinja_env.globals["plural"] = plural_fr  # « 0 parrainage », « 2 parrainages », « 1 234 commentaires »
    app.jinja_env.globals["fediverse"] = fediverse
    app.jinja_env.globals["de_fr"] = de_fr  # « le commentaire d'Anne »
    app.jinja_env.filters["quoted"] = quoted_fr  # « “Schizo”, la série », not « « Schizo », la série »
