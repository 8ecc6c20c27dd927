"""The demo's bloggers have accounts (authors of their blogs), and its mails land in a folder one can read."""

from __future__ import annotations

from pathlib import Path

from comments_service import create_app
from comments_service.actions.posts import sync_posts
from comments_service.core.db import connect
from comments_service.domain import accounts, validate
from comments_service.domain import comments as store
from confreres import registry
from confreres.seed import DEMO_DOMAIN, DEMO_FOUNDERS, demo_accounts, seed_accounts

ROOT = Path(__file__).resolve().parents[2]


def test_demo_accounts_are_the_bloggers_and_a_moderator(tmp_path):
    network = registry.load(ROOT / "network.toml")
    found = {a.email: a for a in demo_accounts(network)}
    assert f"claire.lefebvre@{DEMO_DOMAIN}" in found and f"helene.rousseau@{DEMO_DOMAIN}" in found
    assert found[f"claire.lefebvre@{DEMO_DOMAIN}"].sites == ("dr-lefebvre",)
    assert found[f"moderation@{DEMO_DOMAIN}"].role == "moderator"

    app = create_app({"TESTING": True, "SECRET_KEY": "demo-test", "DB": str(tmp_path / "demo.sqlite3"),
                      "NETWORK": str(ROOT / "network.toml"), "RATE_LIMIT": "off"})
    db = connect(app.config["DB"])
    try:
        assert seed_accounts(network, db) == len(network.sites) + 1
        assert seed_accounts(network, db) == 0, "idempotent"
        claire = accounts.find_account(db, f"claire.lefebvre@{DEMO_DOMAIN}")
        assert claire["display_name"] == "Dr Claire Lefebvre" and claire["role"] == "author"
        assert accounts.sites_of(db, claire["id"]) == ["dr-lefebvre"]
    finally:
        db.close()


def test_demo_mails_are_written_as_eml_files_and_listed(tmp_path):
    """A new user's comment waits for moderation; the blogger's mail is a file with a working approve link."""
    network = registry.load(ROOT / "network.toml")
    mail_dir = tmp_path / "mail"
    app = create_app({"TESTING": True, "SECRET_KEY": "demo-test", "DB": str(tmp_path / "demo.sqlite3"),
                      "NETWORK": str(ROOT / "network.toml"), "RATE_LIMIT": "off", "MAIL_DIR": str(mail_dir),
                      "DEV_PAGES": True, "MAIL_SEND": "cron"})
    site = network.site("dr-lefebvre")
    post_url = f"{site.url}demo-post.html"
    db = connect(app.config["DB"])
    try:
        sync_posts(db, network, "dr-lefebvre", {"posts": [{"url": post_url, "title": "Un billet"}]})
        seed_accounts(network, db)
    finally:
        db.close()
    client = app.test_client()
    body = client.post("/api/comments", json={"url": post_url, "text": "Bonjour docteur", "author": "Nouvelle"}).get_json()
    assert body["status"] == "pending"

    from comments_service.mail.outbox import deliver

    assert deliver(app.config)["sent"] == 1
    (eml,) = mail_dir.glob("*.eml")
    raw = eml.read_text(encoding="utf-8")
    assert f"To: claire.lefebvre@{DEMO_DOMAIN}" in raw
    approve = next(line.split(": ", 1)[1] for line in raw.splitlines() if line.strip().startswith("Approuver :"))
    assert approve.startswith(network.comments_url + "moderation/act?token=")

    listing = client.get("/dev/mail").get_data(as_text=True)
    assert "Commentaire à valider" in listing
    shown = client.get(f"/dev/mail/{eml.stem}").get_data(as_text=True)
    assert 'href="http://127.0.0.1:8000/comments/moderation/act?token=' in shown

    path = approve.removeprefix(network.comments_url.rstrip("/"))
    page = client.get(path)
    assert page.status_code == 200
    assert client.post("/moderation/act", data={"token": path.split("token=", 1)[1]}).status_code == 200
    assert client.get("/api/comments", query_string={"url": post_url}).get_json()["total"] == 1

    db = connect(app.config["DB"])
    try:
        # the demo's pending comment went through the store, like every other comment
        assert validate.normalize_url(post_url) == store.query_one(db, "SELECT post_url FROM comments")[0]
    finally:
        db.close()


def test_dev_mail_pages_are_off_outside_the_demo(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "demo-test", "DB": str(tmp_path / "x.sqlite3"),
                      "NETWORK": str(ROOT / "network.toml"), "MAIL_DIR": str(tmp_path)})
    assert app.test_client().get("/dev/mail").status_code == 404


def test_each_demo_blog_names_its_founders_specialty_as_the_directory_does():
    """The planet shows a blog's specialty beside its author's badge: the two must not disagree
    (« Chirurgie pédiatrique » beside « Médecin vérifié · Chirurgie infantile »)."""
    network = registry.load(ROOT / "network.toml")
    assert {s.slug: s.specialty for s in network.sites} == {slug: row[4] for slug, row in DEMO_FOUNDERS.items()}
