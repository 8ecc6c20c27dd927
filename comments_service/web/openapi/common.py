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

# A moderator's decision on a comment (POST /moderation/{id}); a mention's (members) has the same body and answers.
COMMENT_DECISION = {
    "summary": "Approve, reject, mark as spam or delete a comment (reports are resolved)",
    "security": SESSION,
    "parameters": [ID_PARAM],
    "requestBody": body(
        {
            "type": "object",
            "required": ["action"],
            "properties": {"action": {"enum": ["approve", "reject", "spam", "delete"]}},
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
