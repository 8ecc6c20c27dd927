"""Build the network's sites: each site in its own fresh process, in parallel, swapped in atomically.

Pelican's plugin signals, locale and logger are process-global, so one site never shares a
process with another. A site's output is written to a new release folder and published by
replacing the `<out>/<slug>` symlink in one `rename` (confreres.releases: the Pelican run, the pool,
the swap): readers see the old site or the new one, never half of each. A site whose inputs (sha256 of every file) match the live release is skipped,
unless the comment service says its threads changed since (confreres.freshness): then it is rebuilt
for its static snapshot of comments. The planet is rebuilt when a member blog was, or when the
comment counts, debates or badges it shows changed; a no-op build starts no Pelican at all.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
import threading
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from confreres import freshness, registry
from confreres.registry import Network, Site
from confreres.releases import (
    MARKDOWN_EXTENSIONS,
    RELEASES,
    STATE_FILE,
    BuildError,
    atomic_write,
    blog_lock,
    disk_refusal,
    fingerprint,
    is_release,
    live_state,
    process_pool_context,
    release_name,
    run_pelican,
    start_process_server,
    swap_symlink,
    theme_static,
    warm_templates,
)


@dataclass
class SiteResult:
    slug: str
    ok: bool
    seconds: float = 0.0
    skipped: bool = False
    error: str = ""
    release: str = ""
    articles: list[dict] = field(default_factory=list)  # {"source", "url", "title", "secrecy" (when built)}
    withheld: list[dict] = field(default_factory=list)  # drafts and scheduled posts: confreres.checks.withheld
    secrecy: list[str] = field(default_factory=list)  # medical secrecy warnings: confreres.checks.secrecy_warnings
    outside: list[str] = field(default_factory=list)  # images and players hosted elsewhere: checks.outside_warnings
    replies: list[str] = field(default_factory=list)  # Reply_to naming no post of the network: checks.unknown_replies
    reason: str = ""  # "comments": rebuilt only because its comment threads changed
    reannounce: bool = False  # current, but the service does not know its posts: `articles` to announce again


class BuildResults(list):
    """The sites' results, in order; `.planet`: the planet's (None without sites/planet)."""

    planet = None


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


def build_site(network: Network | str, slug: str, out: str, source: str | None = None, force: bool = False,
               comments_version: str | None = None, debates: dict[str, dict] | None = None,
               lock: bool = True) -> SiteResult:
    """Build one site into a new release and swap it live. Runs in a child process.

    `network`: the parent's, passed pickled (parsing network.toml again in each child cost ~17 ms at 200 blogs),
    or the path of its file (a push's build).
    `comments_version`: the service's `comments_version` of the site, asked before this build (None:
    unknown); a live release whose snapshot is of another version is rebuilt, the new one records it.
    `debates`: the network's posts in debates (crosslinks.debates), read once for all the blogs of a
    build; None: the crosslinks plugin reads them.
    `lock`: False when the caller holds the blog's lock already (a push's hook, until it has replaced the sources).
    """
    start = time.perf_counter()
    network = registry.load(network) if isinstance(network, str) else network
    # another build of this blog (cron's, a push's) waits: then it is current
    with blog_lock(Path(out), slug) if lock else contextlib.nullcontext():
        return _build_site(network, slug, Path(out), source, force, comments_version, debates, start)


def _build_site(network: Network, slug: str, out_dir: Path, source: str | None, force: bool,
                comments_version: str | None, debates: dict[str, dict] | None, start: float) -> SiteResult:
    site = network.site(slug)
    src = Path(source) if source else site.path
    try:
        current, stamp, reason = up_to_date(network, site, out_dir, comments_version, src)
        if not force and current:
            return SiteResult(slug, ok=True, skipped=True, seconds=time.perf_counter() - start)
        if not src.is_dir():
            raise BuildError(f"{slug} : pas de dossier de blog à {src} (lancez `confreres new-site {slug}`)")
        discard_unpublished(out_dir, slug)  # what killed builds of it left
        releases = out_dir / RELEASES
        releases.mkdir(parents=True, exist_ok=True)
        release = releases / release_name(slug)
        articles = run_pelican(network, site, src, release,
                               extra=None if debates is None else {"NETWORK_DEBATES": debates})
        from confreres.checks import (
            next_due,
            outside_warnings,
            secrecy_warnings,
            unknown_replies,
            with_secrecy,
            withheld,
        )

        state = {"fingerprint": stamp, "built": time.time(), "due": next_due(),
                 "posts": freshness.posts_digest(articles), **freshness.recorded(release, comments_version)}
        (release / STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        swap_live(out_dir, slug, release)
        return SiteResult(
            slug, ok=True, seconds=time.perf_counter() - start, release=str(release), articles=with_secrecy(articles),
            reason="" if force else reason, withheld=withheld(), secrecy=secrecy_warnings(),
            outside=outside_warnings(), replies=unknown_replies(),
        )
    except BuildError as exc:
        discard_unpublished(out_dir, slug)
        return SiteResult(slug, ok=False, error=str(exc), seconds=time.perf_counter() - start)
    except Exception as exc:
        discard_unpublished(out_dir, slug)
        detail = disk_refusal(exc) or "".join(traceback.format_exception_only(type(exc), exc)).strip()
        return SiteResult(slug, ok=False, error=f"{slug} : la construction a échoué : {detail}", seconds=time.perf_counter() - start)


def discard_unpublished(out_dir: Path, slug: str):
    """Remove every release of `slug` that is not live: this process's failed one, and those of builds killed before
    they ended (the OOM killer, `kill -9`, a push's time limit), which nothing else would remove while the blog does
    not change. Only under the blog's build lock (blog_lock), which no other build of it then holds."""
    releases = out_dir / RELEASES
    live = _live_target(out_dir / slug)
    for path in releases.iterdir() if releases.is_dir() else ():
        if is_release(path.name, slug) and path != live:
            shutil.rmtree(path, ignore_errors=True)


def _live_target(link: Path) -> Path | None:
    return link.resolve() if link.is_symlink() else None


def swap_live(out_dir: Path, slug: str, release: Path):
    """Point `<out>/<slug>` at `release` in one atomic rename, then drop older releases."""
    link = out_dir / slug
    previous = _live_target(link)
    if link.exists() and not link.is_symlink():
        shutil.rmtree(link)  # a plain folder from an older layout
    swap_symlink(link, os.path.relpath(release, out_dir), f".{slug}.swap")
    for old in (out_dir / RELEASES).iterdir():
        if is_release(old.name, slug) and old.resolve() != release.resolve() and old != previous:
            shutil.rmtree(old, ignore_errors=True)
    if previous and previous.resolve() != release.resolve():
        shutil.rmtree(previous, ignore_errors=True)


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
    their live release: those are rebuilt too; a current blog whose posts it does not know is marked
    `reannounce` (the caller announces its published posts). Down, it is not asked again and nothing is compared.
    """
    out = Path(out or network.output).resolve()
    out.mkdir(parents=True, exist_ok=True)
    wanted = slugs or [s.slug for s in network.sites]
    for slug in wanted:
        network.site(slug)  # KeyError with the known slugs
    service = freshness.fetch(network.comments_url)
    versions = service.versions if service else {}
    from confreres.planet_build import (
        KEEP_SEARCH,
        PlanetProcess,
        Staging,
        finish_publish,
        front_page,
        search_available,
        start_publish,
    )

    # a build of the whole network indexes every blog's posts: each blog's pages are staged for the index as soon
    # as it is built, while the others build, instead of on the planet's path once all are
    staged = Staging(network, out) if not slugs and network.planet_dir.is_dir() and search_available() else None
    built = staged.add if staged is not None else None
    # a publish (some blogs): the planet's process starts with their build, and reads the other blogs' feeds meanwhile
    planet = PlanetProcess()
    starting = (lambda todo: planet.start(network, out, todo, service)) if slugs else None
    try:
        results = BuildResults(_build_many(network, wanted, out, jobs, force, progress, versions, built, starting))
        # a published blog has a new release: the planet is made again whatever the checks below find, from now on
        early = (start_publish(network, out, service, planet)
                 if slugs and any(r.ok and not r.skipped for r in results) else None)
        for result in results:
            if result.skipped and freshness.posts_unknown(live_state(out, result.slug), out / result.slug, service,
                                                          result.slug):
                result.reannounce = True  # no Pelican run: its published posts.json is announced again
                result.articles = freshness.published_posts(out / result.slug)
        before = {result.slug: result for result in results}
        results[:] = refresh_crosslinks(network, out, results, jobs, service, built)
        if early is not None:
            rebuilt = any(before.get(result.slug) is not result for result in results)  # for their cross-links
            results.planet = finish_publish(network, out, service, planet, early, superseded=rebuilt, force=force)
        else:
            # the planet (sites/planet) or, without it, the plain list of blogs; the search index of every blog's
            # pages is made again by a build of the whole network only (planet_build.KEEP_SEARCH)
            results.planet = front_page(network, out, force=force, service=service,
                                        search=KEEP_SEARCH if slugs else True, staged=staged, process=planet)
    finally:
        planet.close()
        if staged is not None:
            staged.discard()  # what the planet's indexing did not take (a skipped planet, a failure)
    return results


def _build_many(network: Network, slugs: list[str], out: Path, jobs: int | None, force: bool, progress: bool,
                versions: dict[str, str] | None = None, built=None, starting=None):
    """Build `slugs` in fresh processes; a site whose live release is current is skipped here, without one.
    `built(slug)`: called as each site is built and live (planet_build.Staging.add); `starting(slugs)`: with
    those to build, before (planet_build.PlanetProcess.start)."""
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
        if starting is not None:
            starting(todo)
        results += _spawn(network, todo, out, jobs, force, progress, versions, built)
    results.sort(key=lambda r: slugs.index(r.slug))
    return results


def _spawn(network: Network, slugs: list[str], out: Path, jobs: int | None, force: bool, progress: bool,
           versions: dict[str, str], built=None) -> list[SiteResult]:
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(slugs) or 1))
    results: list[SiteResult] = []
    from confreres import crosslinks

    start_process_server()  # it imports Pelican on one core while this one prepares the blogs' builds
    theme_static(network)  # the theme's scripts minified once here, before the blogs that copy them
    debates = crosslinks.debates(out, [s.slug for s in network.sites])
    order = largest_first(network, slugs) if len(slugs) > jobs else slugs
    # then the theme's templates compiled, in a thread: before, its GIL made the blogs' ordering (a stat of each
    # Markdown file) take ten times as long, and the first blogs waited for both
    warming = threading.Thread(target=warm_templates, args=(network,), daemon=True)
    warming.start()
    with ProcessPoolExecutor(max_workers=jobs, mp_context=process_pool_context(), max_tasks_per_child=1) as pool:
        futures = {
            pool.submit(build_site, network, slug, str(out), None, force, versions.get(slug), debates): slug
            for slug in order
        }
        with _progress(progress, len(futures)) as advance:
            for future in as_completed(futures):
                try:
                    result = future.result()
                except Exception as exc:  # the child died (memory, signal)
                    result = SiteResult(futures[future], ok=False,
                                        error=f"{futures[future]} : la construction s'est arrêtée ({exc!r})")
                results.append(result)
                if built is not None and result.ok and not result.skipped:
                    built(result.slug)
                advance(result)
    warming.join()
    return results


def largest_first(network: Network, slugs: list[str]) -> list[str]:
    """`slugs`, the blogs with the most Markdown first (bytes under content/, ties in network.toml's order): a build's
    time grows with its posts, and a pool handed the largest blog last leaves every other core idle while that one
    builds alone (a 2,000-post blog among 50-post ones: its whole build at the end). Longest first keeps the cores
    busy to the end; the results keep network.toml's order (_build_many)."""

    def size(slug: str) -> int:
        total = 0
        for folder, _dirs, files in os.walk(network.site(slug).path / "content"):
            for name in files:
                if name.rpartition(".")[2].lower() in MARKDOWN_EXTENSIONS:
                    with contextlib.suppress(OSError):
                        total += os.stat(os.path.join(folder, name)).st_size
        return total

    sizes = {slug: size(slug) for slug in slugs}
    return sorted(slugs, key=lambda slug: -sizes[slug])  # stable: ties keep their order


def stale_crosslinks(network: Network, out: Path, badges: dict[str, dict] | None) -> list[str]:
    """Blogs whose published cross-blog links no longer match the other blogs' posts, or the badges of the
    authors they name (`badges`: the service's, confreres.freshness; None when it is down: not compared)."""
    from confreres import crosslinks

    slugs = [s.slug for s in network.sites]
    posts = crosslinks.debates(out, slugs)
    children = crosslinks.reply_index(posts)
    by_site: dict[str, list[str]] = {}
    for url, post in posts.items():
        by_site.setdefault(post["site"], []).append(url)
    stale = []
    for slug in slugs:
        recorded = crosslinks.recorded(out / slug)
        if not recorded:
            continue  # not built, or built without the crosslinks plugin
        own = by_site.get(slug, [])
        changed = crosslinks.digest(own, posts, children) != recorded.get("digest")
        shown = crosslinks.shown_sites(crosslinks.relations(own, posts, children)) if badges is not None else []
        badged = badges is not None and crosslinks.badges_digest(shown, badges) != recorded.get("badges")
        if changed or badged:
            stale.append(slug)
    return stale


def refresh_crosslinks(network: Network, out: Path, results: list[SiteResult], jobs: int | None = None,
                       service=None, built=None):
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
        for result in _build_many(network, stale, out, jobs, True, False, versions, built):
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


def announce_posts(network: Network, site: Site, posts: list[dict], out=None, token: str = "", *,
                   key: str | None = None, attempts: int = ANNOUNCE_ATTEMPTS,
                   backoff: float = ANNOUNCE_BACKOFF) -> bool | None:
    """Tell the comment service which posts the site has: it refuses comments on a post it does not know.

    Signed with `token` (the blog's own: the push hook's, confreres.publish), else the site token derived from
    `key` or the service's secret (secret_key). Connection errors, 5xx
    and 429 are retried `attempts` times with backoff (confreres.service_client.put_posts). True when the
    service took the list; otherwise the
    reason is printed, in French and naming the blog, to `out` (stderr by default) and False is returned:
    the caller fails (`confreres build` exits 1, the push hook refuses the push). None: no key to sign with
    (a network run without its service, e.g. a fresh checkout): said, and not a failure.
    """
    from confreres import service_client
    from confreres.site_token import site_token

    out = out if out is not None else sys.stderr
    key = "" if token else key or secret_key(network)
    blog = f"« {site.title} » ({site.slug})"
    if not token and not key:
        print(f"Confrères : billets de {blog} non annoncés au service de commentaires : pas de clé secrète "
              "(CONFRERES_SECRET_KEY) pour signer la liste.", file=out)
        return None
    summary: dict = {}
    reason = service_client.put_posts(network.comments_url, site.slug, posts, token or site_token(key, site.slug),
                                      attempts=attempts, backoff=backoff, answer=summary)
    if reason is None:
        queued = (summary.get("federation") or {}).get("queued") if isinstance(summary.get("federation"), dict) else 0
        if isinstance(queued, int) and queued > 0:
            from confreres.french import plural_fr

            print(f"Fédivers : {plural_fr(queued, 'livraison mise', 'livraisons mises')} en file pour les abonnés "
                  f"de {blog} (envoi en arrière-plan).", file=out)
        return True
    print(f"✗ Confrères : billets de {blog} non annoncés au service de commentaires : {reason.rstrip('.')}. "
          "Les commentaires y seront refusés tant que le service ne les connaît pas.", file=out)
    return False


def forget_announced(out: Path, slug: str) -> None:
    """Make the next build rebuild (and so announce again) a blog whose posts the service did not take."""
    path = Path(out) / slug / STATE_FILE
    with contextlib.suppress(OSError, ValueError):
        state = json.loads(path.read_text(encoding="utf-8"))
        state["fingerprint"] = ""
        atomic_write(path, json.dumps(state))
