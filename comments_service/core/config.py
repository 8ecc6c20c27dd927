"""Configuration in layers: defaults, then `network.toml`, then `CONFRERES_<KEY>` variables, then test_config.

One function builds the whole configuration so that every way of starting the service
(gunicorn, `confreres serve`, the tests) reads it the same way and fails early with a clear
message instead of serving with a bad setting.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

from limits import parse as parse_limit

from comments_service.core import ratelimit_storage
from confreres import registry
from confreres.registry import MODERATION_POLICIES

DEFAULT_SECRET = "dev-insecure-secret-change-me"
ENV_PREFIX = "CONFRERES_"
THREAD_DEPTH_RANGE = (2, 10)  # fewer than 2 levels is no thread; more no longer fits a phone's width
RATE_LIMIT_STRATEGIES = ("moving-window", "sliding-window-counter", "fixed-window")  # the `limits` library's
THREAD_PAGE_MAX = 200  # top-level comments a page may ask for (THREAD_PAGE_SIZE, `limit`)

# Keys a deployment may set through CONFRERES_<KEY>; the type of the default decides the parsing.
DEFAULTS: dict[str, object] = {
    "SECRET_KEY": DEFAULT_SECRET,
    "NETWORK": "",  # path of network.toml; empty: registry.default_path()
    "DB": "",  # SQLite file; empty: <network root>/var/comments.sqlite3
    "DIRECTORY_DB": "",  # the imported RPPS directory (SQLite); empty: directory.sqlite3 beside DB
    "RATE_LIMIT": "10/minute",  # writes per client IP; "off" disables every limit
    "READ_RATE_LIMIT": "600/minute",  # reads per client IP
    "POSTS_RATE_LIMIT": "60/minute",  # post lists announced per blog (site token), apart from the guests' writes
    "FEDERATION_RATE_LIMIT": "300/minute",  # activities POSTed to our inboxes per sending address (an IPv6 /64)
    "RATE_LIMIT_STORAGE": "",  # where the limits count (a `limits` URI: redis://…); empty: an SQLite file beside DB
    "RATE_LIMIT_STRATEGY": "moving-window",  # the `limits` strategy (exact); also sliding-window-counter, fixed-window
    "MODERATION": "",  # none | first-comment | all: overrides every site's policy
    "EDIT_WINDOW": -1,  # minutes; -1: network.toml's policies.edit_window_minutes
    "DUPLICATE_WINDOW": 10,  # minutes during which the same text on the same thread is a duplicate
    "IP_RETENTION_DAYS": 30,
    "THREAD_MAX_AGE": 10,  # seconds a browser or CDN may reuse a public thread without revalidating
    "CSRF_MAX_AGE": 7200,  # seconds a no-JS form stays valid
    "PROXY_FIX": 0,  # number of trusted reverse proxies in front (X-Forwarded-For)
    "AUTO_MIGRATE": True,  # apply pending migrations when the app starts
    "DB_REUSE": True,  # keep each worker thread's SQLite connection between requests (see core/db.py)
    "THREAD_CACHE_SIZE": 2000,  # thread pages whose JSON bytes each process keeps
    "THREAD_DEPTH": 5,  # levels of replies shown nested; deeper ones are listed at the last level (domain/tree.py)
    "THREAD_PAGE_SIZE": 50,  # top-level comments (with their replies) a page: the API's default, the no-JS page
    "DECLARATIONS_PER_DAY": 10,  # RPPS declarations one account may try per 24 h (domain/verification.py); 0: no limit
    "VOUCH_FAILURES_PER_VOUCHER": 5,  # wrong surnames one voucher may type for one candidate, ever (domain/verification.py)
    "VOUCH_FAILURES_PER_DAY": 10,  # wrong surnames typed for one candidate in 24 h, all vouchers together
    "PSC_CLIENT_SECRET": "",  # Pro Santé Connect client secret ([psc] in network.toml holds issuer and client id)
    "PSC_TIMEOUT": 10,  # seconds for each call to Pro Santé Connect (discovery, token, userinfo, keys)
    # Sign-in, moderation links, notifications (domain/accounts.py, mail/notices.py, mail/transport.py)
    "MAGIC_LINK_MAX_AGE": 900,  # seconds a sign-in link stays valid (single use)
    "SESSION_DAYS": 30,  # lifetime of a session (cookie or bearer token)
    "MAGIC_LINKS_PER_HOUR": 5,  # sign-in mails to one address per hour, whoever asks
    "ACTION_LINK_MAX_AGE": 7 * 24 * 3600,  # seconds a one-click approve/reject link stays valid
    "CONFIRM_MAX_AGE": 7 * 24 * 3600,  # seconds a double opt-in confirmation link stays valid
    "SMTP_HOST": "",  # empty (and no MAIL_DIR): mails wait in the outbox
    "SMTP_PORT": 25,
    "SMTP_STARTTLS": False,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_FROM": "",  # empty: "Confrères <ne-pas-repondre@<host of comments_url>>"
    "SMTP_REPLY_TO": "",  # the administrators' address: Reply-To of the mails about a member's verification
    "SMTP_TIMEOUT": 10,  # seconds
    "MAIL_DIR": "",  # write each mail as an .eml file there instead of SMTP (the demo: var/mail)
    "MAIL_SEND": "background",  # background: a thread sends after each commit; cron: `confreres notify send` only
    "DEV_PAGES": False,  # /dev/mail lists MAIL_DIR (demo only)
    # The fediverse (comments_service/federation/, docs/federation.md)
    "FEDERATION_SEND": "background",  # background: a thread delivers after each queuing; cron: `confreres federation deliver`
    "FEDERATION_RETRY_SECONDS": 60,  # first retry of a failed delivery; doubled each time (8 attempts in all)
    "FEDERATION_TIMEOUT": 5,  # seconds for each request to another instance
    "FEDERATION_SENDERS": 4,  # threads sending deliveries at once (each waits on the network most of the time)
    "FEDERATION_BLOCKED_HOSTS": "",  # comma-separated instances (host[:port]) whose activities are refused
}

# Hard limits of the contract; not meant to be tuned per deployment.
MAX_CONTENT_LENGTH = 64 * 1024


def mail_transport(config) -> str:
    """'dir', 'smtp' or '' (none configured: mails wait in the outbox): what mail/transport sends through, and what
    core/identity records of a database's mail (core does not import the mail package)."""
    if config.get("MAIL_DIR"):
        return "dir"
    if config.get("SMTP_HOST"):
        return "smtp"
    return ""


class ConfigError(RuntimeError):
    """A setting that prevents the service from starting; the message says which and how to fix it."""


def _parse(key: str, raw: str, default: object) -> object:
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off", ""):
            return False
        raise ConfigError(f"{ENV_PREFIX}{key}={raw!r}: expected true or false")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{ENV_PREFIX}{key}={raw!r}: expected a whole number") from None
    return raw.strip()


def from_environment(environ=None) -> dict[str, object]:
    environ = os.environ if environ is None else environ
    found = {}
    for key, default in DEFAULTS.items():
        raw = environ.get(ENV_PREFIX + key)
        if raw is not None:
            found[key] = _parse(key, raw, default)
    return found


def default_db(network: registry.Network) -> Path:
    """var/comments.sqlite3; a network moved by $CONFRERES_DEMO_ORIGIN (the demo on another port) has its own
    under var/demo-<host>_<port>/, since threads are keyed by their URLs."""
    if not network.moved_from:
        return network.root / "var" / "comments.sqlite3"
    netloc = registry.origin_of(network.url).split("://", 1)[1]
    return network.root / "var" / ("demo-" + re.sub(r"[^A-Za-z0-9.-]", "_", netloc)) / "comments.sqlite3"


def default_rate_limit_storage(db: str) -> str:
    """An SQLite file beside the comment database (`comments.sqlite3` -> `comments-limits.sqlite3`): every
    worker of the machine counts in it, and each database (each test) has its own counters."""
    path = Path(db).resolve()
    return ratelimit_storage.uri_for(path.with_name(path.stem + "-limits.sqlite3"))


def fill_paths(config: dict, network: registry.Network) -> None:
    """The files left empty in `config`: DB, DIRECTORY_DB and RATE_LIMIT_STORAGE, from the network's root."""
    if not config["DB"]:
        config["DB"] = str(default_db(network))
    if not config["DIRECTORY_DB"]:
        config["DIRECTORY_DB"] = str(Path(config["DB"]).with_name("directory.sqlite3"))
    if not config["RATE_LIMIT_STORAGE"]:
        config["RATE_LIMIT_STORAGE"] = default_rate_limit_storage(config["DB"])


def settings_for(network: registry.Network, environ=None) -> dict[str, object]:
    """The settings a service started in this environment would run with, without starting it (`confreres
    check`): the defaults, the `CONFRERES_<KEY>` variables, the files' defaults. ConfigError on a bad value."""
    settings = {**DEFAULTS, **from_environment(environ)}
    fill_paths(settings, network)
    return settings


def build(app, test_config: dict | None = None) -> None:
    """Fill `app.config` and attach the loaded registry as `app.extensions['confreres_network']`."""
    app.config.update(DEFAULTS)
    app.config["MAX_CONTENT_LENGTH"] = MAX_CONTENT_LENGTH
    app.config["JSON_AS_ASCII"] = False
    app.config.update(from_environment())
    if test_config:
        app.config.update(test_config)

    network = app.config.get("NETWORK_OBJECT")
    if network is None:
        try:
            network = registry.load(app.config["NETWORK"] or None)
        except registry.RegistryError as exc:
            raise ConfigError(str(exc)) from None
    app.extensions["confreres_network"] = network
    if app.config.get("NETWORK_OBJECT") is None:
        app.extensions["confreres_network_file"] = NetworkFile(Path(network.source))

    fill_paths(app.config, network)
    Path(app.config["DB"]).parent.mkdir(parents=True, exist_ok=True)

    moderation = app.config["MODERATION"]
    if moderation and moderation not in MODERATION_POLICIES:
        raise ConfigError(
            f"{ENV_PREFIX}MODERATION={moderation!r}: expected one of {', '.join(MODERATION_POLICIES)}"
        )
    if app.config["EDIT_WINDOW"] is None or int(app.config["EDIT_WINDOW"]) < 0:
        app.config["EDIT_WINDOW"] = network.policies.edit_window_minutes

    for key, (low, high) in (("THREAD_DEPTH", THREAD_DEPTH_RANGE), ("THREAD_PAGE_SIZE", (1, THREAD_PAGE_MAX))):
        if not low <= int(app.config[key]) <= high:
            raise ConfigError(f"{ENV_PREFIX}{key}={app.config[key]!r}: expected a whole number from {low} to {high}")

    for key in ("RATE_LIMIT", "READ_RATE_LIMIT", "POSTS_RATE_LIMIT", "FEDERATION_RATE_LIMIT"):
        value = str(app.config[key]).strip()
        if value.lower() != "off":
            try:
                parse_limit(value)
            except ValueError:
                raise ConfigError(
                    f"{ENV_PREFIX}{key}={value!r}: expected a limit such as '10/minute', or 'off'"
                ) from None

    if app.config["FEDERATION_SEND"] not in ("background", "cron"):
        raise ConfigError(f"{ENV_PREFIX}FEDERATION_SEND={app.config['FEDERATION_SEND']!r}: expected background or cron")
    if app.config["RATE_LIMIT_STRATEGY"] not in RATE_LIMIT_STRATEGIES:
        raise ConfigError(
            f"{ENV_PREFIX}RATE_LIMIT_STRATEGY={app.config['RATE_LIMIT_STRATEGY']!r}: expected one of "
            + ", ".join(RATE_LIMIT_STRATEGIES)
        )

    if app.config["SECRET_KEY"] == DEFAULT_SECRET and not (app.debug or app.testing):
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY is not set: refusing to start with the default secret outside "
            f"debug or testing. Set {ENV_PREFIX}SECRET_KEY to a long random string, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`."
        )


def rate_limits_enabled(app) -> bool:
    return str(app.config["RATE_LIMIT"]).strip().lower() != "off"


class NetworkFile:
    """The network.toml the service runs on, and what it looked like (mtime, size) when last loaded."""

    RECHECK_SECONDS = 2.0  # a stat() at most this often per process: blogs are added rarely, reads are hot

    def __init__(self, path: Path):
        self.path = path
        self.stamp = self._stamp()
        self.checked = time.monotonic()

    def _stamp(self) -> tuple[int, int] | None:
        try:
            info = self.path.stat()
        except OSError:
            return None
        return info.st_mtime_ns, info.st_size


def refresh_network(app, force: bool = False) -> bool:
    """Reload network.toml when it changed since it was loaded (a blog added while the service runs).

    Checked every few seconds from each request (every worker process keeps its own registry), and at once
    (`force`) when a request names a blog the registry does not know. A file that no longer loads keeps
    the registry as it was, logged. Returns whether the registry was replaced.
    """
    file = app.extensions.get("confreres_network_file")
    if file is None:  # the registry was given as an object (tests)
        return False
    now = time.monotonic()
    if not force and now - file.checked < file.RECHECK_SECONDS:
        return False
    file.checked = now
    stamp = file._stamp()
    if stamp is None or stamp == file.stamp:
        return False
    file.stamp = stamp
    try:
        network = registry.load(file.path)
    except registry.RegistryError as exc:
        app.logger.error("network.toml changed but cannot be loaded, keeping the previous registry: %s", exc)
        return False
    app.extensions["confreres_network"] = network
    app.logger.info("network.toml changed: %d blogs", len(network.sites))
    return True
