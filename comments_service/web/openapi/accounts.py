"""OpenAPI fragment: sign-in, account and moderation endpoints (merged by web/openapi/__init__.py)."""

from __future__ import annotations

from comments_service.web.openapi.common import (
    COMMENT_DECISION,
    COMMON_ERRORS,
    ID_PARAM,
    NOT_SIGNED_IN,
    SESSION,
    body,
    error,
    json,
)

ACCOUNT_DOCUMENT = json({"$ref": "#/components/schemas/AccountDocument"}, "The signed-in account")

PATHS = {
    "/auth/request": {
        "post": {
            "summary": "Send a sign-in link by e-mail (always 202, known address or not)",
            "description": (
                "The link is valid MAGIC_LINK_MAX_AGE seconds (15 min) and once. With `return` (a page of a member "
                "blog), signing in ends with a redirect to `<return>#confreres-session=<token>`: store the token and "
                "send it as `Authorization: Bearer <token>`."
            ),
            "requestBody": body(
                {
                    "type": "object",
                    "required": ["email"],
                    "properties": {
                        "email": {"type": "string", "format": "email"},
                        "return": {"type": "string", "description": "A page of a member blog, or a path of the service"},
                    },
                }
            ),
            "responses": {
                "202": json(
                    {"type": "object", "properties": {"status": {"const": "sent"}, "message": {"type": "string"}}},
                    "Sent if the address is valid (the same answer for every address)",
                ),
                **COMMON_ERRORS,
            },
        }
    },
    "/auth/signout": {
        "post": {
            "summary": "End the presented session (bearer or cookie), or every session with {\"everywhere\": true}",
            "security": SESSION,
            "requestBody": body({"type": "object", "properties": {"everywhere": {"type": "boolean"}}}, False),
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {"signed_out": {"type": "boolean"}, "sessions_ended": {"type": "integer"}},
                    },
                    "Signed out",
                ),
                **COMMON_ERRORS,  # a body, when sent, is a JSON object
                "401": NOT_SIGNED_IN,
            },
        }
    },
    "/account": {
        "get": {
            "summary": "The signed-in account: profile, notification settings, session expiry",
            "security": SESSION,
            "responses": {"200": ACCOUNT_DOCUMENT, "401": NOT_SIGNED_IN, "429": COMMON_ERRORS["429"]},
        },
        "patch": {
            "summary": "Change the profile (only the keys sent)",
            "description": "A new `display_name` is refused (400, on `display_name`) when it reads as a physician's "
            "name of the directory (`name_of_a_physician`, `pseudonyms_disabled`), as another member's public name "
            "(`name_of_a_member`) or mixes alphabets (`mixed_scripts`); the name the account bears is kept as it is.",
            "security": SESSION,
            "requestBody": body({"$ref": "#/components/schemas/ProfileChanges"}),
            "responses": {"200": ACCOUNT_DOCUMENT, **COMMON_ERRORS, "401": NOT_SIGNED_IN},
        },
        "delete": {
            "summary": "Delete the account (GDPR); comments erased (default) or kept anonymised",
            "security": SESSION,
            "requestBody": body(
                {"type": "object", "properties": {"comments": {"enum": ["erase", "keep"], "default": "erase"}}}, False
            ),
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "deleted": {"type": "boolean"},
                            "comments_removed": {"type": "integer"},
                            "comments_anonymised": {"type": "integer"},
                        },
                    },
                    "Deleted",
                ),
                "400": COMMON_ERRORS["400"],
                "401": NOT_SIGNED_IN,
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/account/export": {
        "get": {
            "summary": "Download one's own data (GDPR): account, own comments, subscriptions, sessions, mails",
            "security": SESSION,
            "responses": {
                "200": {"description": "JSON attachment", "content": {"application/json": {}}},
                "401": NOT_SIGNED_IN,
                "429": COMMON_ERRORS["429"],
            },
        }
    },
    "/moderation/queue": {
        "get": {
            "summary": "Pending and reported comments of the blogs the account moderates (all for moderators)",
            "security": SESSION,
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "sites": {"type": ["array", "null"], "items": {"type": "string"}},
                            "total": {"type": "integer"},
                            "items": {"type": "array", "items": {"$ref": "#/components/schemas/QueueItem"}},
                            "mentions": {
                                "type": "array",
                                "description": "Pending received Webmentions, oldest first",
                                "items": {"$ref": "#/components/schemas/QueuedMention"},
                            },
                        },
                    },
                    "The queue, oldest first",
                ),
                "401": NOT_SIGNED_IN,
                "403": error("The account moderates no blog"),
            },
        }
    },
    "/moderation/{id}": {"post": COMMENT_DECISION},
    "/moderation/blocks": {
        "get": {
            "summary": "The authors blocked on the blogs the account moderates (all for moderators), newest first",
            "description": "Private to moderators; neither e-mail nor network address, not even hashed.",
            "security": SESSION,
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {"blocks": {"type": "array", "items": {"$ref": "#/components/schemas/AuthorBlock"}}},
                    },
                    "The blocks",
                ),
                "401": NOT_SIGNED_IN,
                "403": error("The account moderates no blog"),
            },
        }
    },
    "/moderation/blocks/{block_id}": {
        "delete": {
            "summary": "Unblock an author: their next comments are moderated as anyone's; their old ones stay spam",
            "security": SESSION,
            "parameters": [{**ID_PARAM, "name": "block_id", "description": "A block's id (GET /moderation/blocks)"}],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {"id": {"type": "integer"}, "site": {"type": "string"},
                                       "unblocked": {"type": "boolean"}},
                    },
                    "Unblocked",
                ),
                "401": NOT_SIGNED_IN,
                "403": error("Not a moderator of this block's blog, or of any blog"),
                "404": error("No such block"),
                "429": COMMON_ERRORS["429"],
            },
        }
    },
    "/account/comments": {
        "get": {
            "summary": "The signed-in account's own comments on one thread (ids, status, end of the edit window)",
            "description": (
                "For the widget of a member signed in on a device without the edit tokens: it offers « Modifier » "
                "and « Supprimer » on these comments while `editable_until` is in the future, and sends its session "
                "to PATCH / DELETE /api/comments/{id}. Never cached; the public thread never says whose a comment is."
            ),
            "security": SESSION,
            "parameters": [
                {"name": "url", "in": "query", "required": True, "schema": {"type": "string", "format": "uri"}}
            ],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "url": {"type": "string", "format": "uri"},
                            "comments": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "id": {"type": "integer"},
                                        "status": {"enum": ["approved", "pending", "rejected", "spam"]},
                                        "editable_until": {"type": "string", "format": "date-time"},
                                    },
                                },
                            },
                        },
                    },
                    "The account's comments on that thread, oldest first",
                ),
                "400": error("Missing or invalid `url`"),
                "401": NOT_SIGNED_IN,
                "404": error("URL outside the network, or no such post"),
                "429": COMMON_ERRORS["429"],
            },
        }
    },
}

SCHEMAS = {
    "AuthorBlock": {
        "type": "object",
        "description": "An author blocked on a blog (private to its moderators)",
        "properties": {
            "id": {"type": "integer"},
            "site": {"type": "string", "description": "The blog's slug"},
            "author_name": {"type": "string", "description": "Their display name when blocked"},
            "comment": {"type": "integer", "description": "The comment they were blocked from (it may be gone)"},
            "created": {"type": "string", "format": "date-time"},
            "blocked_by": {"type": ["string", "null"], "description": "Display name of who blocked (null: none, "
                                                                    "or an account deleted since)"},
            "by": {"type": "array", "items": {"enum": ["account", "email", "address"]}},
        },
    },
    "Account": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": "string"},
            "display_name": {"type": "string"},
            "role": {"enum": ["member", "author", "moderator", "admin"]},
            "sites": {"type": "array", "items": {"type": "string"}},
            "show_specialty": {"type": "boolean"},
            "interests": {"type": "string", "description": "« Liens d'intérêts déclarés » (CSP L.4113-13), Markdown"},
            "interests_html": {"type": "string", "description": "The same, sanitised HTML"},
            "notify_comments": {"enum": ["immediate", "daily", "never"]},
            "notify_replies": {"type": "boolean"},
            "public_profile": {"type": "boolean", "description": "« Profil public »: false hides the profile"},
            "profile": {"type": ["string", "null"], "format": "uri", "description": "The public profile page, if public"},
            "badge_level": {"type": ["string", "null"]},
            "badge_specialty": {"type": ["string", "null"]},
            "badge": {
                "type": ["object", "null"],
                "description": "The badge the account's comments get now ({level, label, title}), null when none",
            },
            "created": {"type": "string", "format": "date-time"},
        },
    },
    "AccountDocument": {
        "type": "object",
        "properties": {
            "account": {"$ref": "#/components/schemas/Account"},
            "session": {
                "type": ["object", "null"],
                "properties": {"kind": {"enum": ["cookie", "bearer"]}, "expires": {"type": "string"}},
            },
        },
    },
    "ProfileChanges": {
        "type": "object",
        "properties": {
            "display_name": {"type": ["string", "null"], "maxLength": 100, "description": "null: cleared, as \"\""},
            "show_specialty": {"type": "boolean"},
            "interests": {"type": ["string", "null"], "maxLength": 5000, "description": "null: cleared, as \"\""},
            "notify_comments": {"enum": ["immediate", "daily", "never"]},
            "notify_replies": {"type": "boolean"},
            "public_profile": {"type": "boolean", "description": "Show the public profile page (default true)"},
        },
    },
    "QueueItem": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "status": {"enum": ["pending", "approved"]},
            "post": {"type": "object"},
            "parent": {"type": ["integer", "null"]},
            "parent_author": {"type": ["string", "null"]},
            "author": {"type": "object", "description": "name, email (private), website, signed_in, badge"},
            "text": {"type": "string"},
            "html": {"type": "string"},
            "created": {"type": "string"},
            "edited": {"type": ["string", "null"]},
            "reports": {"type": "array", "items": {"type": "object"}},
        },
    },
}

SECURITY_SCHEMES = {
    "session": {
        "type": "http",
        "scheme": "bearer",
        "description": "A session token `cfs1_…` (from the #confreres-session= fragment after signing in)",
    },
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "confreres_session"},
}

