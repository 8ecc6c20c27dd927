"""OpenAPI fragment: public member profiles and mention moderation (merged by web/openapi/__init__.py)."""

from __future__ import annotations

from comments_service.web.openapi.common import (
    COMMENT_DECISION,
    COMMON_ERRORS,
    ID_PARAM,
    MENTION_DECISION_BODY,
    error,
    json,
)

PATHS = {
    "/members/{handle}": {
        "get": {
            "summary": "A member's public profile: name or pseudonym, badge, « Liens d'intérêts déclarés », latest comments",
            "description": (
                "`handle` is the opaque id at the end of `author.profile`. 20 approved comments a page, newest "
                "first; `next` is the URL of the older ones. A hidden profile answers 404 like an unknown one."
            ),
            "parameters": [
                {"name": "handle", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9a-f]{16}$"}},
                {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
            ],
            "responses": {
                "200": json({"$ref": "#/components/schemas/MemberProfile"}, "The profile (with ETag)"),
                "304": {"description": "Not modified"},
                "400": COMMON_ERRORS["400"],
                "404": error("No public profile at this handle (unknown, or hidden by its member)"),
                "429": COMMON_ERRORS["429"],
            },
        }
    },
    "/moderation/mentions/{mention_id}": {
        "post": {
            **COMMENT_DECISION,
            "summary": "Approve, reject, mark as spam or delete a received Webmention (the thread shows it once approved)",
            "description": "A mention has no author to block: `block` is refused (400).",
            "requestBody": MENTION_DECISION_BODY,
            "parameters": [{**ID_PARAM, "name": "mention_id", "description": "A mention's id (`confreres webmention list`)"}],
            "responses": {
                **{code: answer for code, answer in COMMENT_DECISION["responses"].items() if code != "409"},
                "403": error("Not a moderator of this mention's blog"),
                "404": error("No such mention"),
            },
        }
    },
}

SCHEMAS = {
    "Member": {
        "type": "object",
        "properties": {
            "handle": {"type": "string"},
            "profile": {"type": "string", "format": "uri", "description": "The French page of the profile"},
            "name": {"type": "string", "description": "Display name or pseudonym (plain text)"},
            "badge": {"type": ["object", "null"], "description": "As in Author; the specialty only if the member shows it"},
            "comment_count": {"type": "integer", "description": "Approved comments across the network"},
            "interests": {
                "type": "string",
                "description": "Sanitised HTML: a verified member's « Liens d'intérêts déclarés »; absent when none",
            },
        },
    },
    "MemberComment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string", "format": "uri", "description": "The comment on its post (#comment-<id>)"},
            "post": {"type": "object", "properties": {"url": {"type": "string"}, "title": {"type": "string"}}},
            "site": {"type": "string"},
            "site_title": {"type": "string"},
            "created": {"type": "string", "format": "date-time"},
            "edited": {"type": ["string", "null"], "format": "date-time"},
            "excerpt": {"type": "string", "description": "Plain text: insert as text"},
        },
    },
    "MemberProfile": {
        "type": "object",
        "properties": {
            "member": {"$ref": "#/components/schemas/Member"},
            "comments": {"type": "array", "items": {"$ref": "#/components/schemas/MemberComment"}},
            "page": {"type": "integer"},
            "next": {"type": ["string", "null"], "format": "uri"},
        },
    },
    "QueuedMention": {
        "type": "object",
        "properties": {
            "kind": {"const": "mention"},
            "id": {"type": "integer"},
            "status": {"enum": ["pending"]},
            "post": {"type": "object", "description": "url, title, site"},
            "type": {"enum": ["mention", "reply", "like", "repost", "bookmark"]},
            "url": {"type": "string"},
            "source": {"type": "string"},
            "author": {"type": "object", "description": "name, website"},
            "title": {"type": "string"},
            "html": {"type": "string", "description": "Sanitised HTML"},
            "published": {"type": ["string", "null"]},
            "received": {"type": "string", "format": "date-time"},
            "updated": {"type": ["string", "null"]},
        },
    },
}

