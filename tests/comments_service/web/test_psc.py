"""Pro Santé Connect: the real OpenID Connect code flow (Authlib client, PKCE S256) against a local provider.

The provider (oidc_provider.py) runs on loopback with PSC's discovery name and claim shape; the
service reaches it over real HTTP. The browser's part (following redirects) is played by the test:
the service's test client for the service, an HTTP client for the provider.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from comments_service.core import tokens
from comments_service.domain import accounts
from comments_service.domain import verification as verify
from tests.comments_service.oidc_provider import Provider
from tests.comments_service.verification_kit import CANDIDATE, KARIM, NURSE, Kit, import_people

CLIENT_ID = "confreres-test"
CLIENT_SECRET = "psc-test-secret"
REDIRECT = "http://blogs.test/comments/verification/psc/retour"


@pytest.fixture
def provider():
    with Provider(CLIENT_ID, CLIENT_SECRET, REDIRECT) as op:
        yield op


@pytest.fixture
def psc_app(make_app, network_file, provider, tmp_path):
    network_file.write_text(
        network_file.read_text() + f'\n[psc]\nissuer = "{provider.issuer}"\nclient_id = "{CLIENT_ID}"\n', encoding="utf-8"
    )
    app = make_app(PSC_CLIENT_SECRET=CLIENT_SECRET)
    import_people(app, tmp_path)
    return app


@pytest.fixture
def kit(psc_app):
    return Kit(psc_app, psc_app.test_client())


def browser_for(kit, member):
    """A browser signed in to the service's pages (cookie session)."""
    client = kit.app.test_client()
    db = kit.db()
    try:
        token, _ = accounts.create_session(db, member.id, "cookie", 30)
    finally:
        db.close()
    client.set_cookie("confreres_session", token)
    return client


def login_with_psc(browser, provider):
    """Click the button, let the provider authenticate, come back: the service's final response."""
    start = browser.get("/verification/psc")
    assert start.status_code == 302, start.get_data(as_text=True)[:500]
    assert start.location.startswith(provider.issuer + "/protocol/openid-connect/auth?")
    answer = httpx.get(start.location, follow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == REDIRECT
    return browser.get("/verification/psc/retour", query_string=parse_qs(back.query)), back.query


def test_the_verification_page_offers_psc(kit):
    member = kit.member(display_name="Stéthoscope bleu")
    page = browser_for(kit, member).get("/verification").get_data(as_text=True)
    assert "Se connecter avec Pro Santé Connect" in page
    status = kit.status(member)
    assert status["links"]["psc"].endswith("/verification/psc")


def test_psc_login_verifies_a_declared_physician(kit, provider):
    member = kit.member(display_name="Stéthoscope bleu")
    assert kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    browser = browser_for(kit, member)
    response, callback = login_with_psc(browser, provider)
    assert response.status_code == 303 and response.location.endswith("/verification?etat=psc")
    sent = provider.requests[-1]
    assert sent["scope"] == "openid scope_all" and sent["acr_values"] == "eidas1"
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43
    status = kit.status(member)
    assert (status["level"], status["method"]) == ("verified", "psc")
    entry = verify.log_of(kit.db(), member.id)[-1]
    assert (entry["event"], entry["method"], entry["actor"]) == ("verified", "psc", "Pro Santé Connect")
    page = browser.get("/verification?etat=psc").get_data(as_text=True)
    assert "Pro Santé Connect a confirmé" in page
    # the same callback cannot be replayed: the flow's cookie is spent
    replay = browser.get("/verification/psc/retour?" + callback)
    assert replay.status_code == 400 and "ne correspond à aucune connexion" in replay.get_data(as_text=True)


def test_psc_login_declares_and_verifies_in_one_go(kit, provider, actions, urls):
    member = kit.member(display_name="Stéthoscope bleu")
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    response, _ = login_with_psc(browser_for(kit, member), provider)
    assert response.status_code == 303
    assert kit.status(member)["level"] == "verified"
    badge = actions.post("Vérifiée par PSC.", url=urls.POST_B, headers=member.headers).get_json()["comment"]["author"]["badge"]
    assert badge["title"] == "Inscription au RPPS vérifiée (connexion Pro Santé Connect)"


@pytest.mark.parametrize(
    ("behaviour", "code", "message"),
    [
        ({"iss": "https://auth.esw.esante.gouv.fr/auth/realms/esante-wallet"}, 403, "ne vient pas du fournisseur"),
        ({"nonce": "another-nonce"}, 403, "nonce"),
        ({"profession": "60"}, 403, "ne vous connaît pas comme médecin"),
        ({"acr": "eidas0"}, 403, "est insuffisant"),
        ({"rpps": KARIM}, 403, "autre numéro RPPS"),
    ],
    ids=["wrong-issuer", "wrong-nonce", "profession-not-10", "weak-acr", "rpps-mismatch"],
)
def test_psc_login_is_refused(kit, provider, behaviour, code, message):
    member = kit.member(display_name="Stéthoscope bleu")
    assert kit.declare(member, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore", **behaviour}
    response, _ = login_with_psc(browser_for(kit, member), provider)
    assert response.status_code == code
    assert message in response.get_data(as_text=True)
    assert kit.status(member)["level"] == "declared"


def test_psc_identity_of_a_non_physician_in_the_directory_is_refused(kit, provider):
    member = kit.member(display_name="Infirmière")
    provider.behaviour = {"rpps": NURSE, "last_name": "DURAND", "first_name": "Sophie"}
    response, _ = login_with_psc(browser_for(kit, member), provider)
    assert response.status_code == 403 and kit.status(member)["level"] is None


def test_psc_cannot_take_a_verified_accounts_number(kit, provider):
    owner = kit.member(display_name="Premier")
    kit.grant(owner, CANDIDATE, "Quintard-Valmore", "Éléonore")
    other = kit.member(display_name="Second")
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    response, _ = login_with_psc(browser_for(kit, other), provider)
    assert response.status_code == 409 and kit.status(other)["level"] is None


def test_a_callback_without_the_flow_cookie_or_for_another_state_is_refused(kit, provider):
    member = kit.member(display_name="Stéthoscope bleu")
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    browser = browser_for(kit, member)
    start = browser.get("/verification/psc")
    answer = httpx.get(start.location, follow_redirects=False, timeout=10)
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    stranger = browser_for(kit, member)  # same account, another browser: no flow cookie
    assert stranger.get("/verification/psc/retour", query_string=query).status_code == 400
    forged = {**query, "state": ["forged-state"]}
    assert browser.get("/verification/psc/retour", query_string=forged).status_code == 400
    cancelled = browser.get("/verification/psc/retour", query_string={"error": "access_denied", "state": query["state"]})
    assert cancelled.status_code == 400 and "annulée" in cancelled.get_data(as_text=True)
    assert kit.status(member)["level"] is None


def test_psc_is_off_without_configuration(make_app, api_error):
    app = make_app()
    kit = Kit(app, app.test_client())
    member = kit.member(display_name="x")
    browser = browser_for(kit, member)
    assert browser.get("/verification/psc").status_code == 404
    assert "Pro Santé Connect" not in browser.get("/verification").get_data(as_text=True)
    assert kit.status(member)["links"]["psc"] is None


def test_registry_validates_the_psc_table(tmp_path):
    from confreres import registry

    base = {"network": {"name": "N", "url": "https://n.example/", "comments_url": "https://n.example/c/"}}
    ok = registry.parse({**base, "psc": {"issuer": "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet/",
                                         "client_id": "abc"}}, tmp_path)
    assert ok.psc.issuer == "https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet" and ok.psc.client_id == "abc"
    assert registry.parse(base, tmp_path).psc is None
    for bad, message in [
        ({"issuer": "http://auth.example/realm"}, "psc.issuer: must be an https URL"),
        ({"issuer": "https://auth.example/realm"}, "psc.client_id: missing"),
        ({"issuer": "https://a.example/", "client_id": "x", "client_secret": "no"}, "psc.client_secret: unknown key"),
    ]:
        with pytest.raises(registry.RegistryError, match=message.replace(".", r"\.")):
            registry.parse({**base, "psc": bad}, tmp_path)


def test_psc_proof_overrides_another_accounts_mere_declaration(kit, provider):
    squatter = kit.member(display_name="Imposteur")
    assert kit.declare(squatter, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    owner = kit.member(display_name="La vraie")
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    response, _ = login_with_psc(browser_for(kit, owner), provider)
    assert response.status_code == 303 and kit.status(owner)["level"] == "verified"
    assert kit.status(squatter)["level"] is None
    assert verify.log_of(kit.db(), squatter.id)[-1]["event"] == "declaration_dropped"


def test_psc_settles_a_contested_declaration(kit, provider):
    """The owner declared their number after an impostor (a contested declaration), then proves it with PSC."""
    squatter = kit.member(display_name="Imposteur")
    assert kit.declare(squatter, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    owner = kit.member(display_name="La vraie")
    assert kit.declare(owner, CANDIDATE, "Quintard-Valmore", "Éléonore").status_code == 200
    provider.behaviour = {"rpps": CANDIDATE, "last_name": "QUINTARD-VALMORE", "first_name": "Éléonore"}
    response, _ = login_with_psc(browser_for(kit, owner), provider)
    assert response.status_code == 303, response.get_data(as_text=True)
    assert (kit.status(owner)["level"], kit.status(owner)["method"]) == ("verified", "psc")
    assert kit.status(squatter)["level"] is None
    key = verify.rpps_hash(kit.app.config["SECRET_KEY"], CANDIDATE)
    assert kit.sql("SELECT account_id FROM verifications WHERE rpps_hash = ?", (key,)) == [{"account_id": owner.id}]


def test_an_expired_psc_flow_is_refused(kit, provider):
    import time

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    from comments_service.web import psc

    class PastSigner(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - psc.FLOW_MAX_AGE - 60

    member = kit.member(display_name="Lente")
    browser = browser_for(kit, member)
    old = URLSafeTimedSerializer(kit.app.config["SECRET_KEY"], salt=tokens.PSC_COOKIE_SALT, signer=PastSigner)
    browser.set_cookie(psc.COOKIE, old.dumps({"s": "st", "n": "n", "v": "v", "a": member.id}), path="/verification/psc")
    response = browser.get("/verification/psc/retour", query_string={"state": "st", "code": "abc"})
    assert response.status_code == 400 and "trop de temps" in response.get_data(as_text=True)
