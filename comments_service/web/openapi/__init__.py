"""The OpenAPI 3.1 description of /api/, served at /api/openapi.json: the assembler of the fragments.

Each fragment describes its own blueprint's routes, written by hand next to the code it describes:
comments (web/api.py), verification (web/verification.py), accounts (sign-in, account, moderation),
members (public profiles, mention moderation), secrecy (web/secrecy.py); `common` holds what they share. Fragments import only
`common`; this module alone imports them all and merges them, refusing a path or schema defined twice.
tests/comments_service/web/test_openapi.py walks the app's URL map and fails when a route or a
method under /api/ is missing here.
"""

from __future__ import annotations

from comments_service.web.openapi import accounts, comments, common, members, secrecy, verification

# Merge order = the order of the paths and schemas in the served document (kept as it always was).
PATH_FRAGMENTS = (verification.PATHS, comments.PATHS, accounts.PATHS, members.PATHS, secrecy.PATHS)
SCHEMA_FRAGMENTS = (verification.SCHEMAS, common.SCHEMAS, comments.SCHEMAS, accounts.SCHEMAS, members.SCHEMAS,
                    secrecy.SCHEMAS)
SECURITY_FRAGMENTS = (comments.SECURITY_SCHEMES, accounts.SECURITY_SCHEMES)


def merge(fragments: tuple[dict, ...]) -> dict:
    """One dict of the fragments' entries, in order; a key defined by two fragments is an error."""
    merged: dict = {}
    for fragment in fragments:
        twice = merged.keys() & fragment.keys()
        if twice:
            raise ValueError(f"OpenAPI: defined by two fragments: {sorted(twice)}")
        merged.update(fragment)
    return merged


def document(server_url: str) -> dict:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Confrères — service de commentaires",
            "version": "1",
            "description": (
                "Threaded comments for every post of the network. Times are ISO 8601 UTC. Errors always "
                "have the shape {\"error\": {\"code\", \"message\", \"field\"}} with a French message."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": merge(PATH_FRAGMENTS),
        "components": {
            "securitySchemes": merge(SECURITY_FRAGMENTS),
            "schemas": merge(SCHEMA_FRAGMENTS),
        },
    }
