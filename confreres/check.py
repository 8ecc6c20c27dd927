"""`confreres check`: what a server lacks to run the network, said in French, one line per check.

Each line starts with ✓ (fine), ! (works, but look) or ✗ (broken: the command exits 1) and, when
something is to be done, the fix after « → ». Run on the comment service's machine in the service's
environment (its `CONFRERES_*` variables): the secret key, mail (an SMTP conversation, with a short
timeout), the files and folders the service and the build write, the RPPS directory, the rate-limit
storage, the service answering at `comments_url`, and each blog's folder and `site.toml`.

Static side: this module never imports the comment service. It talks to it over HTTP
(confreres.service_client) and reads files; what only the service's code knows (the settings it would
resolve, its default secret, the imported directory's summary) the CLI hands over as `ServiceFacts`.
"""

from __future__ import annotations

import smtplib
import sqlite3
import ssl
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from confreres import registry, service_client
from confreres.french import date_fr, parse_iso, plural_fr

OK, WARN, FAIL = "✓", "!", "✗"
MIN_SECRET = 32  # characters: what `secrets.token_urlsafe(32)` gives at least
DIRECTORY_STALE_DAYS = 90  # the state publishes the RPPS extract every day; struck-off physicians linger in an old one
NEW_SECRET = "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"


@dataclass(frozen=True)
class Finding:
    mark: str
    subject: str
    text: str
    fix: str = ""

    def line(self) -> str:
        return f"{self.mark} {self.subject} : {self.text}" + (f" → {self.fix}" if self.fix else "")


@dataclass
class ServiceFacts:
    """What the comment service's own code says about this environment (gathered by the CLI)."""

    settings: dict = field(default_factory=dict)  # core.config.settings_for: defaults, CONFRERES_*, files
    error: str = ""  # a CONFRERES_* value the service would refuse
    default_secret: str = ""  # the demo's secret, which the service refuses outside tests
    directory: dict | None = None  # the imported RPPS directory's summary (meta), None when there is none
    directory_error: str = ""  # the directory's file could not be read
    recorded: str | None = None  # the database's recorded setting this environment contradicts (core/identity.py)


def run(network: registry.Network, facts: ServiceFacts, environ: dict, timeout: float = 5.0) -> list[Finding]:
    findings = [*sites(network)]
    if facts.error:
        findings.append(Finding(FAIL, "Réglages du service", facts.error, "corrigez cette variable d'environnement"))
    else:
        settings = facts.settings
        findings += [secret(environ, facts.default_secret), mail(settings, timeout)]
        if facts.recorded:
            findings.append(recorded(facts.recorded, settings["DB"]))
        findings += paths(network, settings)
        findings += [directory(facts.directory, settings["DIRECTORY_DB"], facts.directory_error), rate_limits(settings, timeout)]
    findings += service(network, timeout)
    return findings


def summary(findings: list[Finding]) -> str:
    failed = sum(f.mark == FAIL for f in findings)
    warned = sum(f.mark == WARN for f in findings)
    if not failed and not warned:
        return "Tout est prêt."
    parts = [plural_fr(failed, "problème") + " à corriger"] if failed else []
    parts += [plural_fr(warned, "avertissement")] if warned else []
    return " ; ".join(parts) + "."


# -- the checks -----------------------------------------------------------------------------------

def secret(environ: dict, default_secret: str) -> Finding:
    subject = "Clé secrète"
    fix = f"dans l'environnement du service : CONFRERES_SECRET_KEY=$({NEW_SECRET})"
    value = environ.get("CONFRERES_SECRET_KEY", "").strip()
    if not value:
        return Finding(FAIL, subject, "CONFRERES_SECRET_KEY n'est pas définie : gunicorn refuse de démarrer le "
                       "service (seul `confreres serve` se contente de var/secret_key)", fix)
    if value == default_secret:
        return Finding(FAIL, subject, "CONFRERES_SECRET_KEY est la clé de démonstration, connue de tous : "
                       "n'importe qui pourrait signer des liens de connexion", fix)
    if len(value) < MIN_SECRET:
        return Finding(WARN, subject, f"CONFRERES_SECRET_KEY ne fait que {len(value)} caractères "
                       f"(au moins {MIN_SECRET} conseillés)", fix)
    return Finding(OK, subject, f"définie ({len(value)} caractères)")


def recorded(which: str, db: str) -> Finding:
    """The comment database was set up with another secret key, or mails by SMTP where this environment writes files:
    the service and every command refuse to start (comments_service/core/identity.py)."""
    load = "chargez l'environnement du service (set -a; . /etc/confreres/env; set +a) ; changement voulu : "
    if which == "secret_key":
        return Finding(FAIL, "Réglages enregistrés", f"{db} a été créée avec une autre clé secrète que "
                       "CONFRERES_SECRET_KEY : le service et les commandes refusent de démarrer",
                       load + "confreres service rotate-key (l'ancienne clé perdue : confreres service accept-settings)")
    return Finding(FAIL, "Réglages enregistrés", f"{db} envoie ses mails par SMTP, cet environnement les écrirait "
                   "dans des fichiers (CONFRERES_MAIL_DIR) : le service et les commandes refusent de démarrer",
                   load + "confreres service accept-settings")


def mail(settings: dict, timeout: float) -> Finding:
    subject = "Courriel"
    host, port = str(settings["SMTP_HOST"]).strip(), int(settings["SMTP_PORT"])
    if settings["MAIL_DIR"]:
        return Finding(WARN, subject, f"les mails sont écrits dans {settings['MAIL_DIR']} et jamais envoyés "
                       "(réglage de démonstration)", "retirez CONFRERES_MAIL_DIR et réglez CONFRERES_SMTP_HOST")
    if not host:
        return Finding(FAIL, subject, "aucun serveur SMTP : les liens de connexion et de modération restent dans "
                       "la file d'envoi", "réglez CONFRERES_SMTP_HOST (et _PORT, _USER, _PASSWORD, _STARTTLS)")
    where = f"{host}:{port}"
    steps = []
    try:
        with smtplib.SMTP(host, port, timeout=min(timeout, float(settings["SMTP_TIMEOUT"]))) as smtp:
            smtp.ehlo()
            if settings["SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                steps.append("STARTTLS")
            if settings["SMTP_USER"]:
                smtp.login(str(settings["SMTP_USER"]), str(settings["SMTP_PASSWORD"] or ""))
                steps.append("identifié")
            if not smtp.has_extn("smtputf8"):  # RFC 6531: mail/transport.Relay leaves such a mail waiting
                steps.append("sans SMTPUTF8 : un mail à une adresse non ASCII, josé@…, restera en file")
    except smtplib.SMTPAuthenticationError:
        return Finding(FAIL, subject, f"{where} refuse l'identifiant ou le mot de passe",
                       "vérifiez CONFRERES_SMTP_USER et CONFRERES_SMTP_PASSWORD")
    except (OSError, smtplib.SMTPException) as exc:
        return Finding(FAIL, subject, f"le serveur SMTP {where} ne répond pas ({_reason(exc)})",
                       "vérifiez CONFRERES_SMTP_HOST et CONFRERES_SMTP_PORT, et que le pare-feu laisse passer")
    return Finding(OK, subject, f"le serveur SMTP {where} répond" + (f" ({', '.join(steps)})" if steps else ""))


def paths(network: registry.Network, settings: dict) -> list[Finding]:
    db = Path(str(settings["DB"]))
    found = [_writable("Base de commentaires", db.parent, "le service y écrit la base et son journal")]
    if found[0].mark == OK:
        found[0] = (
            Finding(OK, "Base de commentaires", f"{db} ({_size(db)})") if db.is_file()
            else Finding(WARN, "Base de commentaires", f"{db} n'existe pas encore : le service la crée au démarrage",
                         "ou `confreres service init-db`")
        )
    found.append(_writable("Dossier var/", network.root / "var", "secret local, aperçus, copies des mails"))
    found.append(_writable("Dossier public/", network.output, "`confreres build` y écrit les blogs"))
    found.append(_writable("Dossier .cache/", network.root / ".cache", "caches de Pelican, flux, Webmentions"))
    return found


def directory(meta: dict | None, path: str, error: str = "") -> Finding:
    subject = "Répertoire RPPS"
    fix = "téléchargez l'extraction PS_LibreAcces_Personne_activite et lancez `confreres directory import FICHIER`"
    if error:
        return Finding(FAIL, subject, f"{path} illisible ({error})", fix)
    if not meta:
        return Finding(FAIL, subject, f"non importé ({path} absent) : les déclarations de médecins ne peuvent "
                       "pas être vérifiées", fix)
    count = int(meta.get("physicians") or 0)
    try:
        imported = parse_iso(meta.get("imported", ""))
    except ValueError:
        imported = None
    when = f", importé le {date_fr(imported)}" if imported else ""
    text = f"{plural_fr(count, 'médecin')}{when}"
    if imported and (datetime.now(UTC) - imported).days > DIRECTORY_STALE_DAYS:
        return Finding(WARN, subject, text + f" : plus de {DIRECTORY_STALE_DAYS} jours", fix)
    return Finding(OK, subject, text)


def rate_limits(settings: dict, timeout: float) -> Finding:
    subject = "Limites de débit"
    if str(settings["RATE_LIMIT"]).strip().lower() == "off":
        return Finding(WARN, subject, "désactivées (CONFRERES_RATE_LIMIT=off)", "retirez CONFRERES_RATE_LIMIT")
    uri = str(settings["RATE_LIMIT_STORAGE"])
    scheme = uri.split("://", 1)[0]
    if scheme == "memory":
        return Finding(WARN, subject, "memory:// compte dans chaque processus : avec N workers, chaque limite "
                       "est N fois plus large", "laissez CONFRERES_RATE_LIMIT_STORAGE vide (un fichier SQLite)")
    if scheme == "sqlite":
        path = Path(uri.removeprefix("sqlite://"))
        found = _writable(subject, path.parent, "les workers y comptent ensemble")
        if found.mark != OK:
            return found
        if not path.exists():
            return Finding(OK, subject, f"partagées par les workers de cette machine ({path}, sera créé)")
        try:
            conn = sqlite3.connect(path, timeout=timeout)
            try:
                conn.execute("BEGIN IMMEDIATE")  # the workers must be able to write it
                conn.execute("ROLLBACK")
            finally:
                conn.close()
        except sqlite3.Error as exc:
            return Finding(FAIL, subject, f"{path} inutilisable ({exc})", "supprimez ce fichier : il est recréé")
        return Finding(OK, subject, f"partagées par les workers de cette machine ({path})")
    return _remote_storage(subject, uri, scheme, timeout)


def _remote_storage(subject: str, uri: str, scheme: str, timeout: float) -> Finding:
    """redis://, memcached://… through the `limits` library, as the service opens them."""
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    options = {}
    if scheme.startswith("redis"):
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    elif scheme.startswith("memcached"):
        options = {"connect_timeout": timeout, "timeout": timeout}
    shown = uri.split("@")[-1]  # never print a password
    try:
        reachable = storage_from_string(uri, **options).check()
    except ConfigurationError as exc:
        return Finding(FAIL, subject, f"CONFRERES_RATE_LIMIT_STORAGE inutilisable ({exc})",
                       "installez le paquet du stockage (redis, pymemcache) ou corrigez l'adresse")
    except Exception as exc:  # noqa: BLE001 - any client's error is "unreachable"
        reachable, shown = False, f"{shown} ({_reason(exc)})"
    if not reachable:
        return Finding(FAIL, subject, f"{shown} ne répond pas : chaque worker comptera seul en attendant",
                       "démarrez ce service ou corrigez CONFRERES_RATE_LIMIT_STORAGE")
    return Finding(OK, subject, f"partagées via {shown}")


def service(network: registry.Network, timeout: float) -> list[Finding]:
    subject = "Service de commentaires"
    url = service_client.api_url(network.comments_url, service_client.SITES)
    fix = "démarrez-le (gunicorn 'comments_service:create_app()') ou corrigez comments_url dans network.toml"
    try:
        with service_client.client(timeout) as http:
            response = http.get(url)
    except httpx.TimeoutException:
        return [Finding(FAIL, subject, f"{url} ne répond pas en {timeout:g} s", fix)]
    except httpx.HTTPError as exc:
        return [Finding(FAIL, subject, f"injoignable à {url} ({_reason(exc)})", fix)]
    try:
        listed = response.json()["sites"] if response.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        listed = None
    if not isinstance(listed, list):
        return [Finding(FAIL, subject, f"{url} répond {response.status_code}, pas la liste des blogs attendue", fix)]
    found = [Finding(OK, subject, f"répond à {network.comments_url} ({plural_fr(len(listed), 'blog')})")]
    known = {site.get("slug"): site for site in listed if isinstance(site, dict)}
    for site in network.sites:
        if site.slug not in known:
            found.append(Finding(WARN, f"Blog {site.slug}", "inconnu du service (il relit network.toml en quelques "
                                 "secondes)", "s'il reste inconnu, redémarrez le service"))
        elif (known[site.slug].get("posts") or {}).get("count") == 0:
            found.append(Finding(WARN, f"Blog {site.slug}", "le service ne connaît aucun de ses billets : les "
                                 "commentaires y sont refusés", "lancez `confreres build`"))
    return found


def sites(network: registry.Network) -> list[Finding]:
    found = []
    for site in network.sites:
        folder = network.root / "sites" / site.slug
        subject = f"Blog {site.slug}"
        if not (folder / "content").is_dir():
            found.append(Finding(FAIL, subject, f"pas de dossier sites/{site.slug}/content/",
                                 f"`confreres new-site {site.slug} --author …`, ou une première publication "
                                 "(`confreres publish init`)"))
            continue
        try:
            registry.load_site_settings(folder)
        except registry.RegistryError as exc:
            found.append(Finding(FAIL, subject, f"sites/{site.slug}/{exc}", f"corrigez sites/{site.slug}/site.toml"))
            continue
        posts = sum(1 for _ in (folder / "content").rglob("*.md"))
        found.append(Finding(OK, subject, f"sites/{site.slug}/ ({plural_fr(posts, 'fichier')} Markdown)"))
    if network.planet_dir.is_dir():
        try:
            registry.load_site_settings(network.planet_dir, planet=True)
        except registry.RegistryError as exc:
            found.append(Finding(FAIL, "Planète", f"sites/planet/{exc}", "corrigez sites/planet/site.toml"))
        else:
            found.append(Finding(OK, "Planète", "sites/planet/"))
    return found


# -- helpers --------------------------------------------------------------------------------------

def _writable(subject: str, folder: Path, why: str) -> Finding:
    """Whether a file can be created in `folder` (or in its nearest existing parent, which will hold it)."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as exc:
        fix = (f"remplacez le fichier {existing} par un dossier" if existing.is_file()
               else f"donnez ce dossier à l'utilisateur du service (chown -R UTILISATEUR {existing})")
        return Finding(FAIL, subject, f"impossible d'écrire dans {existing} ({_reason(exc)}) ; {why}", fix)
    return Finding(OK, subject, str(folder) + ("" if existing == folder else " (sera créé)"))


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1_000_000:.1f} Mo".replace(".", ",") if size >= 100_000 else f"{size // 1000} ko"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
        return "connexion refusée"
    if isinstance(exc, TimeoutError | httpx.TimeoutException) or "timed out" in str(exc).lower():
        return "délai dépassé"
    if isinstance(exc, PermissionError):
        return "permission refusée"
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return "ce n'est pas un dossier"
    if isinstance(exc, FileNotFoundError):
        return "dossier absent"
    return exc.__class__.__name__ + (f" : {exc}" if str(exc) else "")
