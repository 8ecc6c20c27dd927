"""The `confreres` command. Each command imports what it needs inside, so `--help` stays fast."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from confreres import registry


class Context:
    def __init__(self, network_file: str | None):
        self.network_file = network_file

    @property
    def network(self) -> registry.Network:
        try:
            return registry.load(self.network_file)
        except registry.RegistryError as exc:
            raise click.ClickException(str(exc)) from None


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--network",
    "network_file",
    envvar="CONFRERES_NETWORK",
    type=click.Path(dir_okay=False),
    help="The network.toml to use (default: ./network.toml or a parent folder's).",
)
@click.version_option(package_name="confreres")
@click.pass_context
def cli(ctx, network_file):
    """Confrères: the blogs of a network of doctors, their comments and their planet."""
    ctx.obj = Context(network_file)


@cli.command()
@click.option("--site", "sites", multiple=True, metavar="SLUG", help="Build only this site (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder (default: public/).")
@click.option("--jobs", "-j", type=click.IntRange(1), help="Sites built at once (default: one per core).")
@click.option("--force", is_flag=True, help="Rebuild sites whose sources did not change.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--no-announce", is_flag=True,
              help="Do not tell the comment service the built posts (`confreres serve` tells its own at start).")
@pass_ctx
def build(ctx, sites, out, jobs, force, quiet, no_announce):
    """Build the sites of the network, each in its own process, in parallel."""
    from confreres.build import announce_posts, forget_announced, secret_key
    from confreres.build import build as run_build
    from confreres.french import plural_fr, seconds_fr
    from confreres.webmention import send_after_build

    network = ctx.network
    try:
        results = run_build(network, list(sites) or None, out=out, jobs=jobs, force=force, progress=not quiet)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    failed = [r for r in results if not r.ok]
    # Without a secret key (a fresh checkout, no service) the posts cannot be signed: said once, not a failure.
    announce = not no_announce and bool(secret_key(network))
    if not announce and not no_announce and any(r.ok and not r.skipped for r in results):
        click.echo("Confrères : pas de clé secrète (CONFRERES_SECRET_KEY) : les billets ne sont pas annoncés "
                   "au service de commentaires.", err=True)
    unannounced = []
    for result in results:
        if result.ok:
            state = "inchangé" if result.skipped else f"{plural_fr(len(result.articles), 'billet')}, {seconds_fr(result.seconds)}"
            if result.reason == "comments":
                state += ", commentaires"
            click.echo(f"✓ {result.slug} ({state})")
            for warning in result.secrecy:
                click.echo(f"  ⚠ secret médical : {warning}", err=True)
            for warning in result.outside + result.replies:
                click.echo(f"  ⚠ {warning}", err=True)
            if result.reannounce and announce:
                click.echo(f"↻ {result.slug} : billets inconnus du service de commentaires, annoncés de nouveau "
                           f"({plural_fr(len(result.articles), 'billet')}, sans reconstruction)")
                if not announce_posts(network, network.site(result.slug), result.articles, out=sys.stderr):
                    unannounced.append(result.slug)
            if not result.skipped:
                site = network.site(result.slug)
                if announce and not announce_posts(network, site, result.articles, out=sys.stderr):
                    unannounced.append(result.slug)
                    forget_announced(out or network.output, result.slug)  # the next build tries again
                send_after_build(network, site, out)  # policies.webmention_send
        else:
            click.echo(f"✗ {result.error}", err=True)
    planet = getattr(results, "planet", None)
    if planet is not None and planet.ok:
        click.echo(f"✓ planète ({'inchangée' if planet.skipped else seconds_fr(planet.seconds)})")
    click.echo(f"{len(results) - len(failed)}/{len(results)} blogs construits dans {out or network.output}")
    if unannounced:
        click.echo(f"✗ Billets non annoncés au service de commentaires : {', '.join(unannounced)} "
                   "(le prochain `confreres build` les reconstruit et réessaie).", err=True)
    if failed or unannounced or (planet is not None and not planet.ok):  # every ✗ printed fails the command
        sys.exit(1)


@cli.command()
@click.argument("slug")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Private folder for the preview (default: var/preview/SLUG/, never published).")
@click.option("--source", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Site folder to preview, e.g. a clone of the blog's repository (default: sites/SLUG/).")
@pass_ctx
def preview(ctx, slug, out, source):
    """Build a blog with its drafts and scheduled posts into a private folder."""
    from confreres.build import BuildError
    from confreres.checks import withheld_line
    from confreres.preview import preview as run_preview

    try:
        result = run_preview(ctx.network, slug, out, source)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    except BuildError as exc:
        raise click.ClickException(str(exc)) from None
    if not result.ok:
        click.echo(f"✗ {result.error}", err=True)
        sys.exit(1)
    folder = Path(result.release)
    click.echo(f"Aperçu de « {ctx.network.site(slug).title} » (privé, non publié) : {folder / 'index.html'}")
    for post in result.withheld:
        click.echo(f"  {withheld_line(post)} → {folder / post['save_as']}")
    if not result.withheld:
        click.echo("  Aucun brouillon ni billet programmé.")
    for warning in result.secrecy:
        click.echo(f"  ⚠ secret médical : {warning}", err=True)
    for warning in result.outside + result.replies:
        click.echo(f"  ⚠ {warning}", err=True)


def _service(network: registry.Network, settings: dict | None = None):
    """The comment service app for this network, with a secret kept in var/ when none is configured.

    The settings go to the factory, over the `CONFRERES_<KEY>` variables (which it reads itself, as under
    gunicorn): the network file always, the secret kept in var/ only when `CONFRERES_SECRET_KEY` is empty.
    """
    from comments_service import create_app
    from comments_service.core.config import ConfigError

    settings = {**(settings or {}), "NETWORK": str(Path(network.source).resolve())}
    made = None  # the var/secret_key this very call created, if any
    if not os.environ.get("CONFRERES_SECRET_KEY"):
        # A machine without a configured secret is a doctor's or the demo's: its mails go where the demo's go
        # (var/mail/, listed at <comments_url>dev/mail) unless a transport is set; a server has both set.
        settings["SECRET_KEY"], made = _local_secret(network)
        settings["SECRET_KEY_FILE"] = str(network.root / "var" / "secret_key")  # named if the database's is another
        if not any(os.environ.get(f"CONFRERES_{key}") for key in ("SMTP_HOST", "MAIL_DIR")):
            settings.setdefault("MAIL_DIR", str(network.root / "var" / "mail"))
    try:
        return create_app(settings)
    except ConfigError as exc:  # a bad CONFRERES_<KEY>: named in one line, as gunicorn says it at start
        _forget_refused_secret(network, made, settings)
        raise click.ClickException(str(exc)) from None
    except BaseException:
        _forget_refused_secret(network, made, settings)
        raise


def _forget_refused_secret(network: registry.Network, made: Path | None, settings: dict) -> None:
    """Remove the var/secret_key this process just made when the database does not record it.

    A command run by hand without /etc/confreres/env made a key of its own; the database (which records
    its key's fingerprint, core/identity.py) refuses it, but the file stayed, and `confreres build` (and
    every later command) then signed with it. Kept only when the database records it as its own: an
    app that failed after recording it still needs it.
    """
    import sqlite3

    from comments_service.core import identity
    from comments_service.core.config import ConfigError, settings_for

    if made is None or not made.is_file():
        return
    try:
        path = Path(settings.get("DB") or settings_for(network)["DB"])
    except ConfigError:
        path = None  # the app stopped at its settings, before opening the database
    found = None
    if path is not None and path.is_file():
        try:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                found = dict(conn.execute("SELECT name, value FROM service_settings").fetchall()).get("secret_key")
            finally:
                conn.close()
        except sqlite3.Error:
            found = None
    if found != identity.fingerprint(settings["SECRET_KEY"]):
        made.unlink(missing_ok=True)


@contextmanager
def service_db(network: registry.Network):
    """`(app, db)`: the comment service app for this network and a connection to its database, closed after."""
    from comments_service.core.db import connect

    app = _service(network)
    db = connect(app.config["DB"])
    try:
        yield app, db
    finally:
        db.close()


def _local_secret(network: registry.Network) -> tuple[str, Path | None]:
    """`(key, file made by this call or None)`: var/secret_key, made when there is none."""
    import secrets

    path = network.root / "var" / "secret_key"
    if path.is_file():
        return path.read_text(encoding="utf-8").strip(), None
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another command made it at the same moment: use theirs
        return path.read_text(encoding="utf-8").strip(), None
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key, path


def sync_published_posts(network: registry.Network, app, out: Path):
    """Open the threads of every built post (the build's `posts.json`), through the service's API."""
    import json

    from confreres.site_token import site_token

    client = app.test_client()
    key = app.config["SECRET_KEY"]
    for site in network.sites:
        index = out / site.slug / "posts.json"
        if index.is_file():
            posts = json.loads(index.read_text(encoding="utf-8")).get("posts", [])
            client.put(
                f"/api/sites/{site.slug}/posts",
                json={"posts": posts},
                headers={"Authorization": f"Bearer {site_token(key, site.slug)}"},
            )


def _serve(network, host, port, out, with_comments=True, after_start=None, settings=None):
    """Serve until interrupted; `after_start(service)` runs once listening; `settings` go to the service."""
    import logging
    import threading

    from werkzeug.serving import make_server

    from confreres import serve as server

    out = Path(out or network.output)
    service = None
    if with_comments:
        service = _service(network, settings)
        sync_published_posts(network, service, out)
    app = server.make_app(network, out, service)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the banner
    httpd = make_server(host, port, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        if after_start:
            after_start(service)
        click.echo(f"Confrères : {network.url}  (Ctrl+C pour arrêter)")
        for site in network.sites:
            click.echo(f"  {site.title} : {site.url}")
        if service is not None:
            # the service's root has no page of its own: its moderation page is where a doctor goes
            click.echo(f"  Commentaires (modération) : {network.comments_url}moderation")
            from comments_service.federation import delivery, urls

            delivery.kick(service)  # deliveries an earlier run left queued (retries) go out
            handles = ", ".join(network.handle(name) for name in urls.actor_names(network))
            click.echo(f"  Fédivers (à suivre depuis Mastodon) : {handles}")
        thread.join()
    except KeyboardInterrupt:
        click.echo("Arrêt.")
    finally:
        httpd.shutdown()


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder of built sites.")
@click.option("--no-comments", is_flag=True, help="Serve the static sites only.")
@pass_ctx
def serve(ctx, host, port, out, no_comments):
    """Serve the built sites (each under /<slug>/) and the comment service."""
    _serve(ctx.network, host, port, out, with_comments=not no_comments)


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@pass_ctx
def demo(ctx, host, port):
    """Build the demo network, seed demo comments and serve it all."""
    from confreres.build import build as run_build

    # The network's URLs follow where the demo listens (network.toml itself is left as committed):
    # links, the comment service's URL, CORS, the sign-in links in the mails, the planet.
    os.environ.setdefault(registry.ENV_ORIGIN, demo_origin(host, port))
    network = ctx.network

    demo_settings = {
        # Demo mails are written to var/mail/ (never sent) and listed at <comments_url>dev/mail.
        "MAIL_DIR": str(network.root / "var" / "mail"),
        "DEV_PAGES": True,
        # One visitor plays several doctors from one address (127.0.0.1): allow more writes than in production.
        "RATE_LIMIT": "60/minute",
        # `confreres federation peer` and local pages may be reached on loopback (docs/federation.md).
        "OUTGOING_ALLOW_HOSTS": "127.0.0.1",
    }
    # A CONFRERES_<KEY> of the environment still wins, as it did over the demo's defaults.
    settings = {key: value for key, value in demo_settings.items() if f"CONFRERES_{key}" not in os.environ}

    def build_and_seed(service):
        # The service listens already, so the first build asks it for the authors' badges and the threads
        # (none yet: no « service unavailable » warnings); then the posts are declared and the demo seeded.
        results = run_build(network, progress=True)
        for result in results:
            if not result.ok:
                raise click.ClickException(result.error)
        sync_published_posts(network, service, network.output)
        from confreres.seed import seed_demo, seed_verification

        added = seed_demo(network, service)
        if added:
            click.echo(f"{added} commentaires de démonstration ajoutés.")
        for line in seed_verification(network, service):
            click.echo(line)
        _demo_banner(network, service)
        # Rebuild with the seeded service: pages carry their comments without JavaScript, and the badges.
        run_build(network, force=True, progress=False)

    _serve(network, host, port, None, after_start=build_and_seed, settings=settings)


def demo_origin(host: str, port: int) -> str:
    """The origin a browser reaches the demo at, from what it listens on."""
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _demo_banner(network, service):
    from confreres.seed import demo_accounts

    mail_dir = service.config["MAIL_DIR"]
    if mail_dir:
        shown = os.path.relpath(mail_dir) if not os.path.relpath(mail_dir).startswith("..") else mail_dir
        click.echo(f"E-mails : aucun n'est envoyé, chacun est écrit dans {shown}/ "
                   f"et listé sur {network.comments_url}dev/mail")
    click.echo(f"Connexion par lien e-mail : {network.comments_url}auth — modération : {network.comments_url}moderation")
    for account in demo_accounts(network):
        click.echo(f"  {account.email} ({account.name}, {account.label})")


@cli.command("new-site")
@click.argument("slug")
@click.option("--author", required=True, help='The doctor, as shown: "Dr Jeanne Martin".')
@click.option("--title", help="The blog's title (default: «Le blog du Dr …»).")
@click.option("--specialty", default="", help='e.g. "Médecine générale".')
@click.option("--url", help="Public base URL of the blog (default: <network url><slug>/).")
@pass_ctx
def new_site(ctx, slug, author, title, specialty, url):
    """Create sites/SLUG/ and register it in network.toml (its comments and layout kept)."""
    from confreres.scaffold import ScaffoldError
    from confreres.scaffold import new_site as scaffold

    try:
        site = scaffold(ctx.network, slug, author=author, title=title, specialty=specialty, url=url)
    except (ScaffoldError, registry.RegistryError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Site créé : {site.path}")
    click.echo(f"Écrivez vos billets dans {site.path / 'content'}, puis : confreres build --site {slug}")


@cli.group()
def publish():
    """Publishing with git push."""


@publish.command("init")
@click.argument("slug")
@click.option("--repo", required=True, type=click.Path(file_okay=False, path_type=Path), help="Bare repository to create.")
@pass_ctx
def publish_init(ctx, slug, repo):
    """Create a bare git repository for SLUG; every push to main is built, then published or refused."""
    from confreres.publish import PublishError, init

    network = ctx.network
    try:
        path = init(network, slug, repo)
    except (PublishError, KeyError) as exc:
        raise click.ClickException(str(exc.args[0] if isinstance(exc, KeyError) else exc)) from None
    click.echo(f"Dépôt prêt : {path}")
    from confreres.publish import TOKEN_FILE

    if (path / TOKEN_FILE).is_file():
        click.echo(f"Le crochet annonce les billets avec le jeton du blog ({path / TOKEN_FILE}, 0600), sans la clé secrète.")
    else:
        click.echo(f"Pas de clé secrète (CONFRERES_SECRET_KEY) : écrivez `confreres site-token {slug}` dans "
                   f"{path / TOKEN_FILE} (0600) pour que le crochet annonce les billets.", err=True)
    click.echo(f"Le médecin publie avec : git clone {path} && … && git push origin main")


@cli.group()
def planet():
    """The planet: the network's front page, its feeds and its search."""


@planet.command("refresh")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder of built sites.")
@click.option("--no-fetch", is_flag=True, help="Rebuild from the last copies, without fetching outside feeds.")
@pass_ctx
def planet_refresh(ctx, out, no_fetch):
    """Fetch the outside feeds (conditional GET) and rebuild the planet; for cron."""
    import json

    from confreres.french import plural_fr, seconds_fr
    from confreres.planet_build import run, state_dir

    network = ctx.network
    if not network.planet_dir.is_dir():
        raise click.ClickException(f"pas de planète : le dossier {network.planet_dir} manque")
    result = run(network, out, fetch=not no_fetch)
    if not result.ok:
        sys.exit(1)
    try:
        feeds = json.loads((state_dir(network) / "feeds.json").read_text(encoding="utf-8")).get("feeds", {})
    except (OSError, ValueError):
        feeds = {}
    followed = [feeds.get(f.url, {}) for f in network.feeds]
    failing = sum(1 for f in followed if f.get("last_error") and not f.get("gone"))
    try:  # entries without any address, left out by the planet (plugins/planet/generator.py, SKIPPED_FILE)
        skipped = json.loads((state_dir(network) / "skipped.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        skipped = {}
    skipped = skipped if isinstance(skipped, dict) else {}
    left_out = sum(n for f in network.feeds if isinstance(n := skipped.get(f.url), int))
    click.echo(f"Planète mise à jour en {seconds_fr(result.seconds)} → {network.url}")
    click.echo(f"  {len(network.sites)} blogs du réseau, {len(network.feeds)} flux extérieurs"
               f"{f', {failing} en erreur' if failing else ''} (état : {network.url}etat-des-flux/)")
    if left_out:
        click.echo(f"  {plural_fr(left_out, 'billet')} sans adresse (ni lien, ni guid-permalien, ni fichier audio ou "
                   f"vidéo) {'ignoré' if left_out < 2 else 'ignorés'} (détail : {network.url}etat-des-flux/)")
    if result.search == "absent":
        click.echo("  Recherche : pagefind n'est pas installé (pip install 'pagefind[bin]').")


@cli.command("check")
@click.option("--timeout", default=5.0, show_default=True, type=click.FloatRange(0.1, 60),
              help="Seconds allowed to each outside answer (SMTP, the comment service, Redis).")
@pass_ctx
def check_cmd(ctx, timeout):
    """Say in French what this server lacks: secret, mail, folders, directory, limits, service, blogs."""
    from comments_service.core import config as service_config
    from comments_service.domain.rpps import Directory
    from confreres import check

    try:
        network = registry.load(ctx.network_file)
    except registry.RegistryError as exc:
        click.echo(check.Finding(check.FAIL, "network.toml", str(exc), "corrigez le fichier").line())
        sys.exit(1)
    facts = check.ServiceFacts(default_secret=service_config.DEFAULT_SECRET)
    try:
        facts.settings = service_config.settings_for(network)
    except service_config.ConfigError as exc:
        facts.error = str(exc)
    else:
        handle = Directory(facts.settings["DIRECTORY_DB"])
        try:
            facts.directory = handle.meta() or None
        except Exception as exc:  # noqa: BLE001 - a damaged file is a finding, not a crash
            facts.directory_error = str(exc)
        finally:
            handle.close()
        if os.environ.get("CONFRERES_SECRET_KEY"):  # without one, the secret's own line fails already
            facts.recorded = _recorded_mismatch(facts.settings)
    click.echo(f"Réseau « {network.name} » ({network.source})")
    findings = check.run(network, facts, dict(os.environ), timeout)
    for finding in findings:
        click.echo(finding.line())
    click.echo(check.summary(findings))
    sys.exit(1 if any(f.mark == check.FAIL for f in findings) else 0)


def _recorded_mismatch(settings: dict) -> str | None:
    """The setting the comment database records that these settings contradict (core/identity.py), read only."""
    import sqlite3

    from comments_service.core import identity

    path = Path(settings["DB"])
    if not path.is_file():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            found = dict(conn.execute("SELECT name, value FROM service_settings").fetchall())
        finally:
            conn.close()
    except sqlite3.Error:  # not migrated yet, or unreadable: the folders' lines say the rest
        return None
    return identity.mismatch(settings, found)


@cli.command("csp")
@click.option("--nginx", is_flag=True, help="As nginx add_header lines (with nosniff and Referrer-Policy).")
@pass_ctx
def csp_cmd(ctx, nginx):
    """Print the Content-Security-Policy the blogs and the planet must be served with (what `serve` sends)."""
    from confreres import csp

    if not nginx:
        click.echo(csp.policy(ctx.network))
        return
    click.echo("\n".join(csp.nginx_lines(ctx.network)))


@cli.group()
def deploy():
    """The production setup of deploy/ (nginx site, systemd units), rendered for this network."""


@deploy.command("nginx")
@click.option("--listen", default="80", show_default=True, help="nginx's `listen` (e.g. 8080, 127.0.0.1:80).")
@click.option("--gunicorn", default="127.0.0.1:8001", show_default=True, help="Where gunicorn listens.")
@click.option("--access-log", default="/var/log/nginx/access.log", show_default=True,
              help="The access log's file (written without query strings: the mailed links' tokens).")
@pass_ctx
def deploy_nginx(ctx, listen, gunicorn, access_log):
    """Print the nginx site of the network: public/, the comment service proxied, headers, gzip, caching."""
    from confreres.deploy import DeployError, nginx_site

    try:
        click.echo(nginx_site(ctx.network, listen, gunicorn, access_log), nl=False)
    except DeployError as exc:
        raise click.ClickException(str(exc)) from None


@deploy.command("systemd")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--gunicorn", default="127.0.0.1:8001", show_default=True, help="Where gunicorn listens.")
@pass_ctx
def deploy_systemd(ctx, out, gunicorn):
    """Write the systemd units (gunicorn, and a timer for each periodic command) into OUT."""
    from confreres.deploy import systemd_units

    units = systemd_units(ctx.network, gunicorn)
    for name, text in units.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        click.echo(path)
    timers = " ".join(name for name in units if name.endswith(".timer"))
    click.echo(f"Installez-les : cp -r {out}/* /etc/systemd/system/ && systemctl daemon-reload && "
               f"systemctl enable --now confreres-comments.service {timers}", err=True)


@cli.command("site-token")
@click.argument("slug")
@pass_ctx
def site_token_cmd(ctx, slug):
    """Print the token a build host of SLUG uses to tell the comment service its posts."""
    from confreres.build import secret_key
    from confreres.site_token import site_token

    network = ctx.network
    try:
        network.site(slug)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    key = secret_key(network)
    if not key:
        raise click.ClickException("pas de clé secrète : définissez CONFRERES_SECRET_KEY")
    click.echo(site_token(key, slug))


@cli.group()
def webmention():
    """Webmention: mentions received from outside blogs, and those the build sends."""


@webmention.command("process")
@click.option("--limit", type=click.IntRange(1), help="Verify at most this many.")
@pass_ctx
def webmention_process(ctx, limit):
    """Verify the received Webmentions waiting in the queue (the service also does it in the background); for cron."""
    from comments_service.actions.mentions import drain
    from comments_service.mail.outbox import deliver
    from comments_service.mail.transport import transport

    app = _service(ctx.network)
    results = drain(app, limit=limit)
    for result in results:
        detail = f" ({result['error']})" if result.get("error") else ""
        click.echo(f"{result['result']:>10}  {result['source']} -> {result['target']}{detail}")
    click.echo(f"{len(results)} Webmention(s) traitée(s).")
    if results and transport(app.config):
        deliver(app.config, retry_failed=False)  # the mails of mentions awaiting moderation, before the process ends


@webmention.command("list")
@click.option("--status", type=click.Choice(["pending", "approved", "rejected", "spam"]), help="Only this status.")
@click.option("--site", "sites", multiple=True, metavar="SLUG", help="Only this blog's posts (repeatable).")
@pass_ctx
def webmention_list(ctx, status, sites):
    """List received mentions (newest first) with their id, for moderation."""
    from comments_service.domain.mentions import list_mentions

    with service_db(ctx.network) as (_app, db):
        rows = list_mentions(db, status=status, sites=list(sites) or None)
    for row in rows:
        click.echo(f"#{row['id']} [{row['status']}] {row['author_name']} — {row['source']} -> {row['post_url']}")
    if not rows:
        click.echo("Aucune mention.")


@webmention.command("moderate")
@click.argument("mention_id", type=int)
@click.argument("decision", type=click.Choice(["approve", "reject", "spam", "pending", "delete"]))
@pass_ctx
def webmention_moderate(ctx, mention_id, decision):
    """Approve, reject, mark as spam, put back in the queue or delete the mention MENTION_ID."""
    from comments_service.core.errors import ApiError
    from comments_service.domain import mentions as received

    status = {"approve": "approved", "reject": "rejected", "spam": "spam", "pending": "pending"}.get(decision)
    with service_db(ctx.network) as (_app, db):
        try:
            if status:
                received.set_mention_status(db, mention_id, status)
            else:
                received.remove_mention(db, mention_id)
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Mention #{mention_id} : {decision}.")


@cli.group()
def federation():
    """The fediverse: the blogs' followers and the deliveries to their instances (docs/federation.md)."""


@federation.command("deliver")
@click.option("--limit", type=click.IntRange(1), help="Send at most this many.")
@pass_ctx
def federation_deliver(ctx, limit):
    """Send the deliveries due in the queue (the service also does it in the background); for cron."""
    from comments_service.federation.delivery import deliver
    from confreres.french import plural_fr

    results = deliver(_service(ctx.network), limit=limit)
    for result in results:
        detail = f" ({result['error']})" if result.get("error") else ""
        click.echo(f"{result['state']:>7}  #{result['id']} -> {result['inbox']}{detail}")
    sent = sum(1 for result in results if result["state"] == "sent")
    click.echo(f"{plural_fr(sent, 'livraison envoyée', 'livraisons envoyées')} sur {len(results)}.")


@federation.command("status")
@pass_ctx
def federation_status(ctx):
    """Each actor's handle and follower count, the delivery queue, and the removed blogs still on the fediverse."""
    from comments_service.federation import delivery, documents, farewell, urls
    from confreres.french import plural_fr

    network = ctx.network
    with service_db(network) as (_app, db):
        for name in urls.actor_names(network):
            followers = plural_fr(documents.followers_count(db, name), "abonné")
            click.echo(f"{network.handle(name)} : {followers}")
        queue = delivery.pending(db)
        gone = farewell.candidates(db, network)
    click.echo(f"File : {plural_fr(queue['queued'], 'livraison')} en attente (dont {queue['retried']} à réessayer), "
               f"{plural_fr(queue['failed'], 'abandonnée', 'abandonnées')}.")
    for row in gone:
        click.echo(f"{row['name']} : absent de network.toml, encore {plural_fr(row['followers'], 'abonné')} et "
                   f"{plural_fr(row['articles'], 'billet')} sur le fédivers (pour l'en retirer : confreres federation "
                   f"delete-blog {row['name']})")


@federation.command("delete-blog")
@click.argument("slug")
@click.option("--dry-run", is_flag=True, help="Say what would be sent, send nothing.")
@pass_ctx
def federation_delete_blog(ctx, slug, dry_run):
    """Take blog SLUG, already removed from network.toml, off its followers' servers: a Delete of each of its posts
    and of its account, signed by its key, queued once; its followers are forgotten."""
    from comments_service.federation import farewell
    from confreres.french import plural_fr

    with service_db(ctx.network) as (_app, db):
        try:
            done = farewell.farewell(db, ctx.network, slug, dry_run=dry_run)
        except farewell.FarewellError as exc:
            raise click.ClickException(str(exc)) from None
    if done.done_before:
        click.echo(f"Rien à envoyer : le fédivers n'a plus ni abonné ni billet de « {slug} » (déjà fait).")
        return
    few = done.deliveries < 2
    queued = ("serait mise" if few else "seraient mises") if dry_run else ("mise" if few else "mises")
    forgotten = "à oublier" if dry_run else ("oublié" if done.followers < 2 else "oubliés")
    abandoned = "à abandonner" if dry_run else ("abandonnée" if done.abandoned < 2 else "abandonnées")
    sent = (f"vers {plural_fr(done.inboxes, 'boîte')} de réception, {plural_fr(done.deliveries, 'livraison')} "
            f"{queued} en file" if done.deliveries else "(aucun serveur à prévenir)")
    click.echo(f"« {slug} » : suppression de {plural_fr(done.articles, 'billet')} et du compte {sent} ; "
               f"{plural_fr(done.followers, 'abonné')} {forgotten}"
               + (f", {plural_fr(done.abandoned, 'livraison')} en attente {abandoned}" if done.abandoned else "") + ".")
    if dry_run:
        click.echo("Essai : rien n'a changé.")
    elif done.deliveries:
        click.echo("confreres federation deliver les envoie (son minuteur de cron ou systemd le lance) ; "
                   "aucune ne partira deux fois.")


@federation.command("block")
@click.argument("host")
@pass_ctx
def federation_block(ctx, host):
    """Block the instance HOST: its requests are refused, nothing is delivered to it."""
    from comments_service.federation import blocklist

    found = blocklist.normalise(host)
    if found is None:
        raise click.BadParameter(f"« {host} » n'est pas un nom d'instance (ex. mastodon.example).", param_hint="HOST")
    with service_db(ctx.network) as (_app, db):
        added = blocklist.block(db, found)
    click.echo(f"Instance {found} bloquée." if added else f"L'instance {found} était déjà bloquée.")


@federation.command("unblock")
@click.argument("host")
@pass_ctx
def federation_unblock(ctx, host):
    """Unblock the instance HOST (one the FEDERATION_BLOCKED_HOSTS setting lists stays blocked)."""
    from comments_service.federation import blocklist

    found = blocklist.normalise(host) or host
    with service_db(ctx.network) as (app, db):
        removed = blocklist.unblock(db, found)
        still = found in blocklist.setting(app.config)
    click.echo(f"Instance {found} débloquée." if removed else f"L'instance {found} n'était pas bloquée ici.")
    if still:
        click.echo("Elle reste bloquée par le réglage CONFRERES_FEDERATION_BLOCKED_HOSTS.")


@federation.command("blocked")
@pass_ctx
def federation_blocked(ctx):
    """List the blocked instances (the moderators' list, then the setting's)."""
    from comments_service.federation import blocklist

    with service_db(ctx.network) as (app, db):
        rows = blocklist.listed(db)
        from_setting = sorted(blocklist.setting(app.config) - {row["host"] for row in rows})
    for row in rows:
        click.echo(f"{row['host']}  (depuis le {row['created'][:10]})")
    for host in from_setting:
        click.echo(f"{host}  (réglage CONFRERES_FEDERATION_BLOCKED_HOSTS)")
    if not rows and not from_setting:
        click.echo("Aucune instance bloquée.")


@federation.command("peer")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8020, show_default=True, type=int)
@click.option("--name", default="alice", show_default=True, help="The stand-in account's name.")
def federation_peer(host, port, name):
    """Run a stand-in fediverse instance on loopback: follow a blog, reply to a post, undo, see what arrives."""
    import logging

    from confreres.fedi_peer import HELP, Peer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # its own lines say what arrives
    peer = Peer(host, port, name, say=click.echo)
    peer.start()
    click.echo(f"Instance d'essai : @{name}@{host}:{peer.httpd.server_port} ({peer.actor_id})")
    click.echo(HELP)
    try:
        for line in sys.stdin:
            if not peer.command(line):
                break
    except KeyboardInterrupt:
        pass
    finally:
        peer.stop()
    click.echo("Arrêt.")


@webmention.command("send")
@click.option("--site", "sites", multiple=True, metavar="SLUG", help="Only this blog (repeatable; default: all).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Folder of built sites.")
@pass_ctx
def webmention_send(ctx, sites, out):
    """Send the Webmentions of the built blogs now, whatever policies.webmention_send says."""
    from confreres.webmention import send_after_build

    network = ctx.network
    try:
        chosen = [network.site(slug) for slug in sites] or list(network.sites)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    for site in chosen:
        summary = send_after_build(network, site, out, force=True)
        if summary is not None and not summary.outcomes:
            click.echo(f"Webmention ({site.slug}) : rien de nouveau à envoyer.")


@cli.group()
def directory():
    """The RPPS directory of physicians (verification)."""


@directory.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--accept-shrink", is_flag=True,
              help="Import it even with under 90% of the physicians of the directory it replaces.")
@click.option("--accept-revocations", is_flag=True,
              help="Revoke the members missing from it even when they are many (over 2 and 10%, or all).")
@pass_ctx
def directory_import(ctx, file, accept_shrink, accept_revocations):
    """Import a PS_LibreAcces_Personne_activite extract, or the zip holding it (streamed; replaces the previous import
    atomically), then re-check the members against it."""
    from comments_service.domain.rpps import DirectoryError, DirectoryShrank, import_directory
    from confreres.french import seconds_fr

    app = _service(ctx.network)
    target = app.config["DIRECTORY_DB"]
    check = None if accept_revocations else _revocations_check(app)
    with click.progressbar(length=file.stat().st_size, label="Import", show_pos=False) as bar:
        last = [0]

        def progress(rows):
            # Rows are ~400 bytes on average; a progress estimate is all the bar needs.
            bar.update(min(rows * 400, file.stat().st_size) - last[0])
            last[0] = min(rows * 400, file.stat().st_size)

        try:
            report = import_directory(file, target, progress=progress, accept_shrink=accept_shrink, check=check)
        except DirectoryShrank as exc:
            raise click.ClickException(f"{exc}; if the directory really shrank, run again with --accept-shrink") \
                from None
        except DirectoryError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"{report.rows:,} lignes lues, {report.physician_rows:,} lignes de médecins, "
        f"{report.physicians:,} médecins".replace(",", "\u202f") + f" ({seconds_fr(report.seconds)}) -> {target}"
    )
    _after_directory_import(app, force=accept_revocations)


def _revocations_check(app):
    """The check a new directory passes before it replaces the current one: it would not revoke too many members
    at once (a cut-short or wrong file, a changed secret key); None when verification is not installed."""
    try:
        from comments_service.domain.rpps import DirectoryError
        from comments_service.domain.verification import check_revocations
    except ImportError:
        return None

    def check(path):
        refusal = check_revocations(app, path)
        if refusal:
            raise DirectoryError(f"{refusal}, nothing was imported; if they really left the directory, run again "
                                 "with --accept-revocations")

    return check


def _after_directory_import(app, force: bool = False):
    """Re-check verified members against the new directory, when verification is installed."""
    try:
        from comments_service.actions.verification import recheck_directory
        from comments_service.domain.verification import TooManyRevocations
    except ImportError:
        return
    try:
        for line in recheck_directory(app, force=force):
            click.echo(line)
    except TooManyRevocations as exc:  # the directory changed between the check and the re-check
        raise click.ClickException(f"{exc}; if they really left the directory, run again with --accept-revocations") \
            from None


# -- verify: verified physicians (comments_service/domain/verification.py) ----------------------------------------

@cli.group("verify")
def verify_group():
    """Verified physicians: founding members, revocations, the admin's list (real names: keep it private)."""


def _member_id(db, email: str, create: bool = False, display_name: str | None = None) -> int:
    from comments_service.actions.accounts import announce_rename
    from comments_service.domain import accounts

    row = accounts.find_account(db, email)
    if row is None:
        if not create:
            raise click.ClickException(f"aucun compte pour {email}")
        row, _ = accounts.ensure_account(db, email, display_name=display_name)
        click.echo(f"Compte créé : {email}")
    elif display_name is not None:
        before = row["display_name"]
        row, _ = accounts.ensure_account(db, email, display_name=display_name)
        announce_rename(db, row["id"], before)  # (in the caller's app context) the Notes sent away take the new name
    return row["id"]


@verify_group.command("grant")
@click.argument("email")
@click.option("--rpps", required=True, help="The physician's 11-digit RPPS.")
@click.option("--last-name", required=True, help="Nom d'exercice, as in the directory.")
@click.option("--first-name", required=True, help="Prénom d'exercice, as in the directory.")
@click.option("--reason", default="membre fondateur", show_default=True, help="Written to the audit log.")
@click.option("--display-name", help="The name shown beside their comments (own name or a pseudonym).")
@click.option("--no-directory", is_flag=True, help="Skip the directory check (Luhn and one account per RPPS still apply).")
@click.option("--specialty", default="", help="Specialty shown with the badge when the directory is not checked.")
@pass_ctx
def verify_grant(ctx, email, rpps, last_name, first_name, reason, display_name, no_directory, specialty):
    """Verify a founding member directly (the account is created when missing); audit-logged."""
    from comments_service.core.errors import ApiError
    from comments_service.domain import verification as verify

    with service_db(ctx.network) as (app, db), app.app_context():
        try:
            account_id = _member_id(db, email, create=True, display_name=display_name)
            status = verify.grant(app, db, account_id, rpps, last_name, first_name, reason=reason,
                                  check_directory=not no_directory, specialty=specialty)
        except ApiError as exc:
            raise click.ClickException(f"{exc.field + ': ' if exc.field else ''}{exc.message}") from None
    click.echo(f"Vérifié : {email} ({status['specialty'] or 'spécialité inconnue'}), méthode « membre fondateur ».")


@verify_group.command("revoke")
@click.argument("email")
@click.option("--reason", required=True, help="Why; written to the audit log and told to the member.")
@pass_ctx
def verify_revoke(ctx, email, reason):
    """Revoke a member's verification: the badge leaves their account and their past comments."""
    from comments_service.core.errors import ApiError
    from comments_service.domain import verification as verify

    with service_db(ctx.network) as (app, db), app.app_context():
        try:
            cleared, demoted = verify.revoke_report(app, db, _member_id(db, email), reason, actor="admin (CLI)")
            names = {other: verify.name_of(db, other) for other in demoted}
        except ApiError as exc:
            raise click.ClickException(exc.message) from None
    click.echo(f"Révoqué : {email} ; {cleared} commentaire(s) sans badge désormais.")
    for other, name in names.items():
        click.echo(f"  Sans badge : compte #{other} « {name} », vérifié par parrainage, n'a plus deux parrains vérifiés.")


@verify_group.command("list")
@click.option("--log", "with_log", is_flag=True, help="Also print each member's audit log.")
@click.option("--json", "as_json", is_flag=True, help="JSON instead of text.")
@pass_ctx
def verify_list(ctx, with_log, as_json):
    """Every declared, verified and revoked member with real name and RPPS: the admin's view."""
    import json

    from comments_service.domain import verification as verify

    with service_db(ctx.network) as (_app, db):
        members = verify.admin_list(db)
        if with_log or as_json:
            for member in members:
                member["log"] = verify.log_of(db, member["account_id"])
    if as_json:
        click.echo(json.dumps(members, ensure_ascii=False, indent=2))
        return
    if not members:
        click.echo("Aucune vérification.")
    for m in members:
        click.echo(
            f"#{m['account_id']} {m['level']:<8} {m['email']} « {m['display_name']} » — Dr {m['first_name']} {m['last_name']},"
            f" RPPS {m['rpps']}, {m['specialty'] or 'spécialité inconnue'}; méthode {m['method'] or '-'},"
            f" déclaré {m['declared'][:10]}{', vérifié ' + m['verified'][:10] if m['verified'] else ''}"
            f"{', révoqué ' + m['revoked'][:10] + ' (' + (m['revoked_reason'] or '') + ')' if m['revoked'] else ''};"
            f" {m['vouch_count']} parrainage(s){' ; NUMÉRO CONTESTÉ (aussi déclaré par un autre compte)' if m['contested'] else ''}"
        )
        for entry in m.get("log", []) if with_log else []:
            click.echo(
                f"    {entry['created']} {entry['event']}{' (' + entry['method'] + ')' if entry['method'] else ''}"
                f" par {entry['actor'] or '?'}{' ; preuve : ' + entry['proof'] if entry['proof'] else ''}"
                f"{' ; motif : ' + entry['reason'] if entry['reason'] else ''}"
            )


@cli.group("import")
def import_group():
    """Bring a blog in from another platform: its posts (`posts`), then its comments (`comments`)."""


def _import_options(command):
    """FILE, --site, --dry-run and --json: what every `confreres import` command takes."""
    for option in reversed((
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--site", "slug", required=True, metavar="SLUG", help="The blog of the network the comments go to."),
        click.option("--dry-run", is_flag=True, help="Read, match and count; write nothing."),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        pass_ctx,
    )):
        command = option(command)
    return command


@import_group.command("wordpress")
@_import_options
def import_wordpress(ctx, file, slug, dry_run, as_json):
    """Import the comments of a WordPress export (WXR, .xml or .xml.gz) into the blog SLUG.

    The posts come first (confreres import wordpress-posts); once the blog is built, the comment
    service knows its posts and each WordPress post is matched by URL or slug.
    Running it again imports nothing new.
    """
    _platform_comments(ctx, "wordpress", file, slug, dry_run, as_json)


def _posts_options(command):
    """FILE, --site, --source, --no-images, --dry-run and --json: what every posts import takes."""
    for option in reversed((
        click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path)),
        click.option("--site", "slug", required=True, metavar="SLUG", help="The blog of the network the posts go to."),
        click.option("--source", type=click.Path(file_okay=False, exists=True, path_type=Path),
                     help="A clone of the blog's repository to write into (default: sites/SLUG/)."),
        click.option("--no-images", is_flag=True, help="Do not download the images and files the posts show."),
        click.option("--dry-run", is_flag=True, help="Read, convert and count; write and download nothing."),
        click.option("--json", "as_json", is_flag=True, help="Print the report as JSON."),
        click.option("--redirects", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE.csv",
                     help="Also write each post's old and new addresses (source,target), for the old blog's redirections."),
        pass_ctx,
    )):
        command = option(command)
    return command


@import_group.command("wordpress-posts")
@_posts_options
def import_wordpress_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects):
    """Write the posts and pages of a WordPress export (WXR) as Markdown into the blog SLUG.

    Each post goes to content/<yyyy-mm>-<slug>.md, each page to content/pages/<slug>.md, with its title,
    date, category, tags, slug and summary; drafts, private and password-protected posts stay drafts.
    The images and files the posts show from the blog's own uploads are downloaded into content/images/
    and content/files/. A file already there is never overwritten. Then build the blog and import the
    comments of the same file (confreres import wordpress).
    """
    _platform_posts(ctx, "wordpress", file, slug, source, no_images, dry_run, as_json, redirects)


@import_group.command("blogger-posts")
@_posts_options
def import_blogger_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects):
    """Write the posts and pages of a Blogger export as Markdown into the blog SLUG.

    The file is Blogger's backup (Paramètres > Gérer le blog > Sauvegarder le contenu, a .xml) or Google
    Takeout's Blogger/Blogs/<blog>/feed.atom. Each post goes to content/<yyyy-mm>-<slug>.md with its title,
    date, labels (as tags) and slug; drafts stay drafts; the images the posts show from Blogger's servers
    are downloaded into content/images/blogger/. A file already there is never overwritten. Then build
    the blog and import the comments of the same file (confreres import blogger).
    """
    _platform_posts(ctx, "blogger", file, slug, source, no_images, dry_run, as_json, redirects)


@import_group.command("overblog-posts")
@_posts_options
@click.option("--old-url", metavar="URL", default="",
              help="The old blog's address, when the file does not say it: links between its posts kept.")
def import_overblog_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects, old_url):
    """Write the posts and pages of an Over-blog (or Eklablog) export as Markdown into the blog SLUG.

    The XML file of Over-blog's export. Each post goes to content/<yyyy-mm>-<slug>.md with its title,
    date, tags and slug (the last part of its old address); drafts stay drafts; the pictures and files the
    posts show from the platform's servers are downloaded into content/images/. A file already there is
    never overwritten. Then build the blog and import the comments of the same file (confreres import
    overblog).
    """
    _platform_posts(ctx, "overblog", file, slug, source, no_images, dry_run, as_json, redirects, old_url)


@import_group.command("movabletype-posts")
@_posts_options
@click.option("--old-url", metavar="URL", default="",
              help="The old blog's address (the file does not say it): its images and files are downloaded, "
                   "links between its posts kept.")
def import_movabletype_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects, old_url):
    """Write the entries of a Movable Type export as Markdown into the blog SLUG.

    The plain-text export of Movable Type, TypePad and the platforms built on them (Hautetfort…). Each entry
    goes to content/<yyyy-mm>-<slug>.md with its title, date, categories, tags, slug (its BASENAME) and
    excerpt; drafts stay drafts; the images the posts show from the platform's servers, and from the old
    blog's own address when --old-url gives it, are downloaded into content/images/. A file already there
    is never overwritten. Then build the blog and import the comments of the same file (confreres import
    movabletype).
    """
    _platform_posts(ctx, "movabletype", file, slug, source, no_images, dry_run, as_json, redirects, old_url)


@import_group.command("dotclear-posts")
@_posts_options
@click.option("--old-url", metavar="URL", default="",
              help="The old blog's address, as readers open it (the file does not say it): its images and files "
                   "are downloaded, links between its posts kept.")
def import_dotclear_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects, old_url):
    """Write the posts and pages of a Dotclear export as Markdown into the blog SLUG.

    The file of Dotclear's « Exporter le blog » (Import/Export, a .txt, or its .zip). Each post goes to
    content/<yyyy-mm>-<slug>.md with its title, date, category, tags, slug and chapô (as its summary);
    offline and pending posts, and those with a password, stay drafts; the images and files of the blog's
    media folder that the posts show are downloaded into content/images/ and content/files/. A file already
    there is never overwritten. Then build the blog and import the comments of the same file (confreres
    import dotclear).
    """
    _platform_posts(ctx, "dotclear", file, slug, source, no_images, dry_run, as_json, redirects, old_url)


@import_group.command("posts")
@_posts_options
@click.option("--old-url", metavar="URL", default="",
              help="The old blog's address, for the exports that do not say it (Dotclear: required; Movable Type, "
                   "Over-blog: its own images and the links between its posts).")
def import_any_posts(ctx, file, slug, source, no_images, dry_run, as_json, redirects, old_url):
    """Write the posts and pages of an export as Markdown into the blog SLUG, whatever platform wrote it.

    WordPress, Blogger, Over-blog (or Eklablog), Dotclear and Movable Type (TypePad, Hautetfort) exports are
    recognised from the file itself, then read as their own command reads them (confreres import
    wordpress-posts, …). Then build the blog and import the comments of the same file (confreres import
    comments).
    """
    from confreres.export_formats import NAMES, detect
    from confreres.xml_input import ExportError

    try:
        kind = detect(file, posts=True)
    except ExportError as exc:
        raise click.ClickException(f"{file} : {exc}") from None
    if kind not in POSTS_READERS:
        raise click.ClickException(f"{file} : un export {NAMES[kind]} ne contient que des commentaires : importez-les "
                                   f"avec confreres import comments, une fois les billets du blog construits")
    _platform_posts(ctx, kind, file, slug, source, no_images, dry_run, as_json, redirects, old_url)


# the posts' readers: platform -> (module of confreres, what it does with --old-url: "" | "optional" | "required")
POSTS_READERS = {"wordpress": ("wordpress_posts", ""), "blogger": ("blogger", ""), "overblog": ("overblog", "optional"),
                 "movabletype": ("movable_type", "optional"), "dotclear": ("dotclear", "required")}


def _platform_posts(ctx, kind: str, file: Path, slug: str, source: Path | None, no_images: bool, dry_run: bool,
                    as_json: bool, redirects: Path | None, old_url: str = "") -> None:
    """The posts of `kind`'s export (POSTS_READERS), its --old-url checked as that platform needs it."""
    import importlib
    from functools import partial

    module, address = POSTS_READERS[kind]
    reader = importlib.import_module(f"confreres.{module}").import_posts
    if address == "required" and not old_url:
        raise click.BadParameter("l'adresse de l'ancien blog, que son export ne donne pas (ex. https://docteur-x.fr/)",
                                 param_hint="--old-url")
    if old_url and not old_url.startswith(("http://", "https://")):
        raise click.BadParameter("une adresse http:// ou https://", param_hint="--old-url")
    if kind == "movabletype" and redirects:
        raise click.BadParameter("un export Movable Type ne donne pas l'adresse de ses billets : pas de "
                                 "redirections à écrire", param_hint="--redirects")
    if address:
        reader = partial(reader, old_url=old_url)
    _import_posts(ctx.network, file, slug, source, no_images, dry_run, as_json, redirects, reader)


def _import_posts(network, file: Path, slug: str, source: Path | None, no_images: bool, dry_run: bool,
                  as_json: bool, redirects: Path | None, import_posts) -> None:
    """What every posts import does around its reader: the blog's folder found, the report printed."""
    import json

    from confreres import post_import
    from confreres.french import plural_fr
    from confreres.xml_input import ExportError

    try:
        site = network.site(slug)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    content = (source or site.path) / "content"
    try:
        report = import_posts(file, content, download=not no_images, dry_run=dry_run)
    except ExportError as exc:  # raised while the export is read, before any file is written (post_import.plan)
        raise click.ClickException(f"{file} : {exc} ; rien n'a été importé") from None
    rows = []
    if redirects and not dry_run:
        try:
            settings = registry.load_site_settings(source or site.path)
        except registry.RegistryError as exc:
            raise click.ClickException(str(exc)) from None
        rows = post_import.redirections(report, site.url, settings.permalinks)
        post_import.write_redirections(rows, redirects)
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in post_import.format_report(report, file, content):
            click.echo(line)
        if redirects and not dry_run:
            click.echo(f"Redirections : {redirects} ({plural_fr(len(rows), 'adresse')} de l'ancien blog vers le réseau)")
    if any(u.outcome == "failed" for u in report.uploads.values()):
        sys.exit(1)


@import_group.command("disqus")
@_import_options
@click.option("--author-username", metavar="NAME", default="",
              help="The blog author's Disqus username: their comments are marked as the post author's.")
def import_disqus(ctx, file, slug, dry_run, as_json, author_username):
    """Import the comments of a Disqus export (.xml or the .xml.gz Disqus mails) into the blog SLUG.

    Each Disqus thread is matched to a post of the blog by its link (its path, else its last segment), so
    the blog's posts must be built first, the comment service running. Running it again imports nothing new.
    """
    _platform_comments(ctx, "disqus", file, slug, dry_run, as_json, author_username)


@import_group.command("blogger")
@_import_options
def import_blogger(ctx, file, slug, dry_run, as_json):
    """Import the comments of a Blogger export (the backup's .xml or Takeout's feed.atom) into the blog SLUG.

    The posts come first (confreres import blogger-posts); once the blog is built, the comment service
    knows its posts and each Blogger post is matched by its address or slug. Running it again imports
    nothing new.
    """
    _platform_comments(ctx, "blogger", file, slug, dry_run, as_json)


@import_group.command("movabletype")
@_import_options
def import_movabletype(ctx, file, slug, dry_run, as_json):
    """Import the comments of a Movable Type export (Movable Type, TypePad, Hautetfort…) into the blog SLUG.

    The posts come first (confreres import movabletype-posts); once the blog is built, the comment service
    knows its posts and each entry is matched by its slug. Trackbacks are left out. Running it again
    imports nothing new.
    """
    _platform_comments(ctx, "movabletype", file, slug, dry_run, as_json)


@import_group.command("dotclear")
@_import_options
def import_dotclear(ctx, file, slug, dry_run, as_json):
    """Import the comments of a Dotclear export (« Exporter le blog ») into the blog SLUG.

    The posts come first (confreres import dotclear-posts); once the blog is built, the comment service
    knows its posts and each Dotclear post is matched by its slug. Trackbacks are left out. Running it again
    imports nothing new.
    """
    _platform_comments(ctx, "dotclear", file, slug, dry_run, as_json)


@import_group.command("overblog")
@_import_options
def import_overblog(ctx, file, slug, dry_run, as_json):
    """Import the comments of an Over-blog (or Eklablog) export into the blog SLUG.

    The posts come first (confreres import overblog-posts); once the blog is built, the comment service
    knows its posts and each post is matched by its address or slug. Answers stay threaded. Running it
    again imports nothing new.
    """
    _platform_comments(ctx, "overblog", file, slug, dry_run, as_json)


@import_group.command("isso")
@_import_options
def import_isso(ctx, file, slug, dry_run, as_json):
    """Import the comments of an Isso database (its comments.db, `dbpath` in isso.cfg) into the blog SLUG.

    Each Isso thread is matched to a post of the blog by its path (else its last segment), so the blog's
    posts must be built first, the comment service running. The file is only read. Running it again imports
    nothing new.
    """
    _platform_comments(ctx, "isso", file, slug, dry_run, as_json)


@import_group.command("comments")
@_import_options
@click.option("--author-username", metavar="NAME", default="",
              help="Disqus only: the blog author's Disqus username, their comments marked as the post author's.")
def import_any_comments(ctx, file, slug, dry_run, as_json, author_username):
    """Import the comments of an export into the blog SLUG, whatever platform wrote it.

    WordPress, Blogger, Over-blog (or Eklablog), Dotclear, Movable Type (TypePad, Hautetfort), Disqus and
    Isso files are recognised from the file itself, then read as their own command reads them (confreres
    import wordpress, …). The blog's posts must be built first, the comment service running. Running it
    again imports nothing new.
    """
    from confreres.export_formats import detect
    from confreres.xml_input import ExportError

    try:
        kind = detect(file)
    except ExportError as exc:
        raise click.ClickException(f"{file} : {exc}") from None
    _platform_comments(ctx, kind, file, slug, dry_run, as_json, author_username)


# the comments' readers: platform -> (module of comments_service.importers, its reading function)
COMMENTS_READERS = {"wordpress": ("wordpress", "read_wxr"), "blogger": ("blogger", "read_blogger_comments"),
                    "overblog": ("overblog", "read_overblog_comments"),
                    "dotclear": ("dotclear", "read_dotclear_comments"),
                    "movabletype": ("movable_type", "read_mt_comments"), "disqus": ("disqus", "read_disqus"),
                    "isso": ("isso", "read_isso")}


def _platform_comments(ctx, kind: str, file: Path, slug: str, dry_run: bool, as_json: bool,
                       author_username: str = "") -> None:
    import importlib
    from functools import partial

    module, function = COMMENTS_READERS[kind]
    read = getattr(importlib.import_module(f"comments_service.importers.{module}"), function)
    if kind == "disqus":
        read = partial(read, author_username=author_username)
    _import_comments(ctx.network, file, slug, dry_run, as_json, read)


def _import_comments(network, file: Path, slug: str, dry_run: bool, as_json: bool, read) -> None:
    """What every `confreres import` command does around its reader: the blog's posts known, the report printed."""
    import json

    from comments_service.actions import posts as actions_posts
    from comments_service.importers import threads
    from confreres.post_import import without_thread
    from confreres.xml_input import ExportError

    try:
        site = network.site(slug)
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    with service_db(network) as (_app, db):
        try:
            known = threads.site_candidates(db, slug)
            built = Path(network.output) / slug / "posts.json"
            if not known and built.is_file() and not dry_run:
                # the service has not seen this blog's posts yet: declare the built ones, as `serve` does
                actions_posts.sync_posts(db, network, slug, json.loads(built.read_text(encoding="utf-8")))
            extra = []
            if dry_run and built.is_file():
                posts = json.loads(built.read_text(encoding="utf-8")).get("posts", [])
                extra = [threads.Candidate(p.get("url", ""), p.get("title", "")) for p in posts if isinstance(p, dict)]
            if not threads.site_candidates(db, slug) and not extra:
                raise click.ClickException(
                    f"le service de commentaires ne connaît encore aucun billet de {slug} : importez les billets, "
                    f"construisez le blog (confreres build --site {slug}) service lancé, puis importez les commentaires"
                )
            report = threads.import_threads(db, network, slug, file, read, dry_run=dry_run, extra_candidates=extra,
                                            without_thread=without_thread(site.path / "content"))
        except ExportError as exc:
            raise click.ClickException(f"{file} : {exc} ; rien n'a été importé") from None
        except (OSError, ValueError) as exc:
            raise click.ClickException(f"{file}: {exc}") from None
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in threads.format_report(report):
            click.echo(line)
    if report.failed:
        sys.exit(1)


@cli.group("export")
def export_group():
    """Export data of the network."""


@export_group.command("comments")
@click.option("--site", "slug", metavar="SLUG", help="Only this blog's threads.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file (default: stdout).")
@click.option("--private", is_flag=True, help="Every status, source text and e-mail addresses (for your own backups).")
@pass_ctx
def export_comments(ctx, slug, out, private):
    """Write the comment threads as JSON: public fields only, unless --private."""
    from comments_service.domain.export import fsync_folder, write_export
    from confreres.french import plural_fr

    network = ctx.network
    if slug:
        try:
            network.site(slug)
        except KeyError as exc:
            raise click.ClickException(exc.args[0]) from None
    if private:
        click.echo(
            "Attention : --private écrit les adresses e-mail des commentateurs (données personnelles, RGPD) : "
            "gardez le fichier pour les sauvegardes du réseau, ne le publiez jamais.",
            err=True,
        )
    with service_db(network) as (app, db):
        depth = int(app.config["THREAD_DEPTH"])
        if out is None:
            counts = write_export(db, network, sys.stdout, site=slug, private=private, depth=depth)
        else:
            tmp = out.with_name(f".{out.name}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    counts = write_export(db, network, handle, site=slug, private=private, depth=depth)
                    handle.flush()
                    os.fsync(handle.fileno())  # the file's bytes on disk before its name points at them
                os.replace(tmp, out)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            fsync_folder(out.parent)  # the rename itself (as `confreres backup`): a crash must not undo it
    if out is not None:
        click.echo(f"{plural_fr(counts['comments'], 'commentaire')} dans {plural_fr(counts['threads'], 'fil')} -> {out}", err=True)


@cli.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True, help="Replace PATH if it exists.")
@pass_ctx
def backup(ctx, path, force):
    """Copy the comment database to PATH (a file, or a folder) while the service runs, then check the copy."""
    from comments_service.domain.export import BackupError
    from comments_service.domain.export import backup as run_backup

    app = _service(ctx.network)
    try:
        result = run_backup(app.config["DB"], path, overwrite=force)
    except (BackupError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # sqlite3.Error: the database is locked, corrupt...
        raise click.ClickException(f"la sauvegarde a échoué : {exc}") from None
    from confreres.french import decimal_fr, plural_fr, seconds_fr

    tables = {"posts": ("billet", None), "comments": ("commentaire", None), "accounts": ("compte", None),
              "reports": ("signalement", None), "imports": ("commentaire importé", "commentaires importés")}
    states = {"approved": ("publié", None), "pending": ("en attente", "en attente"), "rejected": ("refusé", None),
              "spam": ("indésirable", None), "deleted": ("supprimé", None)}
    counts = ", ".join(plural_fr(n, *tables.get(name, (name, name))) for name, n in result.counts.items())
    statuses = ", ".join(plural_fr(n, *states.get(s, (s, s))) for s, n in result.statuses.items())
    click.echo(f"Sauvegarde : {result.path} ({decimal_fr(result.size / 1024)} Kio, {seconds_fr(result.seconds, 2)}),"
               f" intégrité {result.integrity}")
    click.echo(f"  {counts}" + (f" (commentaires : {statuses})" if statuses else ""))


@cli.group()
def admin():
    """Accounts: blog authors, network moderators and admins."""


@admin.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["member", "author", "moderator", "admin"]),
              help="Default: author with --site, else admin.")
@click.option("--site", "sites", multiple=True, metavar="SLUG", help="Make the account an author of this blog (repeatable).")
@click.option("--name", help='The name shown, e.g. "Dr Claire Lefebvre".')
@pass_ctx
def admin_create(ctx, email, role, sites, name):
    """Create (or update) the account of EMAIL; it signs in with a link sent to that address."""
    from comments_service.actions.accounts import announce_rename
    from comments_service.core.errors import ApiError
    from comments_service.domain.accounts import email_input, ensure_account, find_account, sites_of

    network = ctx.network
    try:
        email = email_input(email)
        for slug in sites:
            network.site(slug)
    except ApiError as exc:
        raise click.ClickException(f"{email}: {exc.message}") from None
    except KeyError as exc:
        raise click.ClickException(exc.args[0]) from None
    role = role or ("author" if sites else "admin")
    with service_db(network) as (app, db), app.app_context():
        before = find_account(db, email)
        row, created = ensure_account(db, email, role=role, sites=sites, display_name=name)
        if before is not None:  # a new name: the Notes sent away take it (queued; `federation deliver` sends them)
            announce_rename(db, row["id"], before["display_name"])
        owned = sites_of(db, row["id"])
    click.echo(f"{'Compte créé' if created else 'Compte mis à jour'} : {row['email']} ({row['role']})"
               + (f", auteur de {', '.join(owned)}" if owned else ""))
    click.echo(f"Connexion : {network.comments_url}auth (un lien est envoyé à cette adresse).")


@admin.command("remove-site")
@click.argument("email")
@click.argument("slug")
@pass_ctx
def admin_remove_site(ctx, email, slug):
    """Make the account of EMAIL no longer an author of blog SLUG (its role and its other blogs stay)."""
    from comments_service.domain.accounts import find_account, remove_site, sites_of

    with service_db(ctx.network) as (app, db), app.app_context():
        row = find_account(db, email)
        if row is None:
            raise click.ClickException(f"aucun compte pour {email.strip()} (voir : confreres admin list)")
        if slug not in sites_of(db, row["id"]):
            try:
                ctx.network.site(slug)
            except KeyError as exc:
                raise click.ClickException(exc.args[0]) from None
            raise click.ClickException(f"{row['email']} n'est pas auteur du blog « {slug} » : rien n'a changé")
        remove_site(db, row["id"], slug)
        owned = sites_of(db, row["id"])
    click.echo(f"{row['email']} n'est plus auteur de {slug}"
               + (f" ; reste auteur de {', '.join(owned)}" if owned else " ; il n'est plus auteur d'aucun blog")
               + f" (rôle inchangé : {row['role']}).")


@admin.command("list")
@pass_ctx
def admin_list(ctx):
    """List the accounts that are not plain members: authors, moderators, admins."""
    from comments_service.domain.accounts import staff

    with service_db(ctx.network) as (_app, db):
        rows = staff(db)
    for row in rows:
        click.echo(f"{row['role']:<10} {row['email']}  {row['display_name'] or ''}"
                   + (f"  [{row['sites']}]" if row["sites"] else ""))
    if not rows:
        click.echo("Aucun compte. Créez le premier : confreres admin create EMAIL")


@cli.group()
def notify():
    """Notification mails: the daily digest and the outbox (for cron)."""


@notify.command("digest")
@pass_ctx
def notify_digest(ctx):
    """Queue one digest per blog author who chose « résumé quotidien », then send; run it daily."""
    from comments_service.mail.notices import queue_digests
    from comments_service.mail.outbox import deliver

    with service_db(ctx.network) as (app, db), app.app_context():
        summary = queue_digests(db)
    sent = deliver(app.config)
    answers = f", {summary['answers']} réponse(s) de confrères" if summary["answers"] else ""
    answers += f", {summary['mentions']} mention(s) à valider" if summary["mentions"] else ""
    click.echo(f"{summary['digests']} résumé(s) ({summary['comments']} commentaire(s){answers}) ; "
               f"{sent['sent']} e-mail(s) envoyé(s), {sent['failed']} en échec (gardés pour plus tard).")
    if sent["failed"]:
        sys.exit(1)


@notify.command("send")
@pass_ctx
def notify_send(ctx):
    """Queue the mails of answers between blogs not yet queued, then send the outbox (retrying); run it every few minutes."""
    from comments_service.mail.notices import queue_answer_notices
    from comments_service.mail.outbox import deliver, pending_count
    from comments_service.mail.transport import transport

    with service_db(ctx.network) as (app, db):
        if not transport(app.config):
            raise click.ClickException("pas de transport du courrier : définissez CONFRERES_SMTP_HOST (ou CONFRERES_MAIL_DIR)")
        with app.app_context():  # answers between blogs declared without the service (e.g. an import)
            queue_answer_notices(db)
        sent = deliver(app.config)
        left = pending_count(db)
    click.echo(f"{sent['sent']} e-mail(s) envoyé(s), {sent['failed']} en échec, {left['waiting']} en attente.")
    if sent["failed"]:
        sys.exit(1)


@cli.group()
def letter():
    """« La lettre des confrères »: the network's new posts and debates by mail (for cron)."""


@letter.command("send")
@click.option("--period", "frequency", type=click.Choice(["weekly", "daily"]), default="weekly", show_default=True,
              help="Which subscribers: the weekly or the daily letter.")
@click.option("--days", type=click.IntRange(1, 366), help="Cover the last N days (default: 7 weekly, 1 daily).")
@click.option("--dry-run", is_flag=True, help="Count what would be queued; write and send nothing.")
@pass_ctx
def letter_send(ctx, frequency, days, dry_run):
    """Queue this period's letter for every confirmed subscriber who has not had it, then send the outbox.

    Run it once a period (e.g. Mondays at 7:00 for --period weekly, every day for --period daily; both, as a
    run sends one frequency's letter to that frequency's subscribers only): a second run of the same week (or
    day) sends nothing, and a run that stopped halfway resumes where it stopped.
    """
    from comments_service.mail.letter import describe_counts, queue_letters
    from comments_service.mail.outbox import deliver_many, pending_count
    from comments_service.mail.transport import transport

    with service_db(ctx.network) as (app, db):
        if not dry_run and not transport(app.config):
            raise click.ClickException("pas de transport du courrier : définissez CONFRERES_SMTP_HOST (ou CONFRERES_MAIL_DIR)")
        with app.app_context():
            summary = queue_letters(db, frequency, days=days, dry_run=dry_run)
        click.echo(("(essai, rien n'est écrit ni envoyé) " if dry_run else "") + describe_counts(summary))
        if dry_run:
            return
        sent = deliver_many(app.config)
        left = pending_count(db)
    click.echo(f"{sent['sent']} e-mail(s) envoyé(s), {sent['failed']} en échec, {left['waiting']} en attente.")
    if sent["failed"]:
        sys.exit(1)


class ServiceGroup(click.Group):
    """`confreres service`: its commands live with the service (comments_service/commands.py) and are
    imported only when listed or run, so `confreres --help` does not load the service."""

    loaded = False

    def _load(self) -> None:
        if not self.loaded:
            from comments_service.commands import COMMANDS

            for command in COMMANDS:
                self.add_command(command)
            self.loaded = True

    def list_commands(self, ctx):
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx, name):
        self._load()
        return super().get_command(ctx, name)


@cli.group(cls=ServiceGroup)
@click.pass_context
def service(click_ctx):
    """The comment service's upkeep: its database schema, the IP purge, posts declared by hand, its recorded settings."""
    from flask.cli import ScriptInfo

    context = click_ctx.find_object(Context)
    # The commands run in an app context (Flask's `with_appcontext`): the app is built only when one runs.
    click_ctx.obj = ScriptInfo(create_app=lambda: _service(context.network), set_debug_flag=False)


@service.command("accept-settings")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def service_accept_settings(click_ctx, yes):
    """Record this environment's secret key and mail transport as the database's, after changing them on purpose.

    Every app that opens the database (the service, each command) stops at start when its secret key or mail transport
    is not the one recorded (comments_service/core/identity.py): usually a command run without /etc/confreres/env.
    The members' RPPS hashes are made again under the key recorded, in the same transaction (they need no old key);
    a key changed with its old one at hand is `rotate-key`, which keeps the blocks by e-mail too.
    """
    from comments_service.core import identity
    from comments_service.core.db import connect, write
    from comments_service.domain import rekey

    network = click_ctx.find_object(Context).network
    source = "CONFRERES_SECRET_KEY" if os.environ.get("CONFRERES_SECRET_KEY") else "var/secret_key (CONFRERES_SECRET_KEY n'est pas définie)"
    click.echo(f"La base adoptera la clé secrète de {source} et le transport du courrier de cet environnement. "
               "Une nouvelle clé invalide tout ce que l'ancienne a signé : les liens déjà envoyés (connexion, « ne plus "
               "rien recevoir », confirmations, modération en un clic, lettre), les formulaires ouverts, les "
               "jetons des blogs (`confreres site-token` à réécrire dans chaque dépôt) ; les empreintes des numéros RPPS des membres "
               "sont refaites sous la nouvelle clé, mais celles des adresses des auteurs bloqués et des IP ne "
               "correspondent plus. Si vous avez l'ancienne clé, utilisez plutôt `confreres service rotate-key`, qui "
               "garde les blocages par e-mail.", err=True)
    if not yes and not click.confirm("Continuer ?", err=True):
        raise click.ClickException("rien n'a été changé")
    app = _service(network, {"SETTINGS_BY_COMMAND": True})
    db = connect(app.config["DB"])
    try:
        with write(db):
            identity.record(db, app.config, replace=True)
            counts = rekey.rehash_rpps(db, app.config["SECRET_KEY"])
    finally:
        db.close()
    click.echo(f"{app.config['DB']} : clé secrète et transport du courrier enregistrés ; {counts['rpps']} empreinte(s) "
               "RPPS refaite(s) sous cette clé.")
    if counts["rpps_lost"]:
        click.echo(f"{counts['rpps_lost']} vérification(s) sans numéro RPPS conservé : plus reconnaissables.", err=True)


@service.command("rotate-key")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
def service_rotate_key(click_ctx, yes):
    """Change the secret key on purpose (a leaked one) and re-key what the database keyed with the old one.

    The new key is CONFRERES_SECRET_KEY (the service's environment, already changed); the old one is read from
    CONFRERES_OLD_SECRET_KEY or typed at a hidden prompt, never from an argument (`ps` shows those), and must be the
    key the database records. One transaction (comments_service/domain/rekey.py): RPPS hashes and blocks by e-mail
    re-keyed, IP hashes erased, every session ended, the new key recorded; on any refusal nothing changes.
    """
    from comments_service.core.db import connect
    from comments_service.domain import rekey

    network = click_ctx.find_object(Context).network
    if not os.environ.get("CONFRERES_SECRET_KEY"):
        raise click.ClickException("la nouvelle clé se lit dans CONFRERES_SECRET_KEY, qui n'est pas définie : chargez "
                                   "l'environnement du service, déjà modifié (set -a; . /etc/confreres/env; set +a) ; "
                                   "rien n'a été changé")
    click.echo("La base passera de l'ancienne clé secrète à celle de CONFRERES_SECRET_KEY, en une transaction : "
               "empreintes des numéros RPPS des membres et des adresses des auteurs bloqués refaites, empreintes "
               "d'IP effacées (elles ne peuvent être refaites), toutes les sessions fermées (chacun se reconnecte). "
               "Les liens déjà envoyés ou en attente d'envoi (connexion, confirmations, modération en un clic, « ne "
               "plus rien recevoir », désabonnement de la lettre), les formulaires ouverts, les liens de modification "
               "et les jetons des blogs cesseront de fonctionner. Arrêtez d'abord le service et ses minuteries.", err=True)
    if not yes and not click.confirm("Continuer ?", err=True):
        raise click.ClickException("rien n'a été changé")
    old = os.environ.get("CONFRERES_OLD_SECRET_KEY", "")
    if not old:
        try:
            old = click.prompt("Ancienne clé secrète (non affichée)", hide_input=True, default="", show_default=False,
                               err=True)
        except click.Abort:
            old = ""
    if not old.strip():
        raise click.ClickException("l'ancienne clé secrète n'est pas donnée : tapez-la à l'invite, ou définissez "
                                   "CONFRERES_OLD_SECRET_KEY le temps de la commande ; rien n'a été changé")
    app = _service(network, {"SETTINGS_BY_COMMAND": True})
    db = connect(app.config["DB"])
    try:
        counts = rekey.rotate(db, app.config, old)
    except rekey.RotationRefused as exc:
        raise click.ClickException(f"{app.config['DB']} : {exc} ; rien n'a été changé") from None
    finally:
        db.close()
    click.echo(f"{app.config['DB']} : nouvelle clé secrète enregistrée. {counts['rpps']} empreinte(s) RPPS et "
               f"{counts['blocks_email']} blocage(s) par e-mail refaits ; {counts['ip_hashes']} empreinte(s) d'IP "
               f"effacée(s) ; {counts['sessions']} session(s) fermée(s).")
    lost = [(counts["rpps_lost"], "vérification(s) sans numéro RPPS conservé, plus reconnaissables"),
            (counts["blocks_email_lost"], "blocage(s) par e-mail dont aucune adresse connue ne donne l'empreinte : "
                                          "l'e-mail n'y compte plus"),
            (counts["blocks_address_lost"], "blocage(s) par adresse réseau : l'adresse n'y compte plus"),
            (counts["blocks_removed"], "blocage(s) qui ne désignaient plus personne, supprimés"),
            (counts["outbox_waiting"], "e-mail(s) en attente d'envoi : leurs liens, signés par l'ancienne clé, "
                                       "seront refusés")]
    for count, what in lost:
        if count:
            click.echo(f"  ! {count} {what}", err=True)
    click.echo("À faire : démarrer le service ; donner la nouvelle clé aux constructions (cron, `confreres build`) ; "
               "réécrire le jeton de chaque blog (`confreres site-token SLUG` dans <dépôt>/confreres-site-token, et "
               "pour les hôtes de construction) : docs/operating.md.", err=True)


def main():
    """`confreres`: click's own run, but a command's error reads « Erreur : … » (click says « Error: »)."""
    try:
        code = cli.main(prog_name="confreres", standalone_mode=False)
    except click.UsageError as exc:  # a mistyped command or option: click's usage and hint, as `--help` is English
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Erreur : {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("Interrompu.", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)  # --help and --version exit 0; commands exit with sys.exit


if __name__ == "__main__":
    main()
