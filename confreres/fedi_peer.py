"""A small stand-in for a remote fediverse instance, on loopback: `confreres federation peer --port N`.

It has one actor (`/users/<name>`, its own RSA key), a personal and a shared inbox that print every activity
they receive and whether its HTTP Signature verifies (the signer's key fetched over HTTP and kept, as Mastodon
keeps an account's key, fetched again when it no longer verifies; checked with the `apsig` library), and commands typed on its standard input to follow a blog, reply to a post and undo, each
sent signed as Mastodon sends them. A new user sees the whole exchange with the demo without a Mastodon
server; an operator can point it at a real instance's handles to see what the network sends.

The demo's service must be allowed to reach it: `CONFRERES_OUTGOING_ALLOW_HOSTS=127.0.0.1` (the demo sets it).
"""

from __future__ import annotations

import email.utils
import itertools
import json
import threading

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

ACTIVITY = "application/activity+json"
CONTEXT = "https://www.w3.org/ns/activitystreams"
PUBLIC = CONTEXT + "#Public"
HELP = """Commandes :
  suivre @blog@hôte          suivre un blog (ou @planete@hôte : tout le réseau)
  repondre URL texte…        répondre à un billet (son adresse) ; le texte devient un commentaire
  annuler                    ne plus suivre le dernier blog suivi
  attendre N                 attendre N secondes (ce qui arrive s'affiche)
  quitter"""


class Peer:
    def __init__(self, host: str, port: int, name: str, say=print):
        self.name = name
        self.say = say
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.httpd = make_server(host, port, self._wsgi, threaded=True)
        self.origin = f"http://{host}:{self.httpd.server_port}"
        self.follows: list[tuple[dict, dict]] = []  # (Follow activity, followed actor document)
        self.keys: dict[str, str] = {}  # the signers' public keys (PEM) by keyId: a deleted blog's Deletes verify
        self._numbers = itertools.count(1)
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- what it shows -----------------------------------------------------------------------------------

    @property
    def actor_id(self) -> str:
        return f"{self.origin}/users/{self.name}"

    def actor(self) -> dict:
        pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        return {"@context": [CONTEXT, "https://w3id.org/security/v1"], "id": self.actor_id, "type": "Person",
                "preferredUsername": self.name, "name": f"{self.name} (instance d'essai)",
                "url": f"{self.origin}/@{self.name}", "inbox": self.actor_id + "/inbox",
                "outbox": self.actor_id + "/outbox", "followers": self.actor_id + "/followers",
                "endpoints": {"sharedInbox": f"{self.origin}/inbox"},
                "publicKey": {"id": self.actor_id + "#main-key", "owner": self.actor_id, "publicKeyPem": pem}}

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        if request.method == "GET" and request.path == f"/users/{self.name}":
            response = Response(json.dumps(self.actor()), content_type=ACTIVITY)
        elif request.method == "POST" and request.path in (f"/users/{self.name}/inbox", "/inbox"):
            self._received(request)
            response = Response("", status=202)
        else:
            response = Response("introuvable", status=404)
        return response(environ, start_response)

    def _received(self, request: Request) -> None:
        body = request.get_data()
        verified = self._verify(request, body)
        try:
            activity = json.loads(body)
        except ValueError:
            self.say(f"← reçu un corps illisible ({verified})")
            return
        obj = activity.get("object")
        what = obj.get("type") if isinstance(obj, dict) else "objet"
        title = obj.get("name") or obj.get("url") or obj.get("id") if isinstance(obj, dict) else obj
        self.say(f"← {activity.get('type')} ({what}) de {activity.get('actor')} : {title} [{verified}]")

    def _verify(self, request: Request, body: bytes) -> str:
        from apsig.draft import Verifier

        signature = request.headers.get("Signature", "")
        key_id = next((part.split("=", 1)[1].strip('"') for part in signature.split(",")
                       if part.strip().startswith("keyId=")), "")
        if not key_id:
            return "non signé"
        def check(pem: str) -> None:
            Verifier(public_pem=pem, method=request.method, url=request.path, headers=dict(request.headers),
                     body=body).verify(raise_on_fail=True)

        try:
            if key_id in self.keys:
                try:
                    check(self.keys[key_id])
                    return "signature vérifiée"
                except Exception:  # noqa: BLE001 - the actor may have changed keys: fetched again
                    pass
            signer = httpx.get(key_id.split("#")[0], headers={"Accept": ACTIVITY}, timeout=5).json()
            check(signer["publicKey"]["publicKeyPem"])
        except Exception as exc:  # noqa: BLE001 - said, not raised: this is a tool to see what goes wrong
            return f"signature refusée : {exc}"
        self.keys[key_id] = signer["publicKey"]["publicKeyPem"]
        return "signature vérifiée"

    # -- what it sends ------------------------------------------------------------------------------------

    def _post(self, inbox: str, activity: dict) -> httpx.Response:
        from apsig.draft import Signer

        body = json.dumps(activity).encode()
        headers = Signer(headers={"Content-Type": ACTIVITY, "Date": email.utils.formatdate(usegmt=True)},
                         private_key=self.key, method="POST", url=inbox, key_id=self.actor_id + "#main-key",
                         body=body, signed_headers=["(request-target)", "host", "date", "digest"]).sign()
        headers.pop("authorization", None)
        return httpx.post(inbox, content=body, headers=headers, timeout=10)

    def resolve(self, handle: str) -> dict:
        """The actor document of `@name@host` (WebFinger, then the actor)."""
        name, _, host = handle.lstrip("@").partition("@")
        scheme = "http" if host.split(":")[0] in ("127.0.0.1", "localhost") else "https"
        finger = httpx.get(f"{scheme}://{host}/.well-known/webfinger", params={"resource": f"acct:{name}@{host}"},
                           timeout=10)
        finger.raise_for_status()
        href = next(link["href"] for link in finger.json()["links"] if link.get("rel") == "self")
        return httpx.get(href, headers={"Accept": ACTIVITY}, timeout=10).json()

    def follow(self, handle: str) -> None:
        target = self.resolve(handle)
        follow = {"@context": CONTEXT, "id": f"{self.actor_id}#follows/{next(self._numbers)}", "type": "Follow",
                  "actor": self.actor_id, "object": target["id"]}
        answer = self._post(target["inbox"], follow)
        self.follows.append((follow, target))
        self.say(f"→ Follow {target['id']} : {answer.status_code}")

    def reply(self, url: str, text: str) -> None:
        if not self.follows:
            self.say("Suivez d'abord un blog du réseau (suivre @blog@hôte).")
            return
        target = self.follows[-1][1]
        number = next(self._numbers)
        note = {"id": f"{self.actor_id}/statuses/{number}", "type": "Note", "attributedTo": self.actor_id,
                "inReplyTo": url, "content": f"<p>{text}</p>", "to": [PUBLIC], "url": f"{self.origin}/@{self.name}/{number}"}
        create = {"@context": CONTEXT, "id": note["id"] + "/activity", "type": "Create", "actor": self.actor_id,
                  "to": [PUBLIC], "object": note}
        inbox = (target.get("endpoints") or {}).get("sharedInbox") or target["inbox"]
        answer = self._post(inbox, create)
        detail = "" if answer.status_code < 300 else f" ({answer.text.strip()[:200]})"
        self.say(f"→ Create(Note) en réponse à {url} : {answer.status_code}{detail}")

    def undo(self) -> None:
        if not self.follows:
            self.say("Aucun abonnement à annuler.")
            return
        follow, target = self.follows.pop()
        undo = {"@context": CONTEXT, "id": follow["id"] + "/undo", "type": "Undo", "actor": self.actor_id,
                "object": follow}
        self.say(f"→ Undo(Follow) {target['id']} : {self._post(target['inbox'], undo).status_code}")

    def command(self, line: str) -> bool:
        """Run one typed command; False to stop."""
        words = line.strip().split(maxsplit=2)
        if not words:
            return True
        verb = words[0].lower()
        try:
            if verb == "quitter":
                return False
            if verb == "suivre" and len(words) == 2:
                self.follow(words[1])
            elif verb == "repondre" and len(words) == 3:
                self.reply(words[1], words[2])
            elif verb == "annuler":
                self.undo()
            elif verb == "attendre" and len(words) == 2:
                threading.Event().wait(float(words[1]))
            else:
                self.say(HELP)
        except (httpx.HTTPError, KeyError, StopIteration, ValueError) as exc:
            self.say(f"Échec : {exc.__class__.__name__} {exc}")
        return True

