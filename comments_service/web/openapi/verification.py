"""OpenAPI fragment: /api/verification (web/verification.py), merged by web/openapi/__init__.py."""

from __future__ import annotations

from comments_service.web.openapi.common import COMMON_ERRORS, ID_PARAM, body, error, json

SESSION = (
    "Needs a signed-in member: `Authorization: Bearer cfs1_…` (the widget's session) or the service's "
    "session cookie. 401 `not_signed_in` otherwise."
)
TOKEN_PARAM = {
    "name": "token", "in": "path", "required": True, "schema": {"type": "string"},
    "description": "The candidate's part of their vouching link (links.vouch of GET /verification)",
}
ACCOUNT_PARAM = {**ID_PARAM, "name": "account_id"}


def _string(description: str = "", **extra) -> dict:
    return {"type": "string", **({"description": description} if description else {}), **extra}


STATUS = {"$ref": "#/components/schemas/VerificationStatus"}
CANDIDATE = {
    "type": "object",
    "properties": {
        "candidate": {
            "type": "object",
            "properties": {
                "name": _string("The candidate's public display name (never their real name)"),
                "level": {"enum": ["declared", "verified", "revoked", None]},
                "vouches": {"type": "integer"},
                "vouches_needed": {"type": "integer"},
            },
        }
    },
}

PATHS = {
    "/verification": {
        "get": {
            "summary": "The caller's verification: level, method, specialty, vouches received, links",
            "description": SESSION,
            "responses": {
                "200": json(STATUS, "The caller's status (never their RPPS or declared name)"),
                "401": error("Not signed in"),
                "429": COMMON_ERRORS["429"],
            },
        },
        "post": {
            "summary": "Declare an RPPS (level `declared`): Luhn, directory (profession 10), names, one account per RPPS",
            "description": SESSION + " Errors name the field: `rpps_typo` (Luhn: probably a typo), `invalid_rpps`, "
            "`rpps_unknown` (not a physician of the current directory), `name_mismatch`, "
            "`name_of_a_physician` / `name_of_a_member` / `mixed_scripts` / `pseudonyms_disabled` (display_name), `already_verified` (409), "
            "`verification_revoked` (409), `too_many_declarations` (429, `DECLARATIONS_PER_DAY` per account), "
            "`directory_unavailable` (503). A number another account holds is accepted like any other (the answer "
            "never tells that a physician has an account): that declaration is contested, is never verified by "
            "vouches, and waits for Pro Santé Connect or a moderator's review; the holder gets a mail.",
            "requestBody": body({
                "type": "object",
                "required": ["rpps", "last_name", "first_name"],
                "properties": {
                    "rpps": _string("11 digits (or 12, the national form 8 + RPPS)"),
                    "last_name": _string("Nom d'exercice, as in the directory (case and accents ignored)"),
                    "first_name": _string("Prénom d'exercice"),
                    "display_name": _string(
                        "The name shown beside comments: own name or a pseudonym that is no physician's name"
                    ),
                },
            }),
            "responses": {
                "200": json(STATUS, "Declared"),
                "400": COMMON_ERRORS["400"],
                "401": error("Not signed in"),
                "409": error("Already verified, or revoked"),
                "415": COMMON_ERRORS["415"],
                "429": COMMON_ERRORS["429"],
                "503": error("No directory imported yet"),
            },
        },
    },
    "/verification/vouch-link": {
        "post": {
            "summary": "A new vouching link for the caller (level `declared`): the old one stops working",
            "description": SESSION + " Tokens are random and stored; an old or replaced link answers 404 "
            "`unknown_candidate`. `nothing_to_vouch` (409) when the caller is not at level `declared`.",
            "responses": {
                "200": json(STATUS, "The caller's status, with the new links.vouch"),
                "401": error("Not signed in"),
                "409": error("Not at level declared"),
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/verification/vouch/{token}": {
        "get": {
            "summary": "The candidate of a vouching link: public name, level, vouches so far",
            "description": SESSION,
            "parameters": [TOKEN_PARAM],
            "responses": {
                "200": json(CANDIDATE, "The candidate"),
                "401": error("Not signed in"),
                "404": error("Not a valid vouching link"),
            },
        },
        "post": {
            "summary": "« Je connais ce confrère »: a verified physician vouches for a declared candidate",
            "description": SESSION + " The voucher types the candidate's surname, which the service compares "
            "with the declaration without showing it. At two vouches the candidate is verified. Refused: "
            "`self_vouch` (403), `voucher_not_verified` (403), `already_vouched` (409), `name_mismatch` (400), "
            "`not_declared` (404), `already_verified` (409), `too_many_vouch_attempts` (429: "
            "`VOUCH_FAILURES_PER_VOUCHER` wrong surnames by this voucher for this candidate, or "
            "`VOUCH_FAILURES_PER_DAY` for this candidate in 24 hours; checked before the name, so the right "
            "name gets it too). Every attempt is audit-logged; the candidate sees the failed ones "
            "(`failed_vouches`).",
            "parameters": [TOKEN_PARAM],
            "requestBody": body({"type": "object", "required": ["last_name"], "properties": {"last_name": _string()}}),
            "responses": {
                "201": json(CANDIDATE, "Vouch recorded"),
                "400": COMMON_ERRORS["400"],
                "401": error("Not signed in"),
                "403": error("Oneself, or the voucher is not verified"),
                "404": error("Not a valid vouching link, or nothing declared"),
                "409": error("Vouched already, or the candidate is verified or revoked"),
                "415": COMMON_ERRORS["415"],
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/verification/candidates": {
        "get": {
            "summary": "Moderators: declared members waiting for a proof (public names only)",
            "description": SESSION + " Role moderator or admin.",
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "candidates": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "account_id": {"type": "integer"},
                                        "display_name": _string(),
                                        "declared": _string(format="date-time"),
                                        "specialty": _string(),
                                        "vouch_count": {"type": "integer"},
                                        "contested": {"type": "boolean", "description": "The number is also "
                                                      "another account's: only a review (or PSC) verifies it"},
                                    },
                                },
                            }
                        },
                    },
                    "Waiting members",
                ),
                "401": error("Not signed in"),
                "403": error("Not a moderator"),
            },
        }
    },
    "/verification/{account_id}/review": {
        "post": {
            "summary": "Moderators: record the review of a proof (audit-logged: who, when, why, which proof)",
            "description": SESSION + " Role moderator or admin. `rpps` is the number read on the proof: it must be "
            "the declared one (`rpps_mismatch` otherwise). A contested declaration (`contested` in the candidates) is "
            "settled by the review: another account that only declared the number loses it; if that account is "
            "verified, `rpps_conflict` (409) until an admin revokes one of the two.",
            "parameters": [ACCOUNT_PARAM],
            "requestBody": body({
                "type": "object",
                "required": ["proof", "rpps", "reason"],
                "properties": {
                    "proof": {"enum": ["cps", "ordinal", "attestation", "postal"]},
                    "rpps": _string("The RPPS read on the proof"),
                    "reason": _string("What was checked"),
                },
            }),
            "responses": {
                "200": json({"type": "object", "properties": {"account": {"type": "integer"}, "level": _string()}},
                             "Verified"),
                "400": COMMON_ERRORS["400"],
                "401": error("Not signed in"),
                "403": error("Not a moderator, or one's own review"),
                "404": error("Nothing declared"),
                "409": error("Already verified, revoked, or the number is verified on another account"),
                "415": COMMON_ERRORS["415"],
            },
        }
    },
    "/verification/{account_id}/revoke": {
        "post": {
            "summary": "Moderators: revoke a verification, with a reason; the member's past comments lose the badge",
            "description": SESSION + " Role moderator or admin.",
            "parameters": [ACCOUNT_PARAM],
            "requestBody": body({"type": "object", "required": ["reason"], "properties": {"reason": _string()}}),
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "account": {"type": "integer"},
                            "level": {"const": "revoked"},
                            "comments_unbadged": {"type": "integer"},
                        },
                    },
                    "Revoked",
                ),
                "400": COMMON_ERRORS["400"],
                "401": error("Not signed in"),
                "403": error("Not a moderator"),
                "404": error("No such account"),
                "409": error("Nothing to revoke"),
                "415": COMMON_ERRORS["415"],
            },
        }
    },
}

SCHEMAS = {
    "VerificationStatus": {
        "type": "object",
        "properties": {
            "level": {"enum": ["declared", "verified", "revoked", None]},
            "method": {"enum": ["psc", "vouching", "review", "grant", None]},
            "method_label": {"type": ["string", "null"]},
            "specialty": {"type": ["string", "null"], "description": "From the directory"},
            "show_specialty": {"type": "boolean", "description": "Profile setting: specialty beside the badge"},
            "declared": {"type": ["string", "null"], "format": "date-time"},
            "verified": {"type": ["string", "null"], "format": "date-time"},
            "revoked": {"type": ["string", "null"], "format": "date-time"},
            "revoked_reason": {"type": ["string", "null"]},
            "vouches": {
                "type": "array",
                "items": {"type": "object", "properties": {"name": _string(), "created": _string(format="date-time")}},
            },
            "vouches_needed": {"type": "integer"},
            "failed_vouches": {"type": "integer",
                               "description": "Attempts of confrères to vouch with a wrong surname (or past the limits)"},
            "links": {
                "type": "object",
                "properties": {
                    "page": _string("The /verification page of the service", format="uri"),
                    "vouch": {"type": ["string", "null"], "format": "uri",
                              "description": "The page to send to two verified physicians (when declared)"},
                    "psc": {"type": ["string", "null"], "format": "uri",
                            "description": "Sign in with Pro Santé Connect (when configured)"},
                },
            },
        },
    },
}
