"""HTTP Signatures as Mastodon makes and checks them (draft-cavage-http-signatures-12, `rsa-sha256`), through
the `apsig` library: no signing or verifying by hand here, only the policy around it.

The policy: a POST must sign `(request-target) host date digest` (a GET `(request-target) host date`), its
`Date` must be within `MAX_SKEW` seconds of now (a replayed request is refused), and its `Digest` must be the
SHA-256 of the body as received (apsig checks it). The `algorithm` may say `rsa-sha256`, `hs2019` (GoToSocial,
Lemmy and others: « see the key », an RSA key here, so RSA-SHA256 as Mastodon reads it) or nothing (the draft
makes it optional); any other is refused.
"""

from __future__ import annotations

import email.utils
import logging
import re

log = logging.getLogger(__name__)

REQUIRED_POST = ("(request-target)", "host", "date", "digest")
REQUIRED_GET = ("(request-target)", "host", "date")
MAX_SKEW = 300  # seconds: as Mastodon (it accepts 12 hours back only for Date; we keep to 5 minutes)
_PARAM = re.compile(r'([A-Za-z]+)="([^"]*)"')
ALGORITHMS = ("rsa-sha256", "hs2019")  # hs2019: the algorithm is the key's; our keys are RSA, verified as RSA-SHA256


class BadSignature(Exception):
    """The request is not signed, or not signed well enough to know who sent it (answered 401)."""


def parameters(headers) -> dict[str, str]:
    """The `Signature` header's parameters (keyId, algorithm, headers, signature); {} when there is none."""
    raw = headers.get("Signature") or ""
    if not raw and (headers.get("Authorization") or "").startswith("Signature "):
        raw = headers["Authorization"][len("Signature "):]
    return dict(_PARAM.findall(raw))


def sign(private_key, key_id: str, method: str, url: str, body: bytes | None = None,
         headers: dict | None = None) -> dict[str, str]:
    """The headers to send with the request: `headers` plus Host, Date, Digest (with a body) and Signature."""
    from apsig.draft import Signer

    base = {"Date": email.utils.formatdate(usegmt=True), **(headers or {})}
    signed = Signer(headers=base, private_key=private_key, method=method, url=url, key_id=key_id,
                    body=body or b"", signed_headers=list(REQUIRED_POST if body is not None else REQUIRED_GET)).sign()
    signed.pop("authorization", None)  # Mastodon reads `Signature`; one place is enough
    return {name.title() if name != "signature" else "Signature": value for name, value in signed.items()}


def verify(public_pem: str, method: str, path: str, headers, body: bytes) -> str:
    """The keyId of a request signed by `public_pem`'s key under our policy, else BadSignature."""
    from apsig.draft import Verifier

    params = parameters(headers)
    if not params.get("signature") or not params.get("keyId"):
        raise BadSignature("requête non signée")
    signed = params.get("headers", "date").lower().split()
    required = REQUIRED_GET if method.upper() in ("GET", "HEAD") else REQUIRED_POST
    missing = [name for name in required if name not in signed]
    if missing:
        raise BadSignature(f"en-têtes non signés : {', '.join(missing)}")
    algorithm = params.get("algorithm", "rsa-sha256").lower()
    if algorithm not in ALGORITHMS:
        raise BadSignature(f"algorithme de signature non pris en charge : {algorithm[:40]}")
    plain = {name.lower(): value for name, value in headers.items()}
    # apsig reads rsa-sha256 only, and needs it written: the header as it would be with that label (the label
    # is not part of what was signed, the signed headers and the signature stay as they came)
    plain["signature"] = ",".join(f'{name}="{params[name]}"' for name in ("keyId", "headers", "signature")
                                  if name in params) + ',algorithm="rsa-sha256"'
    if body and "digest" not in plain:
        raise BadSignature("en-tête Digest absent")
    if "date" not in plain:
        raise BadSignature("en-tête Date absent")
    try:
        result = Verifier(public_pem=public_pem, method=method, url=path, headers=plain, body=body,
                          clock_skew=MAX_SKEW).verify(raise_on_fail=True)
    except Exception as exc:  # noqa: BLE001 - the library raises its own errors, KeyError, ValueError...
        # the library's own words stay in the log: the sender gets the one French reason
        log.info("signature refused: %s: %s", exc.__class__.__name__, exc)
        raise BadSignature("signature invalide") from None
    if not result:
        raise BadSignature("signature invalide")
    return result
