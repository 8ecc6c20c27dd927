"""Build the network's sites: each site in its own fresh process, in parallel, swapped in atomically.

Pelican's plugin signals, locale and logger are process-global, so one site never shares a
process with another. A site's output is written to a new release folder and published by
replacing the `<out>/<slug>` symlink in one `rename`: readers see the old site or the new one,
never half of each. A site whose inputs (sha256 of every file) match the live release is skipped,
unless the comment service says its threads changed since (confreres.freshness): then it is rebuilt
for its static snapshot of comments. The planet is rebuilt when a member blog was, or when the
comment counts, debates or badges it shows changed; a no-op build starts no Pelican at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import shutil
import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from confreres import freshness, registry
from confreres.registry import Network, Site, origin_of

PROJECT_DIR = Path(__file__).resolve().parent.parent
THEME_DIR = PROJECT_DIR / "themes" / "confreres"
PLUGINS_DIR = PROJECT_DIR / "plugins"
RELEASES = ".releases"
STATE_FILE = ".confreres-build.json"
POSTS_FILE = "posts.json"
# Fixed by the network, never by a blog. `guard` keeps every file Pelican reads or writes inside the blog's own.
PLUGINS = ("guard", "comments", "crosslinks")


class BuildError(Exception):
    """A site that does not build: the message is what the doctor needs to fix it."""


@dataclass
class SiteResult:
    slug: str
    ok: bool
    seconds: float = 0.0
    skipped: bool = False
    error: str = ""
    release: str = ""
    articles: list[dict] = field(default_factory=list)  # {"source", "url", "title"}
    withheld: list[dict] = field(default_factory=list)  # drafts and scheduled posts: confreres.checks.withheld
    reason: str = ""  # "comments": rebuilt only because its comment threads changed


class BuildResults(list):
    """The sites' results, in order; `.planet`: the planet's (None without sites/planet)."""

    planet = None


def pelican_settings(
    network: Network, site: Site, source: Path, output: Path, network_output: Path | None = None
) -> dict:
    """Settings the network imposes on every site; a blog chooses only the few of its site.toml (own_settings)."""
    from confreres.french import JINJA_FILTERS

    siteurl = site.url.rstrip("/")
    return {
        "SITENAME": site.title,
        "AUTHOR": site.author,
        "SITEURL": siteurl,
        "FEED_DOMAIN": siteurl,
        "RELATIVE_URLS": False,
        "PATH": str(source / "content"),
        "OUTPUT_PATH": str(output),
        "DELETE_OUTPUT_DIRECTORY": False,
        "THEME": str(THEME_DIR),
        "THEME_STATIC_DIR": "theme",
        "PLUGIN_PATHS": [str(PLUGINS_DIR)],
        "PLUGINS": list(PLUGINS),
        # Markdown only: docutils' `include`/`raw` directives read server files, the html reader is not needed.
        "READERS": {"rst": None, "html": None, "htm": None},
        "DEFAULT_LANG": "fr",
        "TIMEZONE": "Europe/Paris",
        "CACHE_PATH": str(network.root / ".cache" / "pelican" / site.slug),
        "CACHE_CONTENT": True,
        "LOAD_CONTENT_CACHE": True,
        "CONTENT_CACHING_LAYER": "reader",
        "CHECK_MODIFIED_METHOD": "sha256",
        "STATIC_PATHS": ["images", "files", "extra"],
        "ARTICLE_EXCLUDES": ["pages", "images", "files", "extra"],
        "FEED_ALL_ATOM": "feeds/all.atom.xml",
        "FEED_ALL_RSS": "feeds/all.rss.xml",
        "CATEGORY_FEED_ATOM": "feeds/categorie-{slug}.atom.xml",
        "CATEGORY_FEED_RSS": "feeds/categorie-{slug}.rss.xml",
        "TAG_FEED_ATOM": "feeds/tag-{slug}.atom.xml",
        "TAG_FEED_RSS": "feeds/tag-{slug}.rss.xml",
        "AUTHOR_FEED_ATOM": None,
        "AUTHOR_FEED_RSS": None,
        "TRANSLATION_FEED_ATOM": None,
        "FEED_MAX_ITEMS": 20,
        "DIRECT_TEMPLATES": ["index", "tags", "categories", "authors", "archives", "sitemap"],
        "SITEMAP_SAVE_AS": "sitemap.xml",
        "DISPLAY_PAGES_ON_MENU": True,
        # Drafts (`Status: draft`) are never written: `confreres preview` builds them elsewhere. A post dated
        # in the future waits as a draft until its date: the build after it publishes it (up_to_date).
        "DRAFT_SAVE_AS": "",
        "DRAFT_LANG_SAVE_AS": "",
        "DRAFT_PAGE_SAVE_AS": "",
        "DRAFT_PAGE_LANG_SAVE_AS": "",
        "WITH_FUTURE_DATES": False,
        "JINJA_FILTERS": dict(JINJA_FILTERS),
        # Templates never change during a build: skip Jinja's stat() of every included template.
        "JINJA_ENVIRONMENT": {"trim_blocks": True, "lstrip_blocks": True, "extensions": [], "auto_reload": False},
        "SITE_SLUG": site.slug,
        "NETWORK_OUTPUT": str(network_output or output.parent.parent),
        "SPECIALTY": site.specialty,
        "SITE_DESCRIPTION": site.description,
        "COMMENTS_MODE": site.comments,
        "NETWORK_NAME": network.name,
        "NETWORK_URL": network.url,
        "NETWORK_TAGLINE": network.tagline,
        "COMMENTS_URL": network.comments_url,
        # (origin in network.toml, origin served) when the demo serves the network elsewhere: the posts'
        # links and `Reply_to` to the network's own pages follow (plugins/comments).
        "NETWORK_MOVED": (network.moved_from, origin_of(network.url)) if network.moved_from else None,
        "NETWORK_SITES": [
            {"slug": s.slug, "title": s.title, "author": s.author, "specialty": s.specialty, "url": s.url}
            for s in network.sites
        ],
    }


class _ErrorCollector(logging.Handler):
    """Pelican only logs a post it cannot read or a plugin it cannot load; we fail the build on it.

    Messages are put in French, naming `content/<file>` (confreres.checks); the exception Pelican
    logs without its detail is the one being handled while it logs.
    """

    def __init__(self, content_dir: Path | None = None):
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []
        self.content_dir = content_dir

    def emit(self, record):
        from confreres.checks import describe

        exc = record.exc_info[1] if record.exc_info else sys.exc_info()[1]
        self.messages.append(describe(record, exc, self.content_dir))


def _run_pelican(network: Network, site: Site, source: Path, output: Path, extra: dict | None = None,
                 own: registry.SiteSettings | None = None) -> list[dict]:
    """Run Pelican for one site in this process; raise BuildError on any error it logs.

    Pelican gets a dict made here, never a settings file: a blog carries data (its `site.toml`, read into
    `own` when not given), no code. `extra`: settings over the network's own (the planet's sources and layout).
    """
    import pelican
    from pelican.settings import read_settings

    if (source / "pelicanconf.py").exists():
        raise BuildError(
            f"{site.slug} : pelicanconf.py n'est plus lu (un blog ne contient pas de code) : mettez ses réglages "
            f"(pagination, fuseau horaire, permaliens) dans {registry.SITE_FILE} et supprimez-le"
        )
    try:
        own = own or registry.load_site_settings(source)
    except registry.RegistryError as exc:
        raise BuildError(_format_errors(site.slug, [str(exc)])) from None
    if not (source / "content").is_dir():
        raise BuildError(f"{site.slug} : le dossier content/ manque dans {source}")

    collector = _ErrorCollector(source / "content")
    root_logger = logging.getLogger()
    root_logger.addHandler(collector)
    try:
        settings = read_settings(
            None, override=pelican_settings(network, site, source, output) | own_settings(own) | (extra or {})
        )
        wanted = list(settings.get("PLUGINS") or [])
        instance = pelican.Pelican(settings)
        if len(instance.plugins) != len(wanted) and not collector.messages:
            collector.messages.append(f"extensions du réseau non toutes chargées : {wanted}")
        if collector.messages:
            raise BuildError(_format_errors(site.slug, collector.messages))
        from pelican import signals

        from confreres import checks

        signals.all_generators_finalized.connect(checks.refuse_conflicts)  # before anything is written
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # Pelican's "Done: ..." summary
                instance.run()
        except checks.Refused as refused:
            collector.messages += refused.messages
        if collector.messages:
            raise BuildError(_format_errors(site.slug, collector.messages))
    finally:
        root_logger.removeHandler(collector)
    posts_file = output / POSTS_FILE
    if posts_file.is_file():
        return json.loads(posts_file.read_text(encoding="utf-8")).get("posts", [])
    return []


def own_settings(own: registry.SiteSettings) -> dict:
    """The Pelican settings a blog's site.toml chooses (each key validated by registry.load_site_settings)."""
    settings = {"TIMEZONE": own.timezone, "DEFAULT_PAGINATION": own.pagination}
    if own.permalinks == "date":
        settings |= {"ARTICLE_URL": "{date:%Y}/{date:%m}/{date:%d}/{slug}/",
                     "ARTICLE_SAVE_AS": "{date:%Y}/{date:%m}/{date:%d}/{slug}/index.html"}
    return settings


def _format_errors(slug: str, messages: list[str]) -> str:
    lines = "\n".join(f"  - {m}" for m in messages)
    return f"{slug} : le blog ne se construit pas :\n{lines}"


def fingerprint(network: Network, site: Site, source: Path) -> str:
    """sha256 over everything a site's output depends on (mtimes lie after a git checkout)."""
    digest = hashlib.sha256()
    settings = pelican_settings(network, site, source, Path("/out"), Path("/out"))
    settings.pop("JINJA_FILTERS")
    settings.pop("CACHE_PATH")
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    for folder in (source, THEME_DIR, PLUGINS_DIR):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                digest.update(str(path.relative_to(folder)).encode() + b"\0")
                digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def live_state(out: Path, slug: str) -> dict:
    try:
        return json.loads((out / slug / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def up_to_date(network: Network, site: Site, out: Path, comments_version: str | None,
               source: Path | None = None) -> tuple[bool, str, str]:
    """(whether the live release is current, the sources' fingerprint, why not: "" | "sources" | "comments")."""
    src = source or site.path
    stamp = fingerprint(network, site, src) if src.is_dir() else ""
    state = live_state(out, site.slug)
    if not stamp or state.get("fingerprint") != stamp:
        return False, stamp, "sources"
    if freshness.comments_stale(state, comments_version):
        return False, stamp, "comments"
    if state.get("due") and state["due"] <= time.time():
        return False, stamp, "sources"  # a post's date has come (WITH_FUTURE_DATES)
    return True, stamp, ""


def build_site(network_file: str, slug: str, out: str, source: str | None = None, force: bool = False,
               comments_version: str | None = None) -> SiteResult:
    """Build one site into a new release and swap it live. Runs in a child process.

    `comments_version`: the service's `comments_version` of the site, asked before this build (None:
    unknown); a live release whose snapshot is of another version is rebuilt, the new one records it.
    """
    start = time.perf_counter()
    network = registry.load(network_file)
    site = network.site(slug)
    out_dir = Path(out)
    src = Path(source) if source else site.path
    try:
        current, stamp, reason = up_to_date(network, site, out_dir, comments_version, src)
        if not force and current:
            return SiteResult(slug, ok=True, skipped=True, seconds=time.perf_counter() - start)
        if not src.is_dir():
            raise BuildError(f"{slug} : pas de dossier de blog à {src} (lancez `confreres new-site {slug}`)")
        releases = out_dir / RELEASES
        releases.mkdir(parents=True, exist_ok=True)
        release = releases / f"{slug}-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
        articles = _run_pelican(network, site, src, release)
        from confreres.checks import next_due, withheld

        state = {"fingerprint": stamp, "built": time.time(), "due": next_due(),
                 **freshness.recorded(release, comments_version)}
        (release / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        swap_live(out_dir, slug, release)
        return SiteResult(
            slug, ok=True, seconds=time.perf_counter() - start, release=str(release), articles=articles,
            reason="" if force else reason, withheld=withheld(),
        )
    except BuildError as exc:
        _discard_partial(out_dir, slug)
        return SiteResult(slug, ok=False, error=str(exc), seconds=time.perf_counter() - start)
    except Exception as exc:
        _discard_partial(out_dir, slug)
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return SiteResult(slug, ok=False, error=f"{slug} : la construction a échoué : {detail}", seconds=time.perf_counter() - start)


def _discard_partial(out_dir: Path, slug: str):
    releases = out_dir / RELEASES
    live = _live_target(out_dir / slug)
    for path in releases.glob(f"{slug}-*-{os.getpid()}"):
        if path != live:
            shutil.rmtree(path, ignore_errors=True)


def _live_target(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def swap_live(out_dir: Path, slug: str, release: Path):
    """Point `<out>/<slug>` at `release` in one atomic rename, then drop older releases."""
    link = out_dir / slug
    previous = _live_target(link)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain folder from an older layout
    tmp_link = out_dir / f".{slug}.swap-{os.getpid()}"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    os.symlink(os.path.relpath(release, out_dir), tmp_link)
    os.replace(tmp_link, link)
    for old in (out_dir / RELEASES).glob(f"{slug}-*"):
        if old.resolve() != release.resolve() and old != previous:
            shutil.rmtree(old, ignore_errors=True)
    if previous and previous.resolve() != release.resolve():
        shutil.rmtree(previous, ignore_errors=True)


def _context():
    # A fresh interpreter per site, forked from a server that has Pelican imported already.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pelican", "pelican.generators", "markdown", "jinja2", "confreres.registry"])
    return ctx


def build(
    network: Network,
    slugs: list[str] | None = None,
    out: Path | None = None,
    jobs: int | None = None,
    force: bool = False,
    progress: bool = True,
) -> BuildResults:
    """Build the given sites (all by default) in parallel; then the planet, or the network index.

    The comment service is asked first (confreres.freshness) which blogs' comment threads changed since
    their live release: those are rebuilt too. Down, it is not asked again and nothing is compared.
    """
    out = Path(out or network.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = slugs or [s.slug for s in network.sites]
    for slug in wanted:
        network.site(slug)  # KeyError with the known slugs
    service = freshness.fetch(network.comments_url)
    versions = service.versions if service else {}
    results = BuildResults(_build_many(network, wanted, out, jobs, force, progress, versions))
    results[:] = refresh_crosslinks(network, out, results, jobs, service)
    from confreres.planet_build import front_page

    # the planet (sites/planet) or, without it, the plain list of blogs
    results.planet = front_page(network, out, force=force, service=service)
    return results


def _build_many(network: Network, slugs: list[str], out: Path, jobs: int | None, force: bool, progress: bool,
                versions: dict[str, str] | None = None):
    """Build `slugs` in fresh processes; a site whose live release is current is skipped here, without one."""
    versions = versions or {}
    results: list[SiteResult] = []
    todo = []
    for slug in slugs:
        start = time.perf_counter()
        if not force and up_to_date(network, network.site(slug), out, versions.get(slug))[0]:
            results.append(SiteResult(slug, ok=True, skipped=True, seconds=time.perf_counter() - start))
        else:
            todo.append(slug)
    if todo:
        results += _spawn(network, todo, out, jobs, force, progress, versions)
    results.sort(key=lambda r: slugs.index(r.slug))
    return results


def _spawn(network: Network, slugs: list[str], out: Path, jobs: int | None, force: bool, progress: bool,
           versions: dict[str, str]) -> list[SiteResult]:
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(slugs) or 1))
    results: list[SiteResult] = []
    network_file = str(network.source)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context(), max_tasks_per_child=1) as pool:
        futures = {
            pool.submit(build_site, network_file, slug, str(out), None, force, versions.get(slug)): slug
            for slug in slugs
        }
        with _progress(progress, len(futures)) as advance:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as exc:  # the child died (memory, signal)
                    result = SiteResult(futures[future], ok=False,
                                        error=f"{futures[future]} : la construction s'est arrêtée ({exc!r})")
                results.append(result)
                advance(result)
    return results


def stale_crosslinks(network: Network, out: Path, badges: dict[str, dict] | None) -> list[str]:
    """Blogs whose published cross-blog links no longer match the other blogs' posts, or the badges of the
    authors they name (`badges`: the service's, confreres.freshness; None when it is down: not compared)."""
    from confreres import crosslinks

    slugs = [s.slug for s in network.sites]
    posts = crosslinks.load_posts(out, slugs)
    stale = []
    for slug in slugs:
        try:
            recorded = json.loads((out / slug / "crosslinks.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not built, or built without the crosslinks plugin
        own = [url for url, post in posts.items() if post["site"] == slug]
        changed = crosslinks.digest(own, posts) != recorded.get("digest")
        shown = crosslinks.shown_sites(crosslinks.relations(own, posts)) if badges is not None else []
        badged = badges is not None and crosslinks.badges_digest(shown, badges) != recorded.get("badges")
        if changed or badged:
            stale.append(slug)
    return stale


def refresh_crosslinks(network: Network, out: Path, results: list[SiteResult], jobs: int | None = None,
                       service=None):
    """Rebuild the blogs a new answer (or a changed title, or an author's badge) concerns; merge into `results`.

    `service`: what the comment service said before the build (confreres.freshness.fetch; None: down): the
    badges compared, the comments_version of each blog recorded by the rebuilds. Asked once per build.
    """
    versions = service.versions if service else {}
    badges = service.badges if service else None
    by_slug = {r.slug: r for r in results}
    for _ in range(2):  # titles never depend on links: two rounds settle any chain
        stale = [slug for slug in stale_crosslinks(network, out, badges) if by_slug.get(slug, SiteResult(slug, True)).ok]
        if not stale:
            break
        for result in _build_many(network, stale, out, jobs, True, False, versions):
            previous = by_slug.get(result.slug)
            if previous and not previous.skipped and result.ok:
                result.articles = result.articles or previous.articles
            by_slug[result.slug] = result
    order = [r.slug for r in results] + [slug for slug in by_slug if slug not in {r.slug for r in results}]
    return [by_slug[slug] for slug in order]


class _progress:
    def __init__(self, enabled: bool, total: int):
        self.enabled, self.total = enabled, total

    def __enter__(self):
        if not self.enabled:
            return lambda result: None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._bar = Progress(
            TextColumn("[bold]construction"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.description}")
        )
        self._bar.__enter__()
        task = self._bar.add_task("", total=self.total)

        def advance(result: SiteResult):
            self._bar.update(task, advance=1, description=result.slug)

        return advance

    def __exit__(self, *exc):
        if self.enabled:
            self._bar.__exit__(*exc)


def write_network_index(network: Network, out: Path):
    """`<out>/index.html`: the member blogs (the planet replaces it when built) + the theme's static files."""
    import jinja2

    from confreres.french import JINJA_FILTERS

    _sync_theme_static(out / "theme")
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


def _sync_theme_static(target: Path):
    tmp = target.with_name(f".theme-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(THEME_DIR / "static", tmp)
    old = target.with_name(f".theme-old-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def atomic_write(path: Path, text: str):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def secret_key(network: Network) -> str:
    """The service's secret: `$CONFRERES_SECRET_KEY`, else the file the demo writes in `var/`."""
    key = os.environ.get("CONFRERES_SECRET_KEY", "")
    if not key:
        path = network.root / "var" / "secret_key"
        if path.is_file():
            key = path.read_text(encoding="utf-8").strip()
    return key


ANNOUNCE_ATTEMPTS = 3
ANNOUNCE_BACKOFF = 0.5  # seconds before the 2nd attempt, doubled before each next one
RETRY_AFTER_MAX = 10  # seconds: a longer Retry-After is not waited for


def announce_posts(network: Network, site: Site, posts: list[dict], out=None, token: str = "", *,
                   key: str | None = None, attempts: int = ANNOUNCE_ATTEMPTS,
                   backoff: float = ANNOUNCE_BACKOFF) -> bool | None:
    """Tell the comment service which posts the site has: it refuses comments on a post it does not know.

    Signed with `token` (the blog's own: the push hook's, confreres.publish), else the site token derived from
    `key` or the service's secret (secret_key). Connection errors, 5xx
    and 429 are retried `attempts` times with backoff. True when the service took the list; otherwise the
    reason is printed, in French and naming the blog, to `out` (stderr by default) and False is returned:
    the caller fails (`confreres build` exits 1, the push hook refuses the push). None: no key to sign with
    (a network run without its service, e.g. a fresh checkout): said, and not a failure.
    """
    import sys

    import httpx

    from confreres.site_token import site_token

    out = out if out is not None else sys.stderr
    key = "" if token else key or secret_key(network)
    blog = f"« {site.title} » ({site.slug})"
    if not token and not key:
        print(f"Confrères : billets de {blog} non annoncés au service de commentaires : pas de clé secrète "
              "(CONFRERES_SECRET_KEY) pour signer la liste.", file=out)
        return None
    url = f"{network.comments_url}api/sites/{site.slug}/posts"
    headers = {"Authorization": f"Bearer {token or site_token(key, site.slug)}"}
    reason = ""
    for attempt in range(1, max(1, attempts) + 1):
        wait = backoff * 2 ** (attempt - 1)
        try:
            response = httpx.put(url, json={"posts": posts}, headers=headers, timeout=10)
        except httpx.HTTPError as exc:
            reason = f"service injoignable à {network.comments_url} ({exc.__class__.__name__})"
        else:
            if response.status_code < 400:
                return True
            reason = f"le service a répondu {response.status_code}{_service_message(response)}"
            if response.status_code != 429 and response.status_code < 500:
                break  # refused for good: another try would be refused the same way
            if response.status_code == 429:
                wait = max(wait, min(_retry_after(response), RETRY_AFTER_MAX))
        if attempt < attempts:
            time.sleep(wait)
    print(f"✗ Confrères : billets de {blog} non annoncés au service de commentaires : {reason.rstrip('.')}. "
          "Les commentaires y seront refusés tant que le service ne les connaît pas.", file=out)
    return False


def _service_message(response) -> str:
    """" : <the service's French message>" from its JSON error, or ""."""
    try:
        message = response.json()["error"]["message"]
    except (ValueError, KeyError, TypeError):
        return ""
    return f" : {message}" if isinstance(message, str) and message else ""


def _retry_after(response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return 0.0


def forget_announced(out: Path, slug: str) -> None:
    """Make the next build rebuild (and so announce again) a blog whose posts the service did not take."""
    path = Path(out) / slug / STATE_FILE
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(path.read_text(encoding="utf-8"))
        state["fingerprint"] = ""
        atomic_write(path, json.dumps(state))
