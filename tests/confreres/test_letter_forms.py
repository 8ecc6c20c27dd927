"""The planet and every blog page carry a plain form for « La lettre des confrères », posted to the comment
service's URL from network.toml (no JavaScript, no import of the service): a real build, then the real service."""

from __future__ import annotations

from bs4 import BeautifulSoup

from comments_service import create_app
from confreres import build
from tests.confreres.conftest import NO_SERVICE
from tests.planet.conftest import make_planet_network


def _letter_form(html: str):
    soup = BeautifulSoup(html, "html.parser")
    forms = [f for f in soup.find_all("form") if f.get("action", "").endswith("lettre")]
    assert len(forms) == 1, [f.get("action") for f in soup.find_all("form")]
    return forms[0]


def test_planet_and_blogs_post_to_the_services_letter_form(tmp_path):
    network = make_planet_network(tmp_path / "network", [], NO_SERVICE, posts=2)
    out = tmp_path / "public"
    results = build.build(network, out=out, progress=False)
    assert all(r.ok for r in results), [r.error for r in results]

    planet = _letter_form((out / "index.html").read_text(encoding="utf-8"))
    assert planet["method"] == "post" and planet["action"] == network.comments_url + "lettre"
    assert planet.find("input", {"name": "email", "type": "email"}) is not None
    assert {i["value"] for i in planet.find_all("input", {"name": "frequency"})} == {"weekly", "daily"}

    specialty = BeautifulSoup((out / "specialites" / "medecine-generale" / "index.html").read_text(encoding="utf-8"),
                              "html.parser")
    link = next(a["href"] for a in specialty.find_all("a") if "lettre" in a["href"])
    assert link == network.comments_url + "lettre?specialite=medecine-generale"

    post = next((out / "dr-a").glob("dr-a-billet-0*.html"))
    blog = _letter_form(post.read_text(encoding="utf-8"))
    assert blog["action"] == network.comments_url + "lettre"
    assert blog.find("input", {"name": "sites"})["value"] == "dr-a"

    # what the blog's form posts, the service's page shows back, ticked, with its CSRF token, for one more click
    app = create_app({"TESTING": True, "SECRET_KEY": "k", "NETWORK": str(network.source), "DB": str(tmp_path / "c.sqlite3"),
                      "RATE_LIMIT": "off"})
    fields = {i["name"]: i.get("value", "") for i in blog.find_all("input")}
    page = app.test_client().post("/lettre", data={**fields, "email": "lecteur@example.org"})
    soup = BeautifulSoup(page.get_data(as_text=True), "html.parser")
    assert page.status_code == 200
    assert soup.find("input", {"name": "email"})["value"] == "lecteur@example.org"
    assert soup.find("input", {"id": "f-site-dr-a"}).has_attr("checked")
    assert soup.find("input", {"name": "csrf"})["value"]
    prefilled = app.test_client().get("/" + link.removeprefix(network.comments_url)).get_data(as_text=True)
    assert BeautifulSoup(prefilled, "html.parser").find("input", {"id": "f-specialty-medecine-generale"}).has_attr("checked")
