"""Signed tokens and every salt they are signed with, in one place.

The edit token a commenter keeps, the no-JS form's CSRF token, the magic sign-in link, the one-click
moderation link, the unsubscribe and address-confirmation links, the ProSantéConnect flow cookie, the letter's links.
The salt VALUES never change: they are part of every signed link already mailed or stored.

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
from functools import lru_cache

from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer

EDIT_SALT = "confreres-edit-token"
CSRF_SALT = "confreres-csrf"
MAGIC_SALT = "confreres-magic-link"
ACTION_SALT = "confreres-moderation-act"
UNSUBSCRIBE_SALT = "confreres-unsubscribe"
CONFIRM_SALT = "confreres-mail-confirm"
PSC_COOKIE_SALT = "confreres-psc-flow"
LETTER_CONFIRM_SALT = "confreres-letter-confirm"
LETTER_UNSUBSCRIBE_SALT = "confreres-letter-unsubscribe"
OWNER_MAX_AGE = 30 * 24 * 3600  # seconds a token still reveals its own pending comment
MAX_OWNER_TOKENS = 50


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


@lru_cache(maxsize=4)  # one per secret key: every new comment signs a token, a serializer keeps nothing else
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


def csrf_from_browser(secret: str, token: str, browser_nonce: str) -> bool:
    """Whether `token` is a CSRF token this service minted for this browser (its cookie nonce), whatever its form
    and however old: not enough to act on (check_csrf_token is), only to tell a form of ours, sent from this browser,
    from a page of another site posting in its name."""
    if not token or not browser_nonce or len(token) > 1000:
        return False
    try:
        payload = URLSafeTimedSerializer(secret, salt=CSRF_SALT).loads(token)
    except BadSignature:
        return False
    return isinstance(payload, list) and len(payload) == 2 and hmac.compare_digest(str(payload[0]), browser_nonce)


# -- single-use links: sign-in (magic link) and one-click moderation ----------------------------------

class LinkError(Exception):
    """A signed link that cannot be used: `reason` is 'invalid', 'expired' or 'used'."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MagicClaim:
    email: str
    nonce: str
    return_to: str
    signed_at: datetime


def load_link(secret: str, salt: str, token: str, max_age: int):
    """(payload, signed_at) of a well-signed, unexpired link; LinkError('invalid' | 'expired') otherwise."""
    if not token or len(token) > 2000:
        raise LinkError("invalid")
    try:
        return URLSafeTimedSerializer(secret, salt=salt).loads(token, max_age=max_age, return_timestamp=True)
    except SignatureExpired:
        raise LinkError("expired") from None
    except BadSignature:
        raise LinkError("invalid") from None


def make_magic_token(secret: str, email: str, return_to: str = "") -> str:
    payload = {"e": email, "n": secrets.token_urlsafe(16), "r": return_to or ""}
    return URLSafeTimedSerializer(secret, salt=MAGIC_SALT).dumps(payload)


def read_magic_token(secret: str, token: str, max_age: int) -> MagicClaim:
    """The claim of a well-signed, unexpired link; LinkError otherwise (used-ness is checked apart)."""
    payload, signed_at = load_link(secret, MAGIC_SALT, token, max_age)
    if not (isinstance(payload, dict) and all(isinstance(payload.get(k), str) for k in ("e", "n", "r"))):
        raise LinkError("invalid")
    return MagicClaim(payload["e"], payload["n"], payload["r"], signed_at)


TARGET_KEYS = {"comment": "c", "mention": "m"}


def make_action_token(secret: str, target_id: int, action: str, account_id: int, kind: str = "comment") -> str:
    """A one-click link's token (mail to a blog author), for a pending comment or a pending mention
    (`kind`): signed, expiring, single use (its nonce)."""
    payload = {TARGET_KEYS[kind]: target_id, "a": action, "u": account_id, "n": secrets.token_urlsafe(12)}
    return URLSafeTimedSerializer(secret, salt=ACTION_SALT).dumps(payload)


def read_action_token(secret: str, token: str, max_age: int) -> tuple[dict, object]:
    """(payload, signed_at) of a valid link; LinkError('invalid' | 'expired') otherwise.

    The payload names its target with exactly one of "c" (a comment) or "m" (a mention); `action_target`
    tells which.
    """
    payload, signed_at = load_link(secret, ACTION_SALT, token, max_age)
    if (
        not isinstance(payload, dict)
        or [key for key in TARGET_KEYS.values() if isinstance(payload.get(key), int)] == []
        or all(key in payload for key in TARGET_KEYS.values())
        or payload.get("a") not in ("approve", "reject")
        or not isinstance(payload.get("u"), int)
        or not isinstance(payload.get("n"), str)
    ):
        raise LinkError("invalid")
    return payload, signed_at


def action_target(payload: dict) -> tuple[str, int]:
    """("comment" | "mention", id) of a valid action link's payload."""
    return ("mention", payload["m"]) if "m" in payload else ("comment", payload["c"])


# -- mail links: unsubscribe (no expiry: an old mail's link must keep working) and address confirmation --

def make_unsubscribe_token(secret: str, scope: dict) -> str:
    """Signed, without expiry, idempotent."""
    return URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps(scope)


def read_unsubscribe_token(secret: str, token: str) -> dict | None:
    if not token or len(token) > 2000:
        return None
    try:
        scope = URLSafeSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not isinstance(scope, dict) or scope.get("s") not in ("thread", "address", "author", "replies"):
        return None
    return scope


def account_unsubscribe_key(secret: str, account_id: int, email: str) -> str:
    """What binds an account's never-expiring unsubscribe link (scopes "author" and "replies": {"a": id, "k": key}) to
    that account and no other: a keyed hash of its id and e-mail address (an address never changes). `accounts.id`
    is reused once the newest account is deleted (no AUTOINCREMENT): a link of the deleted account names the new
    one's id, but not its key (mail/outbox.unsubscribe_holds)."""
    message = f"confreres-unsubscribe-account:{account_id}:{email.strip().lower()}".encode()
    return hmac.digest(secret.encode(), message, "sha256").hex()[:24]


def make_confirm_token(secret: str, email: str) -> str:
    return URLSafeTimedSerializer(secret, salt=CONFIRM_SALT).dumps({"e": email})


def read_confirm_token(secret: str, token: str, max_age: int) -> str:
    """The address a confirmation link is for; LinkError when bad or expired."""
    payload, _signed_at = load_link(secret, CONFIRM_SALT, token, max_age)
    if not isinstance(payload, dict) or not isinstance(payload.get("e"), str):
        raise LinkError("invalid")
    return payload["e"]


# -- « La lettre des confrères »: its double opt-in link (expiring) and its unsubscribe link (never expiring) --

def make_letter_confirm_token(secret: str, subscriber_id: int, nonce: str, choice: dict) -> str:
    """The confirmation link of a letter subscription: the subscriber, its nonce and the settings asked for
    (applied only when the link is used: a stranger typing someone's address changes nothing)."""
    return URLSafeTimedSerializer(secret, salt=LETTER_CONFIRM_SALT).dumps({"l": subscriber_id, "n": nonce, "c": choice})


def read_letter_confirm_token(secret: str, token: str, max_age: int) -> tuple[int, str, dict]:
    """(subscriber id, nonce, settings) of a well-signed, unexpired link; LinkError otherwise."""
    payload, _signed_at = load_link(secret, LETTER_CONFIRM_SALT, token, max_age)
    if not (isinstance(payload, dict) and isinstance(payload.get("l"), int) and isinstance(payload.get("n"), str)
            and isinstance(payload.get("c"), dict)):
        raise LinkError("invalid")
    return payload["l"], payload["n"], payload["c"]


def make_letter_unsubscribe_token(secret: str, subscriber_id: int, nonce: str) -> str:
    """Signed, without expiry (every letter carries it), idempotent."""
    return URLSafeSerializer(secret, salt=LETTER_UNSUBSCRIBE_SALT).dumps([subscriber_id, nonce])


def read_letter_unsubscribe_token(secret: str, token: str) -> tuple[int, str] | None:
    if not token or len(token) > 500:
        return None
    try:
        payload = URLSafeSerializer(secret, salt=LETTER_UNSUBSCRIBE_SALT).loads(token)
    except BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], int)
            and isinstance(payload[1], str)):
        return None
    return payload[0], payload[1]


# -- the ProSantéConnect flow cookie ------------------------------------------------------------------

def psc_serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=PSC_COOKIE_SALT)
