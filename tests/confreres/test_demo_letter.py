"""The demo's story of the letter: a visitor subscribes from the planet, confirms from /comments/dev/mail, and
`confreres letter send` writes the week's letter in the demo's mail folder (the demo's mail settings: MAIL_DIR,
DEV_PAGES, the background sender; a copy of the demo network, built by the real build)."""

from __future__ import annotations

import email
import email.policy
import json
import shutil
import time
from pathlib import Path

from bs4 import BeautifulSoup
from click.testing import CliRunner

from comments_service import create_app
from confreres import build, registry
from confreres.cli import cli
from confreres.seed import seed_demo
from confreres.site_token import site_token
from tests.confreres.conftest import NO_SERVICE

ROOT = Path(__file__).resolve().parents[2]
SECRET = "demo-letter"


def _wait_for(folder: Path, count: int) -> list[Path]:
    deadline = time.monotonic() + 10
    while len(found := sorted(folder.glob("*.eml"))) < count:
        assert time.monotonic() < deadline, f"expected {count} mail(s) in {folder}, found {found}"
        time.sleep(0.05)
    return found


def _form(html: str, action: str):
    soup = BeautifulSoup(html, "html.parser")
    form = next(f for f in soup.find_all("form") if f.get("action", "").endswith(action))
    fields = {}
    for field in form.find_all("input"):
        if field.get("type") in ("radio", "checkbox") and not field.has_attr("checked"):
            continue
        fields.setdefault(field["name"], field.get("value", ""))
    return form["action"], fields


def test_a_visitor_subscribes_from_the_planet_confirms_from_dev_mail_and_gets_the_weeks_letter(tmp_path):
    committed = (ROOT / "network.toml").read_text(encoding="utf-8")
    (tmp_path / "network.toml").write_text(
        committed.replace('comments_url = "http://127.0.0.1:8000/comments/"', f'comments_url = "{NO_SERVICE}"'),
        encoding="utf-8")
    shutil.copytree(ROOT / "sites", tmp_path / "sites")
    network = registry.load(tmp_path / "network.toml")
    results = build.build(network, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]

    mail_dir = tmp_path / "var" / "mail"
    db_path = tmp_path / "var" / "comments.sqlite3"
    app = create_app({"SECRET_KEY": SECRET, "NETWORK": str(tmp_path / "network.toml"), "DB": str(db_path),
                      "MAIL_DIR": str(mail_dir), "DEV_PAGES": True, "RATE_LIMIT": "60/minute", "TESTING": True})
    client = app.test_client()
    for site in network.sites:
        posts = json.loads((Path(network.output) / site.slug / "posts.json").read_text(encoding="utf-8"))["posts"]
        assert client.put(f"/api/sites/{site.slug}/posts", json={"posts": posts},
                          headers={"Authorization": f"Bearer {site_token(SECRET, site.slug)}"}).status_code == 200
    seed_demo(network, app)

    # the planet's form, as the visitor's browser posts it, then « M'abonner » on the service's page
    planet = (Path(network.output) / "index.html").read_text(encoding="utf-8")
    action, fields = _form(planet, "lettre")
    assert action == network.comments_url + "lettre"
    path = "/" + action.removeprefix(network.comments_url)
    page = client.post(path, data={**fields, "email": "visiteur@example.org"})
    action, fields = _form(page.get_data(as_text=True), "/lettre")
    assert client.post(action, data={**fields, "email": "visiteur@example.org"}).status_code == 303

    # the confirmation, from the demo's mailbox page
    (confirmation,) = _wait_for(mail_dir, 1)
    assert "Confirmez votre abonnement" in client.get("/dev/mail").get_data(as_text=True)
    shown = BeautifulSoup(client.get(f"/dev/mail/{confirmation.stem}").get_data(as_text=True), "html.parser")
    link = next(a["href"] for a in shown.find_all("a") if "/lettre/confirmer" in a["href"])
    page = client.get("/" + link.removeprefix(network.comments_url))
    action, fields = _form(page.get_data(as_text=True), "/lettre/confirmer")
    assert "Abonnement confirmé" in client.post(action, data=fields).get_data(as_text=True)

    # `confreres letter send`, with the demo's mail folder
    env = {"CONFRERES_NETWORK": str(tmp_path / "network.toml"), "CONFRERES_DB": str(db_path),
           "CONFRERES_SECRET_KEY": SECRET, "CONFRERES_MAIL_DIR": str(mail_dir)}
    result = CliRunner().invoke(cli, ["letter", "send"], env=env, catch_exceptions=False)
    assert result.exit_code == 0 and "1 lettre mise en file" in result.output, result.output
    letter = next(p for p in _wait_for(mail_dir, 2) if p.stem.endswith("-letter"))
    message = email.message_from_bytes(letter.read_bytes(), policy=email.policy.default)
    assert message["To"] == "visiteur@example.org"
    assert str(message["Subject"]).startswith("La lettre des confrères : la semaine du")
    text = message.get_body(("plain",)).get_content()
    assert "Débats en cours" in text and "Dr Karim Benali" in text
    assert message.get_body(("html",)) is not None and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "La lettre des confrères" in client.get("/dev/mail").get_data(as_text=True)
    again = CliRunner().invoke(cli, ["letter", "send"], env=env, catch_exceptions=False)
    assert "0 lettre mise en file" in again.output and len(list(mail_dir.glob("*.eml"))) == 2
