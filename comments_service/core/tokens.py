"""Signed tokens: the edit token a commenter keeps, and the no-JS form's CSRF token.

No server-side session: an edit token is the comment id plus a random nonce stored on the comment,
signed with the secret key and timestamped (itsdangerous). Clearing the nonce revokes it. The same
token, held longer than the edit window, proves ownership of a pending comment so its author can
see it marked "pending" while everyone else cannot.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

EDIT_SALT = "confreres-edit-token"
CSRF_SALT = "confreres-csrf"
OWNER_MAX_AGE = 30 * 24 * 3600  # seconds a token still reveals its own pending comment
MAX_OWNER_TOKENS = 50


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def _edit_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=EDIT_SALT)


def make_edit_token(secret: str, comment_id: int, nonce: str) -> str:
    return _edit_serializer(secret).dumps([comment_id, nonce])


@dataclass(frozen=True)
class EditClaim:
    comment_id: int
    nonce: str
    age: float  # seconds since the token was signed


def read_edit_token(secret: str, token: str, max_age: int = OWNER_MAX_AGE) -> EditClaim | None:
    """The claim of a well-signed token younger than `max_age`, else None."""
    if not token or len(token) > 500:
        return None
    try:
        payload, signed_at = _edit_serializer(secret).loads(token, max_age=max_age, return_timestamp=True)
    except (SignatureExpired, BadSignature):
        return None
    if (
        not isinstance(payload, list)
        or len(payload) != 2
        or not isinstance(payload[0], int)
        or not isinstance(payload[1], str)
    ):
        return None
    age = (datetime.now(UTC) - signed_at).total_seconds()
    return EditClaim(payload[0], payload[1], age)


def owned_comments(secret: str, header: str | None) -> dict[int, str]:
    """`X-Confreres-Tokens: tok1, tok2` -> {comment id: nonce} for the well-signed ones."""
    owned: dict[int, str] = {}
    if not header:
        return owned
    for raw in header.split(",")[:MAX_OWNER_TOKENS]:
        claim = read_edit_token(secret, raw.strip())
        if claim:
            owned[claim.comment_id] = claim.nonce
    return owned


def nonce_matches(expected: str | None, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected, given)


def make_csrf_token(secret: str, browser_nonce: str, thread_url: str) -> str:
    """Bound to the browser (a first-party cookie nonce) and to the thread the form posts to."""
    return URLSafeTimedSerializer(secret, salt=CSRF_SALT).dumps([browser_nonce, thread_url])


def check_csrf_token(secret: str, token: str, browser_nonce: str, thread_url: str, max_age: int) -> bool:
    if not token or not browser_nonce or len(token) > 1000:
        return False
    try:
        payload = URLSafeTimedSerializer(secret, salt=CSRF_SALT).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return False
    return (
        isinstance(payload, list)
        and len(payload) == 2
        and hmac.compare_digest(str(payload[0]), browser_nonce)
        and payload[1] == thread_url
    )
