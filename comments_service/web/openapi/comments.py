"""The OpenAPI description of the comments API itself (web/api.py): threads, comments, counts, sites' posts,
cross-blog conversations, and the document's own URL.
"""

from __future__ import annotations

from comments_service.web.openapi.common import COMMON_ERRORS, ID_PARAM, error, json

URL_PARAM = {
    "name": "url",
    "in": "query",
    "required": True,
    "description": "Absolute URL of a post of a member blog",
    "schema": {"type": "string", "format": "uri"},
}
MISSING_TOKEN = error(
    "No credential at all (`missing_token`), with `WWW-Authenticate: Bearer`; or a session token sent but expired "
    "or revoked (`not_signed_in`)"
)
EDIT_TOKEN = [{"editToken": []}, {"editTokenHeader": []}]
OWNER_PROOF = (
    "The comment's edit token (`X-Edit-Token`, or `Authorization: Bearer <edit token>`), or, without one, the "
    "session of the account that wrote it (`Authorization: Bearer cfs1_…`): a signed-in member edits from any "
    "device (GET /api/account/comments lists their comments of a thread). Only within the edit window."
)

PATHS = {
    "/comments": {
        "get": {
            "summary": "A page of a post's thread: approved comments, nested, plus the caller's own pending ones",
            "description": (
                "Pages are made of top-level comments, oldest first, each with all its replies. Replies are "
                "nested THREAD_DEPTH levels deep at most (5 by default): a deeper reply is listed at the "
                "deepest level, after the comment it follows, with `in_reply_to` naming the comment it answers "
                "(`parent` is always the real parent). A page holds at most 4 × `limit` comments: a top-level "
                "comment with more replies goes on on the next page(s), where they come at the top level with "
                "`in_reply_to`. `total` counts the whole thread; `page.next` and `page.next_skip` are the "
                "`offset` and `skip` of the next page (`next` null on the last one). Each page has its own ETag."
            ),
            "parameters": [
                URL_PARAM,
                {
                    "name": "limit",
                    "in": "query",
                    "required": False,
                    "description": "Top-level comments (with their replies) per page; THREAD_PAGE_SIZE (50) by "
                    "default",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                },
                {
                    "name": "offset",
                    "in": "query",
                    "required": False,
                    "description": "Top-level comments to skip: the `page.next` of the previous page",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "skip",
                    "in": "query",
                    "required": False,
                    "description": "Comments of the first top-level comment's thread already shown: the "
                    "`page.next_skip` of the previous page",
                    "schema": {"type": "integer", "minimum": 0, "default": 0},
                },
                {
                    "name": "X-Confreres-Tokens",
                    "in": "header",
                    "required": False,
                    "description": "Comma-separated edit tokens; their pending comments are included "
                    "with status 'pending' and the response is then private",
                    "schema": {"type": "string"},
                },
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": json({"$ref": "#/components/schemas/Thread"}, "The thread (with ETag)"),
                "304": {"description": "Not modified"},
                "400": COMMON_ERRORS["400"],
                "404": error("URL outside the network, or no such post"),
                "429": COMMON_ERRORS["429"],
            },
        },
        "post": {
            "summary": "Post a comment or a reply",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewComment"}}},
            },
            "responses": {
                "201": json({"$ref": "#/components/schemas/Created"}, "Stored (approved or pending)"),
                **COMMON_ERRORS,
                "403": error(
                    "Comments closed (`comments_closed`), or an « entre confrères » thread reserved to verified "
                    "physicians (`confreres_only`): offer sign-in, then the verification page "
                    "(`<comments_url>verification`, or `links.page` of GET /verification)"
                ),
                "401": error(
                    "A session token was sent (`Authorization: Bearer cfs1_…`) but it is expired or revoked "
                    "(`not_signed_in`): nothing is posted as a guest in its place"
                ),
                "404": error("URL outside the network, or no such post"),
                "409": error("Same text already sent on this thread"),
            },
        },
    },
    "/comments/{id}": {
        "get": {
            "summary": "One's own comment with its Markdown source and the end of its edit window",
            "description": (
                "For the comment's owner only: the edit token (`X-Edit-Token`, or `Authorization: Bearer`), "
                "or the session of the account that wrote it (`Authorization: Bearer cfs1_…`). Never cached."
            ),
            "parameters": [ID_PARAM],
            "security": [*EDIT_TOKEN, {"session": []}],
            "responses": {
                "200": json({"$ref": "#/components/schemas/OwnComment"}, "The comment, as its owner sees it"),
                "401": MISSING_TOKEN,
                "403": error(
                    "A token that is not this comment's (`invalid_token`), or the session of another account "
                    "(`not_owner`)"
                ),
                "404": error("No such comment, or deleted"),
                "429": COMMON_ERRORS["429"],
            },
        },
        "patch": {
            "summary": "Edit one's comment within the edit window",
            "description": OWNER_PROOF,
            "parameters": [ID_PARAM],
            "security": [*EDIT_TOKEN, {"session": []}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["text"],
                            "properties": {"text": {"type": "string", "maxLength": 10000}},
                        }
                    }
                },
            },
            "responses": {
                "200": json({"$ref": "#/components/schemas/OwnComment"}, "Edited"),
                **COMMON_ERRORS,
                "401": MISSING_TOKEN,
                "403": error("Bad token, the session of another account (`not_owner`), or edit window over"),
                "404": error("No such comment"),
                "409": error("Comment deleted or refused by moderation"),
            },
        },
        "delete": {
            "summary": "Delete one's comment within the edit window (a placeholder stays if it has replies)",
            "description": OWNER_PROOF,
            "parameters": [ID_PARAM],
            "security": [*EDIT_TOKEN, {"session": []}],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "id": {"type": "integer"},
                            "deleted": {"type": "boolean"},
                            "placeholder": {"type": "boolean"},
                        },
                    },
                    "Deleted",
                ),
                "401": MISSING_TOKEN,
                "403": error("Bad token, the session of another account (`not_owner`), or edit window over"),
                "404": error("No such comment"),
                "409": error("Already deleted"),
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/comments/{id}/report": {
        "post": {
            "summary": "Report a comment to the moderators (« Signaler »)",
            "parameters": [ID_PARAM],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["reason"],
                            "properties": {"reason": {"type": "string", "maxLength": 1000}},
                        }
                    }
                },
            },
            "responses": {
                "201": json(
                    {"type": "object", "properties": {"report": {"type": "integer"}, "status": {"type": "string"}}},
                    "Queued",
                ),
                **COMMON_ERRORS,
                "404": error("No such public comment"),
            },
        },
    },
    "/counts": {
        "get": {
            "summary": "Approved comments per post, for a whole index page in one request",
            "parameters": [{**URL_PARAM, "description": "Repeat for each post (200 at most)", "explode": True,
                            "schema": {"type": "array", "items": {"type": "string"}}}],
            "responses": {
                "200": json(
                    {"type": "object", "additionalProperties": {"type": "integer"}},
                    "{url: count}, as the threads answer: an earlier address of a moved post counts its thread; a post"
                    " its blog removed, a blog no longer in the network, an unknown address count 0",
                ),
                "304": {"description": "Not modified"},
                "400": COMMON_ERRORS["400"],
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/sites/{slug}/posts": {
        "put": {
            "summary": "The build declares a site's posts (titles, dates, comment mode); others are unlisted",
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
            "security": [{"siteToken": []}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Posts"}}},
            },
            "responses": {
                "200": json({"$ref": "#/components/schemas/SyncSummary"}, "Synchronised"),
                **COMMON_ERRORS,
                "401": error("No site token (`missing_site_token`), with `WWW-Authenticate: Bearer`"),
                "403": error("A site token that is not this blog's (`invalid_site_token`)"),
                "404": error("No such site in network.toml (re-read when it changed)"),
                "429": error("Over POSTS_RATE_LIMIT post lists per blog (the guests' budget does not apply)"),
            },
        },
    },
    "/conversations": {
        "get": {
            "summary": "The live conversations between blogs (posts linked by reply_to, two blogs at least), "
            "newest activity first",
            "parameters": [
                {"name": "site", "in": "query", "required": False, "description": "Only those involving this blog",
                 "schema": {"type": "string"}},
                {"name": "days", "in": "query", "required": False,
                 "description": "Only those active in the last N days (0: all)",
                 "schema": {"type": "integer", "minimum": 0, "maximum": 365}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            ],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "conversations": {
                                "type": "array", "items": {"$ref": "#/components/schemas/Conversation"}
                            },
                            "total": {"type": "integer"},
                        },
                    },
                    "Conversations (with ETag)",
                ),
                "304": {"description": "Not modified"},
                "400": COMMON_ERRORS["400"],
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/sites": {
        "get": {
            "summary": "The network's blogs, each with its author's current badge (from the verification "
            "records, never from membership alone) and the version of its comment threads; the planet "
            "and the blogs read it at build time, `confreres build` to know which blogs to rebuild",
            "parameters": [
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "sites": {"type": "array", "items": {"$ref": "#/components/schemas/Site"}},
                        },
                    },
                    "In network.toml's order (with ETag)",
                ),
                "304": {"description": "Not modified"},
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/threads/active": {
        "get": {
            "summary": "The threads with the most approved comments in the last N days, across the network",
            "parameters": [
                {"name": "days", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 365, "default": 14}},
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 10}},
            ],
            "responses": {
                "200": json(
                    {
                        "type": "object",
                        "properties": {
                            "threads": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "url": {"type": "string"},
                                        "title": {"type": "string"},
                                        "site": {"type": "string"},
                                        "site_title": {"type": "string"},
                                        "comments": {"type": "integer"},
                                        "last_activity": {"type": "string", "format": "date-time"},
                                    },
                                },
                            }
                        },
                    },
                    "Most active first (with ETag)",
                ),
                "304": {"description": "Not modified"},
                "400": COMMON_ERRORS["400"],
                "429": COMMON_ERRORS["429"],
            },
        },
    },
    "/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
        },
    },
}

SECURITY_SCHEMES = {
    "editToken": {"type": "http", "scheme": "bearer", "description": "The edit_token of POST /comments"},
    "editTokenHeader": {"type": "apiKey", "in": "header", "name": "X-Edit-Token"},
    "siteToken": {"type": "http", "scheme": "bearer", "description": "site_token(SECRET_KEY, slug)"},
}

SCHEMAS = {
    "Author": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "website": {"type": ["string", "null"]},
            "badge": {
                "type": ["object", "null"],
                "properties": {
                    "level": {"type": "string"},
                    "label": {"type": "string"},
                    "title": {"type": "string"},
                },
            },
            "is_post_author": {"type": "boolean"},
            "interests": {
                "type": "string",
                "description": "Sanitised HTML: a verified member's « Liens d'intérêts déclarés »; absent when none",
            },
            "profile": {
                "type": "string",
                "format": "uri",
                "description": "A signed-in member's public profile page; absent for guests and hidden profiles",
            },
        },
    },
    "Comment": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "parent": {"type": ["integer", "null"]},
            "author": {"$ref": "#/components/schemas/Author"},
            "html": {"type": "string", "description": "Sanitised HTML"},
            "created": {"type": "string", "format": "date-time"},
            "edited": {"type": ["string", "null"], "format": "date-time"},
            "deleted": {"type": "boolean"},
            "status": {"enum": ["approved", "pending", "deleted"]},
            "replies": {"type": "array", "items": {"$ref": "#/components/schemas/Comment"}},
            "in_reply_to": {
                "type": "object",
                "description": "Only on a reply listed below the comment it answers (deeper than the "
                "levels shown): that comment's id and author (name null when it was deleted)",
                "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
            },
        },
    },
    "Thread": {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "title": {"type": "string"},
            "site": {"type": "string"},
            "mode": {"enum": ["open", "confreres", "closed"]},
            "total": {
                "type": "integer",
                "description": "Visible comments of the whole thread, every page (answers and mentions apart)",
            },
            "comments": {
                "type": "array",
                "description": "This page's top-level comments with their replies",
                "items": {"$ref": "#/components/schemas/Comment"},
            },
            "page": {
                "type": "object",
                "properties": {
                    "depth": {"type": "integer", "description": "Levels of replies shown nested (THREAD_DEPTH)"},
                    "offset": {"type": "integer"},
                    "skip": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "threads": {"type": "integer", "description": "Top-level comments of the whole thread"},
                    "count": {"type": "integer", "description": "Visible comments on this page"},
                    "next": {
                        "type": ["integer", "null"],
                        "description": "`offset` of the next page; null on the last page",
                    },
                    "next_skip": {
                        "type": "integer",
                        "description": "`skip` of the next page: > 0 when it goes on inside a thread",
                    },
                },
            },
            "answers": {
                "type": "array",
                "description": "Posts of the network's blogs whose reply_to is this post, oldest first",
                "items": {"$ref": "#/components/schemas/Answer"},
            },
            "mentions": {
                "type": "array",
                "description": "Approved Webmentions from outside pages, oldest first",
                "items": {"$ref": "#/components/schemas/Mention"},
            },
            "fediverse": {
                "type": "object",
                "description": "How many fediverse accounts (Mastodon…) liked and boosted the post, one each at most",
                "properties": {"likes": {"type": "integer"}, "boosts": {"type": "integer"}},
                "required": ["likes", "boosts"],
            },
        },
    },
    "BlogAuthor": {
        "type": "object",
        "description": "A blog's author: the name of network.toml; the badge from the verification "
        "records of the accounts linked to the blog, null when none of them is verified",
        "properties": {
            "name": {"type": "string"},
            "badge": {
                "type": ["object", "null"],
                "properties": {
                    "level": {"const": "verified"},
                    "label": {"type": "string", "description": "« Médecin vérifié », then « · specialty » "
                              "when the author shows it"},
                    "title": {"type": "string", "description": "How the verification was made"},
                },
            },
        },
    },
    "Site": {
        "type": "object",
        "properties": {
            "slug": {"type": "string"},
            "title": {"type": "string"},
            "url": {"type": "string", "format": "uri"},
            "author": {"$ref": "#/components/schemas/BlogAuthor"},
            "comments_version": {
                "type": "string",
                "description": "Opaque; moves whenever what the blog's pages show of its threads "
                "changes (a comment approved, or an approved one edited or removed; its author's badge; "
                "an answer; an approved mention), not for a comment or mention awaiting moderation. "
                "`confreres build` compares it with the one its last build of the "
                "blog recorded, to rebuild only the blogs whose static comments are out of date",
            },
            "posts": {
                "type": "object",
                "description": "The blog's posts the service knows (listed), which it accepts comments on. "
                "`confreres build` compares the digest with that of the blog's published posts.json and "
                "announces the posts again (PUT /api/sites/{slug}/posts) when they differ, e.g. after a "
                "restore of an older database",
                "required": ["count", "digest"],
                "properties": {
                    "count": {"type": "integer", "minimum": 0},
                    "digest": {"type": "string", "description": "First 20 hex digits of the sha256 of the "
                               "posts' URLs, sorted, joined by newlines (UTF-8)"},
                },
            },
        },
    },
    "PostSummary": {
        "type": "object",
        "properties": {
            "url": {"type": "string"},
            "title": {"type": "string", "description": "Plain text"},
            "site": {"type": "string"},
            "site_title": {"type": "string"},
            "author": {"$ref": "#/components/schemas/BlogAuthor"},
            "excerpt": {"type": "string", "description": "Plain text, to insert as text (never as HTML)"},
            "published": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "Answer": {
        "allOf": [
            {"$ref": "#/components/schemas/PostSummary"},
            {"type": "object", "properties": {"kind": {"const": "answer"}}},
        ],
    },
    "Mention": {
        "type": "object",
        "properties": {
            "kind": {"const": "mention"},
            "id": {"type": "integer"},
            "type": {"enum": ["mention", "reply", "like", "repost", "bookmark"]},
            "url": {"type": "string", "description": "The page that mentions the post"},
            "source": {"type": "string", "description": "The source URL as sent and verified"},
            "author": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "website": {"type": ["string", "null"]}},
            },
            "title": {"type": "string", "description": "Plain text; may be empty"},
            "html": {"type": "string", "description": "Sanitised HTML; may be empty"},
            "published": {"type": ["string", "null"], "format": "date-time"},
            "received": {"type": "string", "format": "date-time"},
            "updated": {"type": ["string", "null"], "format": "date-time"},
        },
    },
    "ConversationPost": {
        "allOf": [
            {"$ref": "#/components/schemas/PostSummary"},
            {
                "type": "object",
                "properties": {
                    "reply_to": {"type": ["string", "null"], "description": "The post it answers"},
                    "depth": {"type": "integer"},
                    "comments": {"type": "integer"},
                    "mentions": {"type": "integer"},
                },
            },
        ],
    },
    "Conversation": {
        "type": "object",
        "properties": {
            "root": {"type": "string"},
            "title": {"type": "string"},
            "sites": {"type": "array", "items": {"type": "string"}},
            "answers": {"type": "integer"},
            "comments": {"type": "integer", "description": "Approved comments across its posts"},
            "mentions": {"type": "integer"},
            "last_activity": {"type": ["string", "null"], "format": "date-time"},
            "posts": {
                "type": "array",
                "description": "Root first, each answer after the post it answers",
                "items": {"$ref": "#/components/schemas/ConversationPost"},
            },
        },
    },
    "NewComment": {
        "type": "object",
        "required": ["url", "text"],
        "properties": {
            "url": {"type": "string", "format": "uri"},
            "parent": {"type": ["integer", "null"]},
            "text": {"type": "string", "maxLength": 10000, "description": "Markdown"},
            "author": {"type": "string", "maxLength": 100},
            "email": {"type": "string", "format": "email", "description": "Private"},
            "website": {"type": "string", "format": "uri", "maxLength": 500},
            "notify": {"type": "boolean"},
        },
    },
    "Created": {
        "type": "object",
        "properties": {
            "comment": {"oneOf": [{"$ref": "#/components/schemas/Comment"}, {"type": "null"}]},
            "status": {"enum": ["approved", "pending"]},
            "text": {"type": "string", "description": "The Markdown source (for its writer only)"},
            "editable_until": {"type": "string", "format": "date-time"},
            "edit_token": {"type": ["string", "null"]},
            "edit_window_minutes": {"type": "integer"},
            "message": {"type": "string", "description": "What to tell the writer, in French: published, awaiting "
                        "the blogger's validation, or awaiting moderation with the reason (medical secrecy)"},
            "reason": {"type": "string", "description": "Why it waits for moderation whatever the blog's policy, "
                       "in French: its text could identify a patient (medical secrecy); absent otherwise"},
            "secrecy": {"type": "array", "items": {"$ref": "#/components/schemas/SecrecyFlag"},
                        "description": "The flagged passages of a comment held for medical secrecy"},
        },
    },
    "OwnComment": {
        "type": "object",
        "description": "What only the comment's owner gets: never part of a thread",
        "properties": {
            "comment": {"$ref": "#/components/schemas/Comment"},
            "status": {"enum": ["approved", "pending", "rejected", "spam"]},
            "text": {"type": "string", "description": "The Markdown source, as written or last edited"},
            "editable_until": {
                "type": "string",
                "format": "date-time",
                "description": "End of the edit window (PATCH and DELETE are refused after it)",
            },
            "reason": {"type": "string", "description": "Why it waits for moderation whatever the blog's policy, "
                       "in French: its text could identify a patient (medical secrecy); absent otherwise"},
            "secrecy": {"type": "array", "items": {"$ref": "#/components/schemas/SecrecyFlag"},
                        "description": "The flagged passages of a comment held for medical secrecy"},
        },
    },
    "Posts": {
        "type": "object",
        "required": ["posts"],
        "properties": {
            "posts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["url"],
                    "properties": {
                        "url": {"type": "string"},
                        "title": {"type": "string"},
                        "date": {"type": "string", "description": "ISO 8601 date or date-time"},
                        "reply_to": {"type": ["string", "null"]},
                        "comments": {"enum": ["open", "confreres", "closed"]},
                        "excerpt": {
                            "type": "string",
                            "description": "Plain-text excerpt, shown where the post answers another; cut to 300 characters",
                        },
                        "secrecy": {
                            "type": "array", "items": {"$ref": "#/components/schemas/PostSecrecyWarning"},
                            "description": "The medical secrecy warnings of the post's build, for its blog's "
                            "moderators: replaces the last ones ([]: none); absent: the last ones are kept",
                        },
                        "content": {"type": "string", "description": "The post's HTML, for its fediverse Article"
                                    " (sanitised by the service; builds send it for their newest posts only)"},
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "modified": {"type": "string", "description": "ISO 8601: the post's last change"},
                        "moved_from": {
                            "type": "array", "items": {"type": "string"}, "maxItems": 20,
                            "description": "The post's earlier addresses on its blog (the same source file at "
                            "another address): their comments, subscriptions and mentions move to `url`, and "
                            "a request for an earlier address reaches this thread; others are left out",
                        },
                    },
                },
            }
        },
    },
    "SyncSummary": {
        "type": "object",
        "properties": {
            "site": {"type": "string"},
            "created": {"type": "integer"},
            "updated": {"type": "integer"},
            "unchanged": {"type": "integer"},
            "unlisted": {"type": "integer"},
            "moved": {"type": "integer", "description": "Earlier addresses whose threads moved to their post's new one"},
            "federation": {
                "type": "object",
                "properties": {"queued": {"type": "integer", "description": "Fediverse deliveries queued"}},
            },
        },
    },
}
