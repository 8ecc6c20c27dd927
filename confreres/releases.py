"""Releases of built sites: the Pelican run, the process pool, and the one atomic swap of a live symlink.

What a blog's build and the planet's build share, below both (confreres.build, confreres.planet_build): the
settings the network imposes on every Pelican run and the run itself (in the calling process: Pelican's
signals, locale and logger are process-global, hence `process_pool_context`, one fresh process per run), the
release layout (`<out>/.releases/<name>-<stamp>-<pid>/` with its state file), the sha256 fingerprint a release
is compared by, and `swap_symlink`: a live link replaced in one `rename`, so readers see the old release or
the new one, never half of each.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import io
import json
import logging
import multiprocessing
import os
import re
import shutil
import sys
import time
from datetime import datetime
from pathlib import Path

import jinja2
import jinja2.bccache

from confreres import registry
from confreres.markdown_reader import ReusedMarkdownReader
from confreres.registry import Network, Site, origin_of

PROJECT_DIR = Path(__file__).resolve().parent.parent
THEME_DIR = PROJECT_DIR / "themes" / "confreres"
PLUGINS_DIR = PROJECT_DIR / "plugins"
RELEASES = ".releases"
STATE_FILE = ".confreres-build.json"
POSTS_FILE = "posts.json"
# Templates never change during a build: auto_reload off skips Jinja's stat() of every included template.
JINJA_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "extensions": [], "auto_reload": False}
# Fixed by the network, never by a blog. `guard` keeps every file Pelican reads or writes inside the blog's own.
PLUGINS = ("guard", "comments", "crosslinks", "feeds")
MARKDOWN_EXTENSIONS = ("md", "markdown", "mkd", "mdown")  # pelican.readers.MarkdownReader.file_extensions


class BuildError(Exception):
    """A site that does not build: the message is what the doctor needs to fix it."""


# What a write that the disk refused met (errno), in French: a build, the planet's, a push's copy of its tree.
DISK_REFUSALS = {errno.ENOSPC: "le disque du serveur est plein", errno.EDQUOT: "le quota de disque du serveur est atteint",
                 errno.EFBIG: "un fichier dépasse la taille que le serveur accepte d'écrire"}


def disk_refusal(exc: BaseException) -> str:
    """A full disk (or quota, or file size limit) said in French; "" for any other error. No server path: the
    doctor who pushed reads it too."""
    reason = DISK_REFUSALS.get(exc.errno) if isinstance(exc, OSError) else None
    if reason is None:
        return ""
    return (f"{reason} : rien n'a été publié, le site en ligne n'a pas changé ; l'administrateur du réseau doit "
            "libérer de la place, puis relancer (ou pousser de nouveau)")


def pelican_settings(
    network: Network, site: Site, source: Path, output: Path, network_output: Path | None = None
) -> dict:
    """Settings the network imposes on every site; a blog chooses only the few of its site.toml (own_settings)."""
    from confreres.fragments import JINJA_GLOBALS
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
        "READERS": {"rst": None, "html": None, "htm": None, **dict.fromkeys(MARKDOWN_EXTENSIONS, ReusedMarkdownReader)},
        "DEFAULT_LANG": "fr",
        "TIMEZONE": "Europe/Paris",
        # a post without `Category:` (Pelican's own default is the English « misc »), as new-site's first post
        "DEFAULT_CATEGORY": "Divers",
        # Plain pickles: gzip (Pelican's default) cost a blog's full build 3% to save a few hundred KB. A folder
        # of its own: Pelican would warn once per blog reading the older gzipped files. One per reading_stamp().
        "CACHE_PATH": str(content_cache(network, site.slug)),
        "GZIP_CACHE": False,
        "CACHE_CONTENT": True,
        "LOAD_CONTENT_CACHE": True,
        "CONTENT_CACHING_LAYER": "reader",
        "CHECK_MODIFIED_METHOD": "sha256",
        "STATIC_PATHS": ["images", "files", "extra"],
        "ARTICLE_EXCLUDES": ["pages", "images", "files", "extra"],
        "FEED_ALL_ATOM": "feeds/all.atom.xml",
        "FEED_ALL_RSS": "feeds/all.rss.xml",
        # A category's or tag's posts in Atom only, which every feed reader reads (RSS too for the whole blog): the
        # RSS copies were a third of a blog's files. Their old addresses answer 301 to the Atom ones (deploy/nginx).
        "CATEGORY_FEED_ATOM": "feeds/categorie-{slug}.atom.xml",
        "CATEGORY_FEED_RSS": None,
        "TAG_FEED_ATOM": "feeds/tag-{slug}.atom.xml",
        "TAG_FEED_RSS": None,
        "AUTHOR_FEED_ATOM": None,
        "AUTHOR_FEED_RSS": None,
        "TRANSLATION_FEED_ATOM": None,
        "FEED_MAX_ITEMS": 20,
        # No author pages: a blog is one doctor's, so they repeated its home page (21 files of a 200-post blog)
        "DIRECT_TEMPLATES": ["index", "tags", "categories", "archives", "sitemap"],
        "AUTHOR_SAVE_AS": "",
        "AUTHORS_SAVE_AS": "",
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
        "JINJA_GLOBALS": dict(JINJA_GLOBALS),
        "JINJA_ENVIRONMENT": dict(JINJA_OPTIONS),
        "SITE_SLUG": site.slug,
        "NETWORK_OUTPUT": str(network_output or output.parent.parent),
        "SPECIALTY": site.specialty,
        "SITE_DESCRIPTION": site.description,
        "COMMENTS_MODE": site.comments,
        "NETWORK_NAME": network.name,
        "NETWORK_URL": network.url,
        "NETWORK_TAGLINE": network.tagline,
        "COMMENTS_URL": network.comments_url,
        "FEDIVERSE_HANDLE": network.handle(site.slug),  # docs/federation.md
        "FEDIVERSE_ACTOR": network.actor_url(site.slug),
        # (origin in network.toml, origin served) when the demo serves the network elsewhere: the posts'
        # links and `Reply_to` to the network's own pages follow (plugins/comments).
        "NETWORK_MOVED": (network.moved_from, origin_of(network.url)) if network.moved_from else None,
        "NETWORK_SITES": [
            {"slug": s.slug, "title": s.title, "author": s.author, "specialty": s.specialty, "url": s.url}
            for s in network.sites
        ],
        "NETWORK_FOOTER_SITES": footer_sites(network, site),
        "NETWORK_SIZE": len(network.sites),
        # every blog of the network: the planet's list of blogs, or the plain list at the root without a planet
        "NETWORK_BLOGS_URL": network.url + ("blogs/" if network.planet_dir.is_dir() else ""),
    }


FOOTER_SITES = 12


def footer_sites(network: Network, site: Site, limit: int = FOOTER_SITES) -> list[dict]:
    """The confrères a blog's footer names: itself, then the same specialty's blogs, then the others, at most `limit`.

    Every page carries the footer: naming the whole network there made each page, and its rendering, grow with
    the network (200 blogs: 30 KB of HTML per page); the planet's list of blogs has them all.
    """
    own = [s for s in network.sites if s.slug == site.slug]
    others = [s for s in network.sites if s.slug != site.slug]
    same = [s for s in others if site.specialty and s.specialty == site.specialty]
    rest = [s for s in others if not (site.specialty and s.specialty == site.specialty)]
    return [{"slug": s.slug, "title": s.title, "author": s.author, "specialty": s.specialty, "url": s.url}
            for s in (own + same + rest)[:limit]]


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


def run_pelican(network: Network, site: Site, source: Path, output: Path, extra: dict | None = None,
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
        if settings.get("LOAD_CONTENT_CACHE"):
            drop_stale_content_caches(Path(settings["CACHE_PATH"]))
        settings["JINJA_ENVIRONMENT"] = {**settings["JINJA_ENVIRONMENT"], "bytecode_cache": template_cache(network)}
        # the theme's static files as served (scripts minified), not the readable sources: out of the fingerprint
        # (its key follows the sources, which the fingerprint reads, and minifier_stamp, which it takes)
        settings["THEME_STATIC_PATHS"] = [str(theme_static(network))]
        wanted = list(settings.get("PLUGINS") or [])
        instance = pelican.Pelican(settings)
        if len(instance.plugins) != len(wanted) and not collector.messages:
            collector.messages.append(f"extensions du réseau non toutes chargées : {wanted}")
        if collector.messages:
            raise BuildError(_format_errors(site.slug, collector.messages))
        from pelican import signals

        from confreres import checks

        signals.all_generators_finalized.connect(checks.refuse_conflicts)  # before anything is written
        signals.content_object_init.connect(wrappers_follow_settings)
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



def wrappers_follow_settings(content):
    """content_object_init: give a post's category, tags and authors this run's settings.

    Pelican's content cache keeps each post's metadata as read, its URLWrappers with the settings of the run that
    read it, and pickles them again at every run: one copy of the settings (the network's list of blogs among
    them) per run that read a post. A 50-post blog of a 200-blog network, published now and then, had a 2.3 MB
    cache, loaded by every build of it (a tenth of a one-post publish). Pointed at this run's settings, they are
    saved once, and a wrapper makes its URL and, if the slug rules changed, its slug by this run's.
    """
    from pelican.urlwrappers import URLWrapper

    settings = content.settings
    for value in (getattr(content, "category", None), getattr(content, "tags", None), getattr(content, "authors", None)):
        for wrapper in value if isinstance(value, list) else [value]:
            if isinstance(wrapper, URLWrapper) and wrapper.settings is not settings:
                slug_rules = any(wrapper.settings.get(key) != settings.get(key) for key in SLUG_SETTINGS)
                wrapper.settings = settings
                if slug_rules:
                    wrapper.name = wrapper.name  # Pelican's setter: the slug made again, unless set by hand


SLUG_SETTINGS = ("SLUG_REGEX_SUBSTITUTIONS", "CATEGORY_REGEX_SUBSTITUTIONS", "TAG_REGEX_SUBSTITUTIONS",
                 "AUTHOR_REGEX_SUBSTITUTIONS", "SLUGIFY_PRESERVE_CASE", "SLUGIFY_USE_UNICODE")


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled theme templates kept on disk for the next Pelican run (jinja2's FileSystemBytecodeCache).

    Each run is a fresh process: compiling the theme's templates was a third of a 50-post blog's build.
    Jinja checks the source's checksum on load (an edited template is compiled again). Its key names only
    the template, while autoescape and the whitespace options are compiled in, and the planet renders the
    same templates with autoescape on (plugins/planet): here the key takes the environment's options too.
    """

    def get_bucket(self, environment, name, filename, source):
        options = (environment.autoescape, environment.trim_blocks, environment.lstrip_blocks,
                   environment.keep_trailing_newline, environment.newline_sequence,
                   environment.block_start_string, environment.block_end_string,
                   environment.variable_start_string, environment.variable_end_string,
                   environment.comment_start_string, environment.comment_end_string,
                   environment.line_statement_prefix, environment.line_comment_prefix,
                   sorted(environment.extensions), environment.optimized, environment.finalize is None,
                   environment.is_async)
        key = hashlib.sha256(f"{self.get_cache_key(name, filename)}|{options!r}".encode()).hexdigest()
        bucket = jinja2.bccache.Bucket(environment, key, self.get_source_checksum(source))
        self.load_bytecode(bucket)
        return bucket


def warm_templates(network: Network) -> None:
    """Compile the theme's templates into the network's cache before the first Pelican runs need them.

    After a theme change (or on a first build) the first blogs built in parallel each compiled the same templates
    (~0.15 s of their run); the build calls this in a thread while its process pool starts, which keeps one core
    busy importing Pelican for ~0.35 s and the other idle. Same loader path, options and filter names as Pelican's
    environment (pelican_settings), hence the same cache keys; plain and escaped (the planet's pages). A template
    that does not compile here is left to Pelican, which says why."""
    from pelican.utils import DateFormatter

    from confreres.french import JINJA_FILTERS

    try:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader([os.path.join(str(THEME_DIR), "templates")]),
            bytecode_cache=template_cache(network), **JINJA_OPTIONS)
        environment.filters.update({"strftime": DateFormatter(), **JINJA_FILTERS})
        names = environment.list_templates(extensions=["html", "xml"])
    except OSError:
        return  # no cache folder: each run compiles what it needs
    for env in (environment, environment.overlay(autoescape=True)):
        for name in names:
            with contextlib.suppress(Exception):
                env.get_template(name)


def template_cache(network: Network):
    """The network's cache of compiled templates (`.cache/jinja/`, beside Pelican's content cache)."""
    directory = network.root / ".cache" / "jinja"
    directory.mkdir(parents=True, exist_ok=True)
    return TemplateCache(str(directory))


THEME_STATIC_GRACE = 3600  # seconds an older theme's copy is kept after a build last took it (theme_static)


@functools.cache
def minifier_stamp() -> str:
    """The minifier and its version: another version may write other bytes, so it is in every fingerprint."""
    import rjsmin

    return f"rjsmin {rjsmin.__version__}"


def minified_js(source: bytes) -> bytes:
    """A theme script as the network serves it: rjsmin drops comments and indentation, renames nothing.

    rjsmin reads template literals only unnested: a `` `…${`…`}…` `` in the theme would be minified as code."""
    import rjsmin

    return rjsmin.jsmin(source.decode("utf-8")).encode("utf-8")


def theme_static(network: Network) -> Path:
    """The theme's `static/` as the blogs and the planet serve it: each `.js` minified (minified_js), the rest as is.

    The sources stay readable (comments, indentation) while the widget's gzip budget is on what readers fetch. Made
    in `.cache/theme-static/<key>/`, the key over the minifier and the sources' digests (those the fingerprint reads,
    kept per process), once per change of either: a build makes it once before its blogs (confreres.build), each
    Pelican run then only copies it (THEME_STATIC_PATHS), a no-op build minifies nothing. A copy no build has taken
    for THEME_STATIC_GRACE (an older theme's) is dropped when a new one is made: a build may still be copying it."""
    prefix = b"static/"
    digest = hashlib.sha256(minifier_stamp().encode())
    for name, file_digest in _file_digests(THEME_DIR, shared=True):
        if name.startswith(prefix):
            digest.update(name + b"\0" + file_digest)
    folder = network.root / ".cache" / "theme-static"
    target = folder / digest.hexdigest()[:16]
    if target.is_dir():
        with contextlib.suppress(OSError):
            os.utime(target)  # in use: its mtime is when a build last took it (THEME_STATIC_GRACE)
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{target.name}-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()  # not mkdtemp's 0700: the network index copies the folder's mode with it (planet_build)
    try:
        source = THEME_DIR / "static"
        for path in sorted(source.rglob("*")):
            copy = tmp / path.relative_to(source)
            if path.is_dir():
                copy.mkdir()
            elif path.suffix == ".js":
                copy.write_bytes(minified_js(path.read_bytes()))
            else:
                shutil.copyfile(path, copy)
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():
                raise  # else another process made it meanwhile: the same files
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    old = time.time() - THEME_STATIC_GRACE
    for entry in os.scandir(folder):
        with contextlib.suppress(OSError):
            if entry.name != target.name and entry.stat(follow_symlinks=False).st_mtime < old:
                shutil.rmtree(entry.path, ignore_errors=True)
    return target


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


@functools.cache
def reading_stamp() -> str:
    """Changes with the code that reads a post: our reader, its French dates and Markdown's guard, Pelican's and
    Markdown's versions; and with the theme's filters and fragments (french, fragments), which the fingerprint
    cannot read from the settings.

    Pelican's content cache keeps each post as it was read while the file is unchanged, whatever reads it now: an
    upgrade that reads a post differently (« 01/03/2025 », once the 3rd of January, is the 1st of March) would
    not reach a post already built. Its cache is kept under this stamp, and each blog's fingerprint includes it:
    the first build after such an upgrade reads every post again."""
    import markdown
    import pelican

    from confreres import fragments, french, markdown_fast, markdown_reader

    digest = hashlib.sha256(f"{pelican.__version__}\0{markdown.__version__}\0".encode())
    for module in (markdown_reader, markdown_fast, french, fragments):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def content_cache(network: Network, slug: str) -> Path:
    """The folder of a site's Pelican content cache (reading_stamp)."""
    return network.root / ".cache" / "pelican-plain" / slug / reading_stamp()


def drop_stale_content_caches(folder: Path) -> None:
    """Remove what is beside a site's content cache folder: caches of older reading code (or of the layout before
    the stamp), which no build reads again."""
    with contextlib.suppress(OSError):
        for other in folder.parent.iterdir():
            if other.name != folder.name:
                shutil.rmtree(other) if other.is_dir() and not other.is_symlink() else other.unlink()


def fingerprint(network: Network, site: Site, source: Path) -> str:
    """sha256 over everything a site's output depends on (mtimes lie after a git checkout)."""
    digest = hashlib.sha256(f"{reading_stamp()}\0{minifier_stamp()}".encode())
    settings = pelican_settings(network, site, source, Path("/out"), Path("/out"))
    settings.pop("CACHE_PATH")
    settings.pop("PATH")  # where the sources are read, not what they say: a push builds them from a copy of its own
    digest.update(json.dumps(settings, sort_keys=True, default=_named).encode())
    for folder in (source, THEME_DIR, PLUGINS_DIR):
        for name, file_digest in _file_digests(folder, shared=folder != source):
            digest.update(name + b"\0")
            digest.update(file_digest)
    return digest.hexdigest()


def _named(value) -> str:
    """A setting as the fingerprint reads it: a function or a class by its name (its repr says where this process
    put it, so every process would see another fingerprint and rebuild the blog; its code is in reading_stamp),
    anything else by str()."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    return str(value)


_SHARED_DIGESTS: dict[Path, tuple[tuple, list[tuple[bytes, bytes]]]] = {}


def _file_digests(folder: Path, shared: bool = False) -> list[tuple[bytes, bytes]]:
    """(relative name, sha256) of every file under `folder`, in order.

    The theme and the plugins (`shared`) are the same for every blog: their digests are kept in this
    process while no file of theirs changed (path, size, mtime, inode), so fingerprinting 200 blogs does
    not read them 200 times. A blog's own files are always read (mtimes lie after a git checkout).
    """
    paths = [p for p in sorted(folder.rglob("*"))
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    if shared:
        stats = tuple((str(p), st.st_size, st.st_mtime_ns, st.st_ino) for p in paths for st in [p.stat()])
        kept = _SHARED_DIGESTS.get(folder)
        if kept is not None and kept[0] == stats:
            return kept[1]
    digests = [(str(p.relative_to(folder)).encode(), hashlib.sha256(p.read_bytes()).digest()) for p in paths]
    if shared:
        _SHARED_DIGESTS[folder] = (stats, digests)
    return digests


def live_state(out: Path, slug: str) -> dict:
    try:
        return json.loads((out / slug / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def process_pool_context():
    """A fresh interpreter per Pelican run, forked from a server that has Pelican imported already, and what
    every run imports after it (the build, the sanitiser and its bleach, httpx): ~0.2 s less per blog. A module
    missing here is skipped by multiprocessing (ImportError ignored): the list may name private modules."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["pelican", "pelican.generators", "markdown", "jinja2", "confreres.registry",
                                "confreres.build", "confreres.planet_build", "confreres.checks",
                                "confreres.sanitize", "confreres.crosslinks", "confreres.tls", "feedgenerator",
                                # imported at the first request or log line of each run: ~30 ms a blog
                                "httpcore", "h11", "encodings.idna", "confreres.badges", "confreres.secrecy",
                                "unidecode", "rich._emoji_codes", "confreres.frozen"])
    return ctx


def start_process_server():
    """Start `process_pool_context`'s server now, beside the caller's own preparation: it imports Pelican and the
    rest on a core of its own (~0.35 s) while the build compiles the theme's templates and orders the blogs, instead of
    after, when the pool's first task asks for it. The first blogs of a 20-blog build start ~0.3 s sooner. A server
    already running (an earlier build of this process) is kept."""
    import multiprocessing.forkserver

    process_pool_context()
    multiprocessing.forkserver.ensure_running()


def release_stamp() -> str:
    """The time part of a release's name, to the microsecond: two builds of one process within a second (a test,
    a long-lived caller) never share a folder (the second would write into, then discard, the live one)."""
    global _last_stamp
    stamp = max(int(datetime.now().strftime("%Y%m%d%H%M%S%f")), _last_stamp + 1)
    _last_stamp = stamp
    return str(stamp)


_last_stamp = 0


def release_name(slug: str) -> str:
    """A new release's folder name: `<slug>-<stamp>-<pid>`."""
    return f"{slug}-{release_stamp()}-{os.getpid()}"


RELEASE_NAME = re.compile(r"(?P<slug>.+)-(?P<stamp>\d+)-(?P<pid>\d+)")


def is_release(name: str, slug: str, pid: int | None = None) -> bool:
    """Whether `name` is a release folder of `slug` (made by process `pid`): exactly `<slug>-<stamp>-<pid>`. A glob
    `<slug>-*` also took the releases of a blog whose slug starts like it (dr-martin, dr-martin-pediatre): the
    first one's publish deleted the other's live release."""
    match = RELEASE_NAME.fullmatch(name)
    return match is not None and match["slug"] == slug and (pid is None or match["pid"] == str(pid))


@contextlib.contextmanager
def blog_lock(out: Path, slug: str, kind: str = "build"):
    """One process at a time for this blog (`kind`: "build" for its build and swap, "push" for a whole push; the
    planet's build takes its own, slug "planet", confreres.planet_build): a cron
    build and a push's, or two pushes, interleaved swapped each other's release away (the blog offline) or published
    the push git then refused. A lock file beside the releases; the kernel releases it if the process dies. Opened
    read-only: flock needs no more, and a lock file the push hook (root, or the git user) made first stays usable
    by the build user's cron."""
    folder = Path(out) / RELEASES
    folder.mkdir(parents=True, exist_ok=True)
    handle = os.open(folder / f".{slug}.{kind}.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # frees the lock


def swap_symlink(link: Path, target: str, tmp_name: str):
    """Point `link` at `target` (as the link's text) in one atomic rename.

    The new link is made as `<tmp_name>-<pid>` beside it (a stale one of a dead run removed first), then
    renamed over `link`. `link` must not be a real folder (the callers move or remove one first).
    """
    tmp = link.parent / f"{tmp_name}-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def atomic_write(path: Path, data: str | bytes):
    """Write `path` whole or not at all (a reader never sees half of it), text as UTF-8; safe across processes
    and threads (the planet fetches feeds from several)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    try:
        tmp.write_bytes(data.encode() if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk, an interrupt: no half file left beside it
        raise
