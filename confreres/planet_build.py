"""Build the planet (sites/planet) and publish it at the network's root, then index the network for search.

The planet is a Pelican site like the blogs, built in its own fresh process by the same
`releases.run_pelican`, with the `planet` plugin (plugins/planet) fed by the settings made here: the
member blogs (their built Atom feeds in `<out>/<slug>/feeds/all.atom.xml`) and the outside feeds
of `network.toml` (fetched over HTTP into `var/planet/`). A member blog's author shows the badge
"Médecin vérifié" only when the comment service says so (confreres.badges, its `GET /api/sites`).

Publishing at the root, atomically. `<out>/` also holds the blogs' symlinks, so the planet cannot
be one `<out>/<slug>` link. It is built into `<out>/.releases/planet-<stamp>-<pid>/`; the link
`<out>/.planet` points at the live release, and every top-level entry of the planet is a stable
link through it (`<out>/index.html -> .planet/index.html`, `<out>/feeds -> .planet/feeds`, ...).
Replacing `.planet` with one `rename` switches the whole planet at once: a reader never sees the
new front page with the old feeds. The top-level names are reserved in `registry.RESERVED_SLUGS`
(and a name that is a blog's slug is never exposed).

Search: Pagefind (the `pagefind[bin]` package) indexes every blog's article pages into the
planet's release (`pagefind/`) before the switch. Pagefind does not follow symlinks, so the live
article pages are hard-linked into a staging folder first (same filesystem: no copy). Pagefind parses them on
every core while the planet's Pelican run fetches the outside feeds; the planet reads its entries and makes its
pages once Pagefind has parsed them all (SearchIndexing.parsed), beside the rest of its run, which uses about one,
when its own work is expected to fit in that rest (SearchIndexing.planet_fits).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

from confreres import registry
from confreres.french import slugify
from confreres.registry import Network, Site
from confreres.releases import (
    RELEASES,
    STATE_FILE,
    THEME_DIR,
    BuildError,
    atomic_write,
    blog_lock,
    is_release,
    process_pool_context,
    release_name,
    run_pelican,
    swap_symlink,
    theme_static,
)
from confreres.releases import fingerprint as site_fingerprint
from confreres.releases import live_state as release_state

PLANET_SLUG = "planet"
LIVE = ".planet"
PAGEFIND_PARSED = "[Reading languages]"  # Pagefind's progress, after "[Parsing files]": every page read
PAGES_PER_FEED = 100  # SearchIndexing.planet_fits
# Pagefind's allocator (jemalloc): transparent huge pages (the kernel's usual `madvise` mode; nothing changes where
# THP is off), one arena and no purging while it runs (it lives seconds). Indexing 4,000 pages took ~234,000 page
# faults and ~1.1 s of system time; now ~3,000 and ~0.5 s, its peak memory 265 MB instead of 323 MB; the planet
# and its index ~0.15 s sooner in a 20 x 200 full build (bench/build.py). An operator's own _RJEM_MALLOC_CONF wins.
PAGEFIND_ENV = {"_RJEM_MALLOC_CONF": "thp:always,metadata_thp:always,narenas:1,dirty_decay_ms:-1,muzzy_decay_ms:-1"}
SEARCH_DIR = "pagefind"  # in a planet release: a link to `.releases/search-<release>/`, the index (publish)
SEARCH_PREFIX = "search-"
MEMBER_FEED = "feeds/all.atom.xml"


@dataclass
class PlanetResult:
    ok: bool
    seconds: float = 0.0
    error: str = ""
    release: str = ""
    search: str = ""  # "ok" | "kept" (the live index, KEEP_SEARCH) | "absent" (no pagefind) | "error: ..." | ""
    skipped: bool = False  # `front_page`: nothing the planet shows changed since the live one
    read_ahead: int = 0  # member feeds taken from what its process read while the blogs built (PlanetProcess)


ASK = object()  # `front_page(service=ASK)`: ask the comment service now
# `search=KEEP_SEARCH`: the new planet keeps the live search index (one blog published: indexing every blog's
# pages would cost the publish as much as the whole network); it is marked stale, and the next build that
# indexes (`confreres build`, the cron) brings it up to date.
KEEP_SEARCH = "keep"


def planet_site(network: Network) -> Site:
    """The planet as a Site: slug "planet", the network's URL and name."""
    return Site(
        slug=PLANET_SLUG,
        title=network.name,
        author="",
        url=network.url,
        description=network.tagline,
        path=network.planet_dir,
    )


def state_dir(network: Network) -> Path:
    return network.root / "var" / "planet"


def planet_sources(network: Network, out: Path, badges: dict[str, dict] | None = None) -> list[dict]:
    """The planet's sources for the plugin: member blogs (feed on disk) then outside feeds (HTTP).

    `badges` (confreres.badges.fetch: slug -> {label, title}) are the comment service's word on each
    member blog's author; a blog without one, or a service that did not answer (None), shows no badge.
    """
    result = []
    used = {s.slug for s in network.sites}
    for site in network.sites:
        badge = (badges or {}).get(site.slug)
        result.append({
            "key": site.slug,
            "kind": "member",
            "title": site.title,
            "author": site.author,
            "specialty": site.specialty,
            "site_url": site.url,
            "feed_url": site.url + MEMBER_FEED,
            "verified": badge is not None,  # decided by the service from its verification records
            "path": str(Path(out) / site.slug / MEMBER_FEED),
            "badge_label": badge["label"] if badge else "",
            "badge_title": badge["title"] if badge else "",
        })
    for feed in network.feeds:
        key = base = f"ext-{slugify(feed.title, default='blog')}"[:60]
        n = 2
        while key in used:
            key, n = f"{base}-{n}", n + 1
        used.add(key)
        result.append({
            "key": key,
            "kind": "outside",
            "title": feed.title,
            "author": feed.author,
            "specialty": feed.specialty,
            "site_url": "",
            "feed_url": feed.url,
            "verified": False,  # no verification of outside authors (yet)
            "path": "",
        })
    return result


def search_available() -> bool:
    try:
        from pagefind_bin import get_executable

        return Path(get_executable()).is_file()
    except Exception:
        return False


def planet_settings(network: Network, out: Path, fetch: bool = True, search: bool = True,
                    own: registry.PlanetSettings | None = None, service=None) -> dict:
    """Settings over the network's (`releases.pelican_settings`) for the planet's Pelican run.

    `own`: the `[planet]` table of sites/planet/site.toml (per page, feed sizes, timeouts).

    The member blogs' author badges and comments versions: what the comment service said before the build
    (`service`: confreres.freshness.fetch), else asked now (`GET /api/sites`, short timeout); down or in error,
    the planet is built without badges and a warning is logged.
    """
    from confreres import badges as author_badges
    from confreres import freshness, service_client

    own = own or registry.PlanetSettings()
    if service is not None:
        badges, versions = service.badges, service.versions
    else:
        listed = service_client.sites(network.comments_url)
        badges = None if listed is None else author_badges.verified(listed)
        versions = None if listed is None else freshness.comment_versions(listed)
    return {
        "PLUGINS": ["guard", "planet"],
        "PLANET_PER_PAGE": own.per_page,
        "PLANET_MAX_PAGES": own.max_pages,
        "PLANET_FEED_ITEMS": own.feed_items,
        "PLANET_EXCERPT_LENGTH": own.excerpt_length,
        "PLANET_SERVICE_TIMEOUT": own.service_timeout,
        "PLANET_FETCH_TIMEOUT": own.fetch_timeout,
        "PLANET_FETCH_MAX_BYTES": own.fetch_max_bytes,
        # The network's icon at the root, where browsers ask for it on every page of every blog (/favicon.ico).
        "EXTRA_PATH_METADATA": {"extra/favicon.ico": {"path": "favicon.ico"}},
        "PLANET_SOURCES": planet_sources(network, out, badges),
        # each blog's comments_version (confreres.freshness): its counts are asked again only when it moved
        "PLANET_COMMENT_VERSIONS": versions,
        "PLANET_STATE_DIR": str(state_dir(network)),
        # The live release and what its pages were made from: a page whose inputs did not change is linked from
        # it instead of rendered (plugins/planet), so publishing one blog does not render the whole network.
        "PLANET_PREVIOUS": str((Path(out) / LIVE).resolve()) if (Path(out) / LIVE).is_symlink() else "",
        "PLANET_LAYOUT": site_fingerprint(network, planet_site(network), network.planet_dir),
        # each blog's planet pages and feeds, made once for what they show, beside the releases (publish links them)
        "PLANET_BLOG_STORE": str(Path(out) / RELEASES / BLOG_PAGES_PREFIX),
        "PLANET_FETCH": fetch,
        "PLANET_SEARCH": search and search_available(),
        # The planet writes its own index, feeds and lists; Pelican's blog pages are not wanted.
        "DIRECT_TEMPLATES": [],
        "FEED_ALL_ATOM": None,
        "FEED_ALL_RSS": None,
        "CATEGORY_FEED_ATOM": None,
        "CATEGORY_FEED_RSS": None,
        "TAG_FEED_ATOM": None,
        "TAG_FEED_RSS": None,
        "PAGE_URL": "pages/{slug}.html",
        "PAGE_SAVE_AS": "pages/{slug}.html",
        # the network's own fediverse actor, which boosts every member post (docs/federation.md)
        "FEDIVERSE_HANDLE": network.handle(registry.NETWORK_ACTOR),
        "FEDIVERSE_ACTOR": network.actor_url(registry.NETWORK_ACTOR),
    }


def fingerprint(network: Network, out: Path) -> str:
    """sha256 over what the planet is made of on this machine: its files, the theme and plugins, network.toml's
    outside feeds, and the live release of every member blog (a rebuilt blog: new feed, pages to index)."""
    digest = hashlib.sha256(site_fingerprint(network, planet_site(network), network.planet_dir).encode())
    digest.update(json.dumps([asdict(feed) for feed in network.feeds], sort_keys=True, default=str).encode())
    digest.update(b"search" if search_available() else b"no search")
    for site in network.sites:
        link = Path(out) / site.slug
        digest.update(f"\0{site.slug}\0{os.readlink(link) if link.is_symlink() else ''}".encode())
    return digest.hexdigest()


def live_state(out: Path) -> dict:
    return release_state(Path(out), LIVE)


def stamp(network: Network, out: Path, service=ASK) -> dict:
    """What the planet's state file records: its fingerprint, and the digest of what it shows from the comment
    service (confreres.freshness; None when the service did not answer: compared again when it does)."""
    from confreres import freshness

    if service is ASK:
        service = freshness.fetch(network.comments_url)
    return {"fingerprint": fingerprint(network, out), "service": service.planet if service else None}


def build_planet(network: Network | str, out: str, fetch: bool = True, search: bool = True,
                 state: dict | None = None, service=None, staged: Staging | None = None) -> PlanetResult:
    """Build the planet into a new release, index the network, switch it live. Runs in a child process.

    `network`: the parent's (see confreres.build.build_site), or the path of its file.

    `state`: the planet's `stamp`, taken before the build (taken here when not given), recorded in the release.
    `service`: what the comment service said before the build (confreres.freshness.fetch; None: asked here).
    """
    start = time.perf_counter()
    network = registry.load(network) if isinstance(network, str) else network
    # One planet build at a time (two pushes of different blogs, a push during cron's build): each publish drops
    # the planet's other releases, and dropped the one another build was writing, or about to put live.
    with blog_lock(Path(out), PLANET_SLUG):
        return _build_planet(network, Path(out), fetch, search, state, service, staged, start)


def _build_planet(network: Network, out_dir: Path, fetch: bool, search: bool | str, state: dict | None, service,
                  staged: Staging | None, start: float) -> PlanetResult:
    site = planet_site(network)
    discard_dead_builds(out_dir)
    releases = out_dir / RELEASES
    releases.mkdir(parents=True, exist_ok=True)
    release = releases / release_name(PLANET_SLUG)
    try:
        if not network.planet_dir.is_dir():
            raise BuildError(f"planet: no folder {network.planet_dir}")
        try:
            own = registry.load_site_settings(network.planet_dir, planet=True)
        except registry.RegistryError as exc:
            raise BuildError(f"planet: {exc}") from None
        state = stamp(network, out_dir) if state is None else state
        indexing = SearchIndexing(network, out_dir, staged).start() if search is True else None
        try:
            settings = planet_settings(network, out_dir, fetch, bool(search), own.planet, service)
            ahead = _take_read_ahead()
            if ahead is not None:
                settings["PLANET_READ_AHEAD"] = ahead
            if indexing is not None and indexing.planet_fits(len(settings["PLANET_SOURCES"])):
                settings["PLANET_AFTER_PARSING"] = indexing.parsed
            run_pelican(network, site, network.planet_dir, release, own=own, extra=settings)
        except BaseException:
            if indexing is not None:
                indexing.close()
            raise
        searched = indexing.result() if indexing is not None else ""
        if search == KEEP_SEARCH:
            if keep_search(out_dir, release):
                searched = "kept"
            else:  # no live index to keep (a first build, an older layout)
                indexing = SearchIndexing(network, out_dir).start()
                searched = indexing.result()
        (release / STATE_FILE).write_text(json.dumps({**state, "built": time.time(), "search_stale": searched == "kept",
                                                      "read_ahead": ahead.taken if ahead is not None else 0}),
                                          encoding="utf-8")
        publish(network, out_dir, release, indexing.made() if indexing is not None else None)
        return PlanetResult(True, time.perf_counter() - start, release=str(release), search=searched,
                            read_ahead=ahead.taken if ahead is not None else 0)
    except BuildError as exc:
        _discard(release)
        return PlanetResult(False, time.perf_counter() - start, error=str(exc))
    except Exception as exc:
        _discard(release)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return PlanetResult(False, time.perf_counter() - start, error=f"planet: build failed: {detail}")


def _take_read_ahead():
    global _READ_AHEAD
    ahead, _READ_AHEAD = _READ_AHEAD, None
    return ahead


def discard_dead_builds(out: Path):
    """Remove what builds killed before they ended (the OOM killer, `kill -9`) left beside the releases: a planet
    release not live, the pages staged for Pagefind and its index in progress (under the planet's build lock: no
    other planet build runs), and the pages a build of the blogs staged for it, once that build's process is gone.
    Nothing else removed them, and each crash left another search index."""
    releases = Path(out) / RELEASES
    live = (Path(out) / LIVE).resolve()
    with contextlib.suppress(OSError):
        for entry in os.scandir(releases):
            staging = re.fullmatch(r"\.search-stage-(\d+)", entry.name)
            if is_release(entry.name, PLANET_SLUG):
                dead = Path(entry.path) != live
            elif staging:
                dead = not _running(int(staging[1]))
            else:
                dead = re.fullmatch(r"\.search(-index)?-\d+", entry.name) is not None
            if dead:
                shutil.rmtree(entry.path, ignore_errors=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's: running
    return True


def _discard(release: Path):
    """A release that failed, and the search index made for it, not published."""
    shutil.rmtree(release, ignore_errors=True)
    shutil.rmtree(index_in_progress(release.parent), ignore_errors=True)


def index_in_progress(releases: Path) -> Path:
    """Where this process makes the search index, until `publish` names it after its release."""
    return releases / f".search-index-{os.getpid()}"


def publish(network: Network, out: Path, release: Path, index: Path | None = None):
    """Switch `<out>/.planet` to `release` in one rename; expose its entries at the root; drop old releases.

    `index`: the search index made for this release (SearchIndexing.made); it becomes `.releases/search-<release>`
    and the release's `pagefind` a link to it. The index lives beside the planet's releases, not in them: a
    release that keeps the live index links the same folder (keep_search) instead of copying its ~10,000 files.
    """
    out = Path(out)
    blogs = {s.slug for s in network.sites}
    with open(out / RELEASES / ".planet.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if index is not None:  # named and linked under the lock: no other publish drops it meanwhile
            named = out / RELEASES / f"{SEARCH_PREFIX}{release.name}"
            os.replace(index, named)
            (release / SEARCH_DIR).symlink_to(f"../{named.name}")
        kept_pages = _share_blog_pages(out / RELEASES, release)
        live = out / LIVE
        swap_symlink(live, os.path.relpath(release, out), f"{LIVE}.swap")
        names = {p.name for p in release.iterdir() if not p.name.startswith(".") and p.name not in blogs}
        for name in sorted(names):
            _expose(out, name)
        for entry in os.scandir(out):  # entries the new planet no longer has (the blogs' links are not its)
            if (entry.name not in names and entry.name not in blogs and entry.is_symlink()
                    and os.readlink(entry.path).startswith(LIVE + "/")):
                os.unlink(entry.path)
        current = live.resolve()
        searched = current / SEARCH_DIR
        kept = searched.resolve() if searched.is_symlink() else None
        for entry in os.scandir(out / RELEASES):  # one pass: at 200 blogs the folder holds ~600 entries
            if is_release(entry.name, PLANET_SLUG):
                served = current
            elif entry.name.startswith(SEARCH_PREFIX) and is_release(entry.name[len(SEARCH_PREFIX):], PLANET_SLUG):
                served = kept  # (registry.RESERVED_SLUGS: no blog is "search-planet")
            else:
                continue
            if Path(entry.path).resolve() != served:
                shutil.rmtree(entry.path, ignore_errors=True)
        if kept_pages is not None:
            _collect_blog_pages(out / RELEASES, kept_pages)


# Each blog's planet pages and feeds (plugins/planet, PLANET_BLOG_STORE) live in .releases/_planet-pages-<key>-<digest>/,
# made once for what they show. The release's manifest says which links its folders hold (blogs/<key>,
# feeds/blogs/<key>.atom.xml...); at its publish each such folder becomes a link to one shared folder of links,
# .releases/_planet-links-<folder>/, where only the links that changed are replaced and the folder's own files
# (the blogroll, blogs/index.html) are put. Publishing one blog thus creates a few files, not a folder, four pages
# and two feeds for every blog of the network.
BLOG_MANIFEST = ".planet-blogs.json"  # in a release, by plugins/planet: {"links": {folder: {name: target}}}
BLOG_PAGES_PREFIX = "_planet-pages-"  # no blog's slug starts with "_": never taken for a blog's release
LINKS_PREFIX = "_planet-links-"
BLOG_PAGES_GRACE = 3600  # seconds: a build that started before a publish may still name a blog's older pages


def shared_links(releases: Path, folder: str) -> Path:
    """The shared folder of links that a release's `folder` (e.g. "feeds/blogs") is a link to."""
    return Path(releases) / f"{LINKS_PREFIX}{folder.replace('/', '-')}"


def _share_blog_pages(releases: Path, release: Path) -> set[str] | None:
    """Turn each folder of links the release's manifest names into a link to its shared folder, that folder
    made to hold those links and the release folder's own files (under the planet's lock: builds prepare,
    publishes change what is served); return the kept folders the links name, None without a manifest."""
    try:
        folders = json.loads((release / BLOG_MANIFEST).read_text(encoding="utf-8"))["links"]
        folders = {folder: dict(links) for folder, links in folders.items()
                   if ".." not in Path(folder).parts and not Path(folder).is_absolute()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # no store: the release holds its blogs' pages itself
    used = set()
    for folder, links in folders.items():
        own, shared = release / folder, shared_links(releases, folder)
        files = [entry for entry in os.scandir(own) if entry.is_file(follow_symlinks=False)] if own.is_dir() else []
        _sync_links(shared, links, keep={entry.name for entry in files})
        for entry in files:  # e.g. the blogroll: in place in one rename, unless it is the same file already
            served = shared / entry.name
            if served.is_file() and os.path.samefile(entry.path, served):
                continue
            staged = shared / f".{entry.name}.{os.getpid()}"
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
            os.link(entry.path, staged)
            os.replace(staged, served)
        shutil.rmtree(own, ignore_errors=True)  # what is left there: those files, empty folders
        own.parent.mkdir(parents=True, exist_ok=True)
        own.symlink_to(os.path.relpath(shared, own.parent))
        used.update(target.split("/", 1)[0] for target in links.values())
    return used


def _sync_links(folder: Path, wanted: dict[str, str], keep: frozenset | set = frozenset()):
    """Make `folder` hold a link `name` -> `../<target>` for each of `wanted`, and nothing else but `keep`;
    a link already right is left alone, one to change is replaced in one rename."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in os.scandir(folder):
        if entry.name not in wanted and entry.name not in keep:
            with contextlib.suppress(OSError):  # only links and files are made here
                os.unlink(entry.path)
    for name, target in wanted.items():
        link = folder / name
        target = f"../{target}"
        try:
            if os.readlink(link) == target:
                continue
        except OSError:
            pass
        swap_symlink(link, target, f".{name}.swap")


def _collect_blog_pages(releases: Path, used: set[str]):
    """Drop the kept pages of blogs that the live release does not link (`used`) and no build has used for a
    while, and the half-made ones of builds that died."""
    old = time.time() - BLOG_PAGES_GRACE
    for entry in os.scandir(releases):
        if entry.name.startswith((BLOG_PAGES_PREFIX, f".{BLOG_PAGES_PREFIX}")) and entry.name not in used:
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < old:
                    shutil.rmtree(entry.path, ignore_errors=True)


def _expose(out: Path, name: str):
    """`<out>/<name>` -> `.planet/<name>` (replacing a plain file or folder of an older layout)."""
    link = out / name
    target = f"{LIVE}/{name}"
    if link.is_symlink() and os.readlink(link) == target:
        return
    if link.is_dir() and not link.is_symlink():  # e.g. the theme/ folder of the plain network index
        old = out / f".{name}.old-{os.getpid()}"
        os.replace(link, old)
        swap_symlink(link, target, f".{name}.planet")
        shutil.rmtree(old, ignore_errors=True)
    else:
        swap_symlink(link, target, f".{name}.planet")


def keep_search(out: Path, release: Path) -> bool:
    """Give `release` the live planet's search index (its link to it; the files, hard-linked, from an older
    layout that kept the index inside the release); False without one."""
    live = (Path(out) / LIVE).resolve() / SEARCH_DIR
    if live.is_symlink() and live.resolve().is_dir():
        (release / SEARCH_DIR).symlink_to(os.readlink(live))
        return True
    if not live.is_dir():
        return False
    shutil.copytree(live, release / SEARCH_DIR, copy_function=os.link)
    return True


@dataclass
class Staging:
    """Blogs' article pages hard-linked for Pagefind as each blog is built (confreres.build calls `add` while the
    other blogs build), so that the planet's SearchIndexing starts Pagefind at once: it stages only the blogs
    not staged here (those the build skipped). `folder` is beside the releases; the build `discard`s what is left."""

    network: Network
    out: Path
    folder: Path | None = None
    pages: dict[str, int] = field(default_factory=dict)  # slug -> how many of its pages are staged

    def __post_init__(self):
        self.out = Path(self.out)
        self.folder = self.folder or self.out / RELEASES / f".search-stage-{os.getpid()}"

    def add(self, slug: str):
        """Stage `slug`'s live pages (again, when a build of it replaced them: a blog rebuilt for its links). Never
        fails the build: a blog it could not stage is left to the indexing, which says why if it cannot either."""
        self.pages.pop(slug, None)
        shutil.rmtree(self.folder / slug, ignore_errors=True)
        try:
            self.pages[slug] = _stage_site(self.out / slug, self.network.site(slug), self.folder / slug)
        except OSError:
            shutil.rmtree(self.folder / slug, ignore_errors=True)

    def discard(self):
        shutil.rmtree(self.folder, ignore_errors=True)


class SearchIndexing:
    """Pagefind over every blog's article pages, beside the planet's pages; `publish` takes the index.

    `start()` stages the pages and starts Pagefind; `parsed()` waits until it has read them all (its parsing
    keeps every core busy, the rest of its run, writing the index, about one); `result()` waits for its end. It
    never fails the planet: the outcome is "ok", "absent" or "error: ...".
    """

    def __init__(self, network: Network, out: Path, staged: Staging | None = None):
        self.network, self.out, self.staged = network, Path(out), staged
        self.stage = self.out / RELEASES / f".search-{os.getpid()}"
        self.index = index_in_progress(self.out / RELEASES)
        self.proc: subprocess.Popen | None = None
        self.outcome = ""
        self.pages = 0
        self.said: list[str] = []
        self._parsed = threading.Event()
        self._reader: threading.Thread | None = None

    def start(self) -> SearchIndexing:
        try:
            from pagefind_bin import get_executable

            executable = get_executable()
        except Exception:
            self.outcome = "absent"
            return self
        shutil.rmtree(self.stage, ignore_errors=True)
        shutil.rmtree(self.index, ignore_errors=True)
        try:
            done: dict[str, int] = {}
            if self.staged is not None and self.staged.folder.is_dir():
                os.replace(self.staged.folder, self.stage)  # staged while the blogs were built: same filesystem
                done = self.staged.pages
            pages = sum(done.values())
            pages += sum(_stage_site(self.out / site.slug, site, self.stage / site.slug)
                         for site in self.network.sites if site.slug not in done)
            self.pages = pages
            if not pages:
                self.outcome = "ok"
                return self
            self.proc = subprocess.Popen(
                # every page is French (DEFAULT_LANG): saying so spares Pagefind reading each page's language;
                # and it reads the article only (its filters and metadata are in it: article.html), not the whole
                # page: the same index for a quarter less of its time. Not --silent: its progress says when
                # it has parsed every page (`parsed`).
                [str(executable), "--site", str(self.stage), "--output-path", str(self.index),
                 "--force-language", "fr", "--root-selector", "[data-pagefind-body]"],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                env=PAGEFIND_ENV | dict(os.environ),
            )
        except OSError as exc:
            self._failed(str(exc))
            return self
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self

    def _read(self):
        for line in self.proc.stdout:
            self.said.append(line)
            if line.startswith(PAGEFIND_PARSED):
                self._parsed.set()
        self._parsed.set()  # at its end in any case (another version's words, a failure)

    def planet_fits(self, feeds: int) -> bool:
        """Whether the planet's own work is expected to fit in the rest of Pagefind's run once it has parsed the
        pages (writing the index, about one core), the planet then waiting for the parsing (`parsed`) instead of
        slowing it. Measured on 2 cores, caches cold: the planet costs ~3 ms an entry (20 a feed), Pagefind's rest
        ~0.35 ms a page. 20 blogs of 200 posts: the planet (~1.3 s) fits, and waiting makes the planet and its
        index ~0.4 s sooner; 200 blogs of 50: the planet (~11 s) is the longer one, and waiting would add the
        parsing (~3.5 s) to it. Hence at least PAGES_PER_FEED pages a feed read (members and outside)."""
        return self.proc is not None and self.pages >= PAGES_PER_FEED * max(1, feeds)

    def parsed(self, timeout: float = 600):
        """Wait until Pagefind has parsed every page (or ended). The planet's Pelican run calls it once its
        outside feeds are fetched (PLANET_AFTER_PARSING, plugins/planet): its pages are then made beside the rest
        of Pagefind's run, which leaves a core free, instead of slowing its parsing (the planet and its index of a
        4,000-post network: ~0.5 s sooner on 2 cores). At once without Pagefind."""
        if self.proc is not None:
            self._parsed.wait(timeout)

    def result(self, timeout: float = 600) -> str:
        try:
            if self.proc is not None:
                try:
                    self.proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
                    self._failed(f"Pagefind still running after {timeout:.0f} s")
                else:
                    self._reader.join()
                    if self.proc.returncode != 0:
                        self._failed("".join(self.said).strip()[-500:])
                    else:
                        self.outcome = "ok"
            return self.outcome
        finally:
            self.close(keep_index=True)

    def made(self) -> Path | None:
        """The finished index, for `publish`; None when there is none (no pages, no Pagefind, an error)."""
        return self.index if self.outcome == "ok" and self.index.is_dir() else None

    def close(self, keep_index: bool = False):
        """Stop Pagefind if it still runs, remove the staged pages and, unless `keep_index`, the index."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
            keep_index = False
        if self._reader is not None:
            self._reader.join()
        shutil.rmtree(self.stage, ignore_errors=True)
        if not keep_index:
            shutil.rmtree(self.index, ignore_errors=True)

    def _failed(self, message: str):
        print(f"planet: search index failed: {message}", file=sys.stderr)
        self.outcome = f"error: {message}"
        shutil.rmtree(self.index, ignore_errors=True)


def _stage_site(live: Path, site: Site, stage: Path) -> int:
    """Hard-link the blog's article pages (listed in its posts.json) under `stage`; return how many."""
    try:
        posts = json.loads((live / "posts.json").read_text(encoding="utf-8")).get("posts", [])
        root = live.resolve(strict=True)
    except (OSError, ValueError):
        return 0
    count = 0
    made: set[Path] = set()
    for post in posts:
        url = str(post.get("url") or "")
        if not url.startswith(site.url):
            continue
        relative = url[len(site.url):].split("#")[0].split("?")[0]
        if not relative or relative.endswith("/"):
            relative += "index.html"
        parts = Path(relative).parts
        if ".." in parts or Path(relative).is_absolute():
            continue
        source = root / relative
        # a page reached through a symlink inside the release is not indexed (nor is anything outside it)
        if source.is_symlink() or not source.is_file() or any((root / Path(*parts[:n])).is_symlink()
                                                               for n in range(1, len(parts))):
            continue
        target = stage / relative
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        count += 1
    return count


def run(network: Network, out: Path | None = None, fetch: bool = True, search: bool | str = True,
        echo=None, state: dict | None = None, service=None, staged: Staging | None = None,
        process: PlanetProcess | None = None) -> PlanetResult:
    """Build the planet in a fresh process (Pelican's state is process-global); report a failure.

    `service`: what the comment service said before the build (confreres.freshness.fetch), passed on: at 200
    blogs its `GET api/sites` costs the service ~25 ms, asked once a publish instead of twice.
    `staged`: the pages staged for the search index while the blogs were built, taken by the indexing.
    `process`: the planet's process started with the blogs' build, which read their feeds meanwhile; its own
    otherwise (or when that one died)."""
    out = Path(out or network.output).resolve()
    args = (build_planet, network, str(out), fetch, search, state, service, staged if search is True else None)
    result = process.outcome(process.submit(*args)) if process is not None else None
    if result is None:
        result = _in_new_process(*args)
    if not result.ok:
        print(f"✗ {result.error}", file=echo or sys.stderr)
    return result


def _planet_pool():
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=1, mp_context=process_pool_context())


def _in_new_process(*args) -> PlanetResult:
    with _planet_pool() as pool:
        try:
            return pool.submit(*args).result()
        except Exception as exc:  # the child died
            return PlanetResult(False, error=f"planet: {exc!r}")


def start_publish(network: Network, out: Path, service, process: PlanetProcess, fetch: bool = True):
    """The planet's build for a publish whose blogs have new releases (hence a planet to make again, whatever else
    changed), started in `process` at once: the build's last checks (the other blogs' cross-links, the planet's
    stamp) run beside it instead of before. None when `process` is not running; `finish_publish` waits for it.
    `fetch`: the outside feeds fetched too (`confreres build`), or their last copies used (a push)."""
    return process.submit(_publish_planet, network, str(Path(out).resolve()), service, fetch)


def _publish_planet(network: Network, out: str, service, fetch: bool) -> PlanetResult:
    return build_planet(network, out, fetch, KEEP_SEARCH, stamp(network, Path(out), service), service)


def finish_publish(network: Network, out: Path, service, process: PlanetProcess, started, *, superseded: bool = False,
                   fetch: bool = True, force: bool = False, echo=None) -> PlanetResult:
    """What `start_publish`'s build gave (made in a new process if that one died); a failure is reported.
    `superseded`: the cross-link check rebuilt other blogs since it started: the planet is made from them all."""
    if superseded:
        process.outcome(started)  # its release is replaced by the one made now
        return front_page(network, out, fetch=fetch, force=force, service=service, search=KEEP_SEARCH,
                          process=process)
    result = process.outcome(started) if started is not None else None
    if result is None:
        result = _in_new_process(_publish_planet, network, str(Path(out).resolve()), service, fetch)
    if not result.ok:
        print(f"✗ {result.error}", file=echo or sys.stderr)
    return result


class PlanetProcess:
    """The planet's process, started when a publish starts building its blogs: while they build (one blog: one
    core, the other idle), it reads every other member blog's feed as the planet's build will (plugins/planet:
    `read_ahead`), then builds the planet (`start_publish` as soon as the blogs are live, or `run`). At 200 blogs
    that reading was half of what the publish's planet cost more than at 20. What the read-ahead read is used only
    where it still holds (the plugin checks)."""

    def __init__(self):
        self.pool = None
        self.reading = None  # the read-ahead's future: how many feeds it read

    def start(self, network: Network, out: Path, building: list[str], service=None) -> PlanetProcess:
        if self.pool is None and network.planet_dir.is_dir():
            self.pool = _planet_pool()
            self.reading = self.pool.submit(_read_ahead, network, str(Path(out).resolve()), sorted(building), service)
        return self

    def submit(self, *args):
        """`args` to run in this process (after its read-ahead): their future, None when it is not running."""
        if self.pool is None:
            return None
        try:
            return self.pool.submit(*args)
        except Exception:  # it died (memory, a signal): the planet is built in a new one
            self.close()
            return None

    def outcome(self, future) -> PlanetResult | None:
        """What `future` (from `submit`) gave; None when there was none, or the process died."""
        if future is None:
            return None
        try:
            return future.result()
        except Exception:
            self.close()
            return None

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


_READ_AHEAD = None  # in the planet's process: what _read_ahead read, for the build that follows it there


def _read_ahead(network: Network, out: str, building: list[str], service) -> int:
    """PlanetProcess's first task: the member feeds read ahead (all but `building`), kept for build_planet."""
    global _READ_AHEAD
    own = registry.load_site_settings(network.planet_dir, planet=True).planet
    sources = planet_sources(network, Path(out), service.badges if service is not None else None)
    _READ_AHEAD = planet_plugin().read_ahead(sources, state_dir(network), own.excerpt_length, frozenset(building))
    site_fingerprint(network, planet_site(network), network.planet_dir)  # the theme's and plugins' digests, kept
    return len(_READ_AHEAD.feeds)


def planet_plugin():
    """The planet plugin's `generator` module as Pelican loads it (from PLUGIN_PATHS, once a process): the module
    the read-ahead fills is the one the build runs."""
    import importlib
    import importlib.machinery
    import importlib.util

    from confreres.releases import PLUGINS_DIR

    if "planet" not in sys.modules:
        spec = importlib.machinery.PathFinder.find_spec("planet", [str(PLUGINS_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules["planet"] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules["planet"]
            raise
    return importlib.import_module("planet.generator")


def front_page(network: Network, out: Path, fetch: bool = True, force: bool = False,
               service=ASK, search: bool | str = True, staged: Staging | None = None,
               process: PlanetProcess | None = None) -> PlanetResult | None:
    """The network's front page: the planet when `sites/planet` exists, else the plain list of blogs.

    The planet is rebuilt only when its files, a member blog's release, or what it shows from the comment
    service (`service`: confreres.freshness.fetch, asked now by default; None: down, not compared) changed.
    Outside feeds are then fetched too (`fetch`); `confreres planet refresh` fetches them every time.
    `search=KEEP_SEARCH` (one blog published) keeps the live search index, marked stale: a later call with
    `search=True` rebuilds the planet and its index even when nothing else changed. `staged`, `process`: see `run`.
    """
    if network.planet_dir.is_dir():
        from confreres import freshness

        out = Path(out).resolve()
        if service is ASK:
            service = freshness.fetch(network.comments_url)
        state = stamp(network, out, service)
        live = live_state(out)
        stale_search = search is True and live.get("search_stale")
        if not force and not stale_search and not freshness.planet_stale(live, state["fingerprint"], service):
            return PlanetResult(True, skipped=True)
        return run(network, out, fetch=fetch, state=state, search=search, service=service, staged=staged,
                   process=process)
    write_network_index(network, Path(out))
    return None


def write_network_index(network: Network, out: Path):
    """`<out>/index.html`: the member blogs (the planet replaces it when built) + the theme's static files."""
    import jinja2

    from confreres.french import JINJA_FILTERS

    _sync_theme_static(theme_static(network), out / "theme")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(THEME_DIR / "templates")), autoescape=True, keep_trailing_newline=True
    )
    env.filters.update(JINJA_FILTERS)
    html = env.get_template("network_index.html").render(
        NETWORK_NAME=network.name,
        NETWORK_TAGLINE=network.tagline,
        NETWORK_URL=network.url,
        THEME_URL=network.url.rstrip("/") + "/theme",
        SITES=[asdict_site(s) for s in network.sites],
    )
    atomic_write(out / "index.html", html)


def asdict_site(site: Site) -> dict:
    data = asdict(site)
    data.pop("path")
    return data


def _sync_theme_static(source: Path, target: Path):
    """`target` made a copy of `source` (releases.theme_static: the theme's files as served) in one rename."""
    tmp = target.with_name(f".theme-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    old = target.with_name(f".theme-old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)
