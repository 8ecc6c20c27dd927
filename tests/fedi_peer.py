"""A stand-in for a remote Mastodon instance, on a real loopback HTTP server (werkzeug), for the federation tests.

It has its own RSA key and one actor (`/users/alice`, shaped as Mastodon's), and an inbox that records every
request and checks its signature the way Mastodon does, written here independently of the service's code (the
signing string built by hand, `cryptography` for RSA-SHA256, the signer's key fetched over HTTP once and kept, as
Mastodon keeps an account's key, fetched again only when it no longer verifies): what the
service signs is verified by a second implementation, and what the peer signs (`signed_post`) by the service's.
"""

from __future__ import annotations

import base64
import email.utils
import hashlib
import json
import re
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ACTIVITY = "application/activity+json"


@dataclass
class Delivery:
    path: str
    headers: dict
    body: bytes
    verified: bool
    problem: str

    @property
    def activity(self) -> dict:
        return json.loads(self.body)


def signing_string(method: str, path: str, headers: dict, names: list[str]) -> bytes:
    lower = {k.lower(): v for k, v in headers.items()}
    lines = [f"(request-target): {method.lower()} {path}" if n == "(request-target)" else f"{n}: {lower[n]}"
             for n in names]
    return "\n".join(lines).encode()


def digest(body: bytes) -> str:
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()


class Peer:
    def __init__(self, username: str = "alice"):
        self.username = username
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.received: list[Delivery] = []
        self.keys: dict = {}  # the signers' public keys by keyId, as Mastodon keeps them with the accounts
        self.status = 202  # what the inbox answers
        self.actor_changes: dict = {}  # merged into actor(): another server's shape (None removes a key)
        self.documents: dict = {}  # other paths served as JSON (a key served apart from its actor, GoToSocial's)
        self._lock = threading.Lock()
        self.httpd = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.host = f"127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        if self._thread.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()

    # -- what it shows ---------------------------------------------------------------------------------

    @property
    def actor_id(self) -> str:
        return f"http://{self.host}/users/{self.username}"

    @property
    def key_id(self) -> str:
        return self.actor_id + "#main-key"

    def actor(self) -> dict:
        """Shaped as Mastodon's (docs.joinmastodon.org, spec/activitypub)."""
        pem = self.public_pem
        return {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1",
                         {"manuallyApprovesFollowers": "as:manuallyApprovesFollowers", "toot": "http://joinmastodon.org/ns#"}],
            "id": self.actor_id, "type": "Person", "preferredUsername": self.username,
            "name": "Dr Alice <script>alert(1)</script>", "summary": "<p>Généraliste à Lille</p>",
            "url": f"http://{self.host}/@{self.username}",
            "inbox": self.actor_id + "/inbox", "outbox": self.actor_id + "/outbox",
            "followers": self.actor_id + "/followers", "following": self.actor_id + "/following",
            "endpoints": {"sharedInbox": f"http://{self.host}/inbox"},
            "manuallyApprovesFollowers": False, "discoverable": True,
            "publicKey": {"id": self.key_id, "owner": self.actor_id, "publicKeyPem": pem},
        } | self.actor_changes

    @property
    def public_pem(self) -> str:
        return self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                  serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        if request.method == "GET" and request.path == f"/users/{self.username}":
            doc = {k: v for k, v in self.actor().items() if v is not None}
            response = Response(json.dumps(doc), content_type=ACTIVITY)
        elif request.method == "GET" and request.path in self.documents:
            response = Response(json.dumps(self.documents[request.path]), content_type=ACTIVITY)
        elif request.method == "POST" and request.path in (f"/users/{self.username}/inbox", "/inbox"):
            body = request.get_data()
            verified, problem = self.verify(request.method, request.path, dict(request.headers), body)
            with self._lock:
                self.received.append(Delivery(request.path, dict(request.headers), body, verified, problem))
            response = Response("", status=self.status)
        else:
            response = Response("not found", status=404)
        return response(environ, start_response)

    # -- signatures, independently of the service ------------------------------------------------------

    def verify(self, method: str, path: str, headers: dict, body: bytes) -> tuple[bool, str]:
        params = dict(re.findall(r'(\w+)="([^"]*)"', headers.get("Signature", "")))
        names = params.get("headers", "").split()
        if not {"(request-target)", "host", "date", "digest"} <= set(names):
            return False, f"signed headers: {names}"
        if headers.get("Digest") != digest(body):
            return False, "digest"
        try:
            signature, signed = base64.b64decode(params["signature"]), signing_string(method, path, headers, names)
            kept = self.keys.get(params["keyId"])
            if kept is not None:
                try:
                    kept.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
                    return True, ""
                except InvalidSignature:
                    pass  # the actor may have changed keys: fetched again
            doc = httpx.get(params["keyId"].split("#")[0], headers={"Accept": ACTIVITY}, timeout=5).json()
            key = serialization.load_pem_public_key(doc["publicKey"]["publicKeyPem"].encode())
            if doc["publicKey"]["id"] != params["keyId"]:
                return False, "key id"
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, KeyError, ValueError, httpx.HTTPError) as exc:
            return False, repr(exc)
        self.keys[params["keyId"]] = key
        return True, ""

    def signed_headers(self, url: str, body: bytes, key=None, date: str | None = None, key_id: str | None = None,
                       digest_value: str | None = None, algorithm: str | None = "rsa-sha256",
                       names: tuple[str, ...] = ("(request-target)", "host", "date", "digest")) -> dict:
        """Headers of a POST of `body` to `url` signed as Mastodon signs (by hand, with `cryptography`); another
        `algorithm` label (GoToSocial's and Lemmy's `hs2019`; None: none) or list of signed `names` as others do."""
        parts = urlsplit(url)
        headers = {"Host": parts.netloc, "Date": date or email.utils.formatdate(usegmt=True),
                   "Digest": digest_value or digest(body), "Content-Type": ACTIVITY}
        signature = (key or self.key).sign(signing_string("POST", parts.path, headers, list(names)),
                                           padding.PKCS1v15(), hashes.SHA256())
        label = f'algorithm="{algorithm}",' if algorithm else ""
        headers["Signature"] = (f'keyId="{key_id or self.key_id}",{label}'
                                f'headers="{" ".join(names)}",signature="{base64.b64encode(signature).decode()}"')
        return headers

    def post(self, url: str, activity: dict, **signing) -> httpx.Response:
        body = json.dumps(activity).encode()
        return httpx.post(url, content=body, headers=self.signed_headers(url, body, **signing), timeout=10)

    def follow(self, inbox: str, target: str, number: int = 1) -> tuple[dict, httpx.Response]:
        activity = {"@context": "https://www.w3.org/ns/activitystreams", "id": f"{self.actor_id}#follows/{number}",
                    "type": "Follow", "actor": self.actor_id, "object": target}
        return activity, self.post(inbox, activity)

    def undo(self, inbox: str, follow: dict) -> httpx.Response:
        return self.post(inbox, {"@context": "https://www.w3.org/ns/activitystreams",
                                 "id": f"{self.actor_id}#follows/{follow['id'][-1]}/undo", "type": "Undo",
                                 "actor": self.actor_id, "object": follow})

    def of_type(self, kind: str) -> list[Delivery]:
        with self._lock:
            return [d for d in self.received if d.activity.get("type") == kind]
