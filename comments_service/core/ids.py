"""Integers from clients: ids in URLs and bodies, numbers in query strings.

Python's `int()` takes far more than a client should send ("٤٥", " 7 ", "1_000", 2**100) and SQLite stores
at most a signed 64-bit integer (a larger one raises OverflowError deep in a query: a 500). Every id the
API reads goes through `parse_id` — JSON bodies (domain/validate.py) and URL paths (`<id:…>`, `IdConverter`) —
and every numeric query parameter through `query_int`, so a bad number is a 400 or a 404, never a 500.
"""

from __future__ import annotations

import re

from flask import request
from werkzeug.routing import BaseConverter, ValidationError

from comments_service.core.errors import ApiError

MAX_ID = 2**63 - 1  # SQLite's INTEGER
_DIGITS = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() also says yes to "⁰⁴⁵" and "٤٥"


def parse_id(value) -> int | None:
    """A row id (1 … 2^63-1) from a JSON integer or a string of ASCII digits; None when it is not one."""
    if isinstance(value, str):
        if not _DIGITS.fullmatch(value):
            return None
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def _up_to(n: int) -> str:
    """A regex matching exactly the decimal numbers 1..n (leading zeros allowed)."""
    digits = str(n)
    parts = [f"[0-9]{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        if digit != "0":
            rest = len(digits) - i - 1
            parts.append(digits[:i] + f"[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "0*(?=[1-9])(?:" + "|".join([*parts, digits]) + ")"


class IdConverter(BaseConverter):
    """`<id:comment_id>`: like `<int:…>`, but ASCII digits within SQLite's range; anything else is a 404.

    The range is in the regex, not only in `to_python`: werkzeug answers a path that matches a rule of another
    method but fails conversion with 405 (Allow: GET), where "no such comment" (404) is meant.
    """

    regex = _up_to(MAX_ID)

    def to_python(self, value: str) -> int:
        parsed = parse_id(value)
        if parsed is None:
            raise ValidationError()
        return parsed

    def to_url(self, value) -> str:
        return str(int(value))


def query_int(name: str, default: int, minimum: int, maximum: int) -> int:
    """`?name=` as an integer within [minimum, maximum]; absent: `default`; empty or anything else: 400."""
    raw = request.args.get(name)
    if raw is None:
        return default
    if not re.fullmatch(r"[0-9]+", raw):
        raise ApiError(400, "invalid_param", f"« {name} » doit être un nombre entier.", name)
    value = int(raw) if len(raw) <= 9 else maximum + 1  # no int() of a 5,000-digit string (ValueError)
    if not minimum <= value <= maximum:
        raise ApiError(400, "invalid_param", f"« {name} » doit être compris entre {minimum} et {maximum}.", name)
    return value


def init_app(app) -> None:
    """Register `<id:…>`; must run before the blueprints are registered (their rules are compiled then)."""
    app.url_map.converters["id"] = IdConverter
