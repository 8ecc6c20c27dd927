"""OpenAPI fragment: medical secrecy (web/secrecy.py; the rules: confreres.secrecy), merged by web/openapi/__init__.py.

The schemas here are also what POST /comments answers for a held comment (`reason`, `secrecy`) and what the
build sends with each post (`Posts.posts[].secrecy`), referred to by name from the comments fragment.
"""

from __future__ import annotations

from comments_service.web.openapi.common import COMMON_ERRORS, body, json

PATHS = {
    "/secrecy-check": {
        "post": {
            "summary": "What, in a comment being typed, could identify a patient (the widget asks as one types)",
            "description": (
                "The same rules as a sent comment: any finding holds the comment for moderation whatever the blog's "
                "policy. Nothing is stored or logged. Rate-limited with the reads (READ_RATE_LIMIT), not the writes."
            ),
            "requestBody": body({"type": "object", "required": ["text"],
                                 "properties": {"text": {"type": "string", "maxLength": 10000}}}),
            "responses": {
                "200": json({"$ref": "#/components/schemas/SecrecyCheck"}, "The findings (none: `held` false)"),
                **COMMON_ERRORS,
            },
        },
    },
}

SCHEMAS = {
    "SecrecyFlag": {
        "type": "object",
        "description": "A passage that could identify a patient; offsets are in the text sent (Unicode code points)",
        "properties": {
            "kind": {"enum": ["nir", "nir_sans_cle", "telephone", "email", "naissance", "patient"]},
            "severity": {"enum": ["refuse", "warn"], "description": "What it does to a post (a comment: held)"},
            "label": {"type": "string", "description": "What it is, in French (« un numéro de téléphone »)"},
            "start": {"type": "integer"},
            "end": {"type": "integer"},
            "line": {"type": "integer"},
            "column": {"type": "integer"},
            "text": {"type": "string", "description": "The flagged span"},
        },
    },
    "SecrecyCheck": {
        "type": "object",
        "properties": {
            "held": {"type": "boolean", "description": "Sent as it is, the comment would wait for moderation"},
            "message": {"type": "string", "description": "The warning to show, in French (empty: none)"},
            "flags": {"type": "array", "items": {"$ref": "#/components/schemas/SecrecyFlag"}},
        },
    },
    "PostSecrecyWarning": {
        "type": "object",
        "description": "A warning of the post's build, listed to its blog's moderators only (the flagged span, "
                       "nothing around it)",
        "required": ["line", "column", "kind", "reason", "text"],
        "properties": {
            "source": {"type": "string", "description": "content/<file>"},
            "line": {"type": "integer", "minimum": 1},
            "column": {"type": "integer", "minimum": 1},
            "kind": {"enum": ["nir", "nir_sans_cle", "telephone", "email", "naissance", "patient"]},
            "reason": {"type": "string"},
            "text": {"type": "string", "maxLength": 200},
        },
    },
}
