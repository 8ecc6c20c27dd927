"""The network registry: `network.toml` loaded into frozen dataclasses.

Every URL and origin of the network comes from here, so the comment service, the
build and the planet can never disagree about which blogs belong to the network.
This module is a leaf: it imports no other project module.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

MODERATION_POLICIES = ("none", "first-comment", "all")
COMMENT_MODES = ("open", "confreres", "closed")
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
# Paths the demo server and the planet use at the root of the network URL (the planet's top-level
# folders: plugins/planet/generator.py and confreres/planet_build.py).
RESERVED_SLUGS = frozenset({
    "comments", "static", "theme", "feeds", "pagefind", "planet", "api", "search",
    "page", "pages", "blogs", "specialites", "debats", "recherche", "etat-des-flux",
    "search-planet",  # the planet's search indexes are `.releases/search-planet-<stamp>-<pid>`: no blog's releases
})

ENV_FILE = "CONFRERES_NETWORK"
# Set by `confreres demo --host/--port` (e.g. `http://127.0.0.1:8010`): every URL of network.toml on the
# network's own origin is read as if it were on this one, in this process and its children (builds,
# planet, comment service), while network.toml stays as committed.
ENV_ORIGIN = "CONFRERES_DEMO_ORIGIN"


NETWORK_ACTOR = "planete"  # the network's own fediverse actor (@planete@host): it boosts every member post


class RegistryError(ValueError):
    """A bad `network.toml`; the message names the file, the key and what is wrong."""


@dataclass(frozen=True)
class Site:
    slug: str
    title: str
    author: str
    url: str
    specialty: str = ""
    description: str = ""
    moderation: str = ""  # empty: the network's policy
    comments: str = "open"
    path: Path = field(default=Path("."), compare=False)

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    def owns(self, url: str) -> bool:
        """True when `url` is a page of this blog (same origin, under its base path)."""
        return _normalise(url).startswith(_normalise(self.url))


@dataclass(frozen=True)
class Feed:
    url: str
    title: str
    author: str = ""
    specialty: str = ""


@dataclass(frozen=True)
class Policies:
    moderation: str = "first-comment"
    pseudonyms: bool = True
    edit_window_minutes: int = 15
    webmention_send: bool = False  # after a build, tell the outside pages a post links to (confreres.webmention)


@dataclass(frozen=True)
class ProSanteConnect:
    """Pro Santé Connect (the state's OpenID provider for health professionals): optional `[psc]` table.

    The client secret never sits in this file: it comes from CONFRERES_PSC_CLIENT_SECRET.
    """

    issuer: str  # e.g. https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet (sandbox), no trailing /
    client_id: str


@dataclass(frozen=True)
class Network:
    name: str
    url: str
    comments_url: str
    root: Path
    output: Path
    tagline: str = ""
    policies: Policies = Policies()
    sites: tuple[Site, ...] = ()
    feeds: tuple[Feed, ...] = ()
    psc: ProSanteConnect | None = None
    source: Path | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)
    # The origin network.toml names when $CONFRERES_DEMO_ORIGIN moved the network elsewhere, else "".
    moved_from: str = ""

    @functools.cached_property
    def _by_slug(self) -> dict[str, Site]:
        """Each blog by its slug: the service asks for one on every comment written or read, and a scan of the
        list grew with the network (11,500 blogs: ~0.5 ms, half of a write's whole cost)."""
        return {site.slug: site for site in self.sites}

    def site(self, slug: str) -> Site:
        site = self._by_slug.get(slug)
        if site is not None:
            return site
        known = ", ".join(s.slug for s in self.sites) or "aucun"
        raise KeyError(f"aucun blog « {slug} » dans le réseau (blogs connus : {known})")

    def has_site(self, slug: str) -> bool:
        """Whether `slug` is a member blog (a site removed from network.toml is not)."""
        return slug in self._by_slug

    def site_for_url(self, url: str) -> Site | None:
        """The member blog a URL belongs to, or None for a URL outside the network."""
        best = None
        for site in self.sites:
            if site.owns(url) and (best is None or len(site.url) > len(best.url)):
                best = site
        return best

    @functools.cached_property
    def origins(self) -> frozenset[str]:
        """Origins allowed to call the comment service from a browser (CORS): asked on every request that carries an
        Origin, made once (from every blog's URL: 36 ms at 12,000 blogs)."""
        return frozenset({origin_of(self.url)} | {s.origin for s in self.sites})

    def moderation_for(self, site: Site) -> str:
        return site.moderation or self.policies.moderation

    @property
    def planet_dir(self) -> Path:
        return self.root / "sites" / "planet"

    @property
    def host(self) -> str:
        """The network's host (`name[:port]`, lower-case): the domain of every fediverse handle `@slug@host`."""
        return urlsplit(self.url).netloc.lower()

    def handle(self, name: str) -> str:
        """The fediverse handle of a member blog (its slug) or of the network's own actor: `@name@host`."""
        return f"@{name}@{self.host}"

    def actor_url(self, name: str) -> str:
        """The ActivityPub actor of a member blog or of the network, served by the comment service."""
        return f"{self.comments_url.rstrip('/')}/ap/actors/{name}"


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _normalise(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"


def default_path() -> Path:
    """`$CONFRERES_NETWORK`, else `network.toml` in the current directory or its parents."""
    env = os.environ.get(ENV_FILE)
    if env:
        return Path(env)
    here = Path.cwd()
    for folder in (here, *here.parents):
        candidate = folder / "network.toml"
        if candidate.is_file():
            return candidate
    return here / "network.toml"


def load(path: str | os.PathLike | None = None) -> Network:
    path = Path(path) if path else default_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(f"{path}: file not found (set {ENV_FILE} or run from the project root)") from None
    except UnicodeDecodeError as exc:
        raise RegistryError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    origin = os.environ.get(ENV_ORIGIN, "").strip()
    moved_from = ""
    if origin:
        data, moved_from = move(data, origin)
    network = parse(data, root=path.resolve().parent, source=path)
    return replace(network, moved_from=moved_from) if moved_from else network


def move(data: dict, origin: str) -> tuple[dict, str]:
    """`data` with every URL on the network's origin moved to `origin`; and the origin it had ("" if none moved).

    Only the network's, the comment service's, the blogs' and the outside feeds' URLs that share the network
    URL's origin move: another origin (a blog on its own domain, an outside feed) is left as it is.
    """
    net = data.get("network")
    if not isinstance(net, dict) or not isinstance(net.get("url"), str):
        return data, ""  # parse() names the missing key
    old, new = origin_of(net["url"]), origin_of(origin.rstrip("/"))
    if old == new:
        return data, ""

    def moved(value):
        if isinstance(value, str) and origin_of(value) == old:
            return new + value[len(old):]
        return value

    data = {key: (dict(value) if isinstance(value, dict) else value) for key, value in data.items()}
    for key in ("url", "comments_url"):
        if key in data["network"]:
            data["network"][key] = moved(data["network"][key])
    for section in ("sites", "feeds"):
        if isinstance(data.get(section), list):
            data[section] = [
                {**entry, "url": moved(entry.get("url"))} if isinstance(entry, dict) and "url" in entry else entry
                for entry in data[section]
            ]
    return data, old


def _overlaps(norm: str, seen: dict[str, str], ordered: list[str]) -> bool:
    """Whether a URL of `seen` (normalised; `ordered`: the same, sorted) starts `norm`, or starts with it.

    Each of `norm`'s beginnings is looked up, and the first URL after it in order is the one that would start with
    it: the cost of a site grows with its URL's length, not with the network (comparing every pair took 1.3 s for
    4,000 blogs, ~12 s for 12,000, at every build, push and start of the service).
    """
    if any(norm[:end] in seen for end in range(1, len(norm) + 1)):
        return True
    after = bisect.bisect_left(ordered, norm)
    return after < len(ordered) and ordered[after].startswith(norm)


def parse(data: dict, root: Path, source: Path | None = None) -> Network:
    """Validate a decoded `network.toml`; raise RegistryError naming the first bad key."""
    label = str(source) if source else "network.toml"
    check = _Checker(label)

    allowed_top = {"network", "policies", "sites", "feeds", "psc"}
    for key in data:
        if key not in allowed_top:
            check.fail(key, f"unknown section (expected one of: {', '.join(sorted(allowed_top))})")

    net = check.table(data, "network", required=True)
    name = check.text(net, "network.name", required=True)
    url = check.url(net, "network.url", required=True)
    comments_url = check.url(net, "network.comments_url", required=True)
    tagline = check.text(net, "network.tagline")
    output = check.text(net, "network.output") or "public"
    check.unknown(net, "network", {"name", "url", "comments_url", "tagline", "output"})

    pol = check.table(data, "policies")
    moderation = check.choice(pol, "policies.moderation", MODERATION_POLICIES) or "first-comment"
    pseudonyms = check.boolean(pol, "policies.pseudonyms", default=True)
    window = check.integer(pol, "policies.edit_window_minutes", default=15, minimum=0)
    webmention_send = check.boolean(pol, "policies.webmention_send", default=False)
    check.unknown(pol, "policies", {"moderation", "pseudonyms", "edit_window_minutes", "webmention_send"})

    raw_sites = data.get("sites", [])
    if not isinstance(raw_sites, list):
        check.fail("sites", "must be an array of tables ([[sites]])")
    sites: list[Site] = []
    seen_slugs: set[str] = set()
    seen_urls: dict[str, str] = {}
    ordered_urls: list[str] = []  # seen_urls' keys, sorted (_overlaps)
    site_keys = {"slug", "title", "author", "url", "specialty", "description", "moderation", "comments"}
    for i, entry in enumerate(raw_sites):
        key = f"sites[{i}]"
        if not isinstance(entry, dict):
            check.fail(key, "must be a table")
        slug = check.text(entry, f"{key}.slug", required=True)
        if not SLUG_RE.match(slug):
            check.fail(f"{key}.slug", f"{slug!r} is not a slug (lowercase letters, digits and dashes)")
        if slug in RESERVED_SLUGS:
            check.fail(f"{key}.slug", f"{slug!r} is reserved by the network")
        if slug in seen_slugs:
            check.fail(f"{key}.slug", f"{slug!r} is used by another site")
        seen_slugs.add(slug)
        site_url = check.url(entry, f"{key}.url", required=True)
        norm = _normalise(site_url)
        if _overlaps(norm, seen_urls, ordered_urls):  # then the first site it overlaps, in the file's order
            other_slug = next(s for u, s in seen_urls.items() if norm.startswith(u) or u.startswith(norm))
            check.fail(f"{key}.url", f"{site_url!r} overlaps the URL of site {other_slug!r}")
        seen_urls[norm] = slug
        bisect.insort(ordered_urls, norm)
        sites.append(
            Site(
                slug=slug,
                title=check.text(entry, f"{key}.title", required=True),
                author=check.text(entry, f"{key}.author", required=True),
                url=site_url,
                specialty=check.text(entry, f"{key}.specialty"),
                description=check.text(entry, f"{key}.description"),
                moderation=check.choice(entry, f"{key}.moderation", MODERATION_POLICIES),
                comments=check.choice(entry, f"{key}.comments", COMMENT_MODES) or "open",
                path=root / "sites" / slug,
            )
        )
        check.unknown(entry, key, site_keys)

    raw_feeds = data.get("feeds", [])
    if not isinstance(raw_feeds, list):
        check.fail("feeds", "must be an array of tables ([[feeds]])")
    feeds: list[Feed] = []
    seen_feeds: set[str] = set()
    for i, entry in enumerate(raw_feeds):
        key = f"feeds[{i}]"
        if not isinstance(entry, dict):
            check.fail(key, "must be a table")
        feed_url = check.url(entry, f"{key}.url", required=True)
        if feed_url in seen_feeds:
            check.fail(f"{key}.url", f"{feed_url!r} is listed twice")
        seen_feeds.add(feed_url)
        feeds.append(
            Feed(
                url=feed_url,
                title=check.text(entry, f"{key}.title", required=True),
                author=check.text(entry, f"{key}.author"),
                specialty=check.text(entry, f"{key}.specialty"),
            )
        )
        check.unknown(entry, key, {"url", "title", "author", "specialty"})

    psc = None
    psc_table = check.table(data, "psc")
    if psc_table:
        issuer = check.url(psc_table, "psc.issuer", required=True)
        issuer_parts = urlsplit(issuer)
        if issuer_parts.scheme != "https" and issuer_parts.hostname not in ("127.0.0.1", "localhost", "::1"):
            check.fail("psc.issuer", f"must be an https URL, got {issuer!r}")
        client_id = check.text(psc_table, "psc.client_id", required=True)
        check.unknown(psc_table, "psc", {"issuer", "client_id"})
        psc = ProSanteConnect(issuer=issuer.rstrip("/"), client_id=client_id)

    return Network(
        name=name,
        url=url,
        comments_url=comments_url,
        root=root,
        output=(root / output).resolve(),
        tagline=tagline,
        policies=Policies(
            moderation=moderation, pseudonyms=pseudonyms, edit_window_minutes=window, webmention_send=webmention_send
        ),
        sites=tuple(sites),
        feeds=tuple(feeds),
        psc=psc,
        source=source,
        raw=data,
    )


class _Checker:
    def __init__(self, label: str):
        self.label = label

    def fail(self, key: str, message: str):
        raise RegistryError(f"{self.label}: {key}: {message}")

    def table(self, data: dict, key: str, required: bool = False) -> dict:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(key, f"missing [{key}] table")
            return {}
        if not isinstance(value, dict):
            self.fail(key, "must be a table")
        return value

    def _get(self, table: dict, dotted: str):
        return table.get(dotted.rsplit(".", 1)[-1])

    def text(self, table: dict, dotted: str, required: bool = False) -> str:
        value = self._get(table, dotted)
        if value is None:
            if required:
                self.fail(dotted, "missing (required)")
            return ""
        if not isinstance(value, str):
            self.fail(dotted, f"must be a string, got {type(value).__name__}")
        value = value.strip()
        if required and not value:
            self.fail(dotted, "must not be empty")
        return value

    def url(self, table: dict, dotted: str, required: bool = False) -> str:
        value = self.text(table, dotted, required)
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(dotted, f"must be an absolute http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            self.fail(dotted, f"must not carry a query or fragment, got {value!r}")
        if not value.endswith("/") and dotted.split(".")[0].startswith(("network", "sites")):
            self.fail(dotted, f"must end with '/', got {value!r}")
        return value

    def choice(self, table: dict, dotted: str, choices: tuple[str, ...]) -> str:
        value = self.text(table, dotted)
        if value and value not in choices:
            self.fail(dotted, f"must be one of {', '.join(choices)}; got {value!r}")
        return value

    def boolean(self, table: dict, dotted: str, default: bool) -> bool:
        value = self._get(table, dotted)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(dotted, f"must be true or false, got {value!r}")
        return value

    def integer(self, table: dict, dotted: str, default: int, minimum: int) -> int:
        value = self._get(table, dotted)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(dotted, f"must be a whole number, got {value!r}")
        if value < minimum:
            self.fail(dotted, f"must be at least {minimum}, got {value}")
        return value

    def unknown(self, table: dict, prefix: str, allowed: set[str]):
        for key in table:
            if key not in allowed:
                self.fail(f"{prefix}.{key}", f"unknown key (expected one of: {', '.join(sorted(allowed))})")


# -- a blog's own settings: sites/<slug>/site.toml -------------------------------------------------

SITE_FILE = "site.toml"
PERMALINKS = ("slug", "date")


@dataclass(frozen=True)
class PlanetSettings:
    """The planet's own knobs (`[planet]` of sites/planet/site.toml)."""

    per_page: int = 15  # entries per page
    max_pages: int = 10  # pages of the home page's stream and of each specialty's (the newest entries)
    feed_items: int = 50  # entries in each planet feed
    excerpt_length: int = 320  # characters of each excerpt
    service_timeout: float = 2.0  # seconds for each call to the comment service (counts, debates)
    fetch_timeout: float = 10.0  # seconds for the whole exchange with one outside feed
    fetch_max_bytes: int = 2 * 1024 * 1024  # an outside feed larger than this is refused


@dataclass(frozen=True)
class SiteSettings:
    """What a blog may set itself: data, never code (a pushed repository carries no Python).

    Plugins, theme, paths and readers are the network's (confreres.releases.pelican_settings).
    """

    pagination: int = 10
    timezone: str = "Europe/Paris"
    permalinks: str = "slug"  # "slug": <slug>.html; "date": <yyyy>/<mm>/<dd>/<slug>/ (WordPress' addresses)
    planet: PlanetSettings | None = None


# tomllib's messages (English), as the doctor who pushed site.toml reads them: what to write instead
TOML_ERRORS_FR = (
    ("Invalid value", 'valeur non comprise : un texte s\'écrit entre guillemets droits, '
                      'par exemple timezone = "Europe/Paris", un nombre sans, par exemple pagination = 10'),
    ("Unterminated string", "texte sans guillemet fermant (\" ou ' à la fin de la valeur)"),
    ("Illegal character '\\n'", "texte sans guillemet fermant (\" ou ' à la fin de la valeur)"),
    ("Illegal character", "caractère invisible interdit dans un texte"),
    ("Expected '=' after a key", "il manque « = » entre le nom du réglage et sa valeur"),
    ("Expected newline or end of document", "un seul réglage par ligne, rien après sa valeur (sauf un commentaire # …)"),
    ("Invalid statement", "ligne non comprise : un réglage s'écrit nom = valeur, par exemple pagination = 10"),
    ("Invalid initial character for a key part", "nom de réglage non compris : écrivez-le sans accent ni espace"),
    ("Cannot overwrite a value", "réglage écrit deux fois : gardez-en un"),
    ("Cannot declare", "section [ … ] écrite deux fois : gardez-en une"),
    ("Expected ']", "il manque « ] » à la fin du nom de la section"),
    ("Unclosed array", "il manque « ] » à la fin de la liste"),
    ("Unclosed inline table", "il manque « } » à la fin de la table"),
    ("Invalid date or datetime", "date non comprise"),
)


def toml_error_fr(exc: tomllib.TOMLDecodeError) -> str:
    """« ligne 2, colonne 12 : valeur non comprise … » for tomllib's « Invalid value (at line 2, column 12) »."""
    message = str(exc)
    where = ""
    found = re.search(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$", message)
    if found:
        message = message[:found.start()]
        where = f"ligne {found[1]}, colonne {found[2]} : " if found[1] else "à la fin du fichier : "
    reason = next((fr for en, fr in TOML_ERRORS_FR if message.startswith(en)), "erreur d'écriture (syntaxe TOML)")
    return where + reason


def load_site_settings(folder: Path, planet: bool = False) -> SiteSettings:
    """`<folder>/site.toml` validated (absent: the defaults); RegistryError naming the file, the key and why.

    The messages are French: the doctor who pushed the file reads them in the push's output.
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    path = Path(folder) / SITE_FILE
    label = SITE_FILE  # as in the doctor's repository: the build's folder may be a temporary copy

    def fail(key: str, message: str):
        raise RegistryError(f"{label} : {key} : {message}")

    if not path.is_file():
        return SiteSettings(planet=PlanetSettings() if planet else None)
    try:
        # utf-8-sig: a byte order mark (some Windows editors write one) is not a setting
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError:
        raise RegistryError(f"{label} : le fichier n'est pas en UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{label} : ce n'est pas du TOML valide : {toml_error_fr(exc)}") from None
    except RecursionError:  # tables or arrays nested thousands deep
        raise RegistryError(f"{label} : ce n'est pas du TOML valide : trop d'imbrications") from None
    allowed = {"pagination", "timezone", "permalinks"} | ({"planet"} if planet else set())
    for key in data:
        if key not in allowed:
            fail(key, f"clé inconnue (clés permises : {', '.join(sorted(allowed))}) ; "
                      "les extensions, le thème et les chemins sont fixés par Confrères")

    def number(table: dict, key: str, default, kind=int, maximum=None, prefix=""):
        value = table.get(key, default)
        key = prefix + key
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
            fail(key, f"doit être un nombre{' entier' if kind is int else ''}, pas {value!r}")
        if value <= 0 or (maximum is not None and value > maximum):
            fail(key, f"doit être entre 1 et {maximum}, pas {value!r}" if maximum else f"doit être positif, pas {value!r}")
        return kind(value)

    def text(key: str, default: str) -> str:
        value = data.get(key, default)
        if not isinstance(value, str):
            fail(key, f"doit être un texte entre guillemets, pas {value!r}")
        return value

    timezone = text("timezone", SiteSettings.timezone)
    try:
        if len(timezone) > 64:
            raise ValueError(timezone)
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: « Europe » is a folder of zones
        fail("timezone", f"fuseau horaire inconnu {timezone[:60]!r} (par exemple \"Europe/Paris\", \"America/Cayenne\")")
    permalinks = text("permalinks", SiteSettings.permalinks)
    if permalinks not in PERMALINKS:
        fail("permalinks", f"doit être {' ou '.join(repr(p) for p in PERMALINKS)}, pas {permalinks!r}")
    planet_settings = None
    if planet:
        table = data.get("planet", {})
        if not isinstance(table, dict):
            fail("planet", "doit être une table [planet]")
        fields = {f: getattr(PlanetSettings, f) for f in PlanetSettings.__dataclass_fields__}
        for key in table:
            if key not in fields:
                fail(f"planet.{key}", f"clé inconnue (clés permises : {', '.join(sorted(fields))})")
        planet_settings = PlanetSettings(**{
            key: number(table, key, default, kind=type(default), prefix="planet.") for key, default in fields.items()
        })
    return SiteSettings(
        pagination=number(data, "pagination", SiteSettings.pagination, maximum=100),
        timezone=timezone,
        permalinks=permalinks,
        planet=planet_settings,
    )
