"""Client payloads -> validated input, or an ApiError(400) naming the first field at fault.

The API and the no-JS form share these functions, so a rule lives in one place. Unknown fields are
ignored — including any badge, role or author flag a client might send: those are decided by the
server from the account, never taken from the request.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from comments_service.core.addresses import normalise_email
from comments_service.core.errors import ApiError
from comments_service.core.ids import parse_id
from confreres.registry import COMMENT_MODES, Network
from confreres.sanitize import excerpt as make_excerpt
from confreres.sanitize import one_line
from confreres.sanitize import text as plain_text

MAX_TEXT = 10_000
MAX_AUTHOR = 100
MAX_EMAIL = 254
MAX_WEBSITE = 500
MAX_URL = 2000
MAX_REASON = 1000
MAX_POSTS = 20_000
MAX_TITLE = 500
MAX_EXCERPT = 300  # characters of a post's plain-text excerpt kept (shown as an answer in another thread)
MAX_MOVES = 20  # earlier addresses of one post taken from a build (plugins/comments keeps as many)
HONEYPOT = "confreres_hp"  # a field humans never see; bots fill it

# the local part as RFC 5322's dot-atom allows it (an apostrophe too: « jean.d'arc@… »), never quoted; no « : », with
# which a To: header reads as a group
EMAIL_RE = re.compile(r"^[^@\s<>\",;:()\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")



def _fmt(n: int) -> str:
    return f"{n:,}".replace(",", "\u202f")


@dataclass(frozen=True)
class CommentInput:
    url: str
    text: str
    parent: int | None = None
    author: str = ""
    email: str | None = None
    website: str | None = None
    notify: bool = False
    honeypot: bool = False  # true: a bot filled the hidden field; pretend success, store nothing


@dataclass(frozen=True)
class PostInput:
    url: str
    title: str
    date: str | None
    reply_to: str | None
    comments: str | None
    excerpt: str = ""
    moved_from: tuple[str, ...] = ()  # the post's earlier addresses on its blog (domain/moves.py)


def normalize_url(value: str) -> str:
    """The thread key of a post URL: lower-case scheme and host, no query, no fragment."""
    parts = urlsplit(value.strip())
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", "", ""))


_URL_FORBIDDEN = frozenset('"<>`\\{}|^')


def is_http_url(value: str) -> bool:
    """An absolute http(s) URL with a host, and none of the characters that break out of an attribute."""
    if _CONTROL.search(value) or any(ch.isspace() or ch in _URL_FORBIDDEN for ch in value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


@lru_cache(maxsize=4096)
def _checked_thread_url(value: str) -> str | None:
    """Normalised URL, or None when invalid; cached because every thread read starts here."""
    if len(value) > MAX_URL or not is_http_url(value.strip()):
        return None
    return normalize_url(value)


def thread_url(value, field: str = "url") -> str:
    if value is None or value == "":
        raise ApiError(400, "missing_field", "L'adresse du billet est requise.", field)
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", "L'adresse du billet doit être une chaîne.", field)
    url = _checked_thread_url(value)
    if url is None:
        raise ApiError(400, "invalid_url", "L'adresse du billet n'est pas une adresse http(s) valide.", field)
    return url


def _optional_text(payload: dict, key: str, limit: int, label: str, field: str | None = None) -> str:
    field = field or key
    value = payload.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", f"{label} doit être une chaîne.", field)
    if len(value) > limit:  # the text as sent, as the API document's maxLength counts (tidying never lengthens)
        raise ApiError(400, "too_long", f"{label} est trop long ({_fmt(limit)} caractères au plus).", field)
    return one_line(value)


MAX_LINKS = 100  # links and images of one Markdown text (markdown_links)
_REFERENCE_DEFINITION = re.compile(r"^ {0,3}\[[^\]\n]+\]:", re.MULTILINE)


def markdown_links(value: str, field: str = "text") -> str:
    """Refuse a Markdown text of more than MAX_LINKS links or images: Python-Markdown takes time quadratic in the
    links of one paragraph (1,600 in a 10 KB comment: ~9 s of a worker; 100: ~20 ms). Counted from the text, as
    written: `](` and `][` (inline and reference links), or every `]` once the text defines a reference (then
    `[nom]` alone is a link)."""
    links = value.count("]") if _REFERENCE_DEFINITION.search(value) else value.count("](") + value.count("][")
    if links > MAX_LINKS:
        raise ApiError(400, "too_many_links", f"Le texte contient trop de liens ({_fmt(MAX_LINKS)} au plus).", field)
    return value


def comment_text(value, field: str = "text") -> str:
    if value is None:
        raise ApiError(400, "missing_field", "Le texte du commentaire est requis.", field)
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", "Le texte doit être une chaîne.", field)
    if len(value) > MAX_TEXT:  # as sent, as the API document counts (a form's "\r\n" come as "\n": web/pages.py)
        raise ApiError(400, "too_long", f"Le texte est trop long ({_fmt(MAX_TEXT)} caractères au plus).", field)
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if not value:
        raise ApiError(400, "missing_field", "Le texte du commentaire est vide.", field)
    return markdown_links(value, field)


def _parent(value) -> int | None:
    if value is None or value == "":
        return None
    parent = parse_id(value)
    if parent is None:
        raise ApiError(400, "invalid_parent", "Le commentaire parent doit être un identifiant.", "parent")
    return parent


def _email(payload: dict) -> str | None:
    value = _optional_text(payload, "email", MAX_EMAIL, "L'e-mail")
    if not value:
        return None
    address = email_address(value)
    if address is None:
        raise ApiError(400, "invalid_email", "Cette adresse e-mail n'est pas valide.", "email")
    return address


def email_address(value: str) -> str | None:
    """The address in its canonical form (core/addresses.normalise_email: what is stored and compared; an IDN domain
    typed in Unicode is accepted, in punycode), or None when it is not a well-formed address. The one rule of the
    comment form, the API, sign-in, the letter and the importers."""
    if len(value) > 4 * MAX_EMAIL:  # IDNA's work stays small; punycode is longer than what was typed, never 4 times
        return None
    address = normalise_email(value)
    if not address or len(address) > MAX_EMAIL or not EMAIL_RE.match(address):
        return None
    return address


def _website(payload: dict) -> str | None:
    value = _optional_text(payload, "website", MAX_WEBSITE, "L'adresse du site")
    if not value:
        return None
    if not is_http_url(value):
        raise ApiError(
            400, "invalid_url", "Le site doit être une adresse commençant par http:// ou https://.", "website"
        )
    return value


def _notify(value) -> bool:
    if value is None or value is False or value in ("", "0", "off", "false"):
        return False
    if value is True or value in ("1", "on", "true"):
        return True
    raise ApiError(400, "invalid_type", "Le champ « notify » doit valoir true ou false.", "notify")


def _object(payload) -> dict:
    if not isinstance(payload, dict):
        raise ApiError(400, "invalid_json", "Le corps de la requête doit être un objet JSON.")
    return payload


def comment(payload) -> CommentInput:
    """Validate a new comment (API JSON body or form fields); raise ApiError on the first bad field."""
    payload = _object(payload)
    url = thread_url(payload.get("url"))
    parent = _parent(payload.get("parent"))
    text = comment_text(payload.get("text"))
    author = _optional_text(payload, "author", MAX_AUTHOR, "Le nom")
    email = _email(payload)
    website = _website(payload)
    notify = _notify(payload.get("notify"))
    if notify and not email:
        raise ApiError(400, "missing_field", "Indiquez votre e-mail pour être prévenu des réponses.", "email")
    honeypot = bool(str(payload.get(HONEYPOT) or "").strip())
    return CommentInput(url, text, parent, author, email, website, notify, honeypot)


def comment_errors(payload) -> tuple[CommentInput | None, list[ApiError]]:
    """Every field error at once (the no-JS form shows them all); the input when there is none."""
    errors: list[ApiError] = []
    checks = (
        lambda: thread_url(payload.get("url")),
        lambda: _parent(payload.get("parent")),
        lambda: comment_text(payload.get("text")),
        lambda: _optional_text(payload, "author", MAX_AUTHOR, "Le nom"),
        lambda: _email(payload),
        lambda: _website(payload),
        lambda: _notify(payload.get("notify")),
    )
    for check in checks:
        try:
            check()
        except ApiError as err:
            errors.append(err)
    if errors:
        return None, errors
    try:
        return comment(payload), []
    except ApiError as err:
        return None, [err]


def edit(payload) -> str:
    """A PATCH body: the new Markdown text."""
    return comment_text(_object(payload).get("text"))


def report(payload) -> str:
    payload = _object(payload)
    reason = _optional_text(payload, "reason", MAX_REASON, "Le motif")
    if not reason:
        raise ApiError(400, "missing_field", "Indiquez le motif du signalement.", "reason")
    return reason


def _post_date(value, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ApiError(400, "invalid_type", "La date doit être une chaîne ISO 8601.", field)
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise ApiError(400, "invalid_date", "La date doit être au format ISO 8601.", field) from None


def posts(network: Network, slug: str, payload) -> list[PostInput]:
    """The body of PUT /api/sites/<slug>/posts (and of a site's posts.json): every URL owned by `slug`."""
    payload = _object(payload)
    items = payload.get("posts")
    if not isinstance(items, list):
        raise ApiError(400, "invalid_type", "Le champ « posts » doit être une liste.", "posts")
    if len(items) > MAX_POSTS:
        raise ApiError(400, "too_long", f"Trop de billets ({_fmt(MAX_POSTS)} au plus).", "posts")
    site = network.site(slug)
    seen: set[str] = set()
    result = []
    for i, item in enumerate(items):
        prefix = f"posts[{i}]"
        if not isinstance(item, dict):
            raise ApiError(400, "invalid_type", "Chaque billet doit être un objet.", prefix)
        url = thread_url(item.get("url"), f"{prefix}.url")
        if not site.owns(url):
            raise ApiError(
                400, "url_not_owned", f"Cette adresse n'appartient pas au blog « {slug} ».", f"{prefix}.url"
            )
        if url in seen:
            raise ApiError(400, "duplicate_url", "Ce billet est listé deux fois.", f"{prefix}.url")
        seen.add(url)
        # Pelican titles are HTML ("L&#8217;hôpital", "<em>…</em>"): keep the plain text, escaped at output
        title = plain_text(_optional_text(item, "title", MAX_TITLE, "Le titre", f"{prefix}.title"))
        reply_to = item.get("reply_to")
        # metadata written by hand: a bad reply_to must not block the whole blog's list
        reply_to = _checked_thread_url(reply_to) if isinstance(reply_to, str) and reply_to else None
        mode = item.get("comments") or None
        if mode is not None and mode not in COMMENT_MODES:
            raise ApiError(
                400, "invalid_choice", f"Le champ « comments » vaut {', '.join(COMMENT_MODES)}.", f"{prefix}.comments"
            )
        excerpt = item.get("excerpt")  # plain text from the build; cut, never refused
        excerpt = make_excerpt(_CONTROL.sub("", excerpt), MAX_EXCERPT) if isinstance(excerpt, str) else ""
        result.append(PostInput(url, title, _post_date(item.get("date"), f"{prefix}.date"), reply_to, mode, excerpt,
                                _moved_from(site, url, item.get("moved_from"))))
    return result


def _moved_from(site, url: str, value) -> tuple[str, ...]:
    """A post's earlier addresses, as its build lists them: only its own blog's, never its current one; what is
    not such an address is left out, never refused (the list is made by a build, but read back from disk)."""
    if not isinstance(value, list):
        return ()
    found: list[str] = []
    for old in value[:MAX_MOVES]:
        old = _checked_thread_url(old) if isinstance(old, str) and old else None
        if old and old != url and old not in found and site.owns(old):
            found.append(old)
    return tuple(found)
