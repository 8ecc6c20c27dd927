"""Dates and counts in French, without depending on the machine's installed locales.

A leaf module shared by the theme (as Jinja filters) and the comment service.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def date_fr(value: date | datetime | None) -> str:
    """'1er mars 2025', '14 juillet 2024'."""
    if value is None:
        return ""
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {MONTHS[value.month - 1]} {value.year}"


def month_fr(value: date | datetime) -> str:
    return f"{MONTHS[value.month - 1]} {value.year}"


def plural_fr(count: int, singular: str, plural: str | None = None) -> str:
    """'0 commentaire', '1 commentaire', '2 commentaires' (French uses the singular for 0 and 1)."""
    word = singular if abs(count) < 2 else (plural or singular + "s")
    return f"{count:,}".replace(",", "\u202f") + f" {word}"


def isoformat(value: date | datetime | None) -> str:
    """ISO 8601; aware datetimes in UTC with a Z."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


JINJA_FILTERS = {"date_fr": date_fr, "month_fr": month_fr, "plural_fr": plural_fr, "iso": isoformat}
