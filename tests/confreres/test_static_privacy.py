"""A pseudonymous verified physician's identity stays out of everything the build publishes.

The service's own outputs are scanned in tests/comments_service/web/test_verification_privacy.py; this is the
static side: a real network (two blogs and the planet) built by the real build against the real comment
service over HTTP, after the member commented under their real name (copied by a first build), then took a
pseudonym and commented with the badge. Every file written under
the output folder (pages, comment snapshots, feeds, posts.json, the planet, the search index) must hold
neither the real name, nor the RPPS, nor the e-mail, while the pseudonym and badge do show.
"""

from __future__ import annotations

import gzip

from comments_service.core.db import connect
from comments_service.domain import comments as store
from tests.comments_service.verification_kit import CANDIDATE, CLAIRE, KARIM, Kit, import_people
from tests.comments_service.web.test_verification_privacy import EMAIL, PSEUDONYM, REAL_NAME, assert_clean
from tests.confreres.test_fresh_comments import POST_A, run_build, world  # noqa: F401  (fixture)


def published_texts(root):
    """Every file of the built network as text; the search index's compressed files decompressed."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        yield path.relative_to(root), data.decode("utf-8", errors="replace")


def test_the_built_blogs_and_planet_never_name_the_member_behind_a_pseudonym(world, tmp_path):  # noqa: F811
    service, network = world.service, world.network
    run_build(network)  # the posts are announced to the service
    import_people(service, tmp_path)
    client = service.test_client()
    kit = Kit(service, client)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    # before taking a pseudonym, the member commented under their real name, and a build copied it
    secret = kit.member(email=EMAIL, display_name=REAL_NAME)
    early = client.post("/api/comments", headers=secret.headers, json={"url": POST_A, "text": "Un avis d'avant."})
    assert early.status_code == 201, early.get_json()
    db = connect(service.config["DB"])
    try:
        store.set_status(db, early.get_json()["comment"]["id"], "approved")
    finally:
        db.close()
    run_build(network)
    before = dict(published_texts(network.output))
    assert any(REAL_NAME in text for text in before.values()), "the test would prove nothing otherwise"
    assert kit.declare(secret, CANDIDATE, "QUINTARD-VALMORE", "Éléonore", display_name=PSEUDONYM).status_code == 200
    assert kit.vouch(claire, secret, "Quintard-Valmore").status_code == 201
    assert kit.vouch(karim, secret, "Quintard-Valmore").status_code == 201
    client.patch("/api/account", json={"interests": "Aucun lien d'intérêts.", "show_specialty": True},
                 headers=secret.headers)
    posted = client.post("/api/comments", headers=secret.headers, json={
        "url": POST_A, "text": "Mon avis de généraliste sur les gardes.",
        "author": "Éléonore Quintard-Valmore", "email": EMAIL,  # what a careless form sends: ignored
    })
    assert posted.status_code == 201, posted.get_json()
    assert posted.get_json()["comment"]["status"] == "approved"
    db = connect(service.config["DB"])
    try:  # the service holds who they are (the test would prove nothing otherwise)
        assert db.execute("SELECT count(*) FROM accounts WHERE email = ?", (EMAIL,)).fetchone()[0] == 1
    finally:
        db.close()

    run_build(network)  # the cron build: dr-a's snapshot and the planet's count and debates change

    texts = dict(published_texts(network.output))
    snapshot = texts[next(p for p in texts if str(p).endswith("dr-a-billet-0.html") and "dr-a" in str(p))]
    assert PSEUDONYM in snapshot and "Médecin vérifié" in snapshot  # the comment is there, under its pseudonym
    assert "Mon avis de généraliste" in snapshot and "Un avis d'avant." in snapshot
    for path, text in texts.items():
        assert_clean(str(path), text)
