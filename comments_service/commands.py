"""Service commands beside init-db (core/db.py) and purge-ips (web/limits.py): `flask --app comments_service ...`."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from comments_service.actions import posts as actions_posts
from comments_service.core.db import connect, write
from comments_service.core.errors import ApiError
from comments_service.mail import notices as notify
from confreres.site_token import site_token


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
        raise click.ClickException(f"{posts_json.name}: not JSON ({exc})") from None
    finally:
        db.close()
    click.echo(json.dumps(summary, ensure_ascii=False))


@click.command("site-token")
@with_appcontext
@click.argument("slug")
def site_token_command(slug: str) -> None:
    """Print the bearer token a site's build uses for PUT /api/sites/SLUG/posts."""
    network = current_app.extensions["confreres_network"]
    try:
        network.site(slug)
    except KeyError as exc:
        raise click.ClickException(str(exc.args[0])) from None
    click.echo(site_token(current_app.config["SECRET_KEY"], slug))


def register(app) -> None:
    app.cli.add_command(sync_posts_command)
    app.cli.add_command(site_token_command)
