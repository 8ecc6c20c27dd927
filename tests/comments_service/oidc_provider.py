"""A small OpenID provider on loopback with Pro Santé Connect's discovery name and claim shape.

It implements what the service's PSC client uses, strictly enough to catch a wrong client: the
authorisation endpoint (client id, registered redirect URI, scope `openid scope_all`,
`acr_values=eidas1`, PKCE S256 required), the token endpoint (client secret by HTTP Basic, single-use
code bound to its redirect URI, code verifier checked against the challenge), userinfo (bearer access
token) and the key set. ID tokens are signed RS256 with a key generated at start (joserfc).

`behaviour` lets a test change what the provider answers: the identity (`rpps`, `profession`, names),
or a faulty ID token (`iss`, `nonce`, `acr`).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server

REALM = "/auth/realms/esante-wallet"


class Provider:
    def __init__(self, client_id: str, client_secret: str, redirect_uri: str):
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.behaviour: dict = {}
        self.requests: list[dict] = []
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.port = self.server.server_port
        self.issuer = f"http://127.0.0.1:{self.port}{REALM}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(5)

    def identity(self) -> dict:
        b = self.behaviour
        rpps = b.get("rpps", "")
        return {
            "sub": b.get("sub", "f:550dc1c8-d97b-4b1e-ac8c-" + rpps[-8:]),
            "SubjectNameID": "8" + rpps,
            "given_name": b.get("first_name", ""),
            "family_name": b.get("last_name", ""),
            "SubjectRefPro": {
                "codeCivilite": "M",
                "exercices": [
                    {
                        "codeProfession": b.get("profession", "10"),
                        "codeCategorieProfessionnelle": "C",
                        "codeCiviliteDexercice": "DR",
                        "nomDexercice": b.get("last_name", ""),
                        "prenomDexercice": b.get("first_name", ""),
                        "codeTypeSavoirFaire": "S",
                        "codeSavoirFaire": b.get("specialty", "SM54"),
                        "activities": [],
                    }
                ],
            },
        }

    def _make_app(self) -> Flask:
        app = Flask("test-oidc-provider")
        provider = self

        @app.get(REALM + "/.well-known/wallet-openid-configuration")
        def discovery():
            base = provider.issuer + "/protocol/openid-connect"
            return jsonify({
                "issuer": provider.issuer,
                "authorization_endpoint": base + "/auth",
                "token_endpoint": base + "/token",
                "userinfo_endpoint": base + "/userinfo",
                "jwks_uri": base + "/certs",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "acr_values_supported": ["eidas1"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            })

        @app.get(REALM + "/protocol/openid-connect/auth")
        def authorize():
            args = request.args
            provider.requests.append(dict(args))
            if args.get("client_id") != provider.client_id or args.get("redirect_uri") != provider.redirect_uri:
                abort(400, "unknown client or redirect_uri")
            if args.get("response_type") != "code" or set(args.get("scope", "").split()) != {"openid", "scope_all"}:
                abort(400, "bad response_type or scope")
            if args.get("acr_values") != "eidas1" or args.get("code_challenge_method") != "S256":
                abort(400, "acr_values eidas1 and PKCE S256 required")
            if not args.get("code_challenge") or not args.get("nonce") or not args.get("state"):
                abort(400, "code_challenge, nonce and state required")
            code = secrets.token_urlsafe(16)
            provider.codes[code] = {
                "challenge": args["code_challenge"], "nonce": args["nonce"], "redirect_uri": args["redirect_uri"],
                "identity": provider.identity(), "behaviour": dict(provider.behaviour),
            }
            return redirect(args["redirect_uri"] + "?" + urlencode({"code": code, "state": args["state"]}), 302)

        @app.post(REALM + "/protocol/openid-connect/token")
        def token():
            auth = request.authorization
            if auth is None or (auth.username, auth.password) != (provider.client_id, provider.client_secret):
                return jsonify({"error": "invalid_client"}), 401
            form = request.form
            grant = provider.codes.pop(form.get("code", ""), None)  # single use
            if form.get("grant_type") != "authorization_code" or grant is None:
                return jsonify({"error": "invalid_grant"}), 400
            if form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify({"error": "invalid_grant", "error_description": "redirect_uri"}), 400
            verifier = form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != grant["challenge"]:
                return jsonify({"error": "invalid_grant", "error_description": "PKCE"}), 400
            b = grant["behaviour"]
            now = int(time.time())
            claims = {
                "iss": b.get("iss", provider.issuer),
                "sub": grant["identity"]["sub"],
                "aud": provider.client_id,
                "exp": now + 300,
                "iat": now,
                "auth_time": now,
                "nonce": b.get("nonce", grant["nonce"]),
                "acr": b.get("acr", "eidas1"),
                "azp": provider.client_id,
            }
            id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, provider.key)
            access = secrets.token_urlsafe(24)
            provider.tokens[access] = grant["identity"]
            return jsonify({"access_token": access, "token_type": "Bearer", "expires_in": 120, "id_token": id_token,
                            "scope": "openid scope_all"})

        @app.get(REALM + "/protocol/openid-connect/userinfo")
        def userinfo():
            header = request.headers.get("Authorization", "")
            identity = provider.tokens.get(header.removeprefix("Bearer ").strip())
            if identity is None:
                return jsonify({"error": "invalid_token"}), 401
            return jsonify(identity)

        @app.get(REALM + "/protocol/openid-connect/certs")
        def certs():
            return jsonify(KeySet([provider.key]).as_dict(private=False))

        return app
