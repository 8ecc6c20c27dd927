"""Pro Santé Connect (PSC): the OpenID Connect code flow that verifies a physician in one login.

PSC is the state's identity federation for health professionals (CPS card or e-CPS app). It is
optional: `[psc]` in network.toml gives the issuer and the client id, CONFRERES_PSC_CLIENT_SECRET the
secret. Nothing here is specific to one provider; the tests run this very code against a local
OpenID provider serving PSC's discovery name and claim shape.

1. `start` (a signed-in member): reads the discovery document
   `<issuer>/.well-known/wallet-openid-configuration` (once per process; PSC's non-standard name),
   draws state, nonce and a PKCE code verifier, keeps them in a signed, short-lived first-party cookie,
   and sends the browser to the authorisation endpoint (Authlib's client) with `scope=openid scope_all`,
   `acr_values=eidas1` and an S256 code challenge.
2. `finish` (PSC's redirect back): checks state and cookie, exchanges the code with the client secret
   and the code verifier, checks the ID token (signature against the provider's published keys, `iss`,
   `aud`, `exp`, `nonce`, `acr`), reads userinfo (same `sub`), takes the RPPS from `SubjectNameID`
   ("8" + RPPS) and requires an exercise with `codeProfession` "10" in `SubjectRefPro.exercices`.
   verify.verify_by_psc then records the proof.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from comments_service.core import tokens

DISCOVERY_PATH = "/.well-known/wallet-openid-configuration"
SCOPE = "openid scope_all"
ACR_VALUES = "eidas1"
ACCEPTED_ACR = ("eidas1", "eidas2", "eidas3")  # eidas1 asked for; a stronger level is fine
PHYSICIAN = "10"
COOKIE = "confreres_psc"
FLOW_MAX_AGE = 600  # seconds between leaving for PSC and coming back
ALGORITHMS = ["RS256", "PS256", "ES256"]
LEEWAY = 60  # seconds of clock skew accepted on exp/iat


class PscError(Exception):
    """A failed PSC login: a stable `code` and a French message for the member."""

    def __init__(self, code: str, message: str, status: int = 403):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


@dataclass(frozen=True)
class PscIdentity:
    rpps: str
    last_name: str
    first_name: str
    subject: str


def configured(app) -> bool:
    network = app.extensions["confreres_network"]
    return network.psc is not None and bool(app.config.get("PSC_CLIENT_SECRET"))


def redirect_uri(app) -> str:
    """The address registered with PSC: under the service's public URL (comments_url), not the request's."""
    return app.extensions["confreres_network"].comments_url + "verification/psc/retour"


_metadata_lock = threading.Lock()


def metadata(app) -> dict:
    """The provider's discovery document, read once per process (again only after a failure)."""
    cached = app.extensions.get("confreres_psc_metadata")
    if cached is not None:
        return cached
    settings = app.extensions["confreres_network"].psc
    with _metadata_lock:
        cached = app.extensions.get("confreres_psc_metadata")
        if cached is not None:
            return cached
        url = settings.issuer + DISCOVERY_PATH
        try:
            response = requests.get(url, timeout=int(app.config["PSC_TIMEOUT"]), allow_redirects=False)
            response.raise_for_status()
            document = response.json()
        except (requests.RequestException, ValueError) as exc:
            app.logger.warning("Pro Santé Connect discovery failed at %s: %s", url, exc)
            raise PscError("psc_unavailable", "Pro Santé Connect ne répond pas : réessayez dans un moment.", 503) from None
        needed = ("issuer", "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
        if not isinstance(document, dict) or any(not isinstance(document.get(k), str) for k in needed):
            raise PscError("psc_unavailable", "Pro Santé Connect a répondu un document de découverte incomplet.", 503)
        if document["issuer"].rstrip("/") != settings.issuer:
            app.logger.warning("Pro Santé Connect discovery names issuer %r, expected %r", document["issuer"], settings.issuer)
            raise PscError("psc_wrong_issuer", "Le fournisseur d'identité n'est pas celui configuré pour ce réseau.", 503)
        app.extensions["confreres_psc_metadata"] = document
        return document


def _client(app, **kwargs) -> OAuth2Session:
    settings = app.extensions["confreres_network"].psc
    return OAuth2Session(
        settings.client_id,
        app.config["PSC_CLIENT_SECRET"],
        scope=SCOPE,
        redirect_uri=redirect_uri(app),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        **kwargs,
    )


def _serializer(app) -> URLSafeTimedSerializer:
    return tokens.psc_serializer(app.config["SECRET_KEY"])


def start(app, account_id: int) -> tuple[str, str]:
    """(authorisation URL to send the browser to, signed cookie value keeping state, nonce and verifier)."""
    meta = metadata(app)
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)
    with _client(app) as client:
        url, _ = client.create_authorization_url(
            meta["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce, acr_values=ACR_VALUES
        )
    cookie = _serializer(app).dumps({"s": state, "n": nonce, "v": verifier, "a": account_id})
    return url, cookie


def read_flow(app, cookie: str, state: str, account_id: int) -> dict:
    """The flow this browser started, if `state` is its own, recent, and for the same account."""
    try:
        flow = _serializer(app).loads(cookie or "", max_age=FLOW_MAX_AGE)
    except SignatureExpired:
        raise PscError("psc_expired", "La connexion Pro Santé Connect a pris trop de temps : recommencez.", 400) from None
    except BadSignature:
        raise PscError(
            "psc_state", "Ce retour de Pro Santé Connect ne correspond à aucune connexion commencée ici : recommencez.", 400
        ) from None
    if not isinstance(flow, dict) or not state or not secrets.compare_digest(str(flow.get("s", "")), state):
        raise PscError(
            "psc_state", "Ce retour de Pro Santé Connect ne correspond à aucune connexion commencée ici : recommencez.", 400
        )
    if flow.get("a") != account_id:
        raise PscError("psc_state", "Cette connexion Pro Santé Connect a été commencée depuis un autre compte.", 400)
    return flow


def finish(app, flow: dict, code: str) -> PscIdentity:
    """Exchange the code, check the ID token and userinfo; the physician's identity, or PscError."""
    meta = metadata(app)
    settings = app.extensions["confreres_network"].psc
    timeout = int(app.config["PSC_TIMEOUT"])
    if not code or len(code) > 4000:
        raise PscError("psc_no_code", "Pro Santé Connect n'a pas renvoyé de code d'autorisation.", 400)
    try:
        with _client(app) as client:
            token = client.fetch_token(
                meta["token_endpoint"], grant_type="authorization_code", code=code, code_verifier=flow["v"],
                timeout=timeout,
            )
            keys = _keys(meta, timeout)
            claims = _check_id_token(token.get("id_token"), keys, settings, flow["n"])
            response = client.get(meta["userinfo_endpoint"], timeout=timeout)
    except PscError:
        raise
    except Exception as exc:  # noqa: BLE001 - network errors and the provider's OAuth errors alike
        app.logger.warning("Pro Santé Connect exchange failed: %s", exc)
        raise PscError("psc_exchange_failed", "L'échange avec Pro Santé Connect a échoué : recommencez.", 502) from None
    userinfo = _userinfo(response, keys, settings)
    if userinfo.get("sub") != claims.get("sub"):
        raise PscError("psc_invalid_identity", "Pro Santé Connect a renvoyé deux identités différentes.")
    return _identity(userinfo, claims)


def _keys(meta: dict, timeout: int) -> KeySet:
    try:
        response = requests.get(meta["jwks_uri"], timeout=timeout, allow_redirects=False)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())
    except Exception as exc:  # noqa: BLE001
        raise PscError("psc_unavailable", f"Clés de Pro Santé Connect illisibles ({type(exc).__name__}).", 502) from None


def _check_id_token(id_token, keys: KeySet, settings, nonce: str) -> dict:
    if not isinstance(id_token, str):
        raise PscError("psc_invalid_token", "Pro Santé Connect n'a pas renvoyé de jeton d'identité.")
    try:
        token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise PscError("psc_invalid_token", f"Jeton d'identité de Pro Santé Connect invalide ({exc}).") from None
    claims = token.claims
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else audience if isinstance(audience, list) else []
    if claims.get("iss") != settings.issuer:
        raise PscError("psc_wrong_issuer", "Le jeton d'identité ne vient pas du fournisseur configuré pour ce réseau.")
    if settings.client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != settings.client_id):
        raise PscError("psc_invalid_token", "Le jeton d'identité n'est pas destiné à ce service.")
    if not secrets.compare_digest(str(claims.get("nonce") or ""), nonce):
        raise PscError("psc_wrong_nonce", "Le jeton d'identité ne correspond pas à cette connexion (nonce) : recommencez.")
    if claims.get("acr") not in ACCEPTED_ACR:
        raise PscError("psc_weak_authentication", "Le niveau d'authentification renvoyé par Pro Santé Connect est insuffisant.")
    now = time.time()
    expires, issued = claims.get("exp"), claims.get("iat")
    if not isinstance(expires, int | float) or expires < now - LEEWAY:
        raise PscError("psc_invalid_token", "Le jeton d'identité de Pro Santé Connect a expiré.")
    if isinstance(issued, int | float) and issued > now + LEEWAY:
        raise PscError("psc_invalid_token", "Jeton d'identité de Pro Santé Connect daté du futur.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise PscError("psc_invalid_token", "Le jeton d'identité ne désigne personne.")
    return claims


def _userinfo(response, keys: KeySet, settings) -> dict:
    if response.status_code != 200:
        raise PscError("psc_exchange_failed", "Pro Santé Connect a refusé de donner l'identité de ce compte.", 502)
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        try:
            token = jwt.decode(response.text.strip(), keys, algorithms=ALGORITHMS)
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": settings.issuer}, aud={"value": settings.client_id}
            ).validate(token.claims)
        except (JoseError, ValueError):
            raise PscError("psc_invalid_identity", "Identité de Pro Santé Connect mal signée.") from None
        return token.claims
    try:
        data = response.json()
    except ValueError:
        raise PscError("psc_invalid_identity", "Identité de Pro Santé Connect illisible.") from None
    if not isinstance(data, dict):
        raise PscError("psc_invalid_identity", "Identité de Pro Santé Connect illisible.")
    return data


def _identity(userinfo: dict, claims: dict) -> PscIdentity:
    national = str(userinfo.get("SubjectNameID") or "")
    if not (len(national) == 12 and national.startswith("8") and national.isdigit()):
        raise PscError(
            "psc_not_rpps", "Pro Santé Connect ne vous identifie pas par un numéro RPPS (« 8 » + 11 chiffres)."
        )
    rpps = national[1:]
    ref = userinfo.get("SubjectRefPro") or {}
    exercises = ref.get("exercices") if isinstance(ref, dict) else None
    physician = [
        e for e in (exercises or []) if isinstance(e, dict) and str(e.get("codeProfession", "")) == PHYSICIAN
    ]
    if not physician:
        raise PscError(
            "psc_not_a_physician",
            "Pro Santé Connect ne vous connaît pas comme médecin (profession 10) : seuls les médecins sont vérifiés ici.",
        )
    first = physician[0]
    last_name = str(first.get("nomDexercice") or userinfo.get("family_name") or "")
    first_name = str(first.get("prenomDexercice") or userinfo.get("given_name") or "")
    return PscIdentity(rpps=rpps, last_name=last_name, first_name=first_name, subject=str(claims.get("sub")))
