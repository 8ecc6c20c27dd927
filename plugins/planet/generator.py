"""The planet's pages and feeds, written by a Pelican generator.

Pages (all in French): the newest entries of every blog, paginated; one page and one feed per blog
and per specialty; the blogroll; "Débats en cours"; the search page; the feeds' status page.
Feeds: combined Atom and RSS (feedgenerator), per blog and per specialty, and an OPML of every blog.

Templates live in the shared theme under `templates/planet/` and are rendered with autoescape on:
every text field (titles and authors from outside feeds included) is escaped at output; only HTML
that went through `confreres.sanitize` is marked safe.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import logging
import marshal
import math
import operator
import os
import shutil
import stat
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from markupsafe import Markup
from pelican.generators import Generator

from confreres import service_client
from confreres.french import parse_iso, slugify
from confreres.planet_build import BLOG_MANIFEST, BLOG_PAGES_GRACE
from confreres.releases import atomic_write

from . import entries as E
from . import fetch

log = logging.getLogger(__name__)

SEEN_FILE = "seen.json"
SKIPPED_FILE = "skipped.json"  # {feed URL: entries left out for want of an address}: what `planet refresh` says
COUNTS_FILE = "counts.json"  # {blog: {"version": its comments_version, "counts": {post URL: approved comments}}}
PAGES_FILE = ".planet-pages.json"  # in each release: {"layout", "pages": {name: sha256 of its inputs}}
# Settings that change with every build but not what a page shows: left out of the layout's key.
LAYOUT_IGNORED = frozenset({"OUTPUT_PATH", "PLANET_PREVIOUS", "PLANET_FETCH", "PLANET_BLOG_STORE",
                            "PLANET_COMMENT_VERSIONS",  # the counts they lead to are in the entries' keys
                            "PLANET_AFTER_PARSING", "PLANET_READ_AHEAD"})
# PLANET_READ_AHEAD: what `read_ahead` read of the member blogs' feeds while a publish built its blog, in the same
# process, before the run: taken (popped) by generate_context where it still holds, within READ_AHEAD_WINDOW.
READ_AHEAD_WINDOW = 3600  # seconds
# With PLANET_BLOG_STORE (a path prefix): each blog's planet pages and feeds are made once for what they show, in
# <prefix><key>-<digest>/ (pages/, feeds/), and BLOG_MANIFEST in the release names them: publishing links them
# where they are served (confreres/planet_build.py), so a release holds no folder, page or feed per blog.
# <state>/records/<feed>.marshal: normalised entries of the last body seen. marshal, not JSON: every build reads
# every member blog's (200 files, ~3 MB at 200 blogs), three times faster; written and read by this module only.
ENTRIES_CACHE = "records"
CACHE_SUFFIX = ".marshal"
CONTENT_SUFFIX = ".content.marshal"  # beside it: their content_html, read only for the feeds a build writes
LEGACY_CACHES = ("entries",)  # the same in JSON, before: removed
# Output layout (top-level names are reserved in confreres.registry.RESERVED_SLUGS).
INDEX = "index.html"
BLOGS = "blogs"
SPECIALTIES = "specialites"
DEBATES = "debats"
SEARCH = "recherche"
STATUS = "etat-des-flux"
LASTING_FIELDS = tuple(f.name for f in dataclasses.fields(E.Entry) if f.name not in ("comments", "shared_id"))
RECENT_BLOGS = 12  # blogs named in the home page's aside: every page of it carries them
FEEDS = "feeds"
ATOM = "feeds/all.atom.xml"
RSS = "feeds/all.rss.xml"
OPML = "feeds/blogs.opml"
FEED_KINDS = ((Atom1Feed, "atom.xml", "application/atom+xml", "Atom"),
              (Rss201rev2Feed, "rss.xml", "application/rss+xml", "RSS"))


def page_url(base: str, number: int) -> str:
    """'' / 'blogs/dr-a/' for page 1, then '<base>page/<n>/'."""
    return base if number == 1 else f"{base}page/{number}/"


def published_id(entry) -> str:
    """The planet feeds' id of an entry: its own when it is a URI (a link, `urn:`, `tag:`) that no other blog's entry
    has, else made unique by its feed's address (two blogs numbering their posts « 1 », « 2 »…, or both begun on a
    laptop, their WordPress guids « http://localhost/?p=1 », would give the planet's readers one entry). A member's id
    is always its own: an outside feed copying it cannot change it. An entry whose feed changed its id since the
    planet first published it keeps the id it was published under (E.remember): readers would get it twice."""
    key = entry.published_key
    if ":" in key and not entry.shared_id:
        return key
    return f"{entry.source.feed_url}#{key}"


def mark_shared_ids(entries: list[E.Entry]):
    """Set `shared_id` on each outside entry whose id an entry of another blog has (a member's or an outside one's)."""
    owners: dict[str, str] = {}
    shared = set()
    for entry in entries:
        if owners.setdefault(entry.published_key, entry.source.key) != entry.source.key:
            shared.add(entry.published_key)
    for entry in entries:
        entry.shared_id = entry.published_key in shared and not entry.source.member


@dataclass
class Debate:
    url: str
    title: str
    blog: str
    blog_url: str
    comments: int
    last_activity: datetime | None


@dataclass
class Debates:
    threads: list[Debate] = field(default_factory=list)
    answered: bool = False  # False: the service was down or answered an error


@dataclass
class FeedStatus:
    source: E.Source
    state: str  # "ok" | "erreur" | "supprime" | "jamais" | "absent"
    entries: int = 0
    http_status: int | None = None
    last_success: datetime | None = None
    last_error: str = ""
    last_error_at: datetime | None = None
    last_changed: datetime | None = None
    failures: int = 0
    discovered: str = ""  # the feed the page at `feed_url` advertises, read instead (fetch.discovered_feed)
    moved: str = ""  # where the feed answered a permanent redirect (301, 308) to: network.toml should say it
    address: str = ""  # where its body was read from: its relative links resolve against it (fetch.feed_address)
    skipped: list[str] = field(default_factory=list)  # titles of its entries without any address, left out


def _iso(value) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = parse_iso(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _code_stamp() -> str:
    """Changes whenever the code that makes the cached records changes (entries, the sanitiser)."""
    from confreres import french, sanitize

    digest = hashlib.sha256()
    for module in (E, french, sanitize):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


CODE_STAMP = _code_stamp()


def records_for(body: bytes | Path, source: E.Source, state_dir: Path, excerpt_length: int = E.EXCERPT_LENGTH,
                address: str = ""):
    """(home page, normalised entries, titles of the entries skipped for want of an address: E.normalise) of a feed
    body, cached by its sha256: a 304 costs no parsing. `address`: where the body was read from (E.parse), the
    source's feed URL by default.

    A member blog's feed comes as its file: the same file (device, inode, size, mtime: a blog's build writes a new
    one) is not even read again, which at 200 blogs was a tenth of a one-post publish."""
    cache = records_file(state_dir, source)
    cached = _load_cache(cache)
    signature = ""
    if isinstance(body, Path):
        signature = file_signature(body, excerpt_length)
        if signature == cached.get("signature"):
            return cached.get("home", ""), cached.get("records", []), cached.get("skipped", [])
        body = body.read_bytes()
    address = address or source.feed_url
    digest = hashlib.sha256(b"2\0%d\0%s\0%s\0" % (excerpt_length, address.encode(), CODE_STAMP.encode())
                            + body).hexdigest()
    if cached.get("sha256") == digest:
        if signature:
            _save_cache(cache, {**cached, "signature": signature})
        return cached.get("home", ""), cached.get("records", []), cached.get("skipped", [])
    parsed = E.parse(body, source, address)
    home = E.safe_url(parsed.get("feed", {}).get("link", ""))
    skipped: list[str] = []
    records = E.normalise(parsed, source, excerpt_length, skipped=skipped)
    # the entries' HTML apart: most builds write no feed of most sources, and it was most of what a build read
    _save_cache(content_file(cache), {r["key"]: r.pop("content_html") for r in records})
    _save_cache(cache, {"sha256": digest, "signature": signature, "home": home, "records": records,
                        "skipped": skipped})
    return home, records, skipped


def file_signature(path: Path, excerpt_length: int | None = None) -> str:
    """A file as it is known again: a blog's build writes a new feed file, atomic_write a new state file (a new
    inode). A member feed's (records_for) comes with what it is read with (`excerpt_length`, this code)."""
    info = path.stat()
    known = f"{info.st_dev}:{info.st_ino}:{info.st_size}:{info.st_mtime_ns}"
    return known if excerpt_length is None else f"{known}:{excerpt_length}:{CODE_STAMP}"


@dataclass
class ReadAhead:
    """PLANET_READ_AHEAD: `feeds` as `read_ahead` read them; `taken`: how many of them the build used."""

    feeds: dict[str, tuple] = field(default_factory=dict)
    taken: int = 0
    seen: tuple[str, dict] | None = None  # SEEN_FILE as read: (its signature, what it holds)


def read_ahead(sources: list[dict], state_dir: Path, excerpt_length: int = E.EXCERPT_LENGTH,
               skip: frozenset[str] | set[str] = frozenset()) -> ReadAhead:
    """What generate_context reads of each member blog's feed (records, then E.remember and E.dated), read ahead
    in the planet's process while a publish builds its blog on the other core: ReadAhead.feeds, {feed URL: (source,
    the file's signature, its memory as read, when, (home, records, skipped, memory now, entries))}. At 200 blogs this
    reading was half of what a publish's planet costs more than at 20 (~55 ms of ~0.11 s).

    Read-only: a feed whose cache does not know its file (parsed again by records_for, which writes the cache) and
    the blogs in `skip` (those being built) are left to the build. An entry kept only if the same at
    READ_AHEAD_WINDOW seconds from now: its dates do not depend on the time within that window (a new entry's first
    sight, an `updated` still to come, an entry gone from its feed: all are left to the build)."""
    state_dir = Path(state_dir)
    try:
        seen_file = file_signature(state_dir / SEEN_FILE)
    except OSError:
        seen_file = ""
    seen_all = _load_json(state_dir / SEEN_FILE)
    now = datetime.now(UTC)
    later = now + timedelta(seconds=READ_AHEAD_WINDOW)
    ahead: dict[str, tuple] = {}
    for raw in sources:
        source = E.Source(**raw)
        if not source.member or source.key in skip:
            continue
        try:
            signature = file_signature(Path(source.path), excerpt_length)
            cached = _load_cache(records_file(state_dir, source))
            if cached.get("signature") != signature:
                continue
            records = cached.get("records", [])
            kept = seen_all.get(source.feed_url)
            kept = kept if isinstance(kept, dict) else {}
            seen = E.remember(records, kept, now)
            found = E.dated(records, source, seen, now)
            seen_later = E.remember(records, kept, later)
            if E.dated(records, source, seen_later, later) != found or seen_later != seen:
                continue
            ordered = E.newest_first(found)  # as the blog's own pages list them
            lasting = (ordered, lasting_digest(ordered))
        except Exception:  # noqa: BLE001 - the build reads it again, and says what is wrong with it
            continue
        ahead[source.feed_url] = (source, signature, kept, now,
                                  (cached.get("home", ""), records, cached.get("skipped", []), seen, found, lasting))
    return ReadAhead(ahead, seen=(seen_file, seen_all) if seen_file else None)


def lasting_digest(entries: list[E.Entry]) -> str:
    """What a blog's planet pages and feeds show of `entries` but their comment counts and shared ids, which are known
    once every feed is read (_blog_folder adds them): read ahead for most blogs of a publish (`read_ahead`)."""
    sources: dict[int, str] = {}
    keys = []
    for entry in entries:
        source = sources.get(id(entry.source))
        if source is None:
            source = sources[id(entry.source)] = _digest(entry.source)
        keys.append(lasting_key(entry, source))
    return _digest(keys)


def lasting_key(entry: E.Entry, source: str) -> tuple | str:
    """What `entry` was made from but its comment count and shared id (`source`: its source's digest): its record
    (origin: a digest of every field of it), its source, its date (first seen, when the feed gives none), its author
    (the source's or the record's) and the id it was first published under. A tuple, not a digest of one: every
    entry of the network gets one at every build, and a page's key is a digest of its repr already."""
    if entry.origin:
        return (entry.origin, source, entry.date.timestamp(), entry.author, entry.published_as)
    made = [getattr(entry, name) for name in LASTING_FIELDS]
    made[LASTING_FIELDS.index("source")] = source
    return _digest(made)


def _seen_file(state_dir: Path, ahead: ReadAhead | None) -> dict:
    """SEEN_FILE's memories (a copy: the build replaces some), as the read-ahead read it if it is the same file."""
    if ahead is not None and ahead.seen is not None:
        signature, seen = ahead.seen
        ahead.seen = None
        with contextlib.suppress(OSError):
            if file_signature(state_dir / SEEN_FILE) == signature:
                return dict(seen)
    return _load_json(state_dir / SEEN_FILE)


def _taken_ahead(ahead: ReadAhead, source: E.Source, body, kept: dict, now: datetime, excerpt_length: int):
    """(home, records, skipped, memory, entries, (entries newest first, their lasting_digest)) of `source` as
    `read_ahead` read them, when they still hold: the same source, its feed's file the same, its memory the same,
    `now` within the window; else None."""
    read = ahead.feeds.pop(source.feed_url, None)
    if read is None or not isinstance(body, Path):
        return None
    was, signature, kept_then, then, result = read
    if was != source or kept_then != kept or not then <= now <= then + timedelta(seconds=READ_AHEAD_WINDOW):
        return None
    try:
        same = file_signature(body, excerpt_length) == signature
    except OSError:
        return None
    if not same:
        return None
    ahead.taken += 1
    return result


def records_file(state_dir: Path, source: E.Source) -> Path:
    return Path(state_dir) / ENTRIES_CACHE / f"{fetch.copy_name(source.feed_url)[:-4]}{CACHE_SUFFIX}"


def content_file(records: Path) -> Path:
    return records.with_name(records.name[:-len(CACHE_SUFFIX)] + CONTENT_SUFFIX)


def with_content(entries: list[E.Entry], state_dir: Path, loaded: dict[str, dict] | None = None) -> list[E.Entry]:
    """`entries` with their content_html, read from the records' cache of their sources (`loaded`: kept by source)."""
    loaded = {} if loaded is None else loaded
    for entry in entries:
        if entry.content_html:
            continue
        url = entry.source.feed_url
        if url not in loaded:
            loaded[url] = _load_cache(content_file(records_file(state_dir, entry.source)))
        entry.content_html = loaded[url].get(entry.key, "")
    return entries


# -- the comment service (HTTP only; never fails the build) ------------------------------------------


def fetch_counts(comments_url: str, urls: list[str], timeout: float = service_client.PLANET_TIMEOUT) -> dict[str, int]:
    """{url: approved comments} from `GET {comments_url}api/counts?url=...`; {} when the service is down."""
    if not comments_url or not urls:
        return {}
    api = service_client.api_url(comments_url, service_client.COUNTS)
    counts: dict[str, int] = {}
    try:
        with service_client.client(timeout) as client:
            for data in service_client.count_batches(client, comments_url, urls):
                if isinstance(data, dict):
                    counts.update({k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)})
    except service_client.UNAVAILABLE as exc:
        log.warning("planète : nombres de commentaires non affichés (%s à %s)", exc.__class__.__name__, api)
    return counts


def fetch_debates(comments_url: str, blogs: list[E.Source], days: int = 14, limit: int = 10,
                  timeout: float = service_client.PLANET_TIMEOUT) -> Debates:
    """The most active threads of the last `days` days, on member blogs only; empty when unavailable."""
    if not comments_url:
        return Debates()
    api = service_client.api_url(comments_url, service_client.ACTIVE)
    try:
        with service_client.client(timeout) as client:
            data = service_client.active_threads(client, comments_url, days, limit)
    except service_client.UNAVAILABLE as exc:
        log.warning("planète : débats non affichés (%s à %s)", exc.__class__.__name__, api)
        return Debates()
    raw = data.get("threads") if isinstance(data, dict) else None
    if not isinstance(raw, list):
        return Debates()
    members = [b for b in blogs if b.member]
    threads = []
    for item in raw:
        if not isinstance(item, dict):
            continue
        url = E.safe_url(str(item.get("url") or ""))
        blog = next((b for b in members if b.site_url and url.startswith(b.site_url)), None)
        if not url or blog is None:
            continue  # only threads of the network's blogs are shown
        count = item.get("comments")
        threads.append(
            Debate(
                url=url,
                title=" ".join(E.xml_safe(str(item.get("title") or "")).split())[:300] or url,  # escaped at output
                blog=blog.title,
                blog_url=blog.site_url,
                comments=count if isinstance(count, int) and not isinstance(count, bool) else 0,
                last_activity=_iso(item.get("last_activity")),
            )
        )
    return Debates(threads=threads[:limit], answered=True)


# -- the Pelican generator ----------------------------------------------------------------------------


class PlanetGenerator(Generator):
    """Reads the sources given by the build (PLANET_SOURCES), writes the planet's pages and feeds."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.env = self.env.overlay(autoescape=True)
        self._templates = {}
        self.sources = [E.Source(**s) for s in self.settings.get("PLANET_SOURCES", [])]
        self.state_dir = Path(self.settings.get("PLANET_STATE_DIR") or os.path.join(self.output_path, ".planet-state"))
        self.entries: list[E.Entry] = []
        self.status: list[FeedStatus] = []
        self.debates = Debates()
        # what each page and feed of this release was made from, and of the live one (PLANET_PREVIOUS)
        settings = {k: v for k, v in self.settings.items() if k not in LAYOUT_IGNORED}
        self._layout = hashlib.sha256(
            json.dumps([CODE_STAMP, settings], sort_keys=True, default=_stable_repr).encode()
        ).hexdigest()
        self._made: dict[str, str] = {}
        self._folders: set[Path] = set()  # made in the new release by _reused
        # id(entry or source) -> its key (_keyable); they live as long as the build
        self._entry_keys: dict[int, str | tuple] = {}
        self._lasting: dict[str, tuple[list, str]] = {}  # blog key -> (its entries, newest first; lasting_digest)
        self._used: dict[str, frozenset[str] | None] = {}
        self._content: dict[str, dict] = {}  # feed URL -> {entry key: content_html}, read when a feed is written
        previous = self.settings.get("PLANET_PREVIOUS") or ""
        before = _load_json(Path(previous) / PAGES_FILE) if previous else {}
        self._previous = Path(previous) if previous and before.get("layout") == self._layout else None
        self._before = before.get("pages") or {} if self._previous else {}
        if self._previous:  # the templates are those of the live release (the layout covers the theme)
            known = before.get("names") or {}
            self._used.update({name: None if used is None else frozenset(used) for name, used in known.items()})

    # context --------------------------------------------------------------------------------------

    def generate_context(self):
        outside = [s for s in self.sources if not s.member]
        if self.settings.get("PLANET_FETCH") and outside:
            options = fetch.Options(
                timeout=float(self.settings.get("PLANET_FETCH_TIMEOUT", fetch.DEFAULT_TIMEOUT)),
                max_bytes=int(self.settings.get("PLANET_FETCH_MAX_BYTES", fetch.DEFAULT_MAX_BYTES)),
            )
            fetch.refresh([s.feed_url for s in outside], self.state_dir, options)  # outcomes kept in its state
        # PLANET_AFTER_PARSING (confreres.planet_build: the search indexer's `parsed`): the feeds are fetched beside
        # its parsing, which keeps every core busy; the rest, reading entries and making pages, waits for its end
        after_parsing = self.settings.get("PLANET_AFTER_PARSING")
        if callable(after_parsing):
            after_parsing()
        feed_state = fetch.load_state(self.state_dir)
        all_entries: list[E.Entry] = []
        counts_by_source: dict[str, int] = {}
        now = datetime.now(UTC)
        with fetch.locked(self.state_dir):
            for legacy in LEGACY_CACHES:
                if (self.state_dir / legacy).is_dir():
                    shutil.rmtree(self.state_dir / legacy, ignore_errors=True)
            ahead = self.settings.get("PLANET_READ_AHEAD")
            ahead = ahead if isinstance(ahead, ReadAhead) else None
            seen_all = _seen_file(self.state_dir, ahead)
            seen_before = dict(seen_all)  # each source's dict is replaced, never changed in place
            length = int(self.settings.get("PLANET_EXCERPT_LENGTH", E.EXCERPT_LENGTH))
            for index, source in enumerate(self.sources):
                status = FeedStatus(source=source, state="ok")
                try:  # a hostile feed must never stop the build: its failure stays on its own status line
                    body, status = self._body(source, feed_state.get(source.feed_url) or {})
                    if body is None:
                        self.status.append(status)
                        continue
                    kept = seen_all.get(source.feed_url)
                    kept = kept if isinstance(kept, dict) else {}
                    taken = _taken_ahead(ahead, source, body, kept, now, length) if ahead is not None else None
                    if taken is not None:
                        home, records, status.skipped, seen, found, self._lasting[source.key] = taken
                    else:
                        home, records, status.skipped = self._records(body, source, status.address)
                        if not source.site_url and home:  # an outside blog's home page, from its feed
                            source = self.sources[index] = status.source = replace(source, site_url=home)
                        seen = E.remember(records, kept, now)
                        found = E.dated(records, source, seen, now)
                except Exception as exc:
                    log.warning("planète : %s : flux illisible : %r", source.feed_url, exc)
                    status.state, status.last_error = "erreur", f"illisible : {exc.__class__.__name__}"
                    self.status.append(status)
                    continue
                self.status.append(status)
                seen_all[source.feed_url] = seen
                counts_by_source[source.key] = len(found)
                all_entries.extend(found)
            if seen_all != seen_before:  # most builds see no new entry: the network's dates are not written again
                _save_json(self.state_dir / SEEN_FILE, seen_all)
            skipped = {s.source.feed_url: len(s.skipped) for s in self.status if s.skipped}
            if skipped != _load_json(self.state_dir / SKIPPED_FILE):
                _save_json(self.state_dir / SKIPPED_FILE, skipped)
        for status in self.status:
            status.entries = counts_by_source.get(status.source.key, 0)
        self.entries = E.newest_first(E.dedupe(all_entries))
        mark_shared_ids(self.entries)
        timeout = float(self.settings.get("PLANET_SERVICE_TIMEOUT", service_client.PLANET_TIMEOUT))
        counts = self._comment_counts(timeout)
        for entry in self.entries:
            if entry.source.member:
                entry.comments = counts.get(entry.link, 0) if counts else None
        self.debates = fetch_debates(self.settings.get("COMMENTS_URL", ""), self.sources, timeout=timeout)

    def _comment_counts(self, timeout: float) -> dict[str, int]:
        """Approved comments per member post; {} when the service did not answer (no count shown).

        Asked of the service only for the blogs whose comments_version (PLANET_COMMENT_VERSIONS, from the service's
        `GET api/sites`, asked before) moved since their counts were kept in COUNTS_FILE, and for posts it was not
        asked about yet: at 200 blogs, asking for every post of the network was a hundred requests a publish."""
        versions = self.settings.get("PLANET_COMMENT_VERSIONS")
        links: dict[str, list[str]] = {}
        for entry in self.entries:
            if entry.source.member:
                links.setdefault(entry.source.key, []).append(entry.link)
        kept = _load_json(self.state_dir / COUNTS_FILE) if versions else {}
        counts: dict[str, int] = {}
        wanted: list[str] = []
        for key, urls in links.items():
            known = kept.get(key) if isinstance(kept.get(key), dict) else {}
            known_counts = known.get("counts") if isinstance(known.get("counts"), dict) else {}
            same = versions is not None and versions.get(key) is not None and known.get("version") == versions[key]
            for url in urls:
                if same and isinstance(known_counts.get(url), int):
                    counts[url] = known_counts[url]
                else:
                    wanted.append(url)
        if wanted:
            asked = fetch_counts(self.settings.get("COMMENTS_URL", ""), wanted, timeout)
            if not asked:
                return {}
            counts.update(asked)
        if versions:
            now = {key: {"version": versions[key], "counts": {url: counts.get(url, 0) for url in urls}}
                   for key, urls in links.items() if versions.get(key) is not None}
            if now != kept:
                _save_json(self.state_dir / COUNTS_FILE, now)
        return counts

    def _records(self, body: bytes | Path, source: E.Source, address: str = "") -> tuple[str, list[dict], list[str]]:
        length = int(self.settings.get("PLANET_EXCERPT_LENGTH", E.EXCERPT_LENGTH))
        return records_for(body, source, self.state_dir, length, address)

    def _body(self, source: E.Source, state: dict) -> tuple[bytes | Path | None, FeedStatus]:
        """A feed's body (a member blog's: its file, read by records_for if need be) and its status line."""
        status = FeedStatus(source=source, state="ok")
        if source.member:
            path = Path(source.path)
            try:
                info = path.stat()
            except OSError:
                info = None
            if info is None or not stat.S_ISREG(info.st_mode):
                status.state, status.last_error = "absent", "blog pas encore construit"
                return None, status
            status.last_success = datetime.fromtimestamp(info.st_mtime, UTC)
            return path, status
        status.http_status = state.get("http_status")
        status.last_success = _iso(state.get("last_success"))
        status.last_error = state.get("last_error") or ""
        status.last_error_at = _iso(state.get("last_error_at"))
        status.last_changed = _iso(state.get("last_changed"))
        status.failures = int(state.get("failures") or 0)
        status.discovered = state.get("discovered") or ""
        status.moved = state.get("moved") or ""
        status.address = fetch.feed_address(state, source.feed_url)
        if state.get("gone"):
            status.state = "supprime"
            return None, status  # 410: the blog is gone, its entries go with it
        copy = fetch.last_good_copy(self.state_dir, source.feed_url)
        if copy is None:
            status.state = "jamais" if not status.last_error else "erreur"
            return None, status
        if status.last_error:
            status.state = "erreur"  # shown from its last good copy
        return copy.read_bytes(), status

    # output ---------------------------------------------------------------------------------------

    def template(self, name: str):
        if name not in self._templates:
            self._templates[name] = self.env.get_template(f"planet/{name}.html")
        return self._templates[name]

    def generate_output(self, writer):
        siteurl = self.settings["SITEURL"]
        per_page = int(self.settings.get("PLANET_PER_PAGE", 15))
        # The streams of the whole network stop after max_pages: a new post shifts every page of a stream, and
        # an unbounded one made a publish cost as many pages as the network has posts. A blog's page lists its
        # feed's entries; every post stays on its blog and in the search.
        newest = per_page * max(1, int(self.settings.get("PLANET_MAX_PAGES", 10)))
        blogs = sorted(self.sources, key=lambda s: (not s.member, s.title.lower()))
        specialties = self._specialties()
        base = {
            "PLANET_BLOGS": blogs,
            "PLANET_SPECIALTIES": specialties,
            "PLANET_DEBATES": self.debates,
            "PLANET_ATOM": ATOM,
            "PLANET_RSS": RSS,
            "PLANET_OPML": OPML,
            "PLANET_SEARCH_ENABLED": bool(self.settings.get("PLANET_SEARCH")),
            "PLANET_GENERATED": datetime.now(UTC),
            "PLANET_TOTAL": len(self.entries),
            "PLANET_BLOG_COUNT": len(blogs),
            "PLANET_RECENT_BLOGS": self._recent_blogs(blogs),
            "page_feeds": [],
        }
        digests = {key: _digest(value) for key, value in base.items()}  # once, not again for each of its pages

        shown_by_template: dict[str, str | None] = {}

        def inputs(template: str, extra: dict):
            """What a page is made from; None when it shows the build's time (then always made again)."""
            if template not in shown_by_template:  # the network-wide names it shows, as one digest
                used = self._names_used(template)
                shown = sorted(key for key in base if used is None or key in used)
                shown_by_template[template] = (None if "PLANET_GENERATED" in shown
                                               else _digest([(k, digests[k]) for k in shown]))
            shown = shown_by_template[template]
            return None if shown is None else (template, shown, extra)

        def write(name: str, template: str, **extra):
            made_from = inputs(template, extra)
            if made_from is not None and self._reused(name, made_from):
                return
            context = dict(self.context)
            context.update(base)
            context.update(extra)
            writer.write_file(name, self.template(template), context, relative_urls=False)

        self._paginated(write, "", "index", self.entries[:newest], per_page, kind="accueil",
                        older=len(self.entries) > newest)
        by_blog: dict[str, list] = {}
        by_specialty: dict[str, list] = {}
        for entry in self.entries:
            by_blog.setdefault(entry.source.key, []).append(entry)
            by_specialty.setdefault(entry.source.specialty, []).append(entry)
        links: dict[str, dict[str, str]] = {BLOGS: {}, f"{FEEDS}/{BLOGS}": {}}  # served through the blogs' folders
        for blog in blogs:
            own = by_blog.get(blog.key, [])
            stem = f"{FEEDS}/{BLOGS}/{blog.key}"
            feed = (own, stem, f"{blog.title} — via {self.settings['SITENAME']}",
                    blog.site_url or f"{siteurl}/{BLOGS}/{blog.key}/")
            pages = (f"{BLOGS}/{blog.key}/", "entries", own, per_page)
            extra = {"kind": "blog", "blog": blog, "page_feeds": self._feed_links(stem, feed[2]), "heading": blog.title}
            kept = self._blog_folder(blog, feed, pages, extra, inputs)
            age = _age(kept) if kept is not None else None
            if age is None:
                self._feeds(*feed)
                self._paginated(write, *pages, **extra)
            if kept is not None:
                self._keep_blog(blog, kept, age)
                links[BLOGS][blog.key] = f"{kept.name}/pages"
                for _, ext, _, _ in FEED_KINDS:
                    links[f"{FEEDS}/{BLOGS}"][f"{blog.key}.{ext}"] = f"{kept.name}/{FEEDS}/{blog.key}.{ext}"
        if self.settings.get("PLANET_BLOG_STORE"):
            _save_json(Path(self.output_path) / BLOG_MANIFEST, {"links": links})
        for spec in specialties:
            own = by_specialty.get(spec["name"], [])
            feeds = self._feeds(own, f"{FEEDS}/{SPECIALTIES}/{spec['slug']}",
                                f"{spec['name']} — {self.settings['SITENAME']}", f"{siteurl}/{SPECIALTIES}/{spec['slug']}/")
            self._paginated(write, f"{SPECIALTIES}/{spec['slug']}/", "entries", own[:newest], per_page,
                            kind="specialite", specialty=spec, page_feeds=feeds, heading=spec["name"],
                            older=len(own) > newest)
        self._feeds(self.entries, "feeds/all", self.settings["SITENAME"], f"{siteurl}/")
        write(f"{BLOGS}/index.html", "blogs", nav="blogs")
        write(f"{SPECIALTIES}/index.html", "specialties", nav="specialites")
        write(f"{DEBATES}/index.html", "debates", nav="debats")
        write(f"{SEARCH}/index.html", "search", nav="recherche")
        write(f"{STATUS}/index.html", "status", nav="etat", PLANET_STATUS=self.status)
        self._opml(blogs)
        names = {name: None if used is None else sorted(used) for name, used in self._used.items()}
        _save_json(Path(self.output_path) / PAGES_FILE, {"layout": self._layout, "pages": self._made, "names": names})

    # pages and feeds made before -----------------------------------------------------------------------

    def _names_used(self, template: str) -> frozenset[str] | None:
        """The context names a page template reads, its parents, includes and macros with it (jinja2.meta); None
        when one is named at run time: then every name counts. A page's key takes only those. Parsing the
        templates costs ~0.2 s: the names are kept in PAGES_FILE and read again under the same layout."""
        if template in self._used:
            return self._used[template]
        from jinja2 import meta

        names: set[str] = set()
        todo, seen = [f"planet/{template}.html"], set()
        while todo:
            name = todo.pop()
            if name is None:
                names = None
                break
            if name in seen:
                continue
            seen.add(name)
            ast = self.env.parse(self.env.loader.get_source(self.env, name)[0])
            names |= meta.find_undeclared_variables(ast)
            todo += list(meta.find_referenced_templates(ast))
        self._used[template] = frozenset(names) if names is not None else None
        return self._used[template]

    def _reused(self, name: str, inputs) -> bool:
        """Link `name` from the live release when it was made there from the same `inputs`; record its key.

        The key is a sha256 of the inputs' repr (entries, sources and debates are dataclasses: every field
        counts), under the layout (PLANET_LAYOUT: the planet's files, theme, plugins and settings) and the
        planet's own settings. Pages that show the build's time (PLANET_GENERATED) are always made.
        """
        key = hashlib.sha256(repr(self._keyable(inputs)).encode()).hexdigest()
        self._made[name] = key
        if not self._previous or self._before.get(name) != key:
            return False
        target = Path(self.output_path) / name
        try:
            if target.parent not in self._folders:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._folders.add(target.parent)
            os.link(self._previous / name, target)  # same filesystem (the releases' folder): no copy
        except OSError:
            return False
        return True

    def _recent_blogs(self, blogs: list, limit: int = RECENT_BLOGS) -> list:
        """At most `limit` blogs for the home page's aside, those of the newest entries first (/blogs/ lists them all)."""
        keys: dict[str, None] = {}
        for entry in self.entries:
            keys.setdefault(entry.source.key)
            if len(keys) == limit:
                break
        by_key = {blog.key: blog for blog in blogs}
        recent = [by_key[key] for key in keys if key in by_key]
        return (recent + [blog for blog in blogs if blog.key not in keys])[:limit]

    def _keyable(self, value):
        """`value` with each entry and source replaced by a key, made once for each: an entry is on three pages
        and two feeds or more, and its repr (with its source's) was most of the cost of a page's key."""
        if type(value) in _SCALARS:
            return value
        if isinstance(value, E.Entry | E.Source):
            key = self._entry_keys.get(id(value))
            if key is None:
                if isinstance(value, E.Entry):  # its source: one digest for all its entries
                    key = (lasting_key(value, self._keyable(value.source)), value.comments, value.shared_id)
                else:
                    key = _digest(value)
                self._entry_keys[id(value)] = key
            return key
        if isinstance(value, list | tuple):
            keys = self._entry_keys  # a page's or a feed's entries: each known after its first page
            return [keys.get(id(item)) or self._keyable(item) for item in value]
        if isinstance(value, dict):
            return {key: self._keyable(item) for key, item in value.items()}
        return value

    def _specialties(self) -> list[dict]:
        names = sorted({s.specialty for s in self.sources if s.specialty}, key=str.lower)
        result = []
        for name in names:
            result.append({
                "name": name,
                "slug": slugify(name, default="x"),
                "blogs": [s for s in self.sources if s.specialty == name],
                "count": sum(1 for e in self.entries if e.source.specialty == name),
            })
        return result

    def _paginated(self, write, base: str, template: str, items: list, per_page: int, **extra):
        pages = max(1, math.ceil(len(items) / per_page))
        nav = "accueil" if not base else extra.get("kind")
        for number in range(1, pages + 1):
            url = page_url(base, number)
            write(
                f"{url}index.html" if url else INDEX,
                template,
                planet_entries=items[(number - 1) * per_page : number * per_page],
                page_number=number,
                page_count=pages,
                page_base=base,
                previous_url=page_url(base, number - 1) if number > 1 else None,
                next_url=page_url(base, number + 1) if number < pages else None,
                nav=nav,
                **extra,
            )

    def _feed_links(self, stem: str, title: str) -> list[dict]:
        """The descriptions of `<stem>.atom.xml` and `<stem>.rss.xml` for a page's <head>."""
        siteurl = self.settings["SITEURL"]
        return [{"href": f"{siteurl}/{stem}.{ext}", "type": mime, "title": f"{title} ({label})"}
                for _, ext, mime, label in FEED_KINDS]

    def _feed_inputs(self, items: list[E.Entry], ext: str, title: str, link: str) -> tuple:
        return (ext, title, link, items[:int(self.settings.get("PLANET_FEED_ITEMS", 50))])

    def _feeds(self, items: list[E.Entry], stem: str, title: str, link: str) -> list[dict]:
        """Write `<stem>.atom.xml` and `<stem>.rss.xml`; return their descriptions for the page's <head>.

        A feed's atom:id is the address of its page (`link`) when that page is the planet's; a blog's feed leads to
        the blog, whose own feed has the blog's address for id (a member's, most outside ones): it has its own
        address (RFC 4287: one id, one feed). An RSS guid is a permalink only when it is the item's address."""
        siteurl = self.settings["SITEURL"]
        limit = int(self.settings.get("PLANET_FEED_ITEMS", 50))
        for cls, ext, _, _ in FEED_KINDS:
            path = f"{stem}.{ext}"
            if self._reused(path, self._feed_inputs(items, ext, title, link)):
                continue
            feed = cls(
                title=title,
                link=link,
                description=self.settings.get("SITE_DESCRIPTION") or title,
                language="fr",
                feed_url=f"{siteurl}/{path}",
                feed_guid=f"{siteurl}/{path}" if stem.startswith(f"{FEEDS}/{BLOGS}/") else None,
                author_name=self.settings.get("NETWORK_NAME", ""),
            )
            for entry in with_content(items[:limit], self.state_dir, self._content):
                updated = entry.updated if entry.updated and entry.updated > entry.date else None
                feed.add_item(
                    title=entry.title,
                    link=entry.link,
                    description=entry.content_html or f"<p>{Markup.escape(entry.excerpt)}</p>",
                    author_name=entry.author or None,
                    pubdate=entry.date,
                    updateddate=updated,
                    unique_id=(guid := published_id(entry)),
                    unique_id_is_permalink=guid == entry.link,
                    categories=[c for c in (entry.source.specialty, entry.source.title) if c],
                    # a podcast episode's file, as its feed gave it: podcast apps can play it from the planet's feeds
                    enclosures=[Enclosure(entry.enclosure["url"], str(entry.enclosure["length"]),
                                          entry.enclosure["type"])] if entry.enclosure else None,
                )
            target = Path(self.output_path) / path
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8") as handle:
                feed.write(handle, "utf-8")
        return self._feed_links(stem, title)

    # a blog's pages and feeds, kept outside the release (PLANET_BLOG_STORE) ---------------------------------

    def _blog_folder(self, blog: E.Source, feed: tuple, pages: tuple, extra: dict, inputs) -> Path | None:
        """The folder that holds, or will hold, the blog's planet pages and feeds for what they show; None without
        a store, or when a page of theirs shows the build's time (then they are written in the release)."""
        store = self.settings.get("PLANET_BLOG_STORE")
        if not store:
            return None
        # What the pages and feeds are made from, made of keys first (_keyable), not each page's again: the blog's
        # entries once (each page shows a slice of them, each feed their first ones: their counts say which) and
        # what all its pages share. At 200 blogs, going over every page's inputs was most of a publish's planet.
        # The entries' lasting part was read ahead for most blogs of a publish (PLANET_READ_AHEAD), in the same order.
        base, template, items, per_page = pages
        ahead = self._lasting.get(blog.key)
        same = ahead is not None and len(ahead[0]) == len(items) and all(map(operator.is_, ahead[0], items))
        made_from: list = [ahead[1] if same else lasting_digest(items), [entry.comments for entry in items],
                           [entry.shared_id for entry in items]]

        def page(name: str, template: str, planet_entries: list, **shown):
            made_from.append((name, len(planet_entries), inputs(template, shown)))

        self._paginated(page, base, template, items, per_page, **{**extra, "blog": self._keyable(extra["blog"])})
        if any(made is None for *_, made in made_from[3:]):
            return None
        for _, ext, _, _ in FEED_KINDS:
            *settings, shown = self._feed_inputs(feed[0], ext, *feed[2:])
            made_from.append((*settings, len(shown) if feed[0] is items else self._keyable(shown)))
        digest = hashlib.sha256(repr((self._layout, made_from)).encode()).hexdigest()[:32]
        return Path(f"{store}{blog.key}-{digest}")

    def _keep_blog(self, blog: E.Source, kept: Path, age: float | None):
        """Move what was just written for the blog into `kept` (unless another build made it meanwhile); mark a
        kept folder (`age`: seconds since it was marked) used: publish drops those no release used for a while."""
        if age is not None:
            if age > BLOG_PAGES_GRACE / 4:  # now and then, not at every build: 200 blogs, 200 writes
                os.utime(kept)
            return
        out = Path(self.output_path)
        stage = kept.with_name(f".{kept.name}.{os.getpid()}")
        (stage / FEEDS).mkdir(parents=True, exist_ok=True)
        os.replace(out / BLOGS / blog.key, stage / "pages")
        for _, ext, _, _ in FEED_KINDS:
            os.replace(out / FEEDS / BLOGS / f"{blog.key}.{ext}", stage / FEEDS / f"{blog.key}.{ext}")
        try:
            os.rename(stage, kept)
        except OSError:  # made meanwhile by another build, from the same inputs
            shutil.rmtree(stage, ignore_errors=True)

    def _opml(self, blogs: list[E.Source]):
        gone = {s.source.key for s in self.status if s.state == "supprime"}
        root = ET.Element("opml", version="2.0")
        head = ET.SubElement(root, "head")
        ET.SubElement(head, "title").text = f"{self.settings['SITENAME']} — les blogs du réseau"
        ET.SubElement(head, "dateCreated").text = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")
        ET.SubElement(head, "docs").text = "http://opml.org/spec2.opml"
        body = ET.SubElement(root, "body")
        groups = (("Blogs du réseau", [b for b in blogs if b.member]),
                  ("Blogs amis", [b for b in blogs if not b.member and b.key not in gone]))
        for label, members in groups:
            if not members:
                continue
            group = ET.SubElement(body, "outline", text=label, title=label)
            for blog in members:
                attrs = {"type": "rss", "text": blog.title, "title": blog.title, "xmlUrl": blog.feed_url}
                if blog.site_url:
                    attrs["htmlUrl"] = blog.site_url
                if blog.specialty:
                    attrs["category"] = blog.specialty
                if blog.author:
                    attrs["description"] = blog.author
                ET.SubElement(group, "outline", attrs)
        ET.indent(root)
        target = Path(self.output_path) / OPML
        target.parent.mkdir(parents=True, exist_ok=True)
        ET.ElementTree(root).write(target, encoding="utf-8", xml_declaration=True)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _digest(value) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()


def _stable_repr(value):
    """A setting json cannot write, as it is the same in every process: sets sorted, functions and objects by name
    (their str holds a memory address). What they do is in the code, under PLANET_LAYOUT and CODE_STAMP."""
    if isinstance(value, (set, frozenset)):
        return sorted(map(str, value))
    return getattr(value, "__qualname__", None) or type(value).__qualname__


def _age(folder: Path) -> float | None:
    """Seconds since `folder` was last marked (its mtime); None when it is not a folder."""
    try:
        info = folder.stat()
    except OSError:
        return None
    return time.time() - info.st_mtime if stat.S_ISDIR(info.st_mode) else None


def _load_json(path: Path) -> dict:
    return _load(path, json.loads)


def _load_cache(path: Path) -> dict:
    """A cache file of records_for; {} when missing or unreadable (written by another Python's marshal, say)."""
    return _load(path, marshal.loads)


def _load(path: Path, loads) -> dict:
    try:
        data = loads(path.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return {}
    return data if isinstance(data, dict) else {}


def _save_cache(path: Path, data: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, marshal.dumps(data))


def _save_json(path: Path, data: dict):
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps(data, ensure_ascii=False, sort_keys=True))
