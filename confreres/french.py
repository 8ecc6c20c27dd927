"""Formats shared by the service, the build and the plugins: French dates and counts, ISO 8601 UTC, ASCII slugs —
without the machine's locales.

A leaf module (it imports no project module): the theme uses it as Jinja filters, the comment service, the build
and the plugins for their stored times ("2025-03-01T08:00:00Z") and URL slugs, so each format is written once.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"  # ISO 8601 in UTC, to the second: how every time is stored and exchanged

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


def decimal_fr(value: float, digits: int = 1) -> str:
    """1.4 -> '1,4' (French decimal comma)."""
    return f"{value:.{digits}f}".replace(".", ",")


def seconds_fr(value: float, digits: int = 1) -> str:
    """A duration as the CLI prints it: '1,4 s'."""
    return f"{decimal_fr(value, digits)}\u202fs"


def isoformat(value: date | datetime | None) -> str:
    """ISO 8601; aware datetimes in UTC with a Z."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return utc_iso(value)
    return value.isoformat()


def utcnow() -> datetime:
    """Now, aware in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def utc_iso(moment: datetime) -> str:
    """'2025-03-01T08:00:00Z' (ISO_Z): `moment` in UTC (a naive one is taken as the machine's local time)."""
    return datetime.strftime(moment.astimezone(UTC), ISO_Z)  # not Pelican's SafeDatetime.strftime: 10x slower


def parse_iso(value: str) -> datetime:
    """The datetime of an ISO 8601 string, "Z" read as UTC (+00:00); ValueError when it is not one."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def slugify(value: str, default: str = "") -> str:
    """'Médecine générale' -> 'medecine-generale' (ASCII, for URLs); `default` when nothing is left."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-") or default


JINJA_FILTERS = {"date_fr": date_fr, "month_fr": month_fr, "plural_fr": plural_fr, "iso": isoformat}
