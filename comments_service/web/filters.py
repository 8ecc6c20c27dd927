"""What the server-rendered pages show of a date: `when`, '3 mars 2025 à 14 h 05' in Paris time.

One definition for every page (thread, moderation queue, profiles, the active-threads page), registered
once for every template by `init_app` (a Jinja global: `when(comment.created)`).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from comments_service.domain.posts import parse_iso
from confreres.french import date_fr

try:
    PARIS = ZoneInfo("Europe/Paris")
except Exception:  # pragma: no cover - a system without tzdata
    PARIS = None


def when(value: str) -> str:
    """'3 mars 2025 à 14 h 05' in Paris time."""
    moment: datetime = parse_iso(value)
    if PARIS is not None:
        moment = moment.astimezone(PARIS)
    return f"{date_fr(moment)} à {moment.hour} h {moment.minute:02d}"


def init_app(app) -> None:
    app.jinja_env.globals["when"] = when
