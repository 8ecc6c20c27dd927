"""What every fragment of the OpenAPI document shares: the error shape, common parameters and answers.

The fragments (comments, accounts, members, verification) import this module only, never each other
nor the assembler (web/openapi/__init__.py), so each can be read and changed alone.
"""

from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": ERROR}}}


def json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def body(schema: dict, required: bool = True) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


COMMON_ERRORS = {
    "400": error("Invalid input; `error.field` names the field"),
    "413": error("Body over 64 KB"),
    "415": error("A write whose body is not application/json"),
    "429": error("Rate limit exceeded"),
    "503": error("The storage failed (`storage_full`: disk full, `storage_busy`, `storage_unavailable`), with "
                 "Retry-After: nothing was written"),
}

ID_PARAM = {"name": "id", "in": "path", "required": True,
            "schema": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}  # ids.parse_id: else 404

SESSION = [{"session": []}, {"sessionCookie": []}]
NOT_SIGNED_IN = error("Not signed in: no session, or an expired or revoked one")

# A moderator's decision on a comment (POST /moderation/{id}); a mention's (members) has the same answers, and the
# same body without "block" (MENTION_DECISION_BODY).
MENTION_DECISION_BODY = body(
    {
        "type": "object",
        "required": ["action"],
        "properties": {"action": {"enum": ["approve", "reject", "spam", "delete"]}},
    }
)
COMMENT_DECISION = {
    "summary": "Approve, reject, mark as spam or delete a comment (reports are resolved), or block its author",
    "description": (
        "`block` (« Bloquer l'auteur ») marks the comment spam and blocks its author on the comment's blog: by their "
        "account when they were signed in, by their e-mail address (kept as a keyed hash), and by their network "
        "address (keyed hash; an IPv6 client by its /64) when `address` is true. Their comments pending on that blog "
        "become spam (`spammed`); their next comments there are stored as spam and answered exactly as pending ones. "
        "The blog's own author cannot be blocked (400). GET /moderation/blocks lists the blocks."
    ),
    "security": SESSION,
    "parameters": [ID_PARAM],
    "requestBody": body(
        {
            "type": "object",
            "required": ["action"],
            "properties": {
                "action": {"enum": ["approve", "reject", "spam", "delete", "block"]},
                "address": {"type": "boolean", "default": False,
                            "description": "With `block`: block the author's network address too (an office or a "
                                           "hospital often shares one)"},
            },
        }
    ),
    "responses": {
        "200": json(
            {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "action": {"type": "string"},
                    "status": {"enum": ["approved", "rejected", "spam", "deleted"]},
                    "block": {
                        "type": "object",
                        "description": "With `block`: the block (its id) and what identifies the author",
                        "properties": {
                            "id": {"type": "integer"},
                            "by": {"type": "array", "items": {"enum": ["account", "email", "address"]}},
                        },
                    },
                    "spammed": {"type": "array", "items": {"type": "integer"},
                                "description": "With `block`: the author's other pending comments, now spam"},
                },
            },
            "Done",
        ),
        **COMMON_ERRORS,
        "401": NOT_SIGNED_IN,
        "403": error("Not a moderator of this comment's blog"),
        "404": error("No such comment"),
        "409": error("Comment deleted"),
    },
}

SCHEMAS = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string", "description": "Stable snake_case code"},
                    "message": {"type": "string", "description": "French, for the user"},
                    "field": {"type": ["string", "null"]},
                },
            }
        },
    },
}
