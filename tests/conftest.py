"""Shared fixtures: a comment service on a fresh, migrated SQLite file with a two-site network.

`app`/`client`/`runner` follow the Flask tutorial; `actions` lets tests read as user steps
(post a comment, reply, edit, approve...); `assert_api_error` checks the one JSON error shape.
`make_app(**config)` builds another app on the same network (e.g. with a low rate limit).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from comments_service import create_app
from comments_service.actions.posts import sync_posts
from comments_service.core.addresses import normalise_email
from comments_service.core.db import connect
from comments_service.domain import comments as store

SECRET = "test-secret-key"
BLOG_A = "http://blogs.test/dr-a/"
BLOG_B = "https://docteur-b.example/"
POST_A = BLOG_A + "premier-billet.html"
POST_A2 = BLOG_A + "second-billet.html"
POST_CLOSED = BLOG_A + "billet-ferme.html"
POST_CONFRERES = BLOG_A + "entre-confreres.html"
POST_B = BLOG_B + "2024/billet-b/"
COMMENTS_URL = "http://blogs.test/comments/"

NETWORK_TOML = f"""
[network]
name = "Réseau de test"
url = "http://blogs.test/"
comments_url = "{COMMENTS_URL}"

[policies]
moderation = "first-comment"
edit_window_minutes = 15

[[sites]]
slug = "dr-a"
title = "Le carnet du Dr A"
author = "Dr Anne A"
specialty = "Médecine générale"
url = "{BLOG_A}"

[[sites]]
slug = "dr-b"
title = "Le blog du Dr B"
author = "Dr Bruno B"
url = "{BLOG_B}"
moderation = "none"
"""

POSTS = {
    "dr-a": {
        "posts": [
            {"url": POST_A, "title": "Premier billet", "date": "2024-03-01"},
            {"url": POST_A2, "title": "Second billet", "date": "2024-03-08", "reply_to": POST_B},
            {"url": POST_CLOSED, "title": "Billet fermé", "date": "2024-03-09", "comments": "closed"},
            {"url": POST_CONFRERES, "title": "Entre nous", "date": "2024-03-10", "comments": "confreres"},
        ]
    },
    "dr-b": {"posts": [{"url": POST_B, "title": "Billet B", "date": "2024-02-01T09:30:00+01:00"}]},
}


def seeded_service(folder: Path) -> tuple[Path, Path]:
    """network.toml and a migrated comment database with the network's posts announced, in `folder`: what a service
    run in another process (gunicorn) starts from."""
    from comments_service.core.migrations import migrate
    from confreres import registry

    network_file = folder / "network.toml"
    network_file.write_text(NETWORK_TOML, encoding="utf-8")
    db_path = folder / "comments.sqlite3"
    db = connect(str(db_path))
    try:
        migrate(db)
        network = registry.load(network_file)
        for slug, body in POSTS.items():
            sync_posts(db, network, slug, body)
    finally:
        db.close()
    return network_file, db_path


@pytest.fixture
def network_file(tmp_path) -> Path:
    path = tmp_path / "network.toml"
    path.write_text(NETWORK_TOML, encoding="utf-8")
    return path


@pytest.fixture
def make_app(tmp_path, network_file):
    """Build an app on the test network; keyword arguments override the test config."""

    def build(**overrides):
        config = {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "NETWORK": str(network_file),
            "DB": str(tmp_path / "comments.sqlite3"),
            "RATE_LIMIT": "off",
            "READ_RATE_LIMIT": "off",
            "MODERATION": "",
            "EDIT_WINDOW": 15,
        }
        config.update(overrides)
        app = create_app(config)
        with app.app_context():
            db = connect(app.config["DB"])
            try:
                network = app.extensions["confreres_network"]
                for slug, body in POSTS.items():
                    sync_posts(db, network, slug, body)
            finally:
                db.close()
        return app

    return build


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def assert_api_error(response, status: int, code: str | None = None, field: str | None = "*any*") -> dict:
    """The one error shape: {"error": {"code", "message", "field"}}, JSON, with `status`."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.mimetype == "application/json", response.mimetype
    body = response.get_json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "field"}, error
    assert isinstance(error["code"], str) and error["code"].replace("_", "").isalpha() and error["code"].islower()
    assert isinstance(error["message"], str) and error["message"].strip()
    if code is not None:
        assert error["code"] == code, error
    if field != "*any*":
        assert error["field"] == field, error
    return error


@dataclass
class Actions:
    """User and operator steps, so tests read like the story they check."""

    app: object
    client: object
    mailbox: object = None  # tests.smtp.Mailbox when the test uses the `smtp` fixture

    # -- readers and commenters
    def post(self, text="Merci pour ce billet.", url=POST_A, headers=None, **fields):
        return self.client.post("/api/comments", json={"url": url, "text": text, **fields}, headers=headers)

    def comment(self, text="Merci pour ce billet.", url=POST_A, **fields) -> dict:
        """Post and expect 201; returns the body (comment, status, edit_token)."""
        response = self.post(text, url, **fields)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.get_json()

    def approved_comment(self, text="Merci pour ce billet.", url=POST_A, **fields) -> dict:
        body = self.comment(text, url, **fields)
        if body["status"] != "approved":
            self.approve(body["comment"]["id"])
        return body

    def reply(self, parent: dict, text="Je réponds.", **fields) -> dict:
        return self.comment(text, parent.get("url", POST_A), parent=parent["comment"]["id"], **fields)

    def thread(self, url=POST_A, tokens=(), etag=None, **headers):
        if tokens:
            headers["X-Confreres-Tokens"] = ", ".join(tokens)
        if etag:
            headers["If-None-Match"] = etag
        return self.client.get("/api/comments", query_string={"url": url}, headers=headers)

    def edit(self, comment_id, token, text="Texte corrigé."):
        return self.client.patch(
            f"/api/comments/{comment_id}", json={"text": text}, headers={"Authorization": f"Bearer {token}"}
        )

    def delete(self, comment_id, token):
        return self.client.delete(f"/api/comments/{comment_id}", headers={"X-Edit-Token": token})

    def counts(self, *urls):
        return self.client.get("/api/counts", query_string=[("url", u) for u in urls])

    # -- operators and moderators
    def sql(self, sql, params=()):
        conn = sqlite3.connect(self.app.config["DB"])
        conn.row_factory = sqlite3.Row
        try:
            with conn:
                return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def approve(self, comment_id):
        self.set_status(comment_id, "approved")

    def set_status(self, comment_id, status):
        db = connect(self.app.config["DB"])
        try:
            store.set_status(db, comment_id, status)
        finally:
            db.close()

    def age(self, comment_id, minutes):
        """Pretend the comment was written `minutes` ago."""
        from datetime import timedelta

        created = store.iso(store.utcnow() - timedelta(minutes=minutes))
        self.sql("UPDATE comments SET created = ? WHERE id = ?", (created, comment_id))

    # -- accounts, sign-in, mails (`smtp` fixture: a real SMTP server; its mailbox is self.mailbox)
    def make_account(self, email, role="member", sites=(), name=None):
        """What `confreres admin create EMAIL --role ROLE --site SLUG --name NAME` does."""
        from comments_service.domain import accounts

        db = connect(self.app.config["DB"])
        try:
            row, _ = accounts.ensure_account(db, email, role=role, sites=tuple(sites), display_name=name)
            return row
        finally:
            db.close()

    def local(self, link: str) -> str:
        """A link of a mail (under the network's comments_url) as a path for the test client."""
        prefix = COMMENTS_URL.rstrip("/")
        assert link.startswith(prefix + "/"), link
        return link[len(prefix):]

    def open(self, link: str, **kwargs):
        return self.client.get(self.local(link), **kwargs)

    def form(self, response, action: str | None = None) -> tuple[str, dict]:
        """(action path, hidden fields) of the page's form whose action contains `action`."""
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(response.get_data(as_text=True), "html.parser")
        for form in soup.find_all("form"):
            if action is None or action in form.get("action", ""):
                fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
                return form["action"], fields
        raise AssertionError(f"no form {action!r} in {response.get_data(as_text=True)[:2000]}")

    def submit(self, response, form_action: str | None = None, /, **fields):
        """Post the page's form (its hidden fields, CSRF included, plus `fields`), as a browser would."""
        target, hidden = self.form(response, form_action)
        return self.client.post(target, data={**hidden, **fields})

    def request_link(self, email, **fields):
        return self.client.post("/api/auth/request", json={"email": email, **fields})

    def sign_in(self, email, return_to=None):
        """Ask for a link, open it from the mail, press « Me connecter »: the 303 response."""
        since = len(self.mailbox.mails)
        extra = {"return": return_to} if return_to else {}
        assert self.request_link(email, **extra).status_code == 202
        mail = self.mailbox.expect(to=normalise_email(email), subject="connexion", since=since)  # as stored
        page = self.open(mail.link("/auth/verify"))
        assert page.status_code == 200, page.get_data(as_text=True)
        return self.submit(page, "/auth/verify")

    @staticmethod
    def session_token(response) -> str:
        """The bearer session handed to the blog in the redirect's fragment."""
        location = response.headers["Location"]
        assert "#confreres-session=" in location, location
        return location.split("#confreres-session=", 1)[1]

    @staticmethod
    def bearer(token: str) -> dict:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def actions(app, client, request) -> Actions:
    mailbox = request.getfixturevalue("smtp").mailbox if "smtp" in request.fixturenames else None
    return Actions(app, client, mailbox)


@pytest.fixture
def confreres_for(network_file):
    """`confreres_for(app)(*args)`: run a `confreres` command (as cron would) on that app's database and mail settings."""
    from click.testing import CliRunner

    from confreres.cli import cli

    def runner(app):
        def run(*args):
            config = app.config
            env = {
                "CONFRERES_NETWORK": str(network_file),
                "CONFRERES_DB": config["DB"],
                "CONFRERES_SECRET_KEY": config["SECRET_KEY"],
                "CONFRERES_RATE_LIMIT": "off",
                "CONFRERES_SMTP_HOST": config["SMTP_HOST"],
                "CONFRERES_SMTP_PORT": str(config["SMTP_PORT"]),
                "CONFRERES_SMTP_FROM": config["SMTP_FROM"],
                "CONFRERES_MAIL_DIR": config["MAIL_DIR"],
            }
            return CliRunner().invoke(cli, ["--network", str(network_file), *args], env=env, catch_exceptions=False)

        return run

    return runner


@pytest.fixture
def confreres(app, confreres_for):
    """`confreres(*args)`: run a `confreres` command on the test app's database."""
    return confreres_for(app)


@pytest.fixture
def smtp():
    """A real SMTP server (aiosmtpd) on a free local port; `smtp.config` points the service at it."""
    from tests.smtp import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def api_error():
    """`api_error(response, status, code=None, field=...)`: assert the JSON error shape."""
    return assert_api_error


@pytest.fixture
def urls() -> SimpleNamespace:
    """The test network's addresses (blogs and posts)."""
    return SimpleNamespace(
        BLOG_A=BLOG_A, BLOG_B=BLOG_B, POST_A=POST_A, POST_A2=POST_A2, POST_CLOSED=POST_CLOSED,
        POST_CONFRERES=POST_CONFRERES, POST_B=POST_B, SECRET=SECRET, POSTS=POSTS,
    )
