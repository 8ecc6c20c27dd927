"""The vouching link is no oracle on a candidate's surname, and says nothing of their account.

Wrong surnames are limited per voucher and candidate, and per candidate and day; past a limit even the
right name gets 429. Every attempt is in the audit log (verification_log), and the candidate sees the
failed ones on their verification page. The link is a random stored token the candidate can replace;
old links (the signed account ids of before, or a replaced token) fail with a French 404.
"""

from __future__ import annotations

import re

import pytest
from itsdangerous import BadSignature, URLSafeSerializer

from tests.comments_service.domain.test_verification import (  # noqa: F401  (kit, founders: fixtures)
    csrf_of,
    declared,
    founders,
    kit,
    kit_cookie,
)
from tests.comments_service.verification_kit import CLAIRE, HELENE, KARIM, OTHER, Kit, import_people

SURNAME = "Quintard-Valmore"


def browser_of(app, kit, member):  # noqa: F811
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    return browser


def test_wrong_surnames_are_limited_per_voucher_logged_and_shown_to_the_candidate(app, kit, founders, api_error):  # noqa: F811
    claire, karim = founders
    candidate = declared(kit)
    for guess in ("Dupont", "Martin", "Durand", "Petit", "Moreau"):
        api_error(kit.vouch(claire, candidate, guess), 400, "name_mismatch", "last_name")
    blocked = api_error(kit.vouch(claire, candidate, SURNAME), 429, "too_many_vouch_attempts", "last_name")
    assert "5 fois un nom d'exercice erroné" in blocked["message"]
    api_error(kit.vouch(claire, candidate, SURNAME), 429, "too_many_vouch_attempts")
    assert kit.status(candidate)["vouches"] == [], "the right name past the limit records nothing"

    log = kit.sql("SELECT event, actor_id FROM verification_log WHERE account_id = ? AND event LIKE 'vouch%'"
                  " ORDER BY id", (candidate.id,))
    assert [e["event"] for e in log] == ["vouch_failed"] * 5 + ["vouch_blocked"] * 2
    assert {e["actor_id"] for e in log} == {claire.id}
    assert kit.status(candidate)["failed_vouches"] == 7
    page = browser_of(app, kit, candidate).get("/verification").get_data(as_text=True)
    assert re.search(r"7 essais\s+infructueux de confrères pour confirmer votre nom", page)

    # another confrère who knows the candidate is not held back by Claire's guesses
    assert kit.vouch(karim, candidate, SURNAME).status_code == 201
    assert kit.sql("SELECT event FROM verification_log WHERE account_id = ? ORDER BY id DESC LIMIT 1",
                   (candidate.id,))[0]["event"] == "vouched"


def test_a_total_per_candidate_and_day_holds_every_voucher(make_app, tmp_path, api_error):  # noqa: F811
    app = make_app(VOUCH_FAILURES_PER_DAY=3)
    import_people(app, tmp_path)
    limited = Kit(app, app.test_client())
    claire = limited.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = limited.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    helene = limited.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    candidate = declared(limited)
    for voucher, guess in ((claire, "Dupont"), (claire, "Martin"), (karim, "Durand")):
        api_error(limited.vouch(voucher, candidate, guess), 400, "name_mismatch")
    error = api_error(limited.vouch(helene, candidate, SURNAME), 429, "too_many_vouch_attempts", "last_name")
    assert "réessayez demain" in error["message"]
    # the next day, the count starts again
    limited.sql("UPDATE verification_log SET created = '2020-01-01T00:00:00Z' WHERE account_id = ?", (candidate.id,))
    assert limited.vouch(helene, candidate, SURNAME).status_code == 201


def test_the_no_js_vouching_page_answers_429_in_french(app, kit, founders):  # noqa: F811
    claire, _ = founders
    candidate = declared(kit)
    browser = browser_of(app, kit, claire)
    path = f"/verification/parrainer/{kit.vouch_token(candidate)}"
    for guess in ("Dupont", "Martin", "Durand", "Petit", "Moreau"):
        csrf = csrf_of(browser.get(path).get_data(as_text=True))
        assert browser.post(path, data={"csrf": csrf, "last_name": guess}).status_code == 400
    refused = browser.post(path, data={"csrf": csrf, "last_name": SURNAME})  # a form left open in another tab
    assert refused.status_code == 429
    assert "vous ne pouvez plus le parrainer" in refused.get_data(as_text=True)


def test_the_link_is_random_stored_and_renewable_and_old_links_fail_cleanly(app, kit, founders, client, api_error):  # noqa: F811
    claire, karim = founders
    candidate = declared(kit)
    other = kit.member(display_name="Autre candidat")
    assert kit.declare(other, OTHER, "Martin", "Paul").status_code == 200
    link = kit.status(candidate)["links"]["vouch"]
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 24 and "." not in token, "random, not an itsdangerous signed value (payload.signature)"
    with pytest.raises(BadSignature):
        URLSafeSerializer(app.config["SECRET_KEY"], salt="confreres-vouch-link").loads(token)
    assert kit.sql("SELECT account_id FROM vouch_links WHERE token = ?", (token,)) == [{"account_id": candidate.id}]
    assert kit.status(candidate)["links"]["vouch"] == link, "the same link until the candidate replaces it"
    assert kit.status(other)["links"]["vouch"] != link

    # the links of before: the account id, signed
    old = URLSafeSerializer(app.config["SECRET_KEY"], salt="confreres-vouch-link").dumps(candidate.id)
    error = api_error(client.get(f"/api/verification/vouch/{old}", headers=claire.headers), 404, "unknown_candidate")
    assert "n'est pas (ou plus) valide" in error["message"]
    page = browser_of(app, kit, claire).get(f"/verification/parrainer/{old}")
    assert page.status_code == 404 and "Demandez-lui le lien affiché sur sa page" in page.get_data(as_text=True)

    # the candidate replaces it from their page: the old token fails, the new one works
    own = browser_of(app, kit, candidate)
    html = own.get("/verification").get_data(as_text=True)
    assert "Créer un nouveau lien" in html
    renewed = own.post("/verification/lien", data={"csrf": csrf_of(html)})
    assert renewed.status_code == 303 and "etat=lien" in renewed.location
    assert "Nouveau lien de parrainage créé" in own.get(renewed.location).get_data(as_text=True)
    new_token = kit.status(candidate)["links"]["vouch"].rsplit("/", 1)[1]
    assert new_token != token
    api_error(kit.client.post(f"/api/verification/vouch/{token}", json={"last_name": SURNAME},
                              headers=claire.headers), 404, "unknown_candidate")
    assert kit.vouch(claire, candidate, SURNAME).status_code == 201
    assert own.post("/verification/lien", data={"csrf": "forged"}).status_code == 403

    # and from the API
    again = client.post("/api/verification/vouch-link", headers=candidate.headers)
    assert again.status_code == 200 and again.get_json()["links"]["vouch"].rsplit("/", 1)[1] not in (token, new_token)
    assert kit.sql("SELECT COUNT(*) AS n FROM verification_log WHERE account_id = ? AND event = 'vouch_link_renewed'",
                   (candidate.id,))[0]["n"] == 2
    assert kit.vouch(karim, candidate, SURNAME).status_code == 201  # now verified: no link any more
    assert kit.status(candidate)["links"]["vouch"] is None
    api_error(client.post("/api/verification/vouch-link", headers=candidate.headers), 409, "nothing_to_vouch")


def test_a_locked_out_voucher_sees_the_lock_message_not_the_form(app, kit, founders):  # noqa: F811
    claire, karim = founders
    candidate = declared(kit)
    for guess in ("Dupont", "Martin", "Durand", "Petit", "Moreau"):
        assert kit.vouch(claire, candidate, guess).status_code == 400
    path = f"/verification/parrainer/{kit.vouch_token(candidate)}"
    response = browser_of(app, kit, claire).get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "vous ne pouvez plus le parrainer" in page
    assert 'name="last_name"' not in page and "Je connais ce confrère" not in page
    assert 'name="last_name"' in browser_of(app, kit, karim).get(path).get_data(as_text=True)  # others still can
