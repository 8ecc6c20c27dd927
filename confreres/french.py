"""Formats shared by the service, the build and the plugins: French dates and counts, ISO 8601 UTC, ASCII slugs —
without the machine's locales.

A leaf module (it imports no project module): the theme uses it as Jinja filters, the comment service, the build
and the plugins for their stored times ("2025-03-01T08:00:00Z") and URL slugs, so each format is written once.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")  # the network's time: what dates say to doctors and readers

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


def datetime_fr(value: datetime) -> str:
    """'3 mars 2025 à 14 h 05', '1er juin 2025 à 8 h 00' (the time as given: convert it first)."""
    return f"{date_fr(value)} à {value.hour} h {value.minute:02d}"


def month_fr(value: date | datetime) -> str:
    return f"{MONTHS[value.month - 1]} {value.year}"


def plural_fr(count: int, singular: str, plural: str | None = None) -> str:
    """'0 commentaire', '1 commentaire', '2 commentaires' (French uses the singular for 0 and 1)."""
    word = singular if abs(count) < 2 else (plural or singular + "s")
    return f"{count:,}".replace(",", "\u202f") + f" {word}"


_ELIDED = re.compile(r"[aeiouyhàâäéèêëîïôöûüœæ]", re.IGNORECASE)


def de_fr(name: str) -> str:
    """« de Paul », « d'Anne », « d'Hélène »: « de » elided before a vowel or an h (names' h are mostly mute)."""
    return ("d'" if _ELIDED.match(name or "") else "de ") + (name or "")


def decimal_fr(value: float, digits: int = 1) -> str:
    """1.4 -> '1,4' (French decimal comma)."""
    return f"{value:.{digits}f}".replace(".", ",")


def size_fr(length: int) -> str:
    """A file's size as French sites write it, in decimal units: '850 Ko', '12,3 Mo', '1,2 Go' ('' for none)."""
    if not length or length < 0:
        return ""
    if length < 1_000_000:
        return f"{max(1, round(length / 1000))} Ko"
    if length < 1_000_000_000:
        return f"{decimal_fr(length / 1_000_000)} Mo"
    return f"{decimal_fr(length / 1_000_000_000)} Go"


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


WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MONTH_NUMBERS = {name: n for n, name in enumerate(MONTHS, 1)} | {
    "fevrier": 2, "aout": 8, "decembre": 12, "janv": 1, "fevr": 2, "févr": 2, "avr": 4, "juil": 7, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12, "déc": 12,
}
_TIME = r"(?:\s*(?:,|à|a|T)?\s*(\d{1,2})\s*(?:[h:]\s*(\d{2})?(?:\s*:\s*(\d{2}))?)\s*)?"
_NUMERIC_DATE = re.compile(r"\s*(\d{1,2})\s*[/.]\s*(\d{1,2})\s*[/.]\s*(\d{4}|\d{2})" + _TIME, re.IGNORECASE)
_WORDED_DATE = re.compile(
    rf"\s*(?:(?:{'|'.join(WEEKDAYS)})\s+)?(\d{{1,2}})(?:er)?\s+([a-zéû]+)\.?\s+(\d{{4}})"
    + _TIME, re.IGNORECASE)


def month_number(name: str) -> int | None:
    """1 to 12 for a French month's name, whole or shortened (« févr. »), with or without its accents."""
    return _MONTH_NUMBERS.get(name.lower().rstrip("."))


def is_weekday(name: str) -> bool:
    """Whether `name` is a French day's name, whole or in its three letters (« lun. »)."""
    name = name.lower().rstrip(".")
    return name in WEEKDAYS or (len(name) == 3 and any(day.startswith(name) for day in WEEKDAYS))


def date_as_written_in_french(value: str) -> str | None:
    """A date written the French way, as ISO 8601 ('2025-03-01 08:30'); None when it is not one (or not a real day).

    « 01/03/2025 » is the 1st of March, day first (read as the 3rd of January otherwise, and « 13/03/2025 » as the
    13th of March: posts silently misdated); « 1er mars 2025 à 8h30 », « samedi 14 mars 2026 », « 14/03/26 8h ».
    """
    match = _NUMERIC_DATE.fullmatch(value)
    if match:
        day, month, year = int(match[1]), int(match[2]), int(match[3])
    else:
        match = _WORDED_DATE.fullmatch(value)
        month = month_number(match[2]) if match else None
        if month is None:
            return None
        day, year = int(match[1]), int(match[3])
    year += 2000 if year < 100 else 0
    hour, minute, second = (int(part) if part else 0 for part in match.groups()[3:6])
    try:
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def utcnow() -> datetime:
    """Now, aware in UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0)


def utc_iso(moment: datetime) -> str:
    """'2025-03-01T08:00:00Z' (ISO_Z): `moment` in UTC (a naive one is taken as the machine's local time)."""
    return datetime.strftime(moment.astimezone(UTC), ISO_Z)  # not Pelican's SafeDatetime.strftime: 10x slower


def parse_iso(value: str) -> datetime:
    """The datetime of an ISO 8601 string, "Z" read as UTC (+00:00); ValueError when it is not one."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def paris_to_utc(local: datetime | None) -> datetime | None:
    """A naive time of a French blog's own (an export that names no zone) as an aware UTC datetime; None for none,
    or one out of range (« 0001-01-01 00:00 » in Paris has no UTC time)."""
    try:
        return local.replace(tzinfo=PARIS).astimezone(UTC) if local is not None else None
    except OverflowError:
        return None


def utc_datetime(value) -> datetime | None:
    """An ISO 8601 date written by someone else's software (an export, a feed) as an aware UTC datetime, a date
    without offset taken as UTC; None when it is not one."""
    try:
        moment = parse_iso(value.strip()) if isinstance(value, str) else None
        return None if moment is None else (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # « 0001-01-01T00:00:00+01:00 » has no UTC time
        return None


def slugify(value: str, default: str = "") -> str:
    """'Médecine générale' -> 'medecine-generale' (ASCII, for URLs); `default` when nothing is left."""
    ascii_value = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_value.lower()).strip("-") or default


def when_fr(value: datetime) -> str:
    """« 3 mars 2025 à 14 h 05 » in Paris time (an aware time converted, a naive one taken as Paris's): the time a
    page tells its readers."""
    return datetime_fr(value.astimezone(PARIS) if value.tzinfo else value)


def quoted_fr(title: str) -> str:
    """« title », its own guillemets turned into the inner quotes of French typography: « « Schizo », la série »
    would read as two quotations; « “Schizo”, la série » is one title quoting a name."""
    inner = re.sub(r"«[\s\u00a0\u202f]*", "“", title.strip())
    inner = re.sub(r"[\s\u00a0\u202f]*»", "”", inner)
    return f"« {inner} »"


JINJA_FILTERS = {"date_fr": date_fr, "month_fr": month_fr, "plural_fr": plural_fr, "iso": isoformat, "when_fr": when_fr,
                 "de_fr": de_fr, "quoted_fr": quoted_fr}
