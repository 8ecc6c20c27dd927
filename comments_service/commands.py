"""The service's own maintenance commands, mounted in the one CLI as `confreres service init-db|purge-ips|sync-posts`.

Plain click commands run inside an application context (Flask's `with_appcontext`): `confreres service`
hands them the app of its network (`confreres.cli`), Flask's test runner the app under test. Each does one
thing through the module that owns it (core.db, web.limits, domain.comments + mail.notices); nothing here
is imported by the service itself.
"""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from comments_service.actions import posts as actions_posts
from comments_service.core.config import ConfigError
from comments_service.core.db import connect, migrate_or_refuse, write
from comments_service.core.errors import ApiError
from comments_service.mail import notices as notify
from comments_service.web.limits import purge_ip_hashes


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database or bring it to the latest schema."""
    path = current_app.config["DB"]
    db = connect(path)
    try:
        applied = migrate_or_refuse(db, path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.close()
    if applied:
        click.echo(f"{path} : migrations appliquées : {', '.join(applied)}")
    else:
        click.echo(f"{path} : schéma à jour")


@click.command("purge-ips")
@with_appcontext
def purge_ips_command() -> None:
    """Erase the IP hashes older than IP_RETENTION_DAYS (run it daily, e.g. from cron)."""
    db = connect(current_app.config["DB"])
    try:
        days = int(current_app.config["IP_RETENTION_DAYS"])
        touched = purge_ip_hashes(db, days)
    finally:
        db.close()
    click.echo(f"{touched} empreinte(s) d'IP de plus de {days} jours effacée(s)")


@click.command("sync-posts")
@with_appcontext
@click.argument("slug")
@click.argument("posts_json", type=click.File("r", encoding="utf-8"))
def sync_posts_command(slug: str, posts_json) -> None:
    """Declare a site's posts from a posts.json file (same body as PUT /api/sites/SLUG/posts)."""
    network = current_app.extensions["confreres_network"]
    db = connect(current_app.config["DB"])
    try:
        with write(db):
            summary = actions_posts.sync_posts(db, network, slug, json.load(posts_json))
            notify.queue_answer_notices(db)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    except ApiError as exc:
        raise click.ClickException(f"{exc.field or 'posts'}: {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{posts_json.name} : ce n'est pas du JSON ({exc})") from None
    finally:
        db.close()
    click.echo(json.dumps(summary, ensure_ascii=False))


COMMANDS = (init_db_command, purge_ips_command, sync_posts_command)
