"""Medical secrecy as a commenter types: POST /api/secrecy-check {"text"} -> what would hold the comment.

The widget (themes/confreres/static/js/secrecy-check.js, loaded on the first keystroke) asks it, debounced, and
shows `message` under the textarea; the rules are confreres.secrecy's, the answer domain/secrecy.check's:
{"held", "message", "flags": [{kind, severity, label, start, end, line, column, text}]}. Nothing is stored
or logged; it is rate-limited with the reads (web/limits.py: READ_LIKE), since it is asked while typing.
"""

from __future__ import annotations

from flask import Blueprint

from comments_service.core.errors import ApiError
from comments_service.domain import secrecy, validate
from comments_service.web.body import json_body, json_response

bp = Blueprint("secrecy", __name__, url_prefix="/api")


@bp.post("/secrecy-check")
def check():
    payload = json_body()
    text = payload.get("text") if isinstance(payload, dict) else None
    if not isinstance(text, str):
        raise ApiError(400, "invalid_type", "Le champ « text » doit être un texte.", "text")
    if len(text) > validate.MAX_TEXT:
        raise ApiError(400, "too_long", f"Le commentaire est trop long ({validate.MAX_TEXT:,} caractères au plus)."
                       .replace(",", "\u202f"), "text")
    return json_response(secrecy.check(text), headers={"Cache-Control": "no-store"})
