"""The demo's verification story: a demo directory, the bloggers verified as founders, and a visitor who
declares a free demo RPPS, is vouched for by two bloggers and comments with the badge under a pseudonym."""

from __future__ import annotations

from pathlib import Path

from comments_service import create_app
from comments_service.actions.posts import sync_posts
from comments_service.core.db import connect
from comments_service.domain import verification as verify
from confreres import registry, seed
from tests.comments_service.verification_kit import Kit, Member

ROOT = Path(__file__).resolve().parents[3]


def accounts_row_shows_specialty(db, account_id: int) -> bool:
    return db.conn.execute("SELECT show_specialty FROM accounts WHERE id = ?", (account_id,)).fetchone()[0] == 1


def test_demo_founders_and_a_visitor_verified_by_vouching(tmp_path):
    network = registry.load(ROOT / "network.toml")
    app = create_app({
        "TESTING": True, "SECRET_KEY": "demo-test", "NETWORK_OBJECT": network,
        "DB": str(tmp_path / "c.sqlite3"), "DIRECTORY_DB": str(tmp_path / "d.sqlite3"),
        "RATE_LIMIT": "off", "READ_RATE_LIMIT": "off",
    })
    post_url = network.site("dr-lefebvre").url + "epuisement-en-zone-rurale.html"
    db = connect(app.config["DB"])
    sync_posts(db, network, "dr-lefebvre", {"posts": [{"url": post_url, "title": "Épuisement", "date": "2025-01-01"}]})
    db.close()
    lines = seed.seed_verification(network, app, source=tmp_path / "demo-directory.txt")
    assert lines[0].startswith("Annuaire RPPS de démonstration importé")
    assert sum("médecin vérifié" in line for line in lines) == 3
    assert seed.seed_verification(network, app, source=tmp_path / "demo-directory.txt")[0].startswith("  Dr"), "idempotent"
    assert (tmp_path / "demo-directory.txt").read_text(encoding="utf-8").count("\n") > 300
    # the founders are linked to their blogs: the planet and the cross-links show their badges (GET /api/sites)
    sites = app.test_client().get("/api/sites").get_json()["sites"]
    assert [s["slug"] for s in sites] == [s.slug for s in network.sites]
    for site in sites:
        label = seed.DEMO_FOUNDERS[site["slug"]][4]
        assert site["author"]["badge"]["label"] in ("Médecin vérifié", f"Médecin vérifié · {label}"), site

    kit = Kit(app, app.test_client())
    db = connect(app.config["DB"])
    founders = {}
    for slug in ("dr-lefebvre", "dr-benali"):
        row = db.conn.execute("SELECT id FROM accounts WHERE email = ?", (seed.demo_author_email(network, network.site(slug)),)).fetchone()
        assert verify.level_of(db, row[0]) == "verified"
        assert accounts_row_shows_specialty(db, row[0]), "the demo's founders opt in to show their specialty"
        from comments_service.domain import accounts

        token, _ = accounts.create_session(db, row[0], "bearer", 1)
        founders[slug] = Member(row[0], "", token, {"Authorization": f"Bearer {token}"})
    db.close()

    body, last, first, _code, label = seed.DEMO_FREE[0]
    rpps = seed.make_directory_module().luhn_complete(body)
    assert rpps in lines[-1]
    visitor = kit.member(display_name="Docteur Pivert")
    declared = kit.declare(visitor, rpps, last.title(), first)
    assert declared.status_code == 200, declared.get_json()
    for founder in founders.values():
        assert kit.vouch(founder, visitor, last).status_code == 201
    kit.show_specialty(visitor)  # opt-in, like the founders (seed)
    comment = app.test_client().post(
        "/api/comments", json={"url": post_url, "text": "Un avis de confrère."}, headers=visitor.headers
    ).get_json()["comment"]
    assert comment["author"]["name"] == "Docteur Pivert"
    assert comment["author"]["badge"]["label"] == f"Médecin vérifié · {label}"
