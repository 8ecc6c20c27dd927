"""Verification of physicians: declare (Luhn, directory, names, one account per RPPS), vouch, review, revoke,
the badge on comments, pseudonyms, "entre confrères" threads, declarations of interests, the pages."""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup

from comments_service.actions.verification import recheck_directory
from comments_service.domain import verification as verify
from tests.comments_service.verification_kit import (
    CANDIDATE,
    CLAIRE,
    HELENE,
    KARIM,
    NURSE,
    OTHER,
    PEOPLE,
    Kit,
    import_people,
    luhn_complete,
    write_extract,
)
from tests.conftest import COMMENTS_URL


@pytest.fixture
def kit(app, client, tmp_path):
    import_people(app, tmp_path)
    return Kit(app, client)


@pytest.fixture
def founders(kit):
    """Two verified physicians (founding members, granted from the admin's terminal)."""
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    return claire, karim


def declared(kit, display_name="Stéthoscope bleu"):
    member = kit.member(display_name=display_name)
    response = kit.declare(member, CANDIDATE, "Quintard-Valmore", "Eleonore")
    assert response.status_code == 200, response.get_json()
    return member


# -- declare -------------------------------------------------------------------------------------------

def test_luhn_failure_is_called_a_typo(kit, api_error):
    member = kit.member(display_name="Quelqu'un")
    typo = CANDIDATE[:-1] + str((int(CANDIDATE[-1]) + 1) % 10)
    error = api_error(kit.declare(member, typo, "Quintard-Valmore", "Éléonore"), 400, "rpps_typo", "rpps")
    assert "faute de frappe" in error["message"]
    api_error(kit.declare(member, "12345", "X", "Y"), 400, "invalid_rpps", "rpps")
    api_error(kit.declare(member, "", "X", "Y"), 400, "missing_field", "rpps")
    assert kit.status(member)["level"] is None


def test_directory_mismatch_and_other_professions_are_refused(kit, api_error):
    member = kit.member(display_name="Quelqu'un")
    absent = luhn_complete("1999999999")
    api_error(kit.declare(member, absent, "Personne", "Nul"), 400, "rpps_unknown", "rpps")
    api_error(kit.declare(member, NURSE, "Durand", "Sophie"), 400, "rpps_unknown", "rpps")  # profession 60


def test_name_mismatch_is_refused_and_names_ignore_case_and_accents(kit, api_error):
    member = kit.member(display_name="Stéthoscope bleu")
    api_error(kit.declare(member, CANDIDATE, "Quintard-Valmore", "Hélène"), 400, "name_mismatch", "last_name")
    api_error(kit.declare(member, CANDIDATE, "Quintard", "Éléonore"), 400, "name_mismatch", "last_name")
    response = kit.declare(member, "8" + CANDIDATE, "quintard valmore", "ELEONORE")  # national form, no accents
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["level"] == "declared" and body["method"] is None
    assert body["specialty"] == "Médecine générale"
    assert body["links"]["vouch"].startswith("http") and "/verification/parrainer/" in body["links"]["vouch"]
    text = response.get_data(as_text=True)
    assert CANDIDATE not in text and "QUINTARD" not in text.upper(), "the status never shows the RPPS or the name"


def test_directory_absent_answers_503(make_app, api_error, tmp_path):
    app = make_app(DIRECTORY_DB=str(tmp_path / "none.sqlite3"))
    kit = Kit(app, app.test_client())
    member = kit.member(display_name="X")
    api_error(kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore"), 503, "directory_unavailable")


def test_two_accounts_on_one_rpps_never_disclose_the_holder(kit, founders, api_error):
    """One account per RPPS, without telling the second declarant that the physician has an account."""
    claire, karim = founders
    first = declared(kit)
    second = kit.member(email="curieux@exemple.test", display_name="Autre pseudo")
    answer = kit.declare(second, CANDIDATE, "Quintard-Valmore", "Éléonore")
    assert answer.status_code == 200, answer.get_json()
    # the same answer as any declaration (but for the member's own vouching link)
    own = kit.status(first)
    body = answer.get_json()
    # (the declaration times may fall in two different seconds: both are set, their values are each one's own)
    assert body["declared"] and own["declared"]
    same = lambda status: {k: v for k, v in status.items() if k not in ("links", "declared")}  # noqa: E731
    assert same(body) == same(own)
    assert set(body["links"]) == set(own["links"]) and body["links"]["vouch"]
    assert kit.status(second) == body
    # only the holder holds the number's key; the contested declaration cannot take it
    key = verify.rpps_hash(kit.app.config["SECRET_KEY"], CANDIDATE)
    rows = {r["account_id"]: r for r in kit.sql("SELECT * FROM verifications WHERE level = 'declared'")}
    assert rows[first.id]["rpps_hash"] == key and CANDIDATE not in str(rows)
    assert rows[second.id]["rpps_hash"] == verify.contested_key(second.id, key)
    # the holder is told, the attempt is audit-logged on both accounts
    mails = kit.sql("SELECT recipient, subject, message FROM outbox WHERE kind = 'verification_contested'")
    assert [m["recipient"] for m in mails] == [first.email]
    assert "quelqu'un a tenté de déclarer votre numéro RPPS" in mails[0]["subject"]
    assert "curieux" not in mails[0]["message"] and "Autre pseudo" not in mails[0]["message"]
    assert [e["event"] for e in verify.log_of(kit.db(), second.id)] == ["declared", "contested"]
    assert verify.log_of(kit.db(), first.id)[-1]["event"] == "claim_contested"
    # two vouches never verify a contested declaration; the vouchers see nothing else
    assert kit.vouch(claire, second, "Quintard-Valmore").status_code == 201
    last = kit.vouch(karim, second, "Quintard-Valmore")
    assert last.status_code == 201 and last.get_json()["candidate"]["level"] == "declared"
    assert kit.status(second)["level"] == "declared"
    assert verify.log_of(kit.db(), second.id)[-1]["event"] == "verification_held"
    # the moderators see it marked
    [marked] = [c for c in verify.candidates(kit.db()) if c["account_id"] == second.id]
    assert marked["contested"] and not [c for c in verify.candidates(kit.db()) if c["account_id"] == first.id][0]["contested"]
    assert {m["account_id"] for m in verify.admin_list(kit.db()) if m["contested"]} == {second.id}, "the admin's list too"
    # a verified founder's number: the same answer; the holder is mailed at most once a day
    third = kit.member(display_name="Troisième")
    assert kit.declare(third, CLAIRE, "Lefebvre", "Claire").status_code == 200
    again = kit.member(display_name="Quatrième")
    assert kit.declare(again, CLAIRE, "Lefebvre", "Claire").status_code == 200
    assert len(kit.sql("SELECT 1 FROM outbox WHERE kind = 'verification_contested' AND recipient = ?", (claire.email,))) == 1
    assert kit.status(claire)["level"] == "verified", "the holder's account does not change"
    # nor does the declarant's own data export tell the difference
    exported = kit.client.get("/api/account/export", headers=second.headers).get_json()["verification"]
    assert exported["level"] == "declared" and "contest" not in str(exported) and "held" not in str(exported)
    assert [e["event"] for e in exported["log"]] == ["declared", "vouched", "vouched"]
    held = kit.client.get("/api/account/export", headers=first.headers).get_json()["verification"]
    assert held["log"][-1]["event"] == "claim_contested", "the holder's own export says it (the mail did too)"
    assert f"#{second.id}" not in str(held) and "Autre pseudo" not in str(held)


def test_a_review_of_a_proof_settles_a_contested_number(kit, founders, client, api_error):
    claire, _ = founders
    impostor = declared(kit, display_name="Imposteur")
    owner = kit.member(display_name="La vraie")
    assert kit.declare(owner, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    moderator = kit.member(display_name="Modératrice", role="moderator")
    body = {"proof": "cps", "rpps": CANDIDATE, "reason": "Carte CPS vue en visioconférence"}
    response = client.post(f"/api/verification/{owner.id}/review", json=body, headers=moderator.headers)
    assert response.get_json() == {"account": owner.id, "level": "verified"}
    assert kit.status(impostor)["level"] is None, "the holder who only declared it loses the number"
    key = verify.rpps_hash(kit.app.config["SECRET_KEY"], CANDIDATE)
    assert kit.sql("SELECT account_id FROM verifications WHERE rpps_hash = ?", (key,)) == [{"account_id": owner.id}]
    assert verify.log_of(kit.db(), impostor.id)[-1]["event"] == "declaration_dropped"
    # a number verified on another account: a moderator cannot verify a second one, an admin decides
    other = kit.member(display_name="Copie")
    assert kit.declare(other, CLAIRE, "Lefebvre", "Claire").status_code == 200
    api_error(client.post(f"/api/verification/{other.id}/review", json={**body, "rpps": CLAIRE}, headers=moderator.headers),
              409, "rpps_conflict")
    assert kit.status(other)["level"] == "declared" and kit.status(claire)["level"] == "verified"


def test_declarations_are_limited_per_account(make_app, tmp_path, api_error):
    app = make_app(DECLARATIONS_PER_DAY=3)
    import_people(app, tmp_path)
    kit = Kit(app, app.test_client())
    member = kit.member(display_name="Pressé")
    typo = CANDIDATE[:-1] + str((int(CANDIDATE[-1]) + 1) % 10)
    for _ in range(4):  # a Luhn typo reveals nothing and does not count
        api_error(kit.declare(member, typo, "Quintard-Valmore", "Éléonore"), 400, "rpps_typo")
    for number in (OTHER, KARIM, CLAIRE):  # each reaches the directory: counted, matched or not
        api_error(kit.declare(member, number, "Quintard-Valmore", "Éléonore"), 400, "name_mismatch")
    error = api_error(kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore"), 429, "too_many_declarations", "rpps")
    assert "24 heures" in error["message"]
    assert kit.status(member)["level"] is None
    # another account has its own allowance; the page re-shows what was typed
    assert kit.declare(kit.member(display_name="Posé"), CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    html = browser.get("/verification").get_data(as_text=True)
    page = browser.post("/verification", data={"csrf": csrf_of(html), "rpps": OTHER, "last_name": "Martin",
                                               "first_name": "Paul", "display_name": "Pressé"})
    text = page.get_data(as_text=True)
    assert page.status_code == 429 and "24 heures" in text and f'value="{OTHER}"' in text and 'value="Martin"' in text


def test_declaring_needs_a_session(kit, client, api_error):
    api_error(client.post("/api/verification", json={"rpps": CANDIDATE}), 401, "not_signed_in")
    api_error(client.get("/api/verification"), 401, "not_signed_in")
    member = kit.member()
    api_error(
        client.post("/api/verification", data="rpps=1", headers={**member.headers, "Content-Type": "application/x-www-form-urlencoded"}),
        415,
    )


# -- vouching ----------------------------------------------------------------------------------------

def test_two_vouches_by_verified_physicians_verify(kit, founders, actions, urls):
    claire, karim = founders
    candidate = declared(kit)
    first = kit.vouch(claire, candidate, "QUINTARD-VALMORE")
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["candidate"] == {"name": "Stéthoscope bleu", "level": "declared", "vouches": 1, "vouches_needed": 2}
    # still declared: no badge on a comment
    body = actions.post("Un avis", url=urls.POST_B, headers=candidate.headers).get_json()
    assert body["comment"]["author"]["badge"] is None
    second = kit.vouch(karim, candidate, "Quintard Valmore")
    assert second.get_json()["candidate"]["level"] == "verified"
    status = kit.status(candidate)
    assert status["level"] == "verified" and status["method"] == "vouching"
    assert [v["name"] for v in status["vouches"]] == ["Dr Claire Lefebvre", "Dr Karim Benali"]
    assert status["links"]["vouch"] is None
    # the badge, recorded at posting time, says what was verified; the specialty only once the member opts in
    comment = actions.post("Avis de confrère", url=urls.POST_B, headers=candidate.headers).get_json()["comment"]
    assert comment["author"]["name"] == "Stéthoscope bleu"
    assert comment["author"]["badge"] == {
        "level": "verified",
        "label": "Médecin vérifié",
        "title": "Inscription au RPPS vérifiée (parrainage de deux confrères vérifiés)",
    }
    assert status["show_specialty"] is False
    kit.show_specialty(candidate)
    labels = [c["author"]["badge"] and c["author"]["badge"]["label"] for c in actions.thread(urls.POST_B).get_json()["comments"]]
    assert labels == [None, "Médecin vérifié · Médecine générale"], "the verified comment shows it now, not the declared one"
    log = verify.log_of(kit.db(), candidate.id)
    assert [e["event"] for e in log] == ["declared", "vouched", "vouched", "verified"]
    assert log[1]["actor_id"] == claire.id and log[2]["actor_id"] == karim.id and log[3]["method"] == "vouching"


def test_vouching_by_oneself_by_an_unverified_member_or_twice_is_refused(kit, founders, api_error):
    claire, _ = founders
    candidate = declared(kit)
    api_error(kit.vouch(candidate, candidate, "Quintard-Valmore"), 403, "self_vouch")
    stranger = kit.member(display_name="Un lecteur")
    api_error(kit.vouch(stranger, candidate, "Quintard-Valmore"), 403, "voucher_not_verified")
    other = kit.member(display_name="Pseudo deux")
    assert kit.declare(other, OTHER, "Martin", "Paul", display_name="Pseudo deux").status_code == 200
    api_error(kit.vouch(other, candidate, "Quintard-Valmore"), 403, "voucher_not_verified"), "declared is not verified"
    api_error(kit.vouch(claire, candidate, "Dupont"), 400, "name_mismatch", "last_name")
    assert kit.vouch(claire, candidate, "Quintard-Valmore").status_code == 201
    api_error(kit.vouch(claire, candidate, "Quintard-Valmore"), 409, "already_vouched")
    assert kit.status(candidate)["level"] == "declared"
    assert len(kit.sql("SELECT * FROM vouches")) == 1


def test_vouching_links_cannot_be_forged(kit, founders, client, api_error):
    claire, _ = founders
    candidate = declared(kit)
    token = kit.vouch_token(candidate)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    api_error(client.post(f"/api/verification/vouch/{forged}", json={"last_name": "x"}, headers=claire.headers), 404,
              "unknown_candidate")
    plain_id = str(candidate.id)
    api_error(client.get(f"/api/verification/vouch/{plain_id}", headers=claire.headers), 404, "unknown_candidate")
    ok = client.get(f"/api/verification/vouch/{token}", headers=claire.headers)
    assert ok.get_json()["candidate"]["name"] == "Stéthoscope bleu"
    nobody = kit.member(display_name="Sans déclaration")
    api_error(kit.vouch(claire, nobody, "X"), 404, "not_declared")


# -- forged badges ------------------------------------------------------------------------------------

def test_forged_badge_fields_are_ignored(kit, actions, urls):
    forged = {"badge": {"level": "verified", "label": "Médecin vérifié"}, "badge_level": "verified",
              "badge_specialty": "Chirurgie", "is_post_author": True, "author": "Dr Faux"}
    guest = actions.post("Je suis médecin, promis", url=urls.POST_B, **forged).get_json()["comment"]
    assert guest["author"]["badge"] is None and guest["author"]["is_post_author"] is False
    member = declared(kit)
    signed = actions.post("Moi aussi", url=urls.POST_B, headers=member.headers, **forged).get_json()["comment"]
    profile = signed["author"].pop("profile")  # a signed-in member's public profile (web/profiles.py), not a badge
    assert profile.startswith("http://blogs.test/comments/membres/")
    assert signed["author"] == {"name": "Stéthoscope bleu", "website": None, "badge": None, "is_post_author": False}
    assert all(r["badge_level"] is None for r in kit.sql("SELECT badge_level FROM comments"))


# -- moderator review ------------------------------------------------------------------------------------

def test_moderator_review_is_audit_logged(kit, client, api_error):
    candidate = declared(kit)
    moderator = kit.member(display_name="Modératrice", role="moderator")
    reader = kit.member(display_name="Lecteur")
    url = f"/api/verification/{candidate.id}/review"
    body = {"proof": "cps", "rpps": CANDIDATE, "reason": "Carte CPS montrée en visioconférence, photo conforme"}
    api_error(client.post(url, json=body, headers=reader.headers), 403, "not_a_moderator")
    api_error(client.post(url, json={**body, "rpps": KARIM}, headers=moderator.headers), 400, "rpps_mismatch", "rpps")
    api_error(client.post(url, json={**body, "proof": "selfie"}, headers=moderator.headers), 400, "invalid_choice", "proof")
    api_error(client.post(url, json={**body, "reason": " "}, headers=moderator.headers), 400, "missing_field", "reason")
    api_error(client.post(f"/api/verification/{moderator.id}/review", json=body, headers=moderator.headers), 403,
              "self_review")
    candidates = client.get("/api/verification/candidates", headers=moderator.headers).get_json()["candidates"]
    assert [c["display_name"] for c in candidates] == ["Stéthoscope bleu"]
    assert CANDIDATE not in str(candidates) and "QUINTARD" not in str(candidates).upper()
    response = client.post(url, json=body, headers=moderator.headers)
    assert response.get_json() == {"account": candidate.id, "level": "verified"}
    status = kit.status(candidate)
    assert status["method"] == "review" and status["level"] == "verified"
    entry = verify.log_of(kit.db(), candidate.id)[-1]
    assert entry["event"] == "verified" and entry["method"] == "review" and entry["proof"] == "cps"
    assert entry["reason"] == body["reason"] and entry["actor_id"] == moderator.id
    assert "Modératrice" in entry["actor"] and re.match(r"\d{4}-\d\d-\d\dT", entry["created"])
    approved = kit.sql("SELECT approved_by FROM verifications WHERE account_id = ?", (candidate.id,))
    assert approved[0]["approved_by"] == moderator.id


# -- revocation -------------------------------------------------------------------------------------------

def badge_of(actions, url, name):
    thread = actions.thread(url).get_json()
    found = [c for c in thread["comments"] if c["author"]["name"] == name]
    return found[0]["author"]["badge"]


def test_revocation_on_reimport_removes_the_badge_everywhere(kit, founders, actions, urls, app, tmp_path, client):
    claire, _ = founders
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    actions.post("Je confirme.", url=urls.POST_B, headers=helene.headers)
    actions.post("Moi de même.", url=urls.POST_B, headers=claire.headers)
    before = actions.thread(urls.POST_B)
    assert badge_of(actions, urls.POST_B, "Dr Hélène Rousseau")["label"] == "Médecin vérifié · Chirurgie infantile"
    page_before = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Médecin vérifié · Chirurgie infantile" in page_before and "Médecin vérifié · Médecine générale" in page_before

    # a newer extract without Hélène (struck off): the import re-checks verified members
    import_people(app, tmp_path, [p for p in PEOPLE if p[0] != HELENE], name="PS_LibreAcces_Personne_activite_202612010000.txt",
                  accept_shrink=True)
    lines = list(recheck_directory(app))
    assert "1 révoqué" in lines[0] and len(lines) == 3 and "Dr Hélène Rousseau" in lines[1]
    assert "en attente dans la file des e-mails" in lines[2]
    assert HELENE not in "\n".join(lines)

    after = actions.thread(urls.POST_B, etag=before.headers["ETag"])
    assert after.status_code == 200, "the thread's ETag changed"
    assert badge_of(actions, urls.POST_B, "Dr Hélène Rousseau") is None
    assert badge_of(actions, urls.POST_B, "Dr Claire Lefebvre") is not None
    page = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Médecin vérifié · Chirurgie infantile" not in page and "Médecin vérifié · Médecine générale" in page
    feed = client.get("/feeds/recent.atom").get_data(as_text=True)
    assert "Dr Hélène Rousseau (Médecin vérifié" not in feed and "Dr Claire Lefebvre (Médecin vérifié" in feed
    assert kit.status(helene)["level"] == "revoked"
    assert "absent de l'annuaire" in kit.status(helene)["revoked_reason"]
    # her new comments carry no badge either; she cannot re-declare by herself
    fresh = actions.post("Encore moi.", url=urls.POST_A, headers=helene.headers).get_json()["comment"]
    assert fresh["author"]["badge"] is None
    outbox = kit.sql("SELECT recipient, subject FROM outbox WHERE kind = 'verification'")
    assert outbox and outbox[0]["recipient"] == helene.email
    # a second import finds nothing more to do
    assert "0 révoqué" in list(recheck_directory(app))[0]


def test_moderator_revocation_with_a_reason(kit, founders, actions, urls, client, api_error):
    claire, karim = founders
    actions.post("Avis.", url=urls.POST_B, headers=karim.headers)
    moderator = kit.member(display_name="Modérateur", role="moderator")
    url = f"/api/verification/{karim.id}/revoke"
    api_error(client.post(url, json={"reason": "x"}, headers=claire.headers), 403, "not_a_moderator")
    api_error(client.post(url, json={}, headers=moderator.headers), 400, "missing_field", "reason")
    response = client.post(url, json={"reason": "Usurpation signalée par le Dr Benali"}, headers=moderator.headers)
    assert response.get_json() == {"account": karim.id, "level": "revoked", "comments_unbadged": 1}
    assert badge_of(actions, urls.POST_B, "Dr Karim Benali") is None
    api_error(client.post(url, json={"reason": "encore"}, headers=moderator.headers), 409, "not_verified")
    entry = verify.log_of(kit.db(), karim.id)[-1]
    assert (entry["event"], entry["reason"], entry["actor_id"]) == ("revoked", "Usurpation signalée par le Dr Benali", moderator.id)
    # a revoked account cannot vouch any more
    candidate = declared(kit)
    api_error(kit.vouch(karim, candidate, "Quintard-Valmore"), 403, "voucher_not_verified")


# -- pseudonyms ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pseudonym", ["Paul Martin", "MARTIN Paul", "Dr Martin", "Dr. Paul Martin", "docteur martin",
                                       "Claire Lefèbvre", "Dr Benali"])
def test_a_pseudonym_may_not_be_a_physicians_name(kit, pseudonym, api_error):
    member = kit.member(display_name="Provisoire")
    response = kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore", display_name=pseudonym)
    api_error(response, 400, "name_of_a_physician", "display_name")
    assert kit.status(member)["level"] is None, "nothing was declared"


def test_own_name_and_free_pseudonyms_are_allowed(kit):
    for name in ("Dr Quintard-Valmore", "Éléonore Quintard-Valmore", "Le Stéthoscope bleu", "Martine"):
        member = kit.member(display_name="x")
        assert kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore", display_name=name).status_code == 200
        kit.sql("DELETE FROM verifications")


def test_members_cannot_pose_as_a_titled_physician(kit, app):
    db = kit.db()
    reader = kit.member(display_name="Lecteur")
    with app.app_context(), pytest.raises(verify.ApiError) as caught:
        verify.check_display_name(app, db, reader.id, "Dr Lefebvre")
    assert caught.value.code == "name_of_a_physician"
    verify.check_display_name(app, db, reader.id, "Claire Lefebvre")  # a reader may share a physician's name


def test_where_pseudonyms_are_off_physicians_use_their_name(make_app, network_file, tmp_path, api_error):
    network_file.write_text(network_file.read_text().replace("edit_window_minutes = 15", "edit_window_minutes = 15\npseudonyms = false"))
    app = make_app()
    import_people(app, tmp_path)
    kit = Kit(app, app.test_client())
    member = kit.member(display_name="x")
    api_error(kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore", display_name="Stéthoscope"), 400,
              "pseudonyms_disabled", "display_name")
    assert kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore", display_name="Dr Éléonore Quintard-Valmore").status_code == 200


# -- entre confrères, interests, author mark -------------------------------------------------------------

def test_confreres_threads_take_only_verified_members(kit, founders, actions, urls, client, api_error):
    claire, _ = founders
    candidate = declared(kit)
    error = api_error(actions.post("Je peux ?", url=urls.POST_CONFRERES, headers=candidate.headers), 403, "confreres_only")
    assert "vérifi" in error["message"]
    api_error(actions.post("Et moi ?", url=urls.POST_CONFRERES), 403, "confreres_only")
    assert actions.post("Entre nous.", url=urls.POST_CONFRERES, headers=claire.headers).status_code == 201
    # the no-JS page explains and offers sign-in or verification instead of the form
    guest_page = client.get("/thread", query_string={"url": urls.POST_CONFRERES}).get_data(as_text=True)
    assert "réservé aux médecins vérifiés" in guest_page and "Connectez-vous" in guest_page
    assert 'name="text"' not in guest_page
    client.set_cookie("confreres_session", kit_cookie(kit, candidate))
    member_page = client.get("/thread", query_string={"url": urls.POST_CONFRERES}).get_data(as_text=True)
    assert "Faire vérifier mon inscription" in member_page and 'name="text"' not in member_page
    client.set_cookie("confreres_session", kit_cookie(kit, claire))
    verified_page = client.get("/thread", query_string={"url": urls.POST_CONFRERES}).get_data(as_text=True)
    assert 'name="text"' in verified_page


def kit_cookie(kit, member) -> str:
    from comments_service.domain import accounts

    db = kit.db()
    try:
        token, _ = accounts.create_session(db, member.id, "cookie", 30)
    finally:
        db.close()
    return token


def test_declaration_of_interests_beside_a_verified_members_comments(kit, founders, actions, urls, client):
    claire, _ = founders
    candidate = declared(kit)
    for member in (claire, candidate):
        response = client.patch("/api/account", json={"interests": "Consultante pour **Labo X** (2024). <script>x</script>"},
                                headers=member.headers)
        assert response.status_code == 200, response.get_data(as_text=True)
    actions.post("Avis sur le produit.", url=urls.POST_B, headers=claire.headers)
    actions.post("Moi aussi.", url=urls.POST_B, headers=candidate.headers)
    thread = actions.thread(urls.POST_B).get_json()
    by_name = {c["author"]["name"]: c["author"] for c in thread["comments"]}
    interests = by_name["Dr Claire Lefebvre"]["interests"]
    assert "<strong>Labo X</strong>" in interests and "<script" not in interests
    assert "interests" not in by_name["Stéthoscope bleu"], "only verified members show a declaration"
    page = client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True)
    assert "Liens d'intérêts déclarés par Dr Claire Lefebvre" in page and "<strong>Labo X</strong>" in page


def test_blog_author_mark_with_the_badge(kit, actions, urls):
    anne = kit.member(display_name="Dr Anne A", role="author", sites=("dr-a",))
    kit.grant(anne, CLAIRE, "Lefebvre", "Claire")
    own = actions.post("Merci à tous.", url=urls.POST_A, headers=anne.headers).get_json()["comment"]
    assert own["author"]["is_post_author"] is True and own["author"]["badge"]["level"] == "verified"
    elsewhere = actions.post("Bravo.", url=urls.POST_B, headers=anne.headers).get_json()["comment"]
    assert elsewhere["author"]["is_post_author"] is False


def test_hidden_specialty_is_not_shown(kit, founders, actions, urls, client):
    claire, _ = founders
    actions.post("Avant.", url=urls.POST_B, headers=claire.headers)
    assert badge_of(actions, urls.POST_B, "Dr Claire Lefebvre")["label"] == "Médecin vérifié · Médecine générale"
    client.patch("/api/account", json={"show_specialty": False}, headers=claire.headers)
    comment = actions.post("Sans spécialité.", url=urls.POST_B, headers=claire.headers).get_json()["comment"]
    assert comment["author"]["badge"]["label"] == "Médecin vérifié"
    assert comment["author"]["badge"]["title"].startswith("Inscription au RPPS vérifiée (membre fondateur")
    labels = {c["author"]["badge"]["label"] for c in actions.thread(urls.POST_B).get_json()["comments"]}
    assert labels == {"Médecin vérifié"}, "past comments hide it too"
    client.patch("/api/account", json={"show_specialty": True}, headers=claire.headers)
    labels = {c["author"]["badge"]["label"] for c in actions.thread(urls.POST_B).get_json()["comments"]}
    assert labels == {"Médecin vérifié · Médecine générale"}


# -- profile saves (accounts' pages and API) -------------------------------------------------------------

def test_profile_save_refuses_a_physicians_name_as_pseudonym(kit, client, api_error):
    candidate = declared(kit)
    api_error(client.patch("/api/account", json={"display_name": "Dr Martin"}, headers=candidate.headers), 400,
              "name_of_a_physician", "display_name")
    ok = client.patch("/api/account", json={"display_name": "Le Stéthoscope bleu"}, headers=candidate.headers)
    assert ok.status_code == 200 and ok.get_json()["account"]["display_name"] == "Le Stéthoscope bleu"


def test_a_new_declaration_of_interests_refreshes_cached_threads(kit, founders, actions, urls, client):
    claire, _ = founders
    actions.post("Avis.", url=urls.POST_B, headers=claire.headers)
    before = actions.thread(urls.POST_B)
    assert "interests" not in before.get_json()["comments"][0]["author"]
    client.patch("/api/account", json={"interests": "Aucun lien d'intérêts."}, headers=claire.headers)
    after = actions.thread(urls.POST_B, etag=before.headers["ETag"])
    assert after.status_code == 200
    assert "Aucun lien" in after.get_json()["comments"][0]["author"]["interests"]


# -- pages ---------------------------------------------------------------------------------------------------

def csrf_of(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def test_verification_pages_declare_then_vouch(kit, founders, app):
    claire, karim = founders
    candidate = kit.member(display_name="Stéthoscope bleu")
    anonymous = app.test_client().get("/verification")
    assert anonymous.status_code == 303 and "/auth" in anonymous.location
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, candidate))
    assert "Faire vérifier mon inscription" in browser.get("/account").get_data(as_text=True)
    page = browser.get("/verification")
    html = page.get_data(as_text=True)
    assert "Déclarer votre numéro RPPS" in html and page.headers["Cache-Control"] == "private, no-store"
    form = {"csrf": csrf_of(html), "rpps": CANDIDATE[:-1] + "0" if CANDIDATE[-1] != "0" else CANDIDATE[:-1] + "1",
            "last_name": "Quintard-Valmore", "first_name": "Éléonore", "display_name": "Stéthoscope bleu"}
    error = browser.post("/verification", data=form)
    assert error.status_code == 400
    text = error.get_data(as_text=True)
    assert "faute de frappe" in text and 'value="Quintard-Valmore"' in text and f'value="{form["rpps"]}"' in text
    assert browser.post("/verification", data={**form, "csrf": "forged"}).status_code == 403
    done = browser.post("/verification", data={**form, "rpps": CANDIDATE})
    assert done.status_code == 303 and done.location.endswith("/verification?etat=declare")
    html = browser.get(done.location).get_data(as_text=True)
    assert "Envoyez ce lien à deux confrères vérifiés" in html
    link = re.search(r'id="lien-parrainage" readonly value="([^"]+)"', html).group(1)
    path = "/" + link.removeprefix(COMMENTS_URL)  # the service's links are on comments_url
    # the candidate's own link: no form
    assert "On ne peut pas se parrainer soi-même" in browser.get(path).get_data(as_text=True)
    for voucher in (claire, karim):
        other = app.test_client()
        other.set_cookie("confreres_session", kit_cookie(kit, voucher))
        vouch_page = other.get(path).get_data(as_text=True)
        assert "Je connais ce confrère" in vouch_page and "Stéthoscope bleu" in vouch_page
        assert "QUINTARD" not in vouch_page.upper()
        wrong = other.post(path, data={"csrf": csrf_of(vouch_page), "last_name": "Dupont"})
        assert wrong.status_code == 400 and 'value="Dupont"' in wrong.get_data(as_text=True)
        right = other.post(path, data={"csrf": csrf_of(vouch_page), "last_name": "quintard-valmore"})
        assert right.status_code == 303
    assert "Votre inscription est <strong>vérifiée</strong>" in browser.get("/verification").get_data(as_text=True)
    assert "Ma vérification" in browser.get("/account").get_data(as_text=True)


def test_verification_pages_write_dates_and_counts_in_french(kit, founders, app):
    """The review page showed « déclaré le 2025-01-31, 1 parrainage(s) » (the UTC day, ISO) and the member's page
    their vouches' ISO days: a French date in Paris time, and a count with its plural."""
    claire, karim = founders
    candidate = declared(kit)
    assert kit.vouch(claire, candidate, "QUINTARD-VALMORE").status_code == 201
    kit.sql("UPDATE verifications SET declared = '2025-01-31T23:30:00Z' WHERE account_id = ?", (candidate.id,))
    kit.sql("UPDATE vouches SET created = '2025-07-14T22:15:00Z' WHERE candidate_id = ?", (candidate.id,))
    kit.sql("UPDATE verifications SET verified = '2025-03-01T10:00:00Z' WHERE account_id = ?", (claire.id,))
    moderator = kit.member(display_name="Modératrice", role="moderator")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, moderator))
    review = BeautifulSoup(browser.get("/verification/examen").get_data(as_text=True), "html.parser")
    waiting = " ".join(review.find(id=f"membre-{candidate.id}").p.get_text().split())
    assert "déclaré le 1er février 2025, 1 parrainage, " in waiting, waiting
    assert "(s)" not in waiting and "2025-01-31" not in waiting
    shown = " ".join(review.find(id=f"verifie-{claire.id}").p.get_text().split())
    assert shown.endswith("le 1er mars 2025"), shown

    browser.set_cookie("confreres_session", kit_cookie(kit, candidate))
    own = BeautifulSoup(browser.get("/verification").get_data(as_text=True), "html.parser")
    (vouch,) = own.select("ul.vouches time")
    assert vouch.text == "15 juillet 2025" and vouch["datetime"] == "2025-07-14T22:15:00Z"


def test_review_page_for_moderators(kit, app):
    candidate = declared(kit)
    moderator = kit.member(display_name="Modératrice", role="moderator")
    reader = kit.member(display_name="Lecteur")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, reader))
    assert browser.get("/verification/examen").status_code == 403
    browser.set_cookie("confreres_session", kit_cookie(kit, moderator))
    html = browser.get("/verification/examen").get_data(as_text=True)
    assert "Stéthoscope bleu" in html and CANDIDATE not in html and "QUINTARD" not in html.upper()
    form = {"csrf": csrf_of(html), "proof": "ordinal", "rpps": CANDIDATE, "reason": "Carte ordinale vue"}
    done = browser.post(f"/verification/examen/{candidate.id}", data=form)
    assert done.status_code == 303
    assert kit.status(candidate)["method"] == "review"
    html = browser.get("/verification/examen").get_data(as_text=True)
    revoked = browser.post(f"/verification/revoquer/{candidate.id}", data={"csrf": csrf_of(html), "reason": "Erreur"})
    assert revoked.status_code == 303 and kit.status(candidate)["level"] == "revoked"


def test_review_page_errors_name_and_describe_the_field_of_the_member_reviewed(kit, app):
    """One form per member: the errors linked to « #f-rpps », an id no field of the page had, and no field was marked
    invalid nor described by its error."""
    candidate = declared(kit)
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    moderator = kit.member(display_name="Modératrice", role="moderator")
    browser = app.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, moderator))
    html = browser.get("/verification/examen").get_data(as_text=True)
    wrong = browser.post(f"/verification/examen/{candidate.id}",
                         data={"csrf": csrf_of(html), "proof": "cps", "rpps": CLAIRE, "reason": "Carte vue"})
    assert wrong.status_code == 400
    soup = BeautifulSoup(wrong.get_data(as_text=True), "html.parser")
    link = soup.select_one("#erreurs a")
    field = soup.find(id=link["href"][1:])
    assert field is not None and field["name"] == "rpps" and field["value"] == CLAIRE
    assert field.find_parent("form")["action"].endswith(f"/verification/examen/{candidate.id}")
    assert field["aria-invalid"] == "true"
    assert "pas celui que ce membre a déclaré" in soup.find(id=field["aria-describedby"]).get_text()
    assert soup.find("label", attrs={"for": field["id"]}) is not None
    assert len(soup.select("[aria-invalid]")) == 1  # the other members' forms are not marked
    # the revocation form: its reason, required
    html = wrong.get_data(as_text=True)
    missing = browser.post(f"/verification/revoquer/{claire.id}", data={"csrf": csrf_of(html), "reason": ""})
    assert missing.status_code == 400
    soup = BeautifulSoup(missing.get_data(as_text=True), "html.parser")
    field = soup.find(id=soup.select_one("#erreurs a")["href"][1:])
    assert field["name"] == "reason" and field["aria-invalid"] == "true"
    assert field.find_parent("form")["action"].endswith(f"/verification/revoquer/{claire.id}")
    assert soup.find(id=field["aria-describedby"]) is not None


# -- the admin's commands ----------------------------------------------------------------------------------

def test_cli_grant_list_revoke(kit, app, network_file, monkeypatch):
    from click.testing import CliRunner

    from confreres.cli import cli

    monkeypatch.setenv("CONFRERES_SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("CONFRERES_DB", app.config["DB"])
    monkeypatch.setenv("CONFRERES_DIRECTORY_DB", app.config["DIRECTORY_DB"])
    base = ["--network", str(network_file), "verify"]
    runner = CliRunner()
    result = runner.invoke(cli, [*base, "grant", "claire@exemple.test", "--rpps", CLAIRE, "--last-name", "Lefebvre",
                                 "--first-name", "Claire", "--display-name", "Dr Claire Lefebvre"])
    assert result.exit_code == 0, result.output
    assert "Vérifié : claire@exemple.test (Médecine générale)" in result.output
    typo = runner.invoke(cli, [*base, "grant", "x@exemple.test", "--rpps", CLAIRE[:-1] + "9" if CLAIRE[-1] != "9" else CLAIRE[:-1] + "8",
                               "--last-name", "X", "--first-name", "Y"])
    assert typo.exit_code != 0 and "faute de frappe" in typo.output
    taken = runner.invoke(cli, [*base, "grant", "y@exemple.test", "--rpps", CLAIRE, "--last-name", "Lefebvre",
                                "--first-name", "Claire"])
    assert taken.exit_code != 0 and "déjà associé" in taken.output
    demo = runner.invoke(cli, [*base, "grant", "z@exemple.test", "--rpps", luhn_complete("1999999998"),
                               "--last-name", "Hors", "--first-name", "Annuaire", "--no-directory", "--specialty", "Pédiatrie"])
    assert demo.exit_code == 0, demo.output
    listing = runner.invoke(cli, [*base, "list", "--log"])
    assert listing.exit_code == 0, listing.output
    assert f"RPPS {CLAIRE}" in listing.output and "Dr Claire LEFEBVRE" in listing.output
    assert "membre fondateur" in listing.output and "admin (CLI)" in listing.output
    revoke = runner.invoke(cli, [*base, "revoke", "claire@exemple.test", "--reason", "Départ du réseau"])
    assert revoke.exit_code == 0 and "Révoqué" in revoke.output
    assert "revoked" in runner.invoke(cli, [*base, "list"]).output
    unknown = runner.invoke(cli, [*base, "revoke", "personne@exemple.test", "--reason", "x"])
    assert unknown.exit_code != 0 and "aucun compte" in unknown.output


@pytest.fixture
def mailing(make_app, tmp_path):
    """(app, kit, mail folder): a service that writes its mails as files, on the tests' directory; only the
    directory re-check sends them (MAIL_SEND=cron: no background sender racing it)."""
    mail_dir = tmp_path / "mail"
    app = make_app(MAIL_DIR=str(mail_dir), MAIL_SEND="cron")
    import_people(app, tmp_path)
    return app, Kit(app, app.test_client()), mail_dir


def test_revocation_notice_is_mailed_after_an_import(mailing, tmp_path):
    app, kit, mail_dir = mailing
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    import_people(app, tmp_path, [p for p in PEOPLE if p[0] != HELENE], name="PS_LibreAcces_Personne_activite_202612010000.txt",
                  accept_shrink=True)
    lines = list(recheck_directory(app))
    assert lines[-1] == "  Avis aux membres révoqués : 1 envoyé(s), 0 en échec (réessayés plus tard)."
    mails = [p.read_text(encoding="utf-8") for p in mail_dir.iterdir()]
    assert len(mails) == 1 and helene.email in mails[0] and "a été révoquée" in mails[0]
    assert "absent de l'annuaire" in mails[0] and "/verification" in mails[0]


def test_gdpr_export_and_deletion_include_the_verification(kit, founders, client):
    claire, _ = founders
    candidate = declared(kit)
    assert kit.vouch(claire, candidate, "Quintard-Valmore").status_code == 201
    own = client.get("/api/account/export", headers=candidate.headers).get_json()["verification"]
    assert own["rpps"] == CANDIDATE and own["level"] == "declared" and own["last_name"] == "QUINTARD-VALMORE"
    assert [v["name"] for v in own["vouches_received"]] == ["Dr Claire Lefebvre"]
    assert [e["event"] for e in own["log"]] == ["declared", "vouched"]
    assert client.get("/api/account/export", headers=claire.headers).get_json()["verification"]["vouches_given"]
    assert client.delete("/api/account", headers=candidate.headers).status_code == 200
    for table in ("verifications", "verification_identities", "vouches", "verification_log"):
        assert not kit.sql(f"SELECT * FROM {table} WHERE {'candidate_id' if table == 'vouches' else 'account_id'} = ?",
                           (candidate.id,)), table
    # the number is free again for whoever proves it next
    again = kit.member(display_name="Revenue")
    assert kit.declare(again, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200


def test_first_comment_moderation_trusts_verified_physicians(kit, founders, actions, urls):
    claire, _ = founders
    candidate = declared(kit)
    assert actions.post("Premier commentaire.", url=urls.POST_A, headers=candidate.headers).get_json()["status"] == "pending"
    assert actions.post("Premier commentaire de consœur.", url=urls.POST_A, headers=claire.headers).get_json()["status"] == "approved"


def test_revoking_an_impostor_frees_the_number_for_its_owner(kit, founders, client, api_error):
    claire, karim = founders
    impostor = declared(kit, display_name="Imposteur")
    owner = kit.member(display_name="La vraie")
    assert kit.declare(owner, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200  # contested, silently
    moderator = kit.member(display_name="Modératrice", role="moderator")
    response = client.post(f"/api/verification/{impostor.id}/revoke", json={"reason": "Usurpation signalée par la titulaire"},
                           headers=moderator.headers)
    assert response.status_code == 200
    # the number is free: the owner's declaration is settled by the next proof (here, two vouches)
    assert kit.vouch(claire, owner, "Quintard-Valmore").status_code == 201
    assert kit.vouch(karim, owner, "Quintard-Valmore").get_json()["candidate"]["level"] == "verified"
    assert [e["event"] for e in verify.log_of(kit.db(), owner.id)][-2:] == ["contest_resolved", "verified"]
    assert kit.status(impostor)["level"] == "revoked"
    api_error(kit.declare(impostor, CANDIDATE, "Quintard-Valmore", "Éléonore"), 409, "verification_revoked")


# -- a revoked voucher's vouches stop counting ------------------------------------------------------------

PETIT = luhn_complete("1000000107")
MOREAU = luhn_complete("1000000108")
MORE_PEOPLE = [*PEOPLE, (PETIT, "PETIT", "Louise", "10", ("SM40", "Pédiatrie")),
               (MOREAU, "MOREAU", "Jean", "10", ("SM42", "Psychiatrie"))]


def test_a_revoked_vouchers_vouches_stop_counting(kit, founders, app, tmp_path, actions, urls, client):
    claire, karim = founders
    import_people(app, tmp_path, MORE_PEOPLE, name="PS_LibreAcces_Personne_activite_202611240000.txt")
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    moderator = kit.member(display_name="Modératrice", role="moderator")
    # V: verified by Claire's and Karim's vouches; W: by V's and Hélène's; P: pending, Karim's vouch only;
    # R: vouched by Karim, then verified by a moderator's review of a proof
    v = declared(kit, display_name="Stéthoscope bleu")
    w = kit.member(display_name="Marteau réflexe")
    p = kit.member(display_name="Otoscope")
    r = kit.member(display_name="Abaisse-langue")
    for member, number, last, first in ((w, OTHER, "Martin", "Paul"), (p, PETIT, "Petit", "Louise"),
                                        (r, MOREAU, "Moreau", "Jean")):
        assert kit.declare(member, number, last, first).status_code == 200
    for voucher, candidate, last in ((claire, v, "Quintard-Valmore"), (karim, v, "Quintard-Valmore"), (v, w, "Martin"),
                                     (helene, w, "Martin"), (karim, p, "Petit"), (karim, r, "Moreau")):
        assert kit.vouch(voucher, candidate, last).status_code == 201
    review = client.post(f"/api/verification/{r.id}/review", json={"proof": "ordinal", "rpps": MOREAU, "reason": "Carte vue"},
                         headers=moderator.headers)
    assert review.status_code == 200
    assert [kit.status(m)["level"] for m in (v, w, p, r)] == ["verified", "verified", "declared", "verified"]
    actions.post("Avis de V.", url=urls.POST_B, headers=v.headers)
    actions.post("Avis de W.", url=urls.POST_B, headers=w.headers)
    before = actions.thread(urls.POST_B)
    assert all(c["author"]["badge"] for c in before.get_json()["comments"])

    response = client.post(f"/api/verification/{karim.id}/revoke", json={"reason": "Usurpation d'identité"},
                           headers=moderator.headers)
    assert response.status_code == 200, response.get_data(as_text=True)

    # V falls to one valid vouch, and W, whom V vouched for, falls with V; P loses Karim's vouch; R and the
    # members verified otherwise keep their level
    assert [kit.status(m)["level"] for m in (v, w, p, r)] == ["declared", "declared", "declared", "verified"]
    assert kit.status(claire)["level"] == kit.status(helene)["level"] == "verified"
    assert [x["name"] for x in kit.status(v)["vouches"]] == ["Dr Claire Lefebvre"]
    assert [x["name"] for x in kit.status(w)["vouches"]] == ["Dr Hélène Rousseau"]
    assert kit.status(p)["vouches"] == [] and kit.status(v)["method"] is None and kit.status(v)["verified"] is None
    # their comments lose the badge, and the thread a new version
    after = actions.thread(urls.POST_B, etag=before.headers["ETag"])
    assert after.status_code == 200 and not any(c["author"]["badge"] for c in after.get_json()["comments"])
    page = BeautifulSoup(client.get("/thread", query_string={"url": urls.POST_B}).get_data(as_text=True), "html.parser")
    comments = page.select("ol.thread > li.comment:not(.answer)")
    assert len(comments) == 2 and not any(c.select(".badge") for c in comments), "the no-JS page too"
    assert kit.sql("SELECT badge_level FROM accounts WHERE id IN (?, ?)", (v.id, w.id)) == [{"badge_level": None}] * 2
    # the audit log says why; the members are told by mail
    assert [e["event"] for e in verify.log_of(kit.db(), v.id)][-2:] == ["vouch_withdrawn", "unverified"]
    assert [e["event"] for e in verify.log_of(kit.db(), w.id)][-2:] == ["vouch_withdrawn", "unverified"]
    assert [e["event"] for e in verify.log_of(kit.db(), p.id)][-1] == "vouch_withdrawn"
    assert f"#{karim.id}" in verify.log_of(kit.db(), v.id)[-1]["reason"]
    mails = kit.sql("SELECT recipient, subject, message FROM outbox WHERE kind = 'verification' AND subject LIKE '%suspendu%'")
    assert sorted(m["recipient"] for m in mails) == sorted([v.email, w.email])
    assert all("Usurpation" not in m["message"] for m in mails), "the voucher's revocation reason stays private"
    # a new vouch from a verified confrère brings V back
    assert kit.vouch(helene, v, "Quintard-Valmore").get_json()["candidate"]["level"] == "verified"


def test_a_directory_import_that_revokes_a_voucher_reports_who_lost_the_badge(mailing, tmp_path):
    app, kit, mail_dir = mailing
    claire = kit.verified(CLAIRE, "Lefebvre", "Claire", "Dr Claire Lefebvre")
    karim = kit.verified(KARIM, "Benali", "Karim", "Dr Karim Benali")
    candidate = declared(kit)
    for voucher in (claire, karim):
        assert kit.vouch(voucher, candidate, "Quintard-Valmore").status_code == 201
    copycat = kit.member(display_name="Copie")  # a contested declaration of a number still in the directory
    assert kit.declare(copycat, CLAIRE, "Lefebvre", "Claire").status_code == 200
    import_people(app, tmp_path, [x for x in PEOPLE if x[0] != KARIM], name="PS_LibreAcces_Personne_activite_202612010000.txt",
                  accept_shrink=True)
    lines = list(recheck_directory(app))
    assert "4 contrôlé(s)" in lines[0] and "1 révoqué" in lines[0]
    assert kit.status(copycat)["level"] == "declared" and kit.status(claire)["level"] == "verified"
    assert any(f"compte #{candidate.id} « Stéthoscope bleu »" in line and "revenu au niveau déclaré" in line for line in lines)
    # the revoked member, the one sent back, and (queued earlier) the notice to the holder of the copied number
    assert lines[-1] == "  Avis aux membres révoqués : 3 envoyé(s), 0 en échec (réessayés plus tard)."
    mails = {p.read_text(encoding="utf-8") for p in mail_dir.iterdir()}
    suspended = [m for m in mails if candidate.email in m]
    assert len(suspended) == 1 and "suspendu" in suspended[0] and "/verification" in suspended[0]
    assert kit.status(candidate)["level"] == "declared"



# -- a re-check that would revoke too many at once ---------------------------------------------------------

STRANGERS = [(luhn_complete(f"10000002{i:02d}"), f"INCONNU{i}", "Jean", "10", ("SM54", "Médecine générale"))
             for i in range(6)]  # physicians who are none of the members


@pytest.mark.parametrize(("checked", "missing", "refused"), [
    (0, 0, False), (1, 1, False), (3, 1, False), (4, 2, False), (100, 10, False),
    (2, 2, True), (3, 3, True), (4, 3, True), (100, 11, True), (1000, 1000, True),
])
def test_how_many_revocations_an_import_may_make_unasked(checked, missing, refused):
    """A few a day are real strike-offs and deaths: up to 2, or 10 %, never all of several members."""
    assert (verify.revocation_refusal(checked, missing, "x.txt") is not None) is refused


def test_a_directory_missing_most_members_revokes_nobody(kit, founders, app, tmp_path):
    """Another extract of the same size (all its lines right) lacks 3 of the 4 members: revoking them all at once
    would be a mistake's doing, not strike-offs. The re-check stops before the first; forced, it revokes them."""
    claire, karim = founders
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    candidate = declared(kit)
    import_people(app, tmp_path, [p for p in PEOPLE if p[0] == CANDIDATE] + STRANGERS, name="autre.txt")
    with pytest.raises(verify.TooManyRevocations, match=r"^3 of the 4 declared and verified members are missing from "
                                                        r"autre.txt .*Nobody was revoked$"):
        list(recheck_directory(app))
    assert [kit.status(m)["level"] for m in (claire, karim, helene, candidate)] == ["verified"] * 3 + ["declared"]
    assert not kit.sql("SELECT id FROM outbox WHERE kind = 'verification'")
    lines = list(recheck_directory(app, force=True))
    assert "3 révoqué(s)" in lines[0]
    assert [kit.status(m)["level"] for m in (claire, karim, helene, candidate)] == ["revoked"] * 3 + ["declared"]


def test_a_changed_secret_key_revokes_nobody(kit, founders, make_app):
    """The members' RPPS hashes are keyed: after a key recorded without re-keying them (SECRET_KEY_ACCEPT; the commands
    `service accept-settings` and `rotate-key` now do, test_rekey.py), none matches the directory any more, which used
    to revoke every member at the next import."""
    claire, karim = founders
    rekeyed = make_app(SECRET_KEY="a-new-key-" + "n" * 40, SECRET_KEY_ACCEPT=True)
    with pytest.raises(verify.TooManyRevocations, match="2 of the 2 .*a secret key changed since they declared"):
        list(recheck_directory(rekeyed))
    assert kit.status(claire)["level"] == "verified"


def test_cli_import_refuses_a_shrunk_directory_or_mass_revocations(kit, founders, app, tmp_path, network_file,
                                                                   monkeypatch):
    """`confreres directory import` keeps the directory in place and revokes nobody when the new file has far fewer
    physicians (--accept-shrink) or lacks most members (--accept-revocations): one « Erreur : » line each."""
    from click.testing import CliRunner

    from comments_service.domain.rpps import Directory
    from confreres.cli import cli

    claire, karim = founders
    helene = kit.verified(HELENE, "Rousseau", "Hélène", "Dr Hélène Rousseau")
    monkeypatch.setenv("CONFRERES_SECRET_KEY", app.config["SECRET_KEY"])
    monkeypatch.setenv("CONFRERES_DB", app.config["DB"])
    monkeypatch.setenv("CONFRERES_DIRECTORY_DB", app.config["DIRECTORY_DB"])
    directory = Directory(app.config["DIRECTORY_DB"])

    def run(people, *options):
        source = write_extract(tmp_path / "PS_LibreAcces_Personne_activite_202612010000.txt", people)
        return CliRunner().invoke(cli, ["--network", str(network_file), "directory", "import", *options, str(source)])

    cut = run(PEOPLE[:2])
    assert cut.exit_code == 1 and "has 2 physicians where the directory in place has 5 (40%" in cut.output, cut.output
    assert "run again with --accept-shrink" in cut.output and "Traceback" not in cut.output
    other = run(STRANGERS)
    assert other.exit_code == 1, other.output
    assert "3 of the 3 declared and verified members are missing" in other.output
    assert "nothing was imported; if they really left the directory, run again with --accept-revocations" in other.output
    assert directory.lookup(CLAIRE) and not directory.lookup(STRANGERS[0][0]), "the directory in place is kept"
    assert [kit.status(m)["level"] for m in (claire, karim, helene)] == ["verified"] * 3

    forced = run(STRANGERS, "--accept-revocations")
    assert forced.exit_code == 0 and "3 révoqué(s)" in forced.output, forced.output
    assert directory.lookup(STRANGERS[0][0]) and kit.status(helene)["level"] == "revoked"


# -- the specialty is opt-in ----------------------------------------------------------------------------------

def test_new_accounts_hide_their_specialty_until_they_choose(kit, actions, urls, client):
    member = kit.member(display_name="Dr Neuve")
    kit.grant(member, OTHER, "Martin", "Paul")
    comment = actions.post("Premier avis.", url=urls.POST_B, headers=member.headers).get_json()["comment"]
    assert comment["author"]["badge"]["label"] == "Médecin vérifié", "not shown before the member opts in"
    browser = client.application.test_client()
    browser.set_cookie("confreres_session", kit_cookie(kit, member))
    html = browser.get("/account").get_data(as_text=True)
    assert re.search(r'<input id="f-show_specialty"[^>]*>', html) and "checked" not in re.search(
        r'<input id="f-show_specialty"[^>]*>', html).group(0)
    assert "masquée" in browser.get("/verification").get_data(as_text=True)


def test_the_migration_turns_the_old_default_off_where_it_never_showed(tmp_path):
    from comments_service.core import db as dbmod
    from comments_service.core.migrations import migrate, migrations

    db = dbmod.connect(str(tmp_path / "old.sqlite3"))
    migrations.apply(db, stop_before="m007_verification_privacy")
    stamp = "2026-01-01T00:00:00Z"
    db.conn.executemany(
        "INSERT INTO accounts (id, email, created, show_specialty, badge_level, badge_specialty) VALUES (?, ?, ?, ?, ?, ?)",
        [(1, "shown@x.test", stamp, 1, "verified", "Psychiatrie"),    # comments already show it: kept
         (2, "default@x.test", stamp, 1, "verified", "Pédiatrie"),    # never shown anywhere: off
         (3, "hidden@x.test", stamp, 0, "verified", "Ophtalmologie"),  # an explicit choice: kept
         (4, "reader@x.test", stamp, 1, None, None)],                  # not a physician (yet): off
    )
    db.conn.execute("INSERT INTO posts (url, site, synced) VALUES ('http://b.test/p', 'b', ?)", (stamp,))
    db.conn.executemany(
        "INSERT INTO comments (post_url, site, account_id, badge_level, badge_specialty, created) VALUES (?, 'b', ?, ?, ?, ?)",
        [("http://b.test/p", 1, "verified", "Psychiatrie", stamp), ("http://b.test/p", 2, "verified", None, stamp),
         ("http://b.test/p", 4, None, None, stamp)],
    )
    db.conn.commit()
    assert migrate(db)[0] == "m007_verification_privacy"  # then the later ones (m008_followups ...)
    shown = dict(db.conn.execute("SELECT id, show_specialty FROM accounts").fetchall())
    assert shown == {1: 1, 2: 0, 3: 0, 4: 0}
    assert db.conn.execute("SELECT COUNT(*) FROM verification_attempts").fetchone()[0] == 0
    db.close()
