"""Our own HTTP client for outside feeds: conditional GET, timeouts, size cap, capped redirects, threads.

feedparser never touches the network: this module fetches the bytes, keeps the last good copy of
each feed on disk and a small JSON state per feed (as Planet Venus did), and the entries module
parses those bytes. A feed that answers 410 is marked gone and never asked again; one that answers 429 or 503
with `Retry-After` is not asked again before the time it gives (at most a day). A broken, slow, huge or hostile
feed only records an error: its last good copy stays in use.

State layout (``state_dir``, by default ``var/planet/`` of the network)::

    feeds.json          {"feeds": {<feed url>: {etag, last_modified, http_status, last_success, ...}}}
    copies/<hash>.xml   the last good body of each feed
    .lock               flock: one refresh at a time (cron and a build may overlap)
"""

from __future__ import annotations

import contextlib
import email.utils
import fcntl
import hashlib
import io
import json
import time
import xml.etree.ElementTree as ET
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import feedparser
import httpx

from confreres.french import PARIS, datetime_fr, parse_iso, utc_iso, utcnow
from confreres.releases import atomic_write
from confreres.safe_http import (
    ACCEPT_ENCODING,
    NOT_PUBLIC,
    Refused,
    allow_hosts,
    deadline_transport,
    hosts_of,
    inflater_for,
    total_deadline,
)

from . import entries as E

USER_AGENT = "Confreres-Planet/1.0 (+planete du reseau Confreres)"
ACCEPT = ("application/atom+xml, application/rss+xml;q=0.9, application/feed+json;q=0.8, application/xml;q=0.8, "
          "text/xml;q=0.7, */*;q=0.1")
DEFAULT_TIMEOUT = 10.0  # seconds for the whole exchange with one feed
DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_REDIRECTS = 3
DEFAULT_WORKERS = 32
STATE_FILE = "feeds.json"
COPIES = "copies"
REDIRECTS = (301, 302, 303, 307, 308)
PERMANENT = (301, 308)  # the feed has moved: network.toml should say its new address
BUSY = (429, 503)  # "too many requests", "unavailable": their Retry-After is heeded
MAX_RETRY_AFTER = 24 * 3600  # seconds: no one answer silences a feed for longer


class FetchError(Exception):
    """One feed could not be fetched; the message is shown on the status page (French)."""

    def __init__(self, message: str, status: int | None = None, retry_at: datetime | None = None):
        super().__init__(message)
        self.status = status
        self.retry_at = retry_at  # a busy server's Retry-After: not asked again before


def retry_after(headers, now: datetime) -> datetime | None:
    """When a busy server (429, 503) asks to be asked again: `Retry-After` in seconds or as an HTTP date, capped
    at MAX_RETRY_AFTER; None without one, or with one already past."""
    value = (headers.get("retry-after") or "").strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp() - now.timestamp()
    if seconds <= 0:
        return None
    return now + timedelta(seconds=min(seconds, MAX_RETRY_AFTER))


def _deferred(state: dict) -> bool:
    """Whether the feed's server asked (Retry-After) not to be asked again yet."""
    try:
        return bool(state.get("retry_at")) and parse_iso(state["retry_at"]) > utcnow()
    except (TypeError, ValueError):
        return False


@dataclass
class FetchResult:
    url: str
    outcome: str  # "updated" | "unchanged" | "not-modified" | "error" | "gone" | "skipped" (gone) | "deferred" (busy)
    http_status: int | None = None
    error: str = ""
    seconds: float = 0.0
    copy: Path | None = None  # last good body on disk (None: never fetched successfully)


@dataclass
class Options:
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = DEFAULT_MAX_BYTES
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    workers: int = DEFAULT_WORKERS
    extra_headers: dict = field(default_factory=dict)


def now_iso() -> str:
    return utc_iso(utcnow())


def copy_name(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:24] + ".xml"


def load_state(state_dir: Path) -> dict:
    try:
        data = json.loads((Path(state_dir) / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    feeds = data.get("feeds") if isinstance(data, dict) else None
    return feeds if isinstance(feeds, dict) else {}


def save_state(state_dir: Path, feeds: dict):
    """One line of JSON: `indent` would take json's pure-Python encoder, 10x slower than its C one
    (a third of a refresh's CPU at 2,000 feeds answering 304)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    atomic_write(
        state_dir / STATE_FILE,
        json.dumps({"feeds": feeds}, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8"),
    )


def last_good_copy(state_dir: Path, url: str) -> Path | None:
    path = Path(state_dir) / COPIES / copy_name(url)
    return path if path.is_file() else None


@contextlib.contextmanager
def locked(state_dir: Path):
    """One refresh at a time over a state folder (a cron refresh and a build may overlap)."""
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / ".lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


FEED_ROOTS = ("rss", "feed", "RDF")
EMPTY = "réponse vide (HTTP 200 sans contenu)"
NOT_A_FEED = "la réponse est une page HTML, pas un flux"  # a page: the feed it advertises is looked for


def check_feed(body: bytes) -> str:
    """'' when `body` parses as a feed; else why not (French, for the status page). Only a 200's body is checked."""
    if not body.removeprefix(b"\xef\xbb\xbf").strip():
        return EMPTY
    try:  # the common case, fast: well-formed XML whose root is a feed (expat)
        root = ET.fromstring(body)
        if root.tag.rsplit("}", 1)[-1] in FEED_ROOTS:
            return ""
    except (ET.ParseError, ValueError, LookupError):
        pass  # also expat refusing multi-byte (euc-kr, gb2312, big5...) or unknown encodings: feedparser reads them
    if E.json_feed(body) is not None:
        return ""
    parsed = feedparser.parse(io.BytesIO(body))  # feedparser's loose parser: does it still find entries?
    if parsed.entries or (parsed.get("version") and not parsed.get("bozo")):
        return ""  # entries (feedparser's loose parser copes with small faults), or a valid empty feed
    head = body[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return NOT_A_FEED
    exc = parsed.get("bozo_exception")
    if exc is not None:
        return f"XML invalide : {str(exc)[:160]}"
    return "aucun flux Atom ou RSS reconnu dans la réponse"


def refresh(urls: list[str], state_dir: Path, options: Options | None = None) -> dict[str, FetchResult]:
    """Fetch every feed (in parallel), update the state and the last good copies; never raises for one feed."""
    options = options or Options()
    state_dir = Path(state_dir)
    (state_dir / COPIES).mkdir(parents=True, exist_ok=True)
    results: dict[str, FetchResult] = {}
    with locked(state_dir):
        feeds = load_state(state_dir)
        limits = httpx.Limits(max_connections=options.workers, max_keepalive_connections=options.workers)
        timeout = httpx.Timeout(options.timeout, connect=min(options.timeout, 5.0))
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING,
                   **options.extra_headers}
        # fetch_one bounds each feed's whole exchange, headers included; a host network.toml does not list (a
        # redirect's, the feed a page advertises) must be a public address
        transport = deadline_transport(allow_hosts() | hosts_of(urls), limits=limits)
        with httpx.Client(timeout=timeout, limits=limits, headers=headers, follow_redirects=False,
                          transport=transport, event_hooks={"response": [_check_redirect]}) as client:
            todo = list(dict.fromkeys(urls))
            workers = max(1, min(options.workers, len(todo)))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="planet-fetch") as pool:
                done = pool.map(lambda u: fetch_guarded(client, u, dict(feeds.get(u) or {}), state_dir, options), todo)
                for url, (result, state) in zip(todo, done, strict=True):
                    results[url] = result
                    feeds[url] = state
        save_state(state_dir, feeds)
    return results


def fetch_guarded(client: httpx.Client, url: str, state: dict, state_dir: Path, options: Options):
    """`fetch_one`, with any unexpected exception kept on that feed: one feed must never stop the others."""
    try:
        return fetch_one(client, url, state, state_dir, options)
    except Exception as exc:
        message = f"flux illisible ({exc.__class__.__name__}) : {url}"
        state.update(last_error=message, last_error_at=state.get("last_attempt") or now_iso())
        state["failures"] = int(state.get("failures") or 0) + 1
        return FetchResult(url, "error", state.get("http_status"), message, 0.0, last_good_copy(state_dir, url)), state


def fetch_one(client: httpx.Client, url: str, state: dict, state_dir: Path, options: Options):
    """One feed: returns (FetchResult, new state). Errors are recorded, never raised."""
    start = time.monotonic()
    state["url"] = url
    copy = last_good_copy(state_dir, url)
    if state.get("gone"):
        return FetchResult(url, "skipped", state.get("http_status"), "flux supprimé (410) : plus relevé", 0.0, None), state
    if _deferred(state):
        return FetchResult(url, "deferred", state.get("http_status"), state.get("last_error", ""), 0.0, copy), state
    state.pop("retry_at", None)
    state["last_attempt"] = now_iso()
    try:
        with total_deadline(start + options.timeout):  # every read too: a byte a second cannot stretch it
            status, body, response_headers, final_url, moved = _get(client, state.get("discovered") or url, state,
                                                                    options, start)
    except FetchError as exc:
        message = str(exc)
        if state.get("discovered") and exc.status in (404, 410):  # the page's feed moved: read the page again
            message = f"flux annoncé par la page disparu ({state.pop('discovered')}, {exc}) : la page sera relue"
        if exc.retry_at is not None:
            state["retry_at"] = utc_iso(exc.retry_at)
            message += f" : le serveur demande d'attendre, pas de nouveau relevé avant le {datetime_fr(exc.retry_at.astimezone(PARIS))} (heure de Paris)"
        state.update(last_error=message, last_error_at=state["last_attempt"], http_status=exc.status)
        state["failures"] = int(state.get("failures") or 0) + 1
        return FetchResult(url, "error", exc.status, message, time.monotonic() - start, copy), state

    state["http_status"] = status
    if status == 410:
        state.update(gone=True, gone_since=state["last_attempt"], last_error="flux supprimé (410) : plus relevé")
        state["last_error_at"] = state["last_attempt"]
        return FetchResult(url, "gone", 410, state["last_error"], time.monotonic() - start, None), state
    if status == 304:
        if copy is None:  # a 304 with nothing kept: ask again without conditions next time
            state.pop("etag", None)
            state.pop("last_modified", None)
            state.update(last_error="304 sans copie conservée", last_error_at=state["last_attempt"])
            return FetchResult(url, "error", 304, state["last_error"], time.monotonic() - start, None), state
        state.update(last_success=state["last_attempt"], failures=0, last_error="")
        _record_address(state, url, final_url, moved)
        return FetchResult(url, "not-modified", 304, "", time.monotonic() - start, copy), state

    digest = hashlib.sha256(body).hexdigest()
    if copy is not None and digest == state.get("sha256"):
        outcome = "unchanged"  # same bytes without a 304 (server ignores conditional GET)
    else:
        problem = check_feed(body)
        if problem == NOT_A_FEED and not state.get("discovered") and (found := discovered_feed(body, final_url)):
            problem, found_body, found_headers, final_url, moved = _discover(client, found, options, start, problem)
            if not problem:
                state["discovered"], body, response_headers = found, found_body, found_headers
                digest = hashlib.sha256(body).hexdigest()
        if problem:
            state.update(last_error=problem, last_error_at=state["last_attempt"])
            state["failures"] = int(state.get("failures") or 0) + 1
            return FetchResult(url, "error", status, problem, time.monotonic() - start, copy), state
        copy = Path(state_dir) / COPIES / copy_name(url)
        atomic_write(copy, body)
        state["sha256"] = digest
        state["last_changed"] = state["last_attempt"]
        outcome = "updated"
    _record_address(state, url, final_url, moved)
    state["etag"] = response_headers.get("etag", "")
    state["last_modified"] = response_headers.get("last-modified", "")
    state.update(last_success=state["last_attempt"], failures=0, last_error="", bytes=len(body))
    return FetchResult(url, outcome, status, "", time.monotonic() - start, copy), state


def _record_address(state: dict, url: str, final_url: str, moved: str):
    """Where the kept body came from (its relative links resolve against it, `feed_address`) and, when the feed
    answered a permanent redirect, its new address (the status page asks to put it in network.toml)."""
    state["final_url"] = final_url if final_url != url else ""
    state["moved"] = moved


def feed_address(state: dict, url: str) -> str:
    """The address a feed's kept body was read from: after redirects, or the feed a page advertises, else `url`.
    Its relative links are relative to that, not to network.toml's address."""
    return state.get("final_url") or state.get("discovered") or url


FEED_TYPES = ("application/atom+xml", "application/rss+xml", "application/feed+json", "application/json")


def discovered_feed(body: bytes, page_url: str) -> str:
    """The first feed a web page advertises (`<link rel="alternate" type="application/rss+xml" href="…">`, as
    browsers and feed readers find a blog's feed), or '': an outside blog listed by its home page is read all the
    same. A WordPress page lists its posts' feed before its comments' feed. Read as confreres.webmention reads a
    page's endpoint (html.parser, `<base href>` honoured)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(body[: 256 * 1024], "html.parser")
    base_tag = soup.find("base", href=True)
    base = urljoin(page_url, base_tag["href"].strip()) if base_tag is not None else page_url
    for link in soup.find_all("link", href=True):
        rel = link.get("rel") or []
        rels = [r.lower() for r in (rel.split() if isinstance(rel, str) else rel)]
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        if "alternate" in rels and kind in FEED_TYPES and link["href"].strip():
            found = urljoin(base, link["href"].strip())
            if urlsplit(found).scheme in ("http", "https") and urlsplit(found).netloc:
                return found
    return ""


def _discover(client: httpx.Client, found: str, options: Options, start: float, problem: str):
    """(problem or '', the feed's body, its headers, final and moved addresses as `_get`'s): the feed a page
    advertises, read within the same time."""
    try:
        with total_deadline(start + options.timeout):
            status, body, headers, final, moved = _get(client, found, {}, options, start)
    except FetchError as exc:
        return f"{problem} ; son flux annoncé ({found}) : {exc}", b"", {}, "", ""
    if status != 200 or (why := check_feed(body)):
        return f"{problem} ; son flux annoncé ({found}) : {why or f'réponse HTTP {status}'}", b"", {}, "", ""
    return "", body, headers, final, moved


def shortened(text: str, length: int = 80) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


def _redirect_target(response: httpx.Response) -> str:
    """The absolute http(s) address a redirect leads to; FetchError when it leads nowhere we go."""
    location = response.headers.get("location", "")
    try:
        target = urljoin(str(response.request.url), location) if location else ""
        parts = urlsplit(target)
        if parts.scheme in ("http", "https") and parts.netloc:
            httpx.URL(target)  # what httpx would refuse when building the next request
            return target
    except (ValueError, httpx.InvalidURL):
        pass
    raise FetchError(f"redirection invalide ({response.status_code} → {shortened(E.xml_safe(location)) or 'sans adresse'})",
                     response.status_code)


def _check_redirect(response: httpx.Response):
    """A response hook: httpx prepares the next request of every redirect, even unfollowed, and a Location it
    cannot read (`javascript:…`) would fail there as if network.toml's address were wrong: said here first."""
    if response.status_code in REDIRECTS:
        _redirect_target(response)


def _read_body(response: httpx.Response, options: Options, deadline: float) -> bytes:
    """The body within the size cap (compressed and decompressed) and the time left."""
    status = response.status_code
    too_big = f"flux trop volumineux (> {options.max_bytes // 1024} Kio)"
    try:
        inflater = inflater_for(response.headers)
    except Refused as exc:
        raise FetchError(str(exc), status) from None
    chunks, received, size = [], 0, 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > options.max_bytes:
            raise FetchError(too_big, status)
        if time.monotonic() > deadline:
            raise FetchError(f"délai dépassé ({options.timeout:g} s)", status)
        if inflater is not None:
            try:
                chunk = inflater.inflate(chunk, options.max_bytes - size)
            except zlib.error:
                raise FetchError("flux compressé illisible", status) from None
        size += len(chunk)
        if size > options.max_bytes:
            raise FetchError(too_big, status)
        chunks.append(chunk)
    return b"".join(chunks)


def _get(client: httpx.Client, url: str, state: dict, options: Options, start: float):
    """GET with conditions, capped redirects, size and total time; returns (status, body, headers, final url,
    moved): `moved` is the address reached by permanent redirects (301, 308) from `url` on, or ''."""
    conditions = {}
    if state.get("etag"):
        conditions["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        conditions["If-Modified-Since"] = state["last_modified"]
    deadline = start + options.timeout
    current, moved, permanent = url, "", True
    try:
        for _hop in range(options.max_redirects + 1):
            with client.stream("GET", current, headers=conditions) as response:
                status = response.status_code
                if status in REDIRECTS:
                    current = _redirect_target(response)
                    permanent = permanent and status in PERMANENT
                    moved = current if permanent else moved
                    continue
                if status in (304, 410):
                    return status, b"", response.headers, current, moved
                if status >= 400:
                    busy = retry_after(response.headers, utcnow()) if status in BUSY else None
                    raise FetchError(f"erreur HTTP {status}", status, busy)
                if status != 200:
                    raise FetchError(f"réponse HTTP inattendue {status}", status)
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > options.max_bytes:
                    raise FetchError(f"flux trop volumineux ({int(declared) // 1024} Kio > {options.max_bytes // 1024} Kio)", status)
                return status, _read_body(response, options, deadline), response.headers, current, moved
        raise FetchError(f"trop de redirections (plus de {options.max_redirects})", None)
    except httpx.TimeoutException:
        raise FetchError(f"délai dépassé ({options.timeout:g} s)") from None
    except httpx.InvalidURL:
        raise FetchError("adresse invalide") from None
    except httpx.ConnectError as exc:
        if NOT_PUBLIC in str(exc):  # where a redirect or the page led: not what network.toml lists
            raise FetchError(f"adresse non publique refusée ({shortened(E.xml_safe(current))})") from None
        raise FetchError(f"connexion impossible ({exc.__class__.__name__})") from None
    except (httpx.HTTPError, httpx.StreamError, OSError, ValueError) as exc:
        raise FetchError(f"connexion impossible ({exc.__class__.__name__})") from None

